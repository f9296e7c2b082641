"""Pages of the import lines: list, single entry, upload → column mapping → job → result."""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.csv_export import csv_safe
from cbam_portal.core.pagination import IdFirstPaginator

from ..forms.imports import ImportLineFilterForm, ImportLineForm, MappingForm, UploadForm
from ..ingest.fields import FIELDS
from ..ingest.reader import FileProblem, open_table
from ..models import Procedure, UploadStatus
from ..selectors.imports import (
    ImportLineFilters,
    import_line_list_for,
    import_upload_get_for,
    import_upload_list_for,
    installation_choices_for,
    supplier_list_for,
)
from ..services.imports import (
    import_line_create,
    import_upload_create,
    import_upload_start,
    max_upload_bytes,
    upload_too_large_message,
)

KINDS = (OrganisationKind.DECLARANT,)
LINES_PER_PAGE = 50
#: Rows fetched from the database at a time while an export streams.
EXPORT_CHUNK = 2000
#: A worksheet holds 1,048,576 rows, one of them the header; larger exports are CSV only.
XLSX_MAX_ROWS = 1_048_575
#: The mapping step shows the first rows of the file, read from its first bytes only.
PREVIEW_ROWS = 3
PREVIEW_BYTES = 64 * 1024
#: Room for the multipart envelope around the file itself.
MULTIPART_SLACK_BYTES = 64 * 1024


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@org_required(kinds=KINDS)
@require_GET
def import_list(request):
    access = request.access
    form = ImportLineFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else ImportLineFilters()
    page = IdFirstPaginator(import_line_list_for(access, filters), LINES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "declarations/imports/list.html",
        {
            "form": form,
            "page": page,
            "lines": page.object_list,
            # Electricity lines are rare: the MWh column only when the page has one.
            "show_mwh": any(line.quantity_mwh is not None for line in page.object_list),
            "filtered": filters != ImportLineFilters(),
            "query": _query_without_page(request),
            "uploads": list(import_upload_list_for(access)[:5]),
            "can_edit": access.can(Capability.EDIT),
        },
    )


def _export_header() -> list[str]:
    return [
        _("Customs declaration (MRN)"),
        _("Line number"),
        _("Date of release"),
        _("CN code"),
        _("TARIC code"),
        _("Country of origin"),
        _("Country of production"),
        _("Net mass (t)"),
        _("Electricity (MWh)"),
        _("Supplementary unit quantity"),
        _("Functional-unit quantity"),
        _("Customs procedure"),
        _("Supplier"),
        _("Installation"),
        _("In scope"),
        _("Reason out of scope"),
    ]


def _export_rows(lines):
    """Each line as cells, quantities with the full stored precision (as text, never float)."""
    procedures = dict(Procedure.choices)
    yes, no = _("yes"), _("no")
    for line in lines.iterator(chunk_size=EXPORT_CHUNK):
        yield [
            line.mrn,
            line.line_no,
            line.released_on.isoformat(),
            line.cn_code,
            line.taric_code,
            line.origin_country,
            line.production_country,
            *(
                "" if q is None else format(q, "f")
                for q in (
                    line.net_mass_tonnes,
                    line.quantity_mwh,
                    line.supplementary_quantity,
                    line.functional_unit_quantity,
                )
            ),
            str(procedures.get(line.procedure, line.procedure)),
            line.supplier.name if line.supplier_id else "",
            line.installation.name if line.installation_id else "",
            yes if line.in_scope else no,
            line.out_of_scope_reason,
        ]


class _Echo:
    """A file-like object whose write() returns the text, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_stream(lines):
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([csv_safe(c) for c in _export_header()])
    for row in _export_rows(lines):
        yield writer.writerow([csv_safe(c) for c in row])


@org_required(kinds=KINDS)
@require_GET
def import_export(request, file_format: str):
    """The import lines matching the list's filters, as CSV (streamed) or XLSX."""
    access = request.access
    form = ImportLineFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else ImportLineFilters()
    if file_format not in ("csv", "xlsx"):
        raise Http404
    lines = import_line_list_for(access, filters)
    stem = f"import-lines-{access.organisation.pk}"
    if file_format == "csv":
        response = StreamingHttpResponse(_csv_stream(lines), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if lines.count() > XLSX_MAX_ROWS:
        messages.error(
            request,
            _("More than %(n)s lines match: a spreadsheet cannot hold them. Filter the lines, or export CSV.")
            % {"n": f"{XLSX_MAX_ROWS:,}"},
        )
        return redirect(f"{reverse('declarations:import_list')}?{request.GET.urlencode()}")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_("Import lines")))
    sheet.append(_export_header())
    quantity_columns = range(7, 11)
    for row in _export_rows(lines):
        # Quantities as numbers (Decimal keeps the stored digits); text neutralised like CSV cells,
        # since a spreadsheet would run a cell starting with "=" as a formula.
        sheet.append(
            [
                Decimal(c) if i in quantity_columns and c else (csv_safe(c) if isinstance(c, str) else c)
                for i, c in enumerate(row)
            ]
        )
    # FileResponse closes the file once it is sent.
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{stem}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_http_methods(["GET", "POST"])
def import_create(request):
    access = request.access
    kwargs = {"suppliers": supplier_list_for(access), "installations": installation_choices_for(access)}
    form = ImportLineForm(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            line = import_line_create(
                actor=Actor.from_request(request),
                organisation=access.organisation,
                values=form.values(),
                supplier=form.cleaned_data.get("supplier"),
                installation=form.cleaned_data.get("installation"),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("Line %(line)s of %(mrn)s recorded.") % {"line": line.line_no, "mrn": line.mrn}
            )
            return redirect("declarations:import_list")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "declarations/imports/create.html", {"form": form}, status=status)


@csrf_exempt  # the size is checked before the body is read; the real view below checks CSRF
@org_required(capability=Capability.EDIT, kinds=KINDS)
def import_upload(request):
    """Refuse an oversize upload from its Content-Length, before the body is parsed."""
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_upload_bytes() + MULTIPART_SLACK_BYTES:
            response = render(
                request,
                "declarations/imports/upload.html",
                {"form": UploadForm(), "page_error": upload_too_large_message(length)},
                status=413,
            )
            response["Connection"] = "close"
            return response
    return _import_upload(request)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _import_upload(request):
    access = request.access
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = import_upload_create(
                actor=Actor.from_request(request),
                organisation=access.organisation,
                uploaded_file=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("declarations:import_upload_detail", pk=upload.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "declarations/imports/upload.html", {"form": form}, status=status)


def _preview_rows(upload) -> list[list[str]]:
    """The first rows of a stored upload, cell by cell, to show beside the mapping (best effort)."""
    if not upload.stored_file:
        return []
    try:
        with default_storage.open(upload.stored_file, "rb") as handle:
            if upload.format == "xlsx":
                table = open_table(handle, "xlsx")
            else:
                head = handle.read(PREVIEW_BYTES)
                if len(head) == PREVIEW_BYTES:
                    # Cut at a line end: never inside a row, nor inside a UTF-8 character.
                    head = head[: head.rfind(b"\n") + 1]
                table = open_table(io.BytesIO(head), "csv")
            width = len(upload.columns)
            return [
                (cells + [""] * width)[:width]
                for _row_no, cells in itertools.islice(table.rows, PREVIEW_ROWS)
            ]
    except (FileProblem, OSError, ValueError):
        return []


@org_required(kinds=KINDS)
@require_http_methods(["GET", "POST"])
def import_upload_detail(request, pk: int):
    """The mapping step while the upload waits for it; then the job's progress and the result."""
    access = request.access
    upload = import_upload_get_for(access, pk)
    can_map = upload.status in (UploadStatus.MAPPING, UploadStatus.REJECTED) and bool(upload.stored_file)
    form = None
    if can_map:
        form = MappingForm(request.POST or None, columns=upload.columns, initial_mapping=upload.mapping)
    if request.method == "POST":
        access.require(Capability.EDIT)
        if form is None:
            messages.info(request, _("This upload has already been started."))
            return redirect("declarations:import_upload_detail", pk=upload.pk)
        if form.is_valid():
            try:
                import_upload_start(
                    actor=Actor.from_request(request),
                    organisation=access.organisation,
                    upload=upload,
                    mapping=form.mapping(),
                    remember=form.cleaned_data["remember"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for key, errors in exc.message_dict.items():
                        name = f"map_{key}"
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                return redirect("declarations:import_upload_detail", pk=upload.pk)
    upload.refresh_from_db()
    job = upload.job
    result = (job.result or {}) if job is not None else {}
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(
        request,
        "declarations/imports/upload_detail.html",
        {
            "upload": upload,
            "form": form if can_map else None,
            "job": job,
            "errors": result.get("errors", []),
            "error_count": result.get("error_count", 0),
            "fields": FIELDS,
            "preview": _preview_rows(upload) if can_map else [],
            "can_edit": access.can(Capability.EDIT),
        },
        status=status,
    )


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/new/", import_create, name="import_create"),
    path("imports/export/<str:file_format>/", import_export, name="import_export"),
    path("imports/upload/", import_upload, name="import_upload"),
    path("imports/uploads/<int:pk>/", import_upload_detail, name="import_upload_detail"),
]
