"""Views: uploading the Commission communication template (parsed in a background job the user
watches), the import result, and the export of a report to the template layout."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.selectors import job_get_for

from ..forms.template_import import TemplateUploadForm
from ..models import EmissionsReport
from ..services.template_import import (
    KIND,
    report_export_file_name,
    report_export_xlsx,
    template_import_enqueue,
)

OPERATOR = ("operator",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_url(pk) -> str | None:
    try:
        return reverse("emissions:report_detail", args=[pk])
    except NoReverseMatch:
        return None


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
@require_http_methods(["GET", "POST"])
def template_import(request):
    access = request.access
    if request.method == "POST":
        form = TemplateUploadForm(request.POST, request.FILES, organisation=access.organisation)
        if form.is_valid():
            try:
                job = template_import_enqueue(
                    actor=Actor.from_request(request),
                    organisation=access.organisation,
                    uploaded_file=form.cleaned_data["file"],
                    installation=form.cleaned_data["installation"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                return redirect("emissions:template_import_status", pk=job.pk)
        return render(request, "emissions/imports/upload.html", {"form": form}, status=400)
    initial = {}
    if request.GET.get("installation", "").isdigit():
        initial["installation"] = request.GET["installation"]
    return render(
        request,
        "emissions/imports/upload.html",
        {"form": TemplateUploadForm(initial=initial, organisation=access.organisation)},
    )


def _import_job(request, pk):
    job = job_get_for(request.access, pk)
    if job.kind != KIND:
        raise Http404("Not a template import.")
    return job


def _result_context(job) -> dict:
    result = job.result or {}
    return {
        "job": job,
        "result": result,
        "report_url": _report_url(result["report_id"]) if result.get("report_id") else None,
    }


@org_required(kinds=OPERATOR)
@require_GET
def template_import_status(request, pk: int):
    job = _import_job(request, pk)
    return render(request, "emissions/imports/status.html", _result_context(job))


@org_required(kinds=OPERATOR)
@require_GET
def template_import_result(request, pk: int):
    """The result panel alone; htmx polls it until the job has finished."""
    job = _import_job(request, pk)
    return render(request, "emissions/imports/_result.html", _result_context(job))


@org_required(kinds=OPERATOR)
@require_GET
def report_template_export(request, pk: int):
    """The report's filled Summary_Communication sheet ([IR2547] Annex IV 1.2) as .xlsx."""
    report = get_object_or_404(
        EmissionsReport.objects.filter(organisation=request.access.organisation).select_related(
            "installation"
        ),
        pk=pk,
    )
    response = HttpResponse(report_export_xlsx(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{report_export_file_name(report)}"'
    return response


urlpatterns = [
    path("imports/", template_import, name="template_import"),
    path("imports/<int:pk>/", template_import_status, name="template_import_status"),
    path("imports/<int:pk>/result/", template_import_result, name="template_import_result"),
    path(
        "reports/<int:pk>/summary-communication.xlsx", report_template_export, name="report_template_export"
    ),
]
