"""Forms: emissions reports and their rows. Shapes and required fields here; the rules (draft
only, Annex I, plausibility, cycles) in the services, whose errors land next to the fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import CarbonPriceDue, ProductionProcess, PurchasedPrecursor, ReportStatus
from ..services.reports import NOT_AVAILABLE_FIELDS, PROCESS_FIELDS, QUALIFYING_PARAMETERS
from .installations import country_choices

SECTOR_LABELS = {
    "cement": _("Cement"),
    "fertilisers": _("Fertilisers"),
    "iron_steel": _("Iron and steel"),
    "aluminium": _("Aluminium"),
}
PARAMETER_ROWS = 6


class ReportCreateForm(forms.Form):
    year = forms.IntegerField(label=_("Reporting year"), min_value=2023, max_value=2100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class PlainDecimalsMixin:
    """Show stored decimals as entered ("0.833", not "0.8330000000" or "0E-10")."""

    def _plain_initial(self):
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if isinstance(field, forms.DecimalField) and isinstance(value, Decimal):
                self.initial[name] = format(value.normalize(), "f") if value else "0"


class ReportFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), *ReportStatus.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    year = forms.IntegerField(
        label=_("Year"),
        min_value=2023,
        max_value=2100,
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )


class ProcessForm(PlainDecimalsMixin, forms.ModelForm):
    """A production process; every monitored value can instead be declared "not available" with
    a reason (it then counts as 0 and is listed on the report)."""

    class Meta:
        model = ProductionProcess
        fields = list(PROCESS_FIELDS)
        widgets = {"aggregated_category": forms.TextInput(attrs={"list": "aggregated-categories"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = self.instance.not_available if self.instance and self.instance.pk else {}
        for name in NOT_AVAILABLE_FIELDS:
            self.fields[name].required = False
            self.fields[f"na_{name}"] = forms.CharField(
                label=_("Not available — reason"),
                required=False,
                max_length=300,
                initial=existing.get(name, ""),
            )
        self._plain_initial()

    def clean_activity_level(self):
        value = self.cleaned_data.get("activity_level")
        if value is not None and value <= 0:
            raise forms.ValidationError(
                _(
                    "The activity level must be greater than zero: SEE is emissions divided by the activity level."
                )
            )
        return value

    @property
    def field_rows(self):
        """(field, not-available field or None) in display order."""
        return [
            (self[name], self[f"na_{name}"] if name in NOT_AVAILABLE_FIELDS else None)
            for name in PROCESS_FIELDS
        ]

    def clean(self):
        data = super().clean()
        not_available = {}
        for name in NOT_AVAILABLE_FIELDS:
            reason = (data.get(f"na_{name}") or "").strip()
            if reason:
                not_available[name] = reason
                data[name] = Decimal(0)
            elif data.get(name) is None and name not in self.errors:
                self.add_error(
                    name, _("Enter a value (0 if there is none) or give the reason it is not available.")
                )
        data["not_available"] = not_available
        return data

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in PROCESS_FIELDS}
        fields["not_available"] = self.cleaned_data["not_available"]
        return fields


def _parameter_choices():
    choices = [("", "—")]
    for sector, params in QUALIFYING_PARAMETERS.items():
        if params:
            choices.append((str(SECTOR_LABELS.get(sector, sector)), [(key, label) for key, label in params]))
    return choices


class GoodForm(forms.Form):
    """A good of a process with its sector-specific qualifying parameters as key/value pairs."""

    cn_code = forms.CharField(
        label=_("CN code"), max_length=13, help_text=_("8 digits, e.g. 7208 10 00 (Annex I goods only).")
    )
    product_name = forms.CharField(label=_("Product name"), max_length=200, required=False)

    def __init__(self, *args, good=None, **kwargs):
        if good is not None and "initial" not in kwargs:
            initial = {"cn_code": good.cn_code, "product_name": good.product_name}
            for i, (key, value) in enumerate(sorted(good.qualifying_parameters.items())[:PARAMETER_ROWS]):
                initial[f"param_key_{i}"] = key
                initial[f"param_value_{i}"] = value
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for i in range(PARAMETER_ROWS):
            self.fields[f"param_key_{i}"] = forms.ChoiceField(
                label=_("Parameter"), choices=_parameter_choices, required=False
            )
            self.fields[f"param_value_{i}"] = forms.CharField(
                label=_("Value"), max_length=200, required=False
            )

    @property
    def parameter_rows(self):
        return [(self[f"param_key_{i}"], self[f"param_value_{i}"]) for i in range(PARAMETER_ROWS)]

    def clean(self):
        data = super().clean()
        parameters = {}
        for i in range(PARAMETER_ROWS):
            key, value = data.get(f"param_key_{i}"), (data.get(f"param_value_{i}") or "").strip()
            if key and not value:
                self.add_error(f"param_value_{i}", _("Enter a value for this parameter."))
            elif value and not key:
                self.add_error(f"param_key_{i}", _("Choose the parameter this value is for."))
            elif key:
                if key in parameters:
                    self.add_error(f"param_key_{i}", _("This parameter is listed twice."))
                parameters[key] = value
        data["qualifying_parameters"] = parameters
        return data

    def service_fields(self) -> dict:
        return {
            "cn_code": self.cleaned_data["cn_code"],
            "product_name": self.cleaned_data["product_name"],
            "qualifying_parameters": self.cleaned_data["qualifying_parameters"],
        }


class PurchasedPrecursorForm(PlainDecimalsMixin, forms.ModelForm):
    cn_code = forms.CharField(
        label=_("CN code"),
        max_length=13,
        required=False,
        help_text=_("8 digits; needed to fill default values."),
    )
    country = forms.ChoiceField(
        label=_("Country of production"), choices=lambda: country_choices("— unknown —"), required=False
    )
    fill_defaults = forms.BooleanField(
        label=_("Fill default values from reference data"),
        required=False,
        help_text=_(
            "Uses the default values of the country of production (with the year's mark-up) and marks them as default."
        ),
    )

    class Meta:
        model = PurchasedPrecursor
        fields = [
            "name",
            "cn_code",
            "country",
            "quantity",
            "see_direct",
            "see_indirect",
            "electricity_mwh_per_unit",
            "is_default",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["see_direct"].required = False
        self.fields["see_indirect"].required = False
        self.fields["electricity_mwh_per_unit"].required = False
        self._plain_initial()

    def clean_cn_code(self):
        return (self.cleaned_data.get("cn_code") or "").replace(" ", "")

    def clean(self):
        data = super().clean()
        if (
            not data.get("fill_defaults")
            and data.get("see_direct") is None
            and "see_direct" not in self.errors
        ):
            self.add_error("see_direct", _("Enter the SEE direct, or tick 'Fill default values'."))
        return data

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        if fields["see_direct"] is None:
            fields.pop("see_direct")
        fields["fill_defaults"] = self.cleaned_data["fill_defaults"]
        return fields


class InternalPrecursorForm(forms.Form):
    source_process = forms.ModelChoiceField(
        label=_("Goods of process"), queryset=ProductionProcess.objects.none()
    )
    quantity = forms.DecimalField(label=_("Quantity consumed"), max_digits=20, decimal_places=6, min_value=0)

    def __init__(self, *args, process: ProductionProcess, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_process"].queryset = ProductionProcess.objects.filter(
            report_id=process.report_id
        ).exclude(pk=process.pk)


class CarbonPriceForm(PlainDecimalsMixin, forms.ModelForm):
    cn_codes_text = forms.CharField(
        label=_("CN codes covered"),
        required=False,
        help_text=_("Separate several codes with commas; empty = all goods."),
    )

    class Meta:
        model = CarbonPriceDue
        fields = [
            "instrument",
            "legal_act",
            "amount_per_t",
            "currency",
            "share_covered",
            "rebate_per_t",
            "rebate_description",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["cn_codes_text"].initial = ", ".join(self.instance.cn_codes)
        self.fields["rebate_per_t"].required = False
        self.order_fields(["instrument", "legal_act", "cn_codes_text"])
        self._plain_initial()

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        text = self.cleaned_data.get("cn_codes_text") or ""
        fields["cn_codes"] = [c.replace(" ", "") for c in text.split(",") if c.strip()]
        return fields


class VerifyForm(forms.Form):
    verifier_name = forms.CharField(label=_("Verifier"), max_length=200)
    verifier_accreditation_number = forms.CharField(label=_("Accreditation number"), max_length=60)
    verification_date = forms.DateField(
        label=_("Date of the verification report"), widget=forms.DateInput(attrs={"type": "date"})
    )
    verification_report = forms.FileField(
        label=_("Verification report"), help_text=_("PDF, DOCX, XLSX or ODT.")
    )

    def clean_verification_date(self):
        value = self.cleaned_data["verification_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The verification date cannot be in the future."))
        return value
