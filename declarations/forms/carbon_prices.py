"""Forms of the carbon price claim pages ([R956] Art 9)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import CarbonPriceCoverage

DECIMAL = {"max_digits": 20, "decimal_places": 8}


class CarbonPriceClaimForm(forms.Form):
    paid_in_country = forms.CharField(
        label=_("Country where the price was paid"), max_length=2, help_text=_("ISO 3166 alpha-2, e.g. CN")
    )
    instrument = forms.CharField(
        label=_("Carbon pricing instrument"),
        max_length=200,
        help_text=_("e.g. national emissions trading system"),
    )
    price_per_t_co2e = forms.DecimalField(label=_("Carbon price paid per tCO2e"), min_value=0, **DECIMAL)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    currency_per_eur = forms.DecimalField(
        label=_("Exchange rate: units of the currency for 1 EUR (yearly average)"),
        required=False,
        min_value=0,
        help_text=_("Leave empty for a price in euro."),
        **DECIMAL,
    )
    rebate_per_t_co2e = forms.DecimalField(
        label=_("Rebate or other compensation per tCO2e (same currency)"),
        required=False,
        min_value=0,
        **DECIMAL,
    )
    coverage = forms.ChoiceField(label=_("The price covered"), choices=CarbonPriceCoverage.choices)
    share_covered = forms.DecimalField(
        label=_("Share of the embedded emissions covered (0 to 1)"), required=False, **DECIMAL
    )
    covered_t_co2e = forms.DecimalField(label=_("Emissions covered (tCO2e)"), required=False, **DECIMAL)
    certifier_name = forms.CharField(label=_("Independent certifier"), max_length=200)
    legal_act_reference = forms.CharField(label=_("Legal act of the carbon price"), max_length=300)
    payment_reference = forms.CharField(label=_("Proof of payment (reference)"), max_length=200)
    evidence = forms.FileField(label=_("Evidence document"), help_text=_("PDF or image, at most 10 MB."))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("evidence", None)
        return data


class WithdrawClaimForm(forms.Form):
    reason = forms.CharField(label=_("Why the claim is withdrawn"), required=False, max_length=5000)
