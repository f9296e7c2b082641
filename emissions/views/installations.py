"""Views: installations of the active operator (list, detail with reports and history, create, edit)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..forms.installations import InstallationForm
from ..forms.reports import ReportCreateForm
from ..selectors import installations as selectors
from ..selectors.reports import report_list
from ..services import installations as services

OPERATOR = ("operator",)


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the field it names (or on top of the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@org_required(kinds=OPERATOR)
def installation_list(request):
    installations = list(selectors.installation_list(request.access))
    return render(request, "emissions/installations/list.html", {"installations": installations})


@org_required(kinds=OPERATOR)
def installation_detail(request, pk: int):
    installation = selectors.installation_get(request.access, pk)
    reports = list(report_list(request.access, installation=installation))
    years: dict[int, list] = {}
    for report in reports:
        years.setdefault(report.year, []).append(report)
    return render(
        request,
        "emissions/installations/detail.html",
        {
            "installation": installation,
            "years": sorted(years.items(), reverse=True),
            "history": selectors.installation_history(installation),
            "report_form": ReportCreateForm() if request.access.can(Capability.EDIT) else None,
        },
    )


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
def installation_create(request):
    form = InstallationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            installation = services.installation_create(
                actor=Actor.from_request(request),
                organisation=request.access.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was registered.") % {"name": installation})
            return redirect("emissions:installation_detail", pk=installation.pk)
    return render(request, "emissions/installations/form.html", {"form": form, "installation": None})


@org_required(capability=Capability.EDIT, kinds=OPERATOR)
def installation_update(request, pk: int):
    installation = selectors.installation_get(request.access, pk)
    form = InstallationForm(request.POST or None, instance=installation)
    if request.method == "POST" and form.is_valid():
        try:
            services.installation_update(
                actor=Actor.from_request(request), installation=installation, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The installation's details were saved."))
            return redirect("emissions:installation_detail", pk=installation.pk)
    return render(request, "emissions/installations/form.html", {"form": form, "installation": installation})


urlpatterns = [
    path("installations/", installation_list, name="installation_list"),
    path("installations/new/", installation_create, name="installation_create"),
    path("installations/<int:pk>/", installation_detail, name="installation_detail"),
    path("installations/<int:pk>/edit/", installation_update, name="installation_update"),
]
