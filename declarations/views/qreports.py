"""Pages: historic transitional quarterly reports (upload → job → result, list, detail) and the
"reported in transitional reports" section of a supplier."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..forms.qreports import HistoricReportUploadForm
from ..models import HistoricUploadStatus
from ..selectors import qreports as selectors
from ..selectors.suppliers import supplier_get
from ..services.qreports import (
    MAX_FILES,
    historic_report_uploads_create,
    max_upload_bytes,
    qreport_schema_problem,
    qreport_xsd_path,
)

KINDS = (OrganisationKind.DECLARANT,)
RECENT_UPLOADS = 10
#: Room for the multipart envelope around the files themselves.
MULTIPART_SLACK_BYTES = 64 * 1024


def _schema_context() -> dict:
    return {"schema_configured": bool(qreport_xsd_path()), "schema_problem": qreport_schema_problem()}


@org_required(kinds=KINDS)
@require_GET
def historic_report_list(request):
    access = request.access
    uploads = list(selectors.historic_upload_list_for(access)[:RECENT_UPLOADS])
    active_jobs = {u.job_id: u.job for u in uploads if u.job is not None and not u.job.is_finished}
    include_superseded = request.GET.get("superseded") == "1"
    return render(
        request,
        "declarations/qreports/list.html",
        {
            "reports": list(
                selectors.historic_report_list_for(access, include_superseded=include_superseded)
            ),
            "include_superseded": include_superseded,
            "uploads": uploads,
            "active_jobs": list(active_jobs.values()),
            "can_edit": access.can(Capability.EDIT),
            **_schema_context(),
        },
    )


def _upload_page(request, form, status=200, page_error=None):
    return render(
        request,
        "declarations/qreports/upload.html",
        {
            "form": form,
            "page_error": page_error,
            "max_bytes": max_upload_bytes(),
            "max_files": MAX_FILES,
            **_schema_context(),
        },
        status=status,
    )


@csrf_exempt  # the size is checked before the body is read; the real view below checks CSRF
@org_required(capability=Capability.EDIT, kinds=KINDS)
def historic_report_upload(request):
    """Refuse an oversize body from its Content-Length, before it is parsed."""
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_upload_bytes() * MAX_FILES + MULTIPART_SLACK_BYTES:
            message = _("The upload is %(size)s; the limit is %(limit)s per file.") % {
                "size": filesizeformat(length),
                "limit": filesizeformat(max_upload_bytes()),
            }
            response = _upload_page(request, HistoricReportUploadForm(), status=413, page_error=message)
            response["Connection"] = "close"
            return response
    return _historic_report_upload(request)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _historic_report_upload(request):
    access = request.access
    bound = request.method == "POST"
    form = HistoricReportUploadForm(request.POST if bound else None, request.FILES if bound else None)
    if request.method == "POST" and form.is_valid():
        try:
            uploads, job = historic_report_uploads_create(
                actor=Actor.from_request(request),
                organisation=access.organisation,
                uploaded_files=form.cleaned_data["files"],
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"files": exc.messages}
            for key, messages in errors.items():
                form.add_error("files" if key not in form.fields else key, messages)
        else:
            if len(uploads) == 1:
                return redirect("declarations:historic_upload_detail", pk=uploads[0].pk)
            url = reverse("declarations:historic_report_list")
            return redirect(f"{url}?{urlencode({'job': job.pk})}" if job else url)
    return _upload_page(request, form, status=400 if form.is_bound and form.errors else 200)


@org_required(kinds=KINDS)
@require_GET
def historic_upload_detail(request, pk: int):
    upload = selectors.historic_upload_get(request.access, pk)
    return render(
        request,
        "declarations/qreports/upload_detail.html",
        {
            "upload": upload,
            "job": upload.job,
            "running": upload.status in (HistoricUploadStatus.QUEUED, HistoricUploadStatus.RUNNING),
            **_schema_context(),
        },
    )


@org_required(kinds=KINDS)
@require_GET
def historic_report_detail(request, pk: int):
    access = request.access
    report = selectors.historic_report_get(access, pk)
    return render(
        request,
        "declarations/qreports/detail.html",
        {"report": report, "emissions": list(selectors.historic_emission_list_for(access, report=report))},
    )


@org_required(kinds=KINDS)
@require_GET
def supplier_historic_emissions(request, pk: int):
    """The supplier page's "reported in transitional reports" section (loaded into the page)."""
    access = request.access
    supplier = supplier_get(access, pk)
    history = selectors.supplier_history_for(access, supplier)
    request_url = None
    if access.can(Capability.EDIT) and history.cn_codes:
        request_url = (
            reverse("declarations:data_request_create")
            + "?"
            + urlencode({"supplier": supplier.pk, "cn_codes": " ".join(history.cn_codes)})
        )
    return render(
        request,
        "declarations/qreports/_supplier_history.html",
        {"supplier": supplier, "history": history, "request_url": request_url},
    )


urlpatterns = [
    path("historic-reports/", historic_report_list, name="historic_report_list"),
    path("historic-reports/upload/", historic_report_upload, name="historic_report_upload"),
    path("historic-reports/uploads/<int:pk>/", historic_upload_detail, name="historic_upload_detail"),
    path("historic-reports/<int:pk>/", historic_report_detail, name="historic_report_detail"),
    path("suppliers/<int:pk>/historic/", supplier_historic_emissions, name="supplier_historic_emissions"),
]
