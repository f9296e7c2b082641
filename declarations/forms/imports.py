"""Forms of the import pages: filters, single entry, upload and column mapping."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..ingest.fields import FIELDS
from ..models import Procedure
from ..selectors.imports import ImportLineFilters

QUANTITY = {"max_digits": 20, "decimal_places": 6, "required": False, "min_value": 0}


class ImportLineFilterForm(forms.Form):
    in_scope = forms.ChoiceField(
        label=_("Scope"), required=False, choices=[("", _("All lines")), ("yes", _("In scope")), ("no", _("Out of scope"))]
    )
    cn = forms.RegexField(label=_("CN code"), required=False, max_length=10, regex=r"^[0-9 ]*$",
                          error_messages={"invalid": _("Digits only.")})
    country = forms.RegexField(label=_("Origin"), required=False, max_length=2, regex=r"^[A-Za-z]{0,2}$",
                               error_messages={"invalid": _("A two-letter country code.")})
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2026, max_value=2100)

    def filters(self) -> ImportLineFilters:
        data = self.cleaned_data
        scope = {"yes": True, "no": False}.get(data.get("in_scope") or "")
        return ImportLineFilters(in_scope=scope, cn=data.get("cn") or "", country=data.get("country") or "", year=data.get("year"))


class ImportLineForm(forms.Form):
    """Single entry of one customs line; the service applies the same rules as a bulk upload."""

    mrn = forms.CharField(label=_("Customs declaration (MRN)"), max_length=18)
    line_no = forms.IntegerField(label=_("Line number"), min_value=1, max_value=99999)
    released_on = forms.DateField(label=_("Date of release"), widget=forms.DateInput(attrs={"type": "date"}))
    cn_code = forms.CharField(label=_("CN code"), max_length=13, help_text=_("8 digits, or a 10-digit TARIC code."))
    origin_country = forms.CharField(label=_("Country of origin"), max_length=2)
    production_country = forms.CharField(label=_("Country of production"), max_length=2, required=False,
                                         help_text=_("Only when it differs from the country of origin."))
    net_mass_tonnes = forms.DecimalField(label=_("Net mass (t)"), **QUANTITY)
    quantity_mwh = forms.DecimalField(label=_("Electricity (MWh)"), help_text=_("For CN 2716 00 00."), **QUANTITY)
    supplementary_quantity = forms.DecimalField(label=_("Supplementary unit quantity"), **QUANTITY)
    functional_unit_quantity = forms.DecimalField(
        label=_("Functional-unit quantity"), help_text=_("Tonnes of clinker contained, or kg of nitrogen, where it applies."), **QUANTITY
    )
    procedure = forms.ChoiceField(label=_("Customs procedure"), choices=Procedure.choices, initial=Procedure.FREE_CIRCULATION)
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=None, required=False)
    installation = forms.ModelChoiceField(label=_("Installation"), queryset=None, required=False)

    def __init__(self, *args, suppliers, installations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = suppliers
        self.fields["installation"].queryset = installations

    def values(self) -> dict:
        data = self.cleaned_data
        values = {key: data.get(key) for key in self.fields if key not in ("supplier", "installation")}
        values["released_on"] = data["released_on"].isoformat()
        return values


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Customs extract (CSV or XLSX)"))


class MappingForm(forms.Form):
    """One select per portal field, listing the file's columns."""

    remember = forms.BooleanField(label=_("Remember this mapping for the next uploads"), required=False, initial=True)

    def __init__(self, *args, columns: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —"))] + [(c, c) for c in columns if c]
        for field in FIELDS:
            self.fields[f"map_{field.key}"] = forms.ChoiceField(
                label=_(field.label), choices=choices, required=False, initial=initial_mapping.get(field.key, "")
            )
            self.fields[f"map_{field.key}"].portal_required = field.required
        self.order_fields([f"map_{f.key}" for f in FIELDS] + ["remember"])

    def mapping(self) -> dict[str, str]:
        return {f.key: self.cleaned_data.get(f"map_{f.key}") or "" for f in FIELDS}

    def mapping_fields(self):
        return [self[f"map_{f.key}"] for f in FIELDS]
