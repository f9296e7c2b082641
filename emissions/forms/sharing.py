"""Forms: sharing installations with declarants and answering their data requests."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cbam_portal.accounts.models import Organisation, OrganisationKind

from ..models import Installation


class DeclarantSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a declarant by name or EORI"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("e.g. Rheinstahl or DE1234…"),
                "autocomplete": "off",
                "class": "form-control",
            }
        ),
    )


class GrantForm(forms.Form):
    declarant = forms.ModelChoiceField(
        label=_("Declarant"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.DECLARANT),
        error_messages={"invalid_choice": _("Choose a declarant (importer) found by the search.")},
    )


class DataRequestAnswerForm(forms.Form):
    installation = forms.ModelChoiceField(
        label=_("Installation to share"), queryset=Installation.objects.none()
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installation"].queryset = Installation.objects.filter(organisation=organisation)


class DataRequestDeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The declarant sees this reason; it is kept as evidence of the request."),
    )


class DataRequestClaimForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Claim for"),
        queryset=Organisation.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your operator organisations.")},
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations]).order_by(
            "name", "pk"
        )
