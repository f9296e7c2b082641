"""Forms: installations (the service re-validates; the form puts errors next to the fields)."""

from __future__ import annotations

import pycountry
from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Installation
from ..services.installations import INSTALLATION_FIELDS


def country_choices(blank_label: str = "—") -> list[tuple[str, str]]:
    countries = sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])
    return [("", blank_label), *((code, f"{name} ({code})") for code, name in countries)]


class InstallationForm(forms.ModelForm):
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    verifier_accreditation_country = forms.ChoiceField(
        label=_("Accreditation member state of the verifier"), choices=country_choices, required=False
    )

    class Meta:
        model = Installation
        fields = list(INSTALLATION_FIELDS)
        widgets = {
            "latitude": forms.NumberInput(attrs={"step": "0.000001"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001"}),
        }
        help_texts = {
            "unlocode": _("Country code and location code, e.g. 'TR IST' or 'CNSHA'."),
            "latitude": _("Decimal degrees with up to 6 decimals, −90 to 90."),
            "longitude": _("Decimal degrees with up to 6 decimals, −180 to 180."),
        }

    def clean_unlocode(self):
        return (self.cleaned_data.get("unlocode") or "").strip().upper()
