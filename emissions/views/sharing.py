"""Views: an operator shares installations with declarants and answers their data requests;
declarants read what is shared with them (read-only, every opening logged)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from .. import navigation_sharing  # noqa: F401  (main-menu entries of these pages)
from ..forms.sharing import DataRequestAnswerForm, DataRequestDeclineForm, DeclarantSearchForm, GrantForm
from ..models import DataRequestStatus
from ..selectors import sharing as selectors
from ..services import sharing as services
from ..services.template_import import report_export_file_name, report_export_xlsx

OPERATOR = ("operator",)
DECLARANT = ("declarant",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- operator: sharing an installation --------------------------------------------------------


@org_required(kinds=OPERATOR)
@require_GET
def installation_sharing(request, pk: int):
    access = request.access
    installation = selectors.sharing_installation_get(access, pk)
    search = DeclarantSearchForm(request.GET or None)
    found = []
    if search.is_bound and search.is_valid():
        found = selectors.declarant_search(search.cleaned_data["q"])
    grants = list(selectors.grant_list(access, installation=installation))
    active_ids = {g.declarant_id for g in grants if g.revoked_at is None}
    context = {
        "installation": installation,
        "search": search,
        "found": [(org, org.pk in active_ids) for org in found],
        "searched": bool(search.is_bound and search.data.get("q")),
        "grants": grants,
        "active_grants": [g for g in grants if g.revoked_at is None],
        "revoked_grants": [g for g in grants if g.revoked_at is not None],
        "access_log": selectors.access_log_for(access, installation),
        "shared_reports": selectors.shareable_reports(installation),
        "can_edit": access.can(Capability.EDIT),
    }
    if request.htmx and request.htmx.target == "declarant-results":
        return render(request, "emissions/sharing/_declarant_results.html", context)
    return render(request, "emissions/sharing/installation_sharing.html", context)


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
@require_POST
def grant_create(request, pk: int):
    installation = selectors.sharing_installation_get(request.access, pk)
    form = GrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("emissions:installation_sharing", pk=installation.pk)
    try:
        grant = services.grant_create(
            actor=Actor.from_request(request),
            installation=installation,
            declarant=form.cleaned_data["declarant"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("%(declarant)s can now read the submitted reports of %(installation)s.")
            % {"declarant": grant.declarant.name, "installation": installation},
        )
    return redirect("emissions:installation_sharing", pk=installation.pk)


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
@require_POST
def grant_revoke(request, pk: int):
    grant = selectors.grant_get(request.access, pk)
    try:
        services.grant_revoke(actor=Actor.from_request(request), grant=grant)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("%(declarant)s no longer has access to %(installation)s.")
            % {"declarant": grant.declarant.name, "installation": grant.installation},
        )
    return redirect("emissions:installation_sharing", pk=grant.installation_id)


# --- operator: data requests ------------------------------------------------------------------


@org_required(kinds=OPERATOR)
@require_GET
def data_request_list(request):
    status = request.GET.get("status", "")
    if status not in DataRequestStatus.values:
        status = ""
    requests = list(selectors.data_request_list(request.access, status=status))
    return render(
        request,
        "emissions/sharing/data_request_list.html",
        {"requests": requests, "status": status, "statuses": DataRequestStatus.choices},
    )


def _request_context(request, data_request, *, answer_form=None, decline_form=None) -> dict:
    access = request.access
    events = list(data_request.events.all())
    return {
        "data_request": data_request,
        "events": events,
        "has_sent_event": any(e.kind == "sent" for e in events),
        "is_open": data_request.status in services.OPEN_REQUEST_STATUSES,
        "can_edit": access.can(Capability.EDIT),
        "answer_form": answer_form or DataRequestAnswerForm(organisation=access.organisation),
        "decline_form": decline_form or DataRequestDeclineForm(),
    }


@org_required(kinds=OPERATOR)
@require_GET
def data_request_detail(request, pk: int):
    data_request = selectors.data_request_get(request.access, pk)
    if data_request.status == DataRequestStatus.SENT and request.access.can(Capability.EDIT):
        services.data_request_mark_opened(actor=Actor.from_request(request), request=data_request)
        data_request = selectors.data_request_get(request.access, pk)
    return render(
        request, "emissions/sharing/data_request_detail.html", _request_context(request, data_request)
    )


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
@require_POST
def data_request_answer(request, pk: int):
    data_request = selectors.data_request_get(request.access, pk)
    form = DataRequestAnswerForm(request.POST, organisation=request.access.organisation)
    if form.is_valid():
        try:
            services.data_request_answer(
                actor=Actor.from_request(request),
                request=data_request,
                installation=form.cleaned_data["installation"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Answered: %(declarant)s can now read the reports of %(installation)s.")
                % {
                    "declarant": data_request.declarant.name,
                    "installation": form.cleaned_data["installation"],
                },
            )
            return redirect("emissions:data_request_detail", pk=data_request.pk)
    return render(
        request,
        "emissions/sharing/data_request_detail.html",
        _request_context(request, data_request, answer_form=form),
        status=400,
    )


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
@require_POST
def data_request_decline(request, pk: int):
    data_request = selectors.data_request_get(request.access, pk)
    form = DataRequestDeclineForm(request.POST)
    if form.is_valid():
        try:
            services.data_request_decline(
                actor=Actor.from_request(request), request=data_request, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The request was declined; the declarant sees your reason."))
            return redirect("emissions:data_request_detail", pk=data_request.pk)
    return render(
        request,
        "emissions/sharing/data_request_detail.html",
        _request_context(request, data_request, decline_form=form),
        status=400,
    )


# --- declarant: shared with us ----------------------------------------------------------------


@org_required(kinds=DECLARANT)
@require_GET
def shared_list(request):
    access = request.access
    return render(
        request,
        "emissions/sharing/shared_list.html",
        {
            "grants": list(selectors.shared_installations_for(access)),
            "reports": list(selectors.shared_reports_for(access)),
        },
    )


@org_required(kinds=DECLARANT)
@require_http_methods(["GET"])
def shared_report_detail(request, pk: int):
    access = request.access
    report = selectors.shared_report_get(access, pk)
    services.report_access_record(report=report, declarant=access.organisation, user=request.user, via="web")
    return render(
        request,
        "emissions/sharing/shared_report_detail.html",
        {"report": report, "results": list(report.results.all()), "processes": list(report.processes.all())},
    )


@org_required(kinds=DECLARANT)
@require_GET
def shared_report_export(request, pk: int):
    access = request.access
    report = selectors.shared_report_get(access, pk)
    services.report_access_record(
        report=report, declarant=access.organisation, user=request.user, via="export"
    )
    response = HttpResponse(report_export_xlsx(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{report_export_file_name(report)}"'
    return response


urlpatterns = [
    path("installations/<int:pk>/sharing/", installation_sharing, name="installation_sharing"),
    path("installations/<int:pk>/sharing/grant/", grant_create, name="grant_create"),
    path("grants/<int:pk>/revoke/", grant_revoke, name="grant_revoke"),
    path("data-requests/", data_request_list, name="data_request_list"),
    path("data-requests/<int:pk>/", data_request_detail, name="data_request_detail"),
    path("data-requests/<int:pk>/answer/", data_request_answer, name="data_request_answer"),
    path("data-requests/<int:pk>/decline/", data_request_decline, name="data_request_decline"),
    path("shared/", shared_list, name="shared_list"),
    path("shared/reports/<int:pk>/", shared_report_detail, name="shared_report_detail"),
    path("shared/reports/<int:pk>/export/", shared_report_export, name="shared_report_export"),
]
