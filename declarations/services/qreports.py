"""Writes: import of historic transitional-period quarterly reports (QReport XML).

During the transitional period (2023 Q4 – 2025 Q4, [R956] Art 32–35; IR 2023/1773) importers
filed quarterly reports naming, per imported good, the installations of production, their
operators and the specific embedded emissions (SEE) the operators communicated. Importing those
reports pre-fills the declarant's suppliers, the installations known from history
(`HistoricInstallation`, never the operators' own `emissions.Installation`) and the figures
reported per CN code, installation and quarter: the starting point of a request for
definitive-period data.

Steps: `historic_report_uploads_create` stores each uploaded file and starts one job for the
batch; the job (`declarations.jobs`) calls `historic_report_upload_run` per file, which reads the
file with the hardened parser (and validates it against the XSD named by `CBAM_QREPORT_XSD` when
set), then writes the whole report in one transaction, or nothing. Every problem names the
element location (XPath-like) and, when known, the line. A file already imported by the
organisation (same SHA-256) is recognised and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import PurePath

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.core.actor import Actor
from cbam_portal.core.models import Job
from cbam_portal.core.services import audit_record, job_enqueue

from ..models import (
    HistoricEmission,
    HistoricInstallation,
    HistoricReport,
    HistoricReportUpload,
    HistoricUploadStatus,
    Supplier,
)
from ..qreport import NAMESPACE, Problem, QReport, QReportError, parse_qreport, validate_qreport
from ..qreport.model import GoodsEmissions, ImportedGood
from ..qreport.parser import load_xml
from .suppliers import supplier_create

logger = logging.getLogger(__name__)

KIND = "declarations_qreport_import"
UPLOAD_DIR = "declarations/qreports"
#: Problems kept per rejected file (the count keeps the true number).
MAX_PROBLEMS_KEPT = 200
#: Files accepted in one upload.
MAX_FILES = 20

#: The transitional period: reports for 2023 Q4 to 2025 Q4 ([R956] Art 32; IR 2023/1773 Art 2).
FIRST_PERIOD = (2023, 4)
LAST_PERIOD = (2025, 4)

_PERIOD = re.compile(r"Q([1-4])", re.IGNORECASE)
#: Decimal places kept for the reported values: QReport v17.03 allows at most 7 (dec16-7).
_PLACES = 7
_WHOLE_DIGITS = 13
_COORDINATE_PLACES = Decimal("0.00000001")

ProgressFn = Callable[[int, int | None, str], None]


# ---------------------------------------------------------------------------------------------
# The schema setting
# ---------------------------------------------------------------------------------------------


def qreport_xsd_path() -> str:
    """The QReport XSD configured with ``CBAM_QREPORT_XSD`` ('' when schema validation is off)."""
    return str(getattr(settings, "CBAM_QREPORT_XSD", "") or "").strip()


def qreport_schema_problem(xsd_path: str | None = None) -> str | None:
    """Why the configured XSD cannot be used, or None when it can (or none is configured)."""
    from ..qreport.validate import schema_for

    path = qreport_xsd_path() if xsd_path is None else xsd_path
    if not path:
        return None
    try:
        schema_for(path)
    except Exception as exc:  # a missing file, a missing include, a schema that does not compile
        return _("The QReport schema set in CBAM_QREPORT_XSD cannot be used: %(reason)s") % {"reason": exc}
    return None


@checks.register("cbam")
def qreport_schema_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check`: warn when CBAM_QREPORT_XSD names a schema that cannot be loaded."""
    problem = qreport_schema_problem()
    if problem is None:
        return []
    return [
        checks.Warning(
            problem,
            hint="Point CBAM_QREPORT_XSD at the Commission's QReport XSD with its stypes file next to it, or unset it.",
            id="declarations.W001",
        )
    ]


# ---------------------------------------------------------------------------------------------
# Upload: store the files and start the job
# ---------------------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(settings.CBAM_MAX_UPLOAD_BYTES)


def _require_declarant(organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.DECLARANT:
        raise ValidationError(_("Only declarants (importers) import their quarterly reports."))


def _organisation_eori(organisation: Organisation) -> str:
    return (organisation.eori or "").strip().upper()


def _no_eori_message(organisation: Organisation) -> str:
    return _(
        "%(organisation)s has no EORI number recorded: an administrator must record the "
        "organisation's EORI before quarterly reports can be imported (they are matched against it)."
    ) % {"organisation": organisation.name}


def _require_eori(organisation: Organisation) -> None:
    if not _organisation_eori(organisation):
        raise ValidationError({"files": _no_eori_message(organisation)})


def _digest(uploaded_file) -> str:
    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


@transaction.atomic
def historic_report_uploads_create(
    *, actor: Actor, organisation: Organisation, uploaded_files: Iterable
) -> tuple[list[HistoricReportUpload], Job | None]:
    """Store uploaded quarterly report files and start one job that imports them.

    Refuses the whole submission (nothing stored) when a file is empty or larger than
    CBAM_MAX_UPLOAD_BYTES. A file the organisation already imported (same SHA-256) is recorded as
    such and not imported again. Returns the uploads and the job (None when nothing is left to do).
    """
    _require_declarant(organisation)
    _require_eori(organisation)
    files = list(uploaded_files)
    if not files:
        raise ValidationError({"files": _("Choose at least one quarterly report file.")})
    if len(files) > MAX_FILES:
        raise ValidationError({"files": _("Upload at most %(n)s files at once.") % {"n": MAX_FILES}})
    errors = []
    for uploaded in files:
        name = PurePath(uploaded.name or "report.xml").name
        size = int(getattr(uploaded, "size", 0) or 0)
        if size > max_upload_bytes():
            errors.append(
                _("%(file)s is %(size)s; the limit is %(limit)s.")
                % {"file": name, "size": filesizeformat(size), "limit": filesizeformat(max_upload_bytes())}
            )
        elif size == 0:
            errors.append(_("%(file)s is empty.") % {"file": name})
    if errors:
        raise ValidationError({"files": errors})
    imported = dict(HistoricReport.objects.filter(organisation=organisation).values_list("sha256", "pk"))
    uploads: list[HistoricReportUpload] = []
    pending: list[int] = []
    stored_paths: list[str] = []
    try:
        for uploaded in files:
            name = PurePath(uploaded.name or "report.xml").name[:200]
            sha256 = _digest(uploaded)
            upload = HistoricReportUpload(
                organisation=organisation,
                file_name=name,
                sha256=sha256,
                size_bytes=int(uploaded.size),
                created_by=actor.user,
            )
            if sha256 in imported:
                upload.status = HistoricUploadStatus.DUPLICATE
                upload.report_id = imported[sha256]
                upload.finished_at = timezone.now()
            else:
                upload.stored_file = default_storage.save(
                    f"{UPLOAD_DIR}/{secrets.token_urlsafe(16)}.xml", uploaded
                )
                stored_paths.append(upload.stored_file)
            upload.save()
            uploads.append(upload)
            if upload.status == HistoricUploadStatus.QUEUED:
                pending.append(upload.pk)
        job = None
        if pending:
            job = job_enqueue(actor=actor, organisation=organisation, kind=KIND, params={"uploads": pending})
            HistoricReportUpload.objects.filter(pk__in=pending).update(job=job)
            for upload in uploads:
                if upload.pk in pending:
                    upload.job = job
        audit_record(
            actor=actor,
            verb="historic_report_upload.created",
            organisation=organisation,
            target=uploads[0],
            after={
                "files": [{"name": u.file_name, "sha256": u.sha256, "status": u.status} for u in uploads],
                "job": job.pk if job else None,
            },
        )
    except Exception:
        for stored in stored_paths:
            default_storage.delete(stored)
        raise
    return uploads, job


# ---------------------------------------------------------------------------------------------
# The run (called by the job): read, check, write whole or not at all
# ---------------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


def _problem_dicts(problems: list[Problem]) -> list[dict]:
    return [
        {"path": p.path, "line": p.line, "column": p.column, "message": str(p.message)}
        for p in problems[:MAX_PROBLEMS_KEPT]
    ]


def _line_of(data: bytes, name: str) -> int | None:
    try:
        element = load_xml(data).find(f"{{{NAMESPACE}}}{name}")
    except QReportError:
        return None
    return element.sourceline if element is not None else None


def _quarter(report: QReport, data: bytes) -> int:
    """The report's quarter, refused unless within the transitional period ([R956] Art 32)."""
    match = _PERIOD.fullmatch(report.reporting_period.strip())
    if match is None:
        raise _Refused(
            [
                Problem(
                    "/QReport/ReportingPeriod",
                    _("“%(value)s” is not a quarter (Q1 to Q4).") % {"value": report.reporting_period},
                    _line_of(data, "ReportingPeriod"),
                )
            ]
        )
    quarter = int(match.group(1))
    if not FIRST_PERIOD <= (report.year, quarter) <= LAST_PERIOD:
        raise _Refused(
            [
                Problem(
                    "/QReport/Year",
                    _(
                        "Year %(year)s, quarter Q%(quarter)s is not in the transitional period "
                        "(2023 Q4 to 2025 Q4): only transitional quarterly reports can be imported."
                    )
                    % {"year": report.year, "quarter": quarter},
                    _line_of(data, "Year"),
                )
            ]
        )
    return quarter


class _Numbers:
    """Checks that every stored number fits the columns exactly (nothing silently rounded)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def __call__(self, value: Decimal | None, path: str) -> Decimal | None:
        if value is None:
            return None
        sign, digits, exponent = value.as_tuple()
        places = max(0, -int(exponent))
        whole = max(0, len(digits) + int(exponent))
        if places > _PLACES:
            self.problems.append(
                Problem(
                    path, _("%(value)s has more than %(n)s decimal places.") % {"value": value, "n": _PLACES}
                )
            )
        elif whole > _WHOLE_DIGITS:
            self.problems.append(Problem(path, _("%(value)s is too large.") % {"value": value}))
        return value


def _coordinate(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_COORDINATE_PLACES, rounding=ROUND_HALF_EVEN)


def _cut(value: str | None, length: int) -> str:
    return (value or "").strip()[:length]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _qualifying_params(emissions: GoodsEmissions) -> list[dict]:
    return [
        {
            "method_id": method.method_id,
            "method_name": method.method_name or "",
            "direct": [
                {
                    "id": p.parameter_id,
                    "name": p.parameter_name or "",
                    "value": p.value,
                    "type": p.value_type or "",
                }
                for p in method.direct_parameters
            ],
            "indirect": [
                {
                    "id": p.parameter_id,
                    "name": p.parameter_name or "",
                    "value": p.value,
                    "type": p.value_type or "",
                }
                for p in method.indirect_parameters
            ],
        }
        for method in emissions.production_methods
    ]


def _carbon_price_due(emissions: GoodsEmissions) -> list[dict]:
    return [
        {
            "instrument_type": price.instrument_type,
            "country": price.country,
            "amount": _money(price.amount),
            "currency": price.currency,
            "amount_eur": _money(price.amount_eur),
            "products": [
                {
                    "type": product.type,
                    "cn": product.cn or "",
                    "quantity_covered": _money(product.quantity_covered),
                }
                for product in price.products_covered
            ],
        }
        for price in emissions.carbon_prices_due
    ]


@dataclass
class _Suppliers:
    """Suppliers and historic installations of the organisation, looked up once per report."""

    organisation: Organisation
    actor: Actor

    def __post_init__(self) -> None:
        self.installations = {
            (i.operator_id, i.installation_id): i
            for i in HistoricInstallation.objects.filter(organisation=self.organisation).select_related(
                "supplier"
            )
        }
        self.by_operator: dict[str, Supplier] = {}
        for installation in self.installations.values():
            if installation.supplier is not None:
                self.by_operator.setdefault(installation.operator_id, installation.supplier)
        self.suppliers = list(Supplier.objects.filter(organisation=self.organisation))
        self.created: list[Supplier] = []
        self.new_installations: list[HistoricInstallation] = []

    def supplier_for(self, emissions: GoodsEmissions, path: str) -> Supplier:
        """The supplier for an operator: the one already linked to its id, else the one with its
        name (same country first), else a new one. Only this organisation's suppliers."""
        operator = emissions.operator
        known = self.by_operator.get(operator.operator_id)
        if known is not None:
            return known
        name = _cut(operator.name, 200)
        country = (
            (operator.address.country if operator.address else None)
            or (
                emissions.installation.address.country
                if emissions.installation and emissions.installation.address
                else None
            )
            or emissions.production_country
            or ""
        ).upper()
        same_name = [s for s in self.suppliers if s.name.casefold() == name.casefold()]
        same_name.sort(key=lambda s: s.country != country)
        if same_name:
            supplier = same_name[0]
        else:
            try:
                supplier = supplier_create(
                    actor=self.actor, organisation=self.organisation, name=name, country=country
                )
            except ValidationError as exc:
                messages = (
                    "; ".join(" ".join(m) for m in exc.message_dict.values())
                    if hasattr(exc, "error_dict")
                    else " ".join(exc.messages)
                )
                raise _Refused([Problem(f"{path}/InstallationOperator", messages)]) from None
            self.suppliers.append(supplier)
            self.created.append(supplier)
        self.by_operator[operator.operator_id] = supplier
        return supplier

    def installation_for(self, emissions: GoodsEmissions, supplier: Supplier) -> HistoricInstallation:
        operator, installation = emissions.operator, emissions.installation
        key = (_cut(operator.operator_id, 40), _cut(installation.installation_id, 40))
        known = self.installations.get(key)
        if known is not None:
            if known.supplier_id is None:
                known.supplier = supplier
                known.save(update_fields=["supplier"])
            return known
        address = installation.address
        record = HistoricInstallation.objects.create(
            organisation=self.organisation,
            supplier=supplier,
            operator_id=key[0],
            operator_name=_cut(operator.name, 200),
            installation_id=key[1],
            name=_cut(installation.name, 200),
            economic_activity=_cut(installation.economic_activity, 200),
            country=_cut(address.country if address else emissions.production_country, 2).upper(),
            city=_cut(address.city if address else "", 100),
            street=_cut(" ".join(filter(None, [address.street, address.number])) if address else "", 200),
            postcode=_cut(address.postcode if address else "", 20),
            unlocode=_cut(address.unlocode if address else "", 10),
            latitude=_coordinate(address.latitude if address else None),
            longitude=_coordinate(address.longitude if address else None),
        )
        self.installations[key] = record
        self.new_installations.append(record)
        return record


def _emission_rows(
    report: QReport, good: ImportedGood, number: _Numbers
) -> list[tuple[GoodsEmissions, dict]]:
    rows = []
    measure = good.measure_imported
    for emissions in good.goods_emissions:
        p = emissions.path
        installation = emissions.installation
        address = installation.address if installation else None
        rows.append(
            (
                emissions,
                {
                    "item_number": good.item_number,
                    "sequence_number": emissions.sequence_number,
                    "cn_code": good.commodity.cn8,
                    "description": _cut(good.commodity.description, 600),
                    "origin_country": good.origin_country,
                    "production_country": emissions.production_country or "",
                    "imported_net_mass": number(measure.net_mass, f"{good.path}/MeasureImported/NetMass"),
                    "imported_unit": _cut(measure.measurement_unit, 10),
                    "produced_net_mass": number(
                        emissions.produced_measure.net_mass, f"{p}/ProducedMeasure/NetMass"
                    ),
                    "produced_unit": _cut(emissions.produced_measure.measurement_unit, 10),
                    "operator_id": _cut(emissions.operator.operator_id if emissions.operator else "", 40),
                    "operator_name": _cut(emissions.operator.name if emissions.operator else "", 200),
                    "installation_code": _cut(installation.installation_id if installation else "", 40),
                    "installation_name": _cut(installation.name if installation else "", 200),
                    "unlocode": _cut(address.unlocode if address else "", 10),
                    "latitude": _coordinate(address.latitude if address else None),
                    "longitude": _coordinate(address.longitude if address else None),
                    "see_direct": number(
                        emissions.direct.specific_embedded_emissions,
                        f"{p}/DirectEmissions/SpecificEmbeddedEmissions",
                    ),
                    "see_indirect": number(
                        emissions.indirect.specific_embedded_emissions if emissions.indirect else None,
                        f"{p}/IndirectEmissions/SpecificEmbeddedEmissions",
                    ),
                    "see_unit": _cut(emissions.direct.measurement_unit, 10),
                    "direct_determination_type": _cut(emissions.direct.determination_type, 10),
                    "indirect_determination_type": _cut(
                        emissions.indirect.determination_type if emissions.indirect else "", 10
                    ),
                    "installation_emissions_total": number(
                        emissions.installation_emissions.overall_emissions,
                        f"{p}/InstallationEmissions/OverallEmissions",
                    ),
                    "qualifying_params": _qualifying_params(emissions),
                    "carbon_price_due": _carbon_price_due(emissions),
                    "path": p[:200],
                },
            )
        )
    return rows


def _eori_of(party) -> str:
    return ((party.identification_number if party is not None else "") or "").strip().upper()


def _require_own_report(report: QReport, organisation: Organisation, data: bytes) -> None:
    """Refuse a report filed for another organisation.

    Accepted when the organisation's EORI is the report's Declarant or Importer. A customs
    representative imports in the name of the importer it represents (the organisation here is the
    importer), so a report the representative filed as declarant for that importer is accepted too.
    """
    eori = _organisation_eori(organisation)
    path = "/QReport/Declarant/IdentificationNumber"
    if not eori:
        raise _Refused([Problem(path, _no_eori_message(organisation))])
    if eori in {_eori_of(report.declarant), _eori_of(report.importer)} - {""}:
        return
    declarant = report.declarant
    line = None
    try:
        element = load_xml(data).find(f"{{{NAMESPACE}}}Declarant/{{{NAMESPACE}}}IdentificationNumber")
        line = element.sourceline if element is not None else None
    except QReportError:
        pass
    raise _Refused(
        [
            Problem(
                path,
                _(
                    "This report was filed by EORI %(filed)s (%(name)s); your organisation's EORI is "
                    "%(own)s: import reports of your own organisation only."
                )
                % {
                    "filed": _eori_of(declarant) or "–",
                    "name": (declarant.name if declarant is not None else "") or "–",
                    "own": eori,
                },
                line,
            )
        ]
    )


def _read(upload: HistoricReportUpload) -> bytes:
    try:
        with default_storage.open(upload.stored_file, "rb") as handle:
            return handle.read(max_upload_bytes() + 1)
    except (FileNotFoundError, OSError, ValueError):
        raise _Refused(
            [Problem("/", _("The uploaded file is no longer available; please upload it again."))]
        ) from None


def _check(data: bytes) -> tuple[QReport, bool]:
    """Parse (and validate when an XSD is configured); raises _Refused with every problem."""
    xsd = qreport_xsd_path()
    validated = False
    if xsd:
        problem = qreport_schema_problem(xsd)
        if problem is not None:
            raise _Refused([Problem("/", problem)])
        problems = validate_qreport(data, xsd, max_bytes=max_upload_bytes())
        if problems:
            raise _Refused(problems)
        validated = True
    try:
        report = parse_qreport(data, max_bytes=max_upload_bytes())
    except QReportError as exc:
        raise _Refused(exc.problems) from None
    return report, validated


def historic_report_upload_run(
    *, upload_id: int, actor: Actor, organisation: Organisation | None = None
) -> HistoricReportUpload:
    """Import one uploaded quarterly report whole, or reject it whole naming every problem.
    Running it again after it finished changes nothing."""
    uploads = HistoricReportUpload.objects.select_related("organisation")
    if organisation is not None:
        uploads = uploads.filter(organisation=organisation)
    upload = uploads.filter(pk=upload_id).first()
    if upload is None or upload.status in (HistoricUploadStatus.IMPORTED, HistoricUploadStatus.DUPLICATE):
        return upload
    organisation = upload.organisation
    HistoricReportUpload.objects.filter(pk=upload.pk).update(status=HistoricUploadStatus.RUNNING)
    try:
        data = _read(upload)
        report, validated = _check(data)
        _require_own_report(report, organisation, data)
        quarter = _quarter(report, data)
        with transaction.atomic():
            _write(
                upload=upload,
                actor=actor,
                organisation=organisation,
                report=report,
                quarter=quarter,
                validated=validated,
            )
    except _Refused as refused:
        _reject(upload, actor, refused.problems)
    except _Duplicate as duplicate:
        _mark_duplicate(upload, duplicate.report)
    except Exception:
        # Logged with its traceback; this file is rejected and the other files of the batch go on.
        logger.exception("Quarterly report upload %s failed", upload.pk)
        message = _(
            "An unexpected error stopped the import of this file (upload #%(id)s); nothing was saved."
        )
        _reject(upload, actor, [Problem("/", message % {"id": upload.pk})])
    upload.refresh_from_db()
    return upload


class _Duplicate(Exception):
    def __init__(self, report: HistoricReport):
        self.report = report


def _write(
    *,
    upload: HistoricReportUpload,
    actor: Actor,
    organisation: Organisation,
    report: QReport,
    quarter: int,
    validated: bool,
) -> HistoricReport:
    # One import at a time per organisation: suppliers are matched and created consistently.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    existing = HistoricReport.objects.filter(organisation=organisation, sha256=upload.sha256).first()
    if existing is not None:
        raise _Duplicate(existing)
    number = _Numbers()
    rows = [row for good in report.imported_goods for row in _emission_rows(report, good, number)]
    goods_totals = [
        (
            number(good.measure_imported.net_mass, f"{good.path}/MeasureImported/NetMass") or Decimal(0),
            number(good.total_emissions.overall_emissions, f"{good.path}/TotalEmissions/OverallEmissions"),
        )
        for good in report.imported_goods
    ]
    header_total = number(report.total_emissions, "/QReport/TotalEmissions")
    if number.problems:
        raise _Refused(number.problems)
    importer = report.importer
    try:
        with transaction.atomic():
            record = HistoricReport.objects.create(
                organisation=organisation,
                file_name=upload.file_name,
                sha256=upload.sha256,
                report_id=_cut(report.report_id, 40),
                draft_report_id=_cut(report.draft_report_id, 40),
                year=report.year,
                quarter=quarter,
                submission_date=report.submission_date,
                declarant_eori=_cut(report.declarant.identification_number, 40),
                declarant_name=_cut(report.declarant.name, 200),
                importer_eori=_cut(importer.identification_number if importer else "", 40),
                importer_name=_cut(importer.name if importer else "", 200),
                goods_count=len(report.imported_goods),
                emissions_count=len(rows),
                imported_net_mass_total=sum((mass for mass, _total in goods_totals), Decimal(0)),
                embedded_emissions_total=sum((total for _mass, total in goods_totals), Decimal(0)),
                header_total_imported=report.total_imported,
                header_total_emissions=header_total,
                schema_validated=validated,
                uploaded_by=upload.created_by,
            )
    except IntegrityError:
        raise _Duplicate(
            HistoricReport.objects.get(organisation=organisation, sha256=upload.sha256)
        ) from None
    suppliers = _Suppliers(organisation=organisation, actor=actor)
    emissions = []
    for goods_emissions, values in rows:
        supplier = installation = None
        if goods_emissions.operator is not None:
            supplier = suppliers.supplier_for(goods_emissions, goods_emissions.path)
            if goods_emissions.installation is not None:
                installation = suppliers.installation_for(goods_emissions, supplier)
        emissions.append(
            HistoricEmission(
                organisation=organisation,
                report=record,
                supplier=supplier,
                installation=installation,
                **values,
            )
        )
    HistoricEmission.objects.bulk_create(emissions, batch_size=500)
    replaced = _supersede(record, organisation=organisation, actor=actor)
    upload.status = HistoricUploadStatus.IMPORTED
    upload.report = record
    upload.schema_validated = validated
    upload.problems = []
    upload.problem_count = 0
    upload.finished_at = timezone.now()
    upload.save(
        update_fields=["status", "report", "schema_validated", "problems", "problem_count", "finished_at"]
    )
    audit_record(
        actor=actor,
        verb="historic_report.imported",
        organisation=organisation,
        target=record,
        after={
            "file_name": upload.file_name,
            "sha256": upload.sha256,
            "period": record.period,
            "goods": record.goods_count,
            "emissions": record.emissions_count,
            "suppliers_created": [s.pk for s in suppliers.created],
            "installations_created": [i.pk for i in suppliers.new_installations],
            "schema_validated": validated,
            "supersedes": [r.pk for r in replaced],
            "superseded_by": record.superseded_by_id,
        },
    )
    return record


def _supersede(record: HistoricReport, *, organisation: Organisation, actor: Actor) -> list[HistoricReport]:
    """A corrected report (same ReportId as a current report of the organisation, another file)
    replaces it: the most recently submitted one stays current (the new one on a tie), the others
    are kept for the audit trail, marked superseded. Returns the reports the new one replaced."""
    if not record.report_id:
        return []
    current = list(
        HistoricReport.objects.select_for_update()
        .filter(organisation=organisation, report_id=record.report_id, superseded_by__isnull=True)
        .exclude(pk=record.pk)
        .order_by("pk")
    )
    if not current:
        return []
    now = timezone.now()
    newer = [
        r
        for r in current
        if r.submission_date and record.submission_date and r.submission_date > record.submission_date
    ]
    if newer:
        # An older version arrived after its correction: it is kept, already superseded.
        keeper = max(newer, key=lambda r: (r.submission_date, r.pk))
        record.superseded_by, record.superseded_at = keeper, now
        record.save(update_fields=["superseded_by", "superseded_at"])
        audit_record(
            actor=actor,
            verb="historic_report.superseded",
            organisation=organisation,
            target=record,
            after={"report_id": record.report_id, "superseded_by": keeper.pk},
        )
        return []
    HistoricReport.objects.filter(pk__in=[r.pk for r in current]).update(
        superseded_by=record, superseded_at=now
    )
    for old in current:
        audit_record(
            actor=actor,
            verb="historic_report.superseded",
            organisation=organisation,
            target=old,
            before={"sha256": old.sha256, "file_name": old.file_name},
            after={"report_id": record.report_id, "superseded_by": record.pk, "sha256": record.sha256},
        )
    return current


@transaction.atomic
def _reject(upload: HistoricReportUpload, actor: Actor, problems: list[Problem]) -> None:
    HistoricReportUpload.objects.filter(pk=upload.pk).update(
        status=HistoricUploadStatus.REJECTED,
        problems=_problem_dicts(problems),
        problem_count=len(problems),
        report=None,
        finished_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        verb="historic_report_upload.rejected",
        organisation=upload.organisation,
        target=upload,
        after={
            "file_name": upload.file_name,
            "problems": len(problems),
            "first": str(problems[0]) if problems else "",
        },
    )


def _mark_duplicate(upload: HistoricReportUpload, report: HistoricReport) -> None:
    HistoricReportUpload.objects.filter(pk=upload.pk).update(
        status=HistoricUploadStatus.DUPLICATE, report=report, finished_at=timezone.now()
    )


def historic_report_batch_run(
    *, upload_ids: list[int], actor: Actor, organisation: Organisation, progress: ProgressFn | None = None
) -> dict:
    """Import each upload of a batch on its own (all or nothing per file). Returns the job result."""
    step = progress or (lambda done, total, message: None)
    total = len(upload_ids)
    outcome: list[dict] = []
    for done, upload_id in enumerate(upload_ids):
        step(done, total, _("Reading report %(n)s of %(total)s") % {"n": done + 1, "total": total})
        upload = historic_report_upload_run(upload_id=upload_id, actor=actor, organisation=organisation)
        if upload is None:
            continue
        outcome.append(
            {
                "upload": upload.pk,
                "file_name": upload.file_name,
                "status": upload.status,
                "report": upload.report_id,
                "problems": upload.problems[:5],
                "problem_count": upload.problem_count,
            }
        )
    step(total, total, _("Done"))
    counts = {
        status: sum(1 for o in outcome if o["status"] == status) for status in HistoricUploadStatus.values
    }
    return {
        "imported": counts[HistoricUploadStatus.IMPORTED],
        "rejected": counts[HistoricUploadStatus.REJECTED],
        "duplicate": counts[HistoricUploadStatus.DUPLICATE],
        "uploads": outcome,
    }
