"""Form of the quick assessment of one good (same fields as the API and the command)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cbam_portal.reference.selectors import country_list

from ..assessment import AssessmentInput
from ..liability import FIRST_YEAR

QUANTITY = {"max_digits": 20, "decimal_places": 6}


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a country"))] + [(c.iso2, f"{c.name} ({c.iso2})") for c in country_list()]


class AssessForm(forms.Form):
    cn = forms.CharField(
        label=_("CN code"),
        max_length=20,
        help_text=_("8-digit CN code, spaces allowed (e.g. 7208 10 00), or a 10-digit TARIC code."),
    )
    country = forms.ChoiceField(label=_("Country of origin"), choices=_country_choices)
    mass = forms.DecimalField(label=_("Net mass (t)"), **QUANTITY)
    functional_unit_mass = forms.DecimalField(
        label=_("Quantity in the functional unit"),
        required=False,
        help_text=_(
            "Cement (2523 21, 29, 90): tonnes of clinker contained; nitrogen fertilisers "
            "(2808, 2814, 3102, 3105): kg of nitrogen contained."
        ),
        **QUANTITY,
    )
    year = forms.IntegerField(label=_("Year of import"), max_value=2100, initial=FIRST_YEAR)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (1, "Q1"), (2, "Q2"), (3, "Q3"), (4, "Q4")],
        help_text=_("2026 imports are priced per quarter of import."),
    )
    release_date = forms.DateField(
        label=_("Date of release"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "From 2027 the price is the weekly one of this date (when loaded); it also gives the quarter."
        ),
    )
    price = forms.DecimalField(
        label=_("Certificate price (EUR)"),
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text=_("Leave empty to use the published price of the quarter."),
    )
    route = forms.CharField(
        label=_("Production route"),
        required=False,
        max_length=60,
        help_text=_("Needed where a good has several routes (e.g. A grey / B white clinker)."),
    )
    see_direct = forms.DecimalField(
        label=_("Actual SEE, direct (tCO2e per unit)"),
        required=False,
        help_text=_("Leave empty to use default values."),
        **QUANTITY,
    )
    see_indirect = forms.DecimalField(
        label=_("Actual SEE, indirect (tCO2e per unit)"),
        required=False,
        help_text=_("Counts only for goods outside Annex II (cement, fertilisers)."),
        **QUANTITY,
    )
    carbon_price_paid = forms.DecimalField(
        label=_("Carbon price paid abroad (EUR per unit)"),
        required=False,
        help_text=_("Only with actual data (Art 9)."),
        **QUANTITY,
    )

    def assessment_input(self) -> AssessmentInput:
        data = self.cleaned_data
        return AssessmentInput(
            cn=data["cn"],
            country=data["country"],
            mass=data["mass"],
            year=data["year"],
            quarter=data.get("quarter"),
            price=data.get("price"),
            price_day=data.get("release_date"),
            see_direct=data.get("see_direct"),
            see_indirect=data.get("see_indirect"),
            route=data.get("route") or "",
            carbon_price_paid=data.get("carbon_price_paid"),
            functional_unit_mass=data.get("functional_unit_mass"),
        )
