from django import forms
from django.utils.translation import gettext_lazy as _

from .codes import CnCodeError, ParsedCode, parse_cn


class CnLookupForm(forms.Form):
    code = forms.CharField(
        label=_("CN or TARIC code"),
        max_length=20,
        help_text=_("8-digit CN code or 10-digit TARIC code, spaces allowed (e.g. 7208 10 00)."),
    )

    def clean_code(self) -> ParsedCode:
        try:
            return parse_cn(self.cleaned_data["code"])
        except CnCodeError as exc:
            raise forms.ValidationError(str(exc), code="invalid_cn") from exc


class CountryFilterForm(forms.Form):
    country = forms.CharField(label=_("Country"), max_length=2, min_length=2, required=False)

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value and not value.isalpha():
            raise forms.ValidationError(_("Enter a two-letter country code."), code="invalid_country")
        return value
