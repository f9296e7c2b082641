from __future__ import annotations

import pycountry
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Organisation, OrganisationKind
from .policy import API_KEY_ROLES, Role
from .validators import normalise_eori, validate_eori


def country_choices() -> list[tuple[str, str]]:
    countries = sorted(pycountry.countries, key=lambda c: c.name)
    return [("", _("Choose a country…"))] + [(c.alpha_2, f"{c.name} ({c.alpha_2})") for c in countries]


EORI_HELP = _(
    "Economic Operators Registration and Identification number: the 2-letter code of the issuing Member State "
    "followed by up to 15 letters or digits, e.g. DE123456789012345. Spaces are removed and letters upper-cased. "
    "Required for declarants and customs representatives."
)


class EoriField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)  # spaces are removed before the 17-character check
        kwargs.setdefault("help_text", EORI_HELP)
        kwargs.setdefault("label", _("EORI"))
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalise_eori(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value:
            validate_eori(value)


class OrganisationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of organisation"), choices=OrganisationKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    eori = EoriField(required=False)
    registration_number = forms.CharField(
        label=_("Registration number"),
        max_length=60,
        required=False,
        help_text=_("Corporate or activity registration number (operators)."),
    )
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        eu_kind = data.get("kind") in (OrganisationKind.DECLARANT, OrganisationKind.REPRESENTATIVE)
        if eu_kind and not data.get("eori") and "eori" not in self.errors:
            self.add_error(
                "eori", _("An EORI number is required for declarants and customs representatives.")
            )
        return data


class OrganisationUpdateForm(OrganisationForm):
    def __init__(self, *args, organisation: Organisation, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                f: getattr(organisation, f)
                for f in ("kind", "name", "country", "eori", "registration_number", "address")
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["kind"].disabled = True
        self.fields["kind"].help_text = _("The kind of an organisation cannot change.")


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.PREPARER)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class RepresentationForm(forms.Form):
    name = forms.CharField(label=_("Importer name"), max_length=200)
    eori = EoriField(required=True, help_text=_("The importer's own EORI, e.g. DE123456789012345."))
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("Where the key is used, e.g. “ERP export”.")
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in API_KEY_ROLES],
        initial=Role.PREPARER,
        help_text=_("API keys never administer the organisation."),
    )


class SwitchOrganisationForm(forms.Form):
    organisation = forms.IntegerField()
