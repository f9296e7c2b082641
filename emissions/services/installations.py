"""Writes: installations of a third-country operator (Reg (EU) 2023/956 Art 10(2); IR 2025/2547
Annex IV 1.2: name and address in English, UN/LOCODE, coordinates of the main emission source)."""

from __future__ import annotations

from decimal import Decimal

import pycountry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record

from ..models import Installation

COORDINATE_STEP = Decimal("0.000001")

#: Fields an operator fills in and may change later (everything but the tenant and timestamps).
INSTALLATION_FIELDS = (
    "name",
    "name_en",
    "street",
    "postcode",
    "po_box",
    "city",
    "country",
    "unlocode",
    "latitude",
    "longitude",
    "economic_activity",
    "registry_id",
    "representative_name",
    "contact_email",
    "contact_phone",
    "verifier_name",
    "verifier_accreditation_number",
    "verifier_accreditation_country",
    "verifier_contact",
)


def installation_snapshot(installation: Installation) -> dict:
    """The editable fields as JSON-friendly values (Decimals as strings), for the audit trail."""
    snapshot = {}
    for name in INSTALLATION_FIELDS:
        value = getattr(installation, name)
        if isinstance(value, Decimal):
            value = str(value.quantize(COORDINATE_STEP))
        elif value is not None and not isinstance(value, str):
            value = str(value)
        snapshot[name] = value
    return snapshot


def _country(value: str, field: str) -> str:
    code = (value or "").strip().upper()
    if code and pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(
            {field: _("%(value)s is not an ISO 3166-1 alpha-2 country code.") % {"value": value}}
        )
    return code


def _apply(installation: Installation, fields: dict) -> None:
    unknown = set(fields) - set(INSTALLATION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(installation, name, value)
    installation.unlocode = (installation.unlocode or "").upper()
    errors: dict[str, list[str]] = {}
    for name in ("country", "verifier_accreditation_country"):
        try:
            setattr(installation, name, _country(getattr(installation, name), name))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not installation.country and "country" not in errors:
        errors["country"] = [_("A country is required.")]
    if (
        installation.country
        and installation.unlocode[:2]
        and installation.unlocode[:2] != installation.country
    ):
        errors.setdefault("unlocode", []).append(
            _("The UN/LOCODE starts with the country code: %(code)s does not match %(country)s.")
            % {"code": installation.unlocode[:2], "country": installation.country}
        )
    try:
        installation.full_clean(exclude=["organisation", *errors])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def installation_create(*, actor: Actor, organisation: Organisation, **fields) -> Installation:
    """Register an installation of an operator (Reg (EU) 2023/956 Art 10(2))."""
    if organisation.kind != OrganisationKind.OPERATOR:
        raise ValidationError(_("Only operators register installations."))
    installation = Installation(organisation=organisation)
    _apply(installation, fields)
    installation.save()
    audit_record(
        actor=actor,
        verb="installation.created",
        organisation=organisation,
        target=installation,
        after={k: v for k, v in installation_snapshot(installation).items() if v not in ("", None)},
    )
    return installation


@transaction.atomic
def installation_update(*, actor: Actor, installation: Installation, **fields) -> Installation:
    """Change an installation's details; the audit event keeps the changed fields before and after."""
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    before = installation_snapshot(installation)
    _apply(installation, fields)
    after = installation_snapshot(installation)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        installation.save()
        audit_record(
            actor=actor,
            verb="installation.updated",
            organisation=installation.organisation,
            target=installation,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return installation
