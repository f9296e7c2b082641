"""The 50-tonne de minimis watch of the active importer ([OMN] Art 1(2) → [R956] Art 2a)."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.accounts.policy import Capability

from ..selectors.threshold import threshold_year_for, threshold_years_for

KINDS = (OrganisationKind.DECLARANT,)


class ThresholdYearForm(forms.Form):
    # Art 2a applies from the first year of the definitive period.
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2026, max_value=2100)


@org_required(capability=Capability.VIEW, kinds=KINDS)
@require_GET
def threshold(request):
    """Cumulative net mass per calendar year against 50 t, with the status and sector breakdown."""
    form = ThresholdYearForm(request.GET or None)
    year = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            year = form.cleaned_data["year"]
        else:
            status = 400
    years = threshold_years_for(request.access, year=year) if status == 200 else []
    return render(
        request,
        "declarations/threshold/page.html",
        {"form": form, "years": years, "filtered": year is not None},
        status=status,
    )


@org_required(capability=Capability.VIEW, kinds=KINDS)
@require_GET
def threshold_card(request):
    """The current year's position as a dashboard card (loaded with htmx)."""
    year = threshold_year_for(request.access, timezone.localdate().year)
    return render(request, "declarations/threshold/_card.html", {"year": year})


urlpatterns = [
    path("threshold/", threshold, name="threshold"),
    path("threshold/card/", threshold_card, name="threshold_card"),
]
