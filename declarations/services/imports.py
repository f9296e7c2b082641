"""Writes: import lines (customs data) recorded one by one or uploaded in bulk.

A bulk upload goes through three steps: `import_upload_create` stores the file and reads its
header, `import_upload_start` fixes the column mapping (remembered per organisation) and starts
the job, and the job (`declarations.jobs`) calls `import_upload_run`, which streams the file
through the validator and writes every line in one transaction, or none: a single bad row
rejects the whole file and the job's result file lists every error (row, column, value,
message) with the rejected row's own cells, so it can be corrected and uploaded again.

On PostgreSQL valid rows are streamed with COPY straight into `ImportLine` inside a savepoint, so
the server writes while Python checks the next block of the file (`ingest.validate.BlockLines`
turns a block of plain CSV lines into COPY text without Python code per row; any block it is not
sure about is checked row by row). When the unique (organisation, mrn, line_no) index refuses a
line, the savepoint is rolled back, the file is read again into a temporary table with row
numbers, and one query names every duplicate (within the file or of an existing line); the whole
transaction is then rolled back. Progress goes to the job from a thread of its own, on its own
database connection, so it is seen while the import runs. Elsewhere (SQLite) the same checks run
in Python and lines are written with `bulk_create`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.core.actor import Actor
from cbam_portal.core.csv_export import SafeCsvWriter
from cbam_portal.core.errors import UserFacingError
from cbam_portal.core.jobs import BackgroundProgress
from cbam_portal.core.models import Job
from cbam_portal.core.services import audit_record, job_enqueue
from cbam_portal.reference.models import CnGood, Country, DatasetKind

from ..ingest import FileProblem, RowError, RowValidator, open_table
from ..ingest.fields import FIELD_KEYS, FIELDS, REQUIRED_FIELDS, suggest_mapping
from ..ingest.reader import Block, Table, sniff_format
from ..ingest.validate import (
    LINE_COLUMNS,
    OUTPUT_COLUMNS,
    TEXT_COLUMNS,
    BlockLines,
    FastLines,
    ReferenceSets,
    copy_line,
    validate_one,
)
from ..models import (
    ColumnMapping,
    ImportLine,
    ImportUpload,
    Procedure,
    Supplier,
    SupplierInstallationMapping,
    UploadStatus,
)
from .declarations import declarations_inputs_changed
from .suppliers import installation_for, mapping_table, mappings_link_lines

logger = logging.getLogger(__name__)

KIND = "declarations_import_upload"
UPLOAD_DIR = "declarations/uploads"
DEFAULT_MAPPING_NAME = "default"
#: Errors kept in the job result (the page shows them); the CSV file keeps up to MAX_REJECTED_LINES.
MAX_ERRORS_IN_RESULT = 200
MAX_REJECTED_LINES = 100_000
#: Rejected rows whose own cells are copied into the rejected-rows file (the errors of the others are listed).
MAX_REJECTED_ROWS_WITH_CELLS = 20_000
COPY_BATCH = 4096  # rows per COPY write on the row-by-row path
#: From this many lines, an import refreshes PostgreSQL's statistics of the line table once it
#: is committed: until autovacuum gets to it (a minute or more), the planner would take the
#: table for its old size and pick plans that are several times slower (the threshold watch
#: over 1,000,000 new lines: 1.8 s instead of 0.5 s; the line list: 0.7 s instead of 0.4 s).
ANALYZE_FROM_LINES = 10_000
REJECTED_HEADER = ("row", "column", "value", "message")

ProgressFn = Callable[[int, int | None, str], None]


def _require_declarant(organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.DECLARANT:
        raise ValidationError(_("Only declarants (importers) record imports."))


def max_upload_bytes() -> int:
    return int(settings.CBAM_MAX_UPLOAD_BYTES)


def upload_too_large_message(size: int) -> str:
    return _("The file is %(size)s; the limit is %(limit)s. Split it and upload the parts.") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(max_upload_bytes()),
    }


def reference_sets(organisation: Organisation, *, today=None) -> ReferenceSets:
    """The Annex I CN list, countries and the organisation's suppliers as plain lookups (3 queries)."""
    cn_units = dict(
        CnGood.objects.filter(dataset__kind=DatasetKind.CN_GOODS, dataset__is_current=True).values_list(
            "cn8", "functional_unit"
        )
    )
    if not cn_units:
        raise UserFacingError(_("No Annex I CN list is loaded: an administrator must load the reference data."))
    countries = {iso2: (is_eu, excluded) for iso2, is_eu, excluded in Country.objects.values_list("iso2", "is_eu", "cbam_excluded")}
    suppliers: dict[str, int] = {}
    for pk, name in Supplier.objects.filter(organisation=organisation).values_list("pk", "name"):
        suppliers.setdefault(name.casefold(), pk)
    return ReferenceSets(cn_units=cn_units, countries=countries, suppliers=suppliers, today=today or timezone.localdate())


# ---------------------------------------------------------------------------------------------
# Single entry
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def import_line_create(
    *, actor: Actor, organisation: Organisation, values: dict, supplier: Supplier | None = None, installation=None
) -> ImportLine:
    """Record one customs line. `values` holds the fields of `ingest.fields.FIELDS` as text or
    numbers; raises ValidationError keyed by field with the same rules as a bulk upload."""
    _require_declarant(organisation)
    if supplier is not None and supplier.organisation_id != organisation.pk:
        raise ValidationError({"supplier": _("This supplier belongs to another organisation.")})
    refs = reference_sets(organisation)
    text = {k: ("" if values.get(k) is None else str(values.get(k))) for k in FIELD_KEYS if k != "supplier"}
    row, errors = validate_one(text, refs)
    if errors:
        raise ValidationError({e.column or "__all__": [e.message] for e in errors})
    line = _line_from_row(row, organisation=organisation, upload=None)
    if ImportLine.objects.filter(organisation=organisation, mrn=line.mrn, line_no=line.line_no).exists():
        raise ValidationError({"line_no": _("Line %(line)s of %(mrn)s is already recorded.") % {"line": line.line_no, "mrn": line.mrn}})
    line.supplier = supplier
    line.installation = installation
    if installation is None and supplier is not None:
        line.installation_id = installation_for(mapping_table(organisation), supplier.pk, line.cn_code)
    line.save()
    audit_record(
        actor=actor,
        verb="import_line.created",
        organisation=organisation,
        target=line,
        after={"mrn": line.mrn, "line_no": line.line_no, "cn_code": line.cn_code, "in_scope": line.in_scope},
    )
    _declarations_recompute_on_commit(actor=actor, organisation=organisation)
    return line


def _statistics_refresh() -> None:
    """ANALYZE the line table (PostgreSQL; reads a sample, blocks no reader or writer)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(ImportLine._meta.db_table)}")


def _declarations_recompute_on_commit(*, actor: Actor, organisation: Organisation) -> None:
    """New lines change the drafts of the year: recompute them once this transaction commits."""

    transaction.on_commit(
        lambda: declarations_inputs_changed(actor=actor, organisation=organisation, trigger="lines")
    )


def _line_from_row(row: tuple, *, organisation: Organisation, upload: ImportUpload | None) -> ImportLine:
    data = dict(zip(OUTPUT_COLUMNS, row, strict=True))
    data.pop("row_no")
    data["released_on"] = dt.date.fromisoformat(data["released_on"])
    for key in ("net_mass_tonnes", "quantity_mwh", "supplementary_quantity", "functional_unit_quantity"):
        if data[key] is not None:
            data[key] = Decimal(data[key])
    return ImportLine(organisation=organisation, upload=upload, **data)


# ---------------------------------------------------------------------------------------------
# Bulk upload: store, map, start
# ---------------------------------------------------------------------------------------------


def saved_mapping(organisation: Organisation) -> dict[str, str]:
    found = ColumnMapping.objects.filter(organisation=organisation, name=DEFAULT_MAPPING_NAME).first()
    return dict(found.mapping) if found else {}


@transaction.atomic
def import_upload_create(*, actor: Actor, organisation: Organisation, uploaded_file) -> ImportUpload:
    """Store an uploaded CSV/XLSX extract and read its header; the next step is the column mapping.

    Refuses a file over CBAM_MAX_UPLOAD_BYTES before reading it, a file that cannot be read as a
    table, and a file identical (SHA-256) to one already imported.
    """
    _require_declarant(organisation)
    size = int(getattr(uploaded_file, "size", 0) or 0)
    if size > max_upload_bytes():
        raise ValidationError({"file": upload_too_large_message(size)})
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    digest = hashlib.sha256()
    head = b""
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        if not head:
            head = chunk[:8]
        digest.update(chunk)
    sha256 = digest.hexdigest()
    original = PurePath(uploaded_file.name or "upload").name[:200]
    already = ImportUpload.objects.filter(organisation=organisation, sha256=sha256, status=UploadStatus.IMPORTED).first()
    if already is not None:
        raise ValidationError(
            {
                "file": _("This file was already imported on %(date)s (upload #%(id)s, %(lines)s lines): nothing to do.")
                % {"date": f"{already.created_at:%Y-%m-%d}", "id": already.pk, "lines": already.rows_imported}
            }
        )
    file_format = sniff_format(original, head)
    uploaded_file.seek(0)
    stored = default_storage.save(f"{UPLOAD_DIR}/{secrets.token_urlsafe(16)}.{file_format}", uploaded_file)
    try:
        with default_storage.open(stored, "rb") as handle:
            table = open_table(handle, file_format)
            columns, encoding, delimiter, notices = table.columns, table.encoding, table.delimiter, table.notices
            table.rows.close()
    except FileProblem as exc:
        default_storage.delete(stored)
        raise ValidationError({"file": str(exc)}) from None
    if not any(columns):
        default_storage.delete(stored)
        raise ValidationError({"file": _("The header line has no column names.")})
    upload = ImportUpload.objects.create(
        organisation=organisation,
        file_name=original,
        stored_file=stored,
        sha256=sha256,
        size_bytes=size,
        format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        mapping=suggest_mapping(columns, saved_mapping(organisation)),
        notices=notices,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        verb="import_upload.created",
        organisation=organisation,
        target=upload,
        after={"file_name": original, "sha256": sha256, "size_bytes": size, "format": file_format},
    )
    return upload


def mapping_errors(mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    """{field: message} for a mapping that cannot be used with a file of `columns`."""
    errors: dict[str, str] = {}
    present = set(columns)
    for key, column in mapping.items():
        if key not in FIELD_KEYS:
            errors[key] = _("Unknown field.")
        elif column and column not in present:
            errors[key] = _("The file has no column “%(column)s”.") % {"column": column}
    labels = {f.key: f.label for f in FIELDS}
    for key in REQUIRED_FIELDS:
        if not mapping.get(key) and key not in errors:
            errors[key] = _("Choose the column that holds the %(field)s.") % {"field": labels[key]}
    return errors


@transaction.atomic
def import_upload_start(
    *, actor: Actor, organisation: Organisation, upload: ImportUpload, mapping: dict[str, str], remember: bool = True
) -> Job:
    """Fix the column mapping of an upload (remembered for the organisation) and start the import job."""
    _require_declarant(organisation)
    if upload.organisation_id != organisation.pk:
        raise ValidationError(_("This upload belongs to another organisation."))
    upload = ImportUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.status not in (UploadStatus.MAPPING, UploadStatus.REJECTED):
        raise ValidationError(_("This upload has already been started."))
    if not upload.stored_file:
        raise ValidationError(_("The uploaded file is no longer available; please upload it again."))
    mapping = {k: v for k, v in mapping.items() if v}
    errors = mapping_errors(mapping, upload.columns)
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    if remember:
        ColumnMapping.objects.update_or_create(
            organisation=organisation, name=DEFAULT_MAPPING_NAME, defaults={"mapping": mapping}
        )
    job = job_enqueue(actor=actor, organisation=organisation, kind=KIND, params={"upload": upload.pk})
    upload.mapping = mapping
    upload.status = UploadStatus.QUEUED
    upload.job = job
    upload.save(update_fields=["mapping", "status", "job"])
    audit_record(actor=actor, verb="import_upload.started", organisation=organisation, target=upload, after={"mapping": mapping, "job": job.pk})
    return job


# ---------------------------------------------------------------------------------------------
# Bulk upload: the run (called by the job)
# ---------------------------------------------------------------------------------------------


class _Source:
    """The rows of the stored file: the table already opened first, then the file read again
    (the PostgreSQL path reads it a second time to name duplicates)."""

    def __init__(self, handle, file_format: str, table):
        self.handle, self.format, self.table, self.used = handle, file_format, table, False

    def __call__(self):
        if not self.used:
            self.used = True
            return self.table
        self.table.rows.close()
        if self.table.blocks is not None:
            self.table.blocks.close()
        self.handle.seek(0)
        self.table = open_table(self.handle, self.format)
        return self.table


class _Rejected(Exception):
    """Raised inside the write transaction to roll it back when any row is rejected."""


@dataclass
class _Counts:
    rows: int = 0
    valid: int = 0
    out_of_scope: int = 0
    rejected_rows: int = 0
    errors: int = 0


class _Rejections:
    """Collects row errors: all of them counted, the first ones kept for the page and the file."""

    def __init__(self):
        self.first: list[dict] = []
        self.kept: list[RowError] = []
        self.lines = 0
        self.rows: set[int] = set()

    def add(self, error: RowError) -> None:
        self.rows.add(error.row)
        if len(self.first) < MAX_ERRORS_IN_RESULT:
            self.first.append({"row": error.row, "column": error.column, "value": error.value[:200], "message": error.message})
        if self.lines < MAX_REJECTED_LINES:
            self.kept.append(error)
        self.lines += 1

    def __bool__(self) -> bool:
        return self.lines > 0

    def csv(self, table: Table | None) -> bytes:
        """The rejected-rows file: one line per error (row, column, value, message) followed by the
        rejected row's own cells under the file's own headers (for the first
        ``MAX_REJECTED_ROWS_WITH_CELLS`` rows), so the rows can be corrected and uploaded again."""
        wanted = sorted({e.row for e in self.kept})[:MAX_REJECTED_ROWS_WITH_CELLS]
        cells: dict[int, list[str]] = {}
        columns: list[str] = []
        if table is not None and wanted:
            columns = list(table.columns)
            needed, last = set(wanted), wanted[-1]
            for row_no, row in table.rows:
                if row_no in needed:
                    cells[row_no] = row
                if row_no >= last:
                    break
        writer = SafeCsvWriter((*REJECTED_HEADER, *columns))
        for error in self.kept:
            writer.writerow((error.row, error.column, error.value, error.message, *cells.get(error.row, ())))
        return writer.getvalue()


def _duplicate_message(existing: bool, first_row: int | None) -> str:
    if existing:
        return "Already recorded: this MRN and line number were imported before."
    return f"Duplicate of row {first_row}: the same MRN and line number appear twice in the file."


def import_upload_run(
    *, upload_id: int, actor: Actor, organisation: Organisation | None = None, progress: ProgressFn | None = None
) -> tuple[dict, bytes | None]:
    """Validate and import an upload whole, or reject it whole. Returns the job result and, when
    rows were rejected, the CSV of rejected rows. Running it again after success changes nothing."""
    step = progress or (lambda done, total, message: None)
    uploads = ImportUpload.objects.select_related("organisation")
    if organisation is not None:
        uploads = uploads.filter(organisation=organisation)
    upload = uploads.filter(pk=upload_id).first()
    if upload is None:
        raise UserFacingError(_("This upload no longer exists."))
    if upload.status == UploadStatus.IMPORTED:
        return _result(upload), None
    ImportUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.RUNNING)
    organisation = upload.organisation
    refs = reference_sets(organisation)
    rejections = _Rejections()
    counts = _Counts()
    try:
        handle = default_storage.open(upload.stored_file, "rb")
    except (FileNotFoundError, OSError, ValueError):
        _mark(upload, UploadStatus.REJECTED, counts, notices=[_("The uploaded file is no longer available; please upload it again.")])
        raise UserFacingError(_("The uploaded file is no longer available; please upload it again.")) from None
    background = BackgroundProgress(progress) if progress is not None and connection.vendor == "postgresql" else None
    if background is not None:
        step = background
    try:
        with handle:
            try:
                table = open_table(handle, upload.format)
            except FileProblem as exc:
                _mark(upload, UploadStatus.REJECTED, counts, notices=[str(exc)])
                raise UserFacingError(str(exc)) from None
            validator = RowValidator(columns=table.columns, mapping=upload.mapping, refs=refs)
            total = max(1, upload.size_bytes // 1024)

            def report() -> None:
                done = min(total, handle.tell() // 1024) if upload.format == "csv" else 0
                step(done, total, _("%(rows)s rows checked") % {"rows": f"{counts.rows:,}"})

            open_rows = _Source(handle, upload.format, table)

            try:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        _write_postgres(upload, open_rows, validator, counts, rejections, report)
                    else:
                        _write_generic(upload, open_rows, validator, counts, rejections, report)
                    if rejections:
                        raise _Rejected
                    step(total, total, _("Saving…"))
                    # Lines from mapped suppliers take the mapped installation, as single entries do.
                    mappings_link_lines(
                        lines=ImportLine.objects.filter(upload=upload, supplier__isnull=False),
                        mappings=SupplierInstallationMapping.objects.filter(organisation=organisation),
                    )
                    upload.rows_total = counts.rows
                    upload.rows_imported = counts.valid
                    upload.rows_out_of_scope = counts.out_of_scope
                    upload.rows_rejected = 0
                    upload.status = UploadStatus.IMPORTED
                    upload.finished_at = timezone.now()
                    upload.save(update_fields=["rows_total", "rows_imported", "rows_out_of_scope", "rows_rejected", "status", "finished_at"])
                    audit_record(
                        actor=actor,
                        verb="import_upload.imported",
                        organisation=organisation,
                        target=upload,
                        after={"lines": counts.valid, "out_of_scope": counts.out_of_scope},
                    )
                    if connection.vendor == "postgresql" and counts.valid >= ANALYZE_FROM_LINES:
                        transaction.on_commit(_statistics_refresh)  # before the recomputation it causes
                    _declarations_recompute_on_commit(actor=actor, organisation=organisation)
            except _Rejected:
                pass
            except FileProblem as exc:
                rejections.add(RowError(counts.rows + 1, "", "", str(exc)))
    except UserFacingError:
        raise
    except Exception:
        _mark(upload, UploadStatus.REJECTED, counts, notices=[_("An unexpected error stopped the import; nothing was saved.")])
        raise
    finally:
        if background is not None:
            background.close()
    if rejections:
        counts.rejected_rows = len(rejections.rows)
        _mark_rejected(upload, actor, counts, rejections)
        return _result(upload, errors=rejections.first, error_count=rejections.lines), _rejected_file(upload, rejections)
    return _result(upload), None


def _rejected_file(upload: ImportUpload, rejections: _Rejections) -> bytes:
    """The rejected-rows CSV, with the rows' own cells read back from the stored file."""
    try:
        with default_storage.open(upload.stored_file, "rb") as handle:
            try:
                table = open_table(handle, upload.format)
            except FileProblem:
                table = None  # the file itself could not be read: its errors are all there is
            try:
                return rejections.csv(table)
            finally:
                if table is not None:  # stop reading while the file is still open
                    for reader in (table.rows, table.blocks):
                        close = getattr(reader, "close", None)
                        if close is not None:
                            close()
    except (FileNotFoundError, OSError, ValueError):
        return rejections.csv(None)


def _mark(upload: ImportUpload, status: str, counts: _Counts, notices: list[str] | None = None) -> None:
    ImportUpload.objects.filter(pk=upload.pk).update(
        status=status,
        rows_total=counts.rows,
        rows_imported=0,
        rows_out_of_scope=0,
        rows_rejected=counts.rejected_rows,
        notices=[*upload.notices, *(str(n) for n in notices or [])],
        finished_at=timezone.now(),
    )


@transaction.atomic
def _mark_rejected(upload: ImportUpload, actor: Actor, counts: _Counts, rejections: _Rejections) -> None:
    _mark(upload, UploadStatus.REJECTED, counts)
    upload.refresh_from_db()
    audit_record(
        actor=actor,
        verb="import_upload.rejected",
        organisation=upload.organisation,
        target=upload,
        after={"rows": counts.rows, "rejected_rows": counts.rejected_rows, "errors": rejections.lines},
    )


def _result(upload: ImportUpload, errors: list[dict] | None = None, error_count: int = 0) -> dict:
    upload.refresh_from_db()
    result = {
        "upload": upload.pk,
        "status": upload.status,
        "rows": upload.rows_total,
        "imported": upload.rows_imported,
        "out_of_scope": upload.rows_out_of_scope,
        "rejected_rows": upload.rows_rejected,
        "notices": list(upload.notices),
    }
    if errors is not None:
        result["errors"] = errors
        result["error_count"] = error_count
    return result


def _copy_row(row_no, cells, fast, validate, counts, rejections) -> str | None:
    """The COPY line (with its line end) of one row, or None when it is rejected (errors recorded)."""
    line = fast(row_no, cells) if not rejections else None
    if line is not None:
        return line + "\n"
    row, errors = validate(row_no, cells)
    if errors:
        for error in errors:
            rejections.add(error)
        return None
    if rejections:
        return None
    if not row[14]:
        counts.out_of_scope += 1
    return copy_line(row, fast.suffix) + "\n"


def _copy_text(table, validator: RowValidator, counts: _Counts, rejections: _Rejections, report, suffix=None):
    """Yield the COPY text of the valid rows (whole blocks of CSV lines at once where `BlockLines`
    can, else row by row); record errors. Nothing more is yielded once a row was rejected."""
    whole = BlockLines(validator, table.delimiter, suffix) if table.blocks is not None and suffix is not None else None
    fast = whole.fast if whole is not None else FastLines(validator, suffix)
    validate = validator.validate
    delimiter = table.delimiter
    n = 0
    pending: list[str] = []
    for block in _blocks_of(table):
        if block.lines is not None:
            if whole is not None and not rejections:
                text = whole(block.lines)
                if text is not None:
                    n += len(block.lines)
                    counts.valid += len(block.lines)
                    yield text
                    counts.rows = n
                    report()
                    continue
            rows = ((row_no, line.split(delimiter)) for row_no, line in enumerate(block.lines, start=block.first_row) if line)
        else:
            rows = block.rows
        for row_no, cells in rows:
            n += 1
            line = _copy_row(row_no, cells, fast, validate, counts, rejections)
            if line is not None:
                pending.append(line)
                counts.valid += 1
                if len(pending) >= COPY_BATCH:
                    yield "".join(pending)
                    pending.clear()
            if n & 0x3FFF == 0:
                counts.rows = n
                report()
    if pending:
        yield "".join(pending)
    counts.rows = n
    counts.out_of_scope += fast.out_of_scope + (whole.out_of_scope if whole is not None else 0)


def _blocks_of(table):
    """The table's blocks; an XLSX table (rows only) as blocks of rows."""
    if table.blocks is not None:
        yield from table.blocks
        return
    batch: list = []
    for item in table.rows:
        batch.append(item)
        if len(batch) >= COPY_BATCH:
            yield Block(rows=batch)
            batch = []
    if batch:
        yield Block(rows=batch)


def _validated_rows(table, validator: RowValidator, counts: _Counts, rejections: _Rejections, report):
    """Yield valid rows; record errors. Stops yielding (but keeps checking) once any row failed."""
    validate = validator.validate
    n = 0
    for row_no, cells in table.rows:
        n += 1
        row, errors = validate(row_no, cells)
        if errors:
            for error in errors:
                rejections.add(error)
        elif not rejections:
            if not row[14]:
                counts.out_of_scope += 1
            yield row
        if n & 0x3FFF == 0:
            counts.rows = n
            report()
    counts.rows = n


STAGING_SQL = """
CREATE TEMP TABLE declarations_import_staging (
    row_no integer NOT NULL,
    mrn varchar(18) NOT NULL,
    line_no integer NOT NULL,
    released_on date NOT NULL,
    cn_code varchar(8) NOT NULL,
    taric_code varchar(10) NOT NULL,
    origin_country varchar(2) NOT NULL,
    production_country varchar(2) NOT NULL,
    net_mass_tonnes numeric(20, 6),
    quantity_mwh numeric(20, 6),
    supplementary_quantity numeric(20, 6),
    functional_unit_quantity numeric(20, 6),
    procedure varchar(20) NOT NULL,
    supplier_id bigint,
    in_scope boolean NOT NULL,
    out_of_scope_reason varchar(200) NOT NULL
) ON COMMIT DROP
"""

DUPLICATES_SQL = """
SELECT s.row_no, s.mrn, s.line_no, TRUE AS existing, NULL::integer AS first_row
  FROM declarations_import_staging s
  JOIN declarations_importline l
    ON l.organisation_id = %s AND l.mrn = s.mrn AND l.line_no = s.line_no AND l.upload_id IS DISTINCT FROM %s
UNION ALL
SELECT d.row_no, d.mrn, d.line_no, FALSE, d.first_row
  FROM (SELECT row_no, mrn, line_no, min(row_no) OVER (PARTITION BY mrn, line_no) AS first_row
          FROM declarations_import_staging) d
 WHERE d.row_no <> d.first_row
ORDER BY 1
LIMIT %s
"""


def _copy_sql(table: str, extra: tuple[str, ...]) -> str:
    return (
        f"COPY {table} ({', '.join((*LINE_COLUMNS, *extra))}) FROM STDIN"
        f" WITH (FORMAT csv, DELIMITER E'\\t', FORCE_NOT_NULL ({', '.join(TEXT_COLUMNS)}))"
    )


# created_at is left to the column's default (the transaction's time).
COPY_LINES_SQL = _copy_sql("declarations_importline", ("organisation_id", "upload_id"))
COPY_STAGING_SQL = _copy_sql("declarations_import_staging", ("row_no",))


def _copy(cursor, sql: str, pieces) -> None:
    """Stream `pieces` of COPY text into COPY."""
    # The psycopg 3 cursor under Django's wrapper; its errors become Django's (IntegrityError…).
    # The queued writer sends data from a thread, so preparing the next block overlaps the sending.
    from psycopg.copy import QueuedLibpqWriter

    raw = cursor.cursor
    with connection.wrap_database_errors, raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
        for piece in pieces:
            copy.write(piece)


def _write_postgres(upload, open_rows, validator, counts, rejections, report) -> None:
    """COPY valid lines straight into ImportLine inside a savepoint, so the server writes while
    Python checks the next blocks. When the unique (organisation, mrn, line_no) index refuses a
    line, the savepoint is rolled back and the file is read again into a temporary table with row
    numbers, where one query names every duplicate (within the file or of an existing line)."""
    suffix = f"\t{upload.organisation_id}\t{upload.pk}"
    with connection.cursor() as cursor:
        # The rows the lines hang on stay put until the transaction ends (no constraint checks them).
        cursor.execute("SELECT 1 FROM accounts_organisation WHERE id = %s FOR KEY SHARE", [upload.organisation_id])
        cursor.execute("SELECT 1 FROM declarations_importupload WHERE id = %s FOR UPDATE", [upload.pk])
        try:
            with transaction.atomic():
                _copy(cursor, COPY_LINES_SQL, _copy_text(open_rows(), validator, counts, rejections, report, suffix))
                if rejections:
                    raise _Rejected
            return
        except IntegrityError:
            pass
        fresh = _Counts()
        cursor.execute("DROP TABLE IF EXISTS pg_temp.declarations_import_staging")
        cursor.execute(STAGING_SQL)
        _copy(cursor, COPY_STAGING_SQL, _copy_text(open_rows(), validator, fresh, rejections, report))
        counts.rows = fresh.rows
        counts.valid = 0
        if rejections:
            return
        cursor.execute(DUPLICATES_SQL, [upload.organisation_id, upload.pk, MAX_REJECTED_LINES])
        mrn_column = validator.column_of.get("mrn", "mrn")
        for row_no, mrn, line_no, existing, first_row in cursor.fetchall():
            rejections.add(RowError(row_no, mrn_column, f"{mrn}/{line_no}", _duplicate_message(existing, first_row)))
        if not rejections:  # defensive: a conflict we could not name
            rejections.add(RowError(0, "", "", "Some lines clash with lines already recorded."))


def _write_generic(upload, open_rows, validator, counts, rejections, report) -> None:
    """The portable path: duplicate checks in Python, then bulk_create."""
    table = open_rows()
    organisation = upload.organisation
    seen: dict[tuple[str, int], int] = {}
    lines: list[ImportLine] = []
    mrn_column = validator.column_of.get("mrn", "mrn")
    for row in _validated_rows(table, validator, counts, rejections, report):
        key = (row[1], row[2])
        first = seen.get(key)
        if first is not None:
            rejections.add(RowError(row[0], mrn_column, f"{row[1]}/{row[2]}", _duplicate_message(False, first)))
            continue
        seen[key] = row[0]
        lines.append(_line_from_row(row, organisation=organisation, upload=upload))
    if rejections:
        return
    mrns = sorted({mrn for mrn, _line in seen})
    for start in range(0, len(mrns), 500):
        existing = ImportLine.objects.filter(organisation=organisation, mrn__in=mrns[start : start + 500]).values_list("mrn", "line_no")
        for mrn, line_no in existing:
            if (mrn, line_no) in seen:
                rejections.add(RowError(seen[(mrn, line_no)], mrn_column, f"{mrn}/{line_no}", _duplicate_message(True, None)))
    if rejections:
        return
    ImportLine.objects.bulk_create(lines, batch_size=1000)
    counts.valid = len(lines)


def procedure_label(value: str) -> str:
    return str(Procedure(value).label) if value in Procedure.values else value


def import_upload_submit(
    *, actor: Actor, organisation: Organisation, uploaded_file, mapping: dict[str, str] | None = None
) -> ImportUpload:
    """Upload and start in one step (the API): `mapping`, else the saved or suggested one. Nothing
    is kept when the mapping cannot be used (the errors list the file's columns)."""
    with transaction.atomic():
        upload = import_upload_create(actor=actor, organisation=organisation, uploaded_file=uploaded_file)
        stored = upload.stored_file
        chosen = dict(mapping) if mapping else dict(upload.mapping)
        try:
            import_upload_start(actor=actor, organisation=organisation, upload=upload, mapping=chosen, remember=bool(mapping))
        except ValidationError as exc:
            transaction.set_rollback(True)
            default_storage.delete(stored)
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"mapping": exc.messages}
            raise ValidationError(
                {"mapping": [f"{key}: {' '.join(msgs)}" for key, msgs in errors.items()], "columns": list(upload.columns)}
            ) from None
    upload.refresh_from_db()
    return upload
