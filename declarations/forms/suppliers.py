"""Forms: suppliers, installation mappings and data requests (declarant side)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from emissions.models import Installation

from ..models import Supplier


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.CharField(label=_("Country"), max_length=2, help_text=_("ISO 3166-1 alpha-2, e.g. TR"))
    email = forms.EmailField(label=_("E-mail"), required=False, help_text=_("Where data requests are sent."))
    operator_org = forms.ModelChoiceField(
        label=_("Operator on the portal"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.OPERATOR),
        required=False,
        widget=forms.HiddenInput,
    )


class OperatorSearchForm(forms.Form):
    q = forms.CharField(label=_("Find the operator on the portal"), max_length=100, required=False)


class MappingForm(forms.Form):
    installation = forms.ModelChoiceField(
        label=_("Installation"),
        queryset=Installation.objects.none(),
        help_text=_("Only installations the operator shares with you can be chosen."),
        error_messages={"invalid_choice": _("This installation is not shared with you.")},
    )
    cn_code = forms.CharField(
        label=_("CN code"), max_length=8, required=False, help_text=_("Blank: every good.")
    )

    def __init__(self, *args, installations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installation"].queryset = installations


class DataRequestForm(forms.Form):
    suppliers = forms.ModelMultipleChoiceField(
        label=_("Suppliers"), queryset=Supplier.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    cn_codes = forms.CharField(
        label=_("CN codes"), help_text=_("8-digit CN codes, separated by spaces or commas.")
    )
    year = forms.IntegerField(label=_("Reporting year"))
    due_date = forms.DateField(label=_("Answer by"), widget=forms.DateInput(attrs={"type": "date"}))
    message = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    reminder_interval_days = forms.IntegerField(
        label=_("Remind every (days)"),
        required=False,
        min_value=0,
        max_value=365,
        help_text=_("Blank: your organisation's default. 0: no reminders."),
    )
    max_reminders = forms.IntegerField(
        label=_("At most (reminders)"),
        required=False,
        min_value=0,
        max_value=52,
        help_text=_("Blank: your organisation's default."),
    )

    def __init__(self, *args, suppliers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suppliers"].queryset = suppliers
        self.fields["year"].initial = timezone.localdate().year


class DataRequestCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the supplier's evidence log; the supplier sees it in its inbox."),
    )
    notify_supplier = forms.BooleanField(label=_("Tell the supplier by e-mail"), required=False)


class DataRequestDefaultsForm(forms.Form):
    reminder_interval_days = forms.IntegerField(
        label=_("Remind every (days)"), min_value=0, max_value=365, help_text=_("0 for none")
    )
    max_reminders = forms.IntegerField(label=_("At most (reminders)"), min_value=0, max_value=52)


class RequestFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("All")),
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("sent", _("Sent")),
        ("opened", _("Opened")),
        ("answered", _("Answered")),
        ("declined", _("Declined")),
        ("cancelled", _("Cancelled")),
    ]
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
