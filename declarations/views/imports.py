"""Pages of the import lines: list, single entry, upload → column mapping → job → result."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..forms.imports import ImportLineFilterForm, ImportLineForm, MappingForm, UploadForm
from ..ingest.fields import FIELDS
from ..models import UploadStatus
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
    page = Paginator(import_line_list_for(access, filters), LINES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "declarations/imports/list.html",
        {
            "form": form,
            "page": page,
            "lines": page.object_list,
            "filtered": filters != ImportLineFilters(),
            "query": _query_without_page(request),
            "uploads": list(import_upload_list_for(access)[:5]),
            "can_edit": access.can(Capability.EDIT),
        },
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
            messages.success(request, _("Line %(line)s of %(mrn)s recorded.") % {"line": line.line_no, "mrn": line.mrn})
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
                actor=Actor.from_request(request), organisation=access.organisation, uploaded_file=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("declarations:import_upload_detail", pk=upload.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "declarations/imports/upload.html", {"form": form}, status=status)


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
            "can_edit": access.can(Capability.EDIT),
        },
        status=status,
    )


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/new/", import_create, name="import_create"),
    path("imports/upload/", import_upload, name="import_upload"),
    path("imports/uploads/<int:pk>/", import_upload_detail, name="import_upload_detail"),
]
