"""Writes for organisations, memberships, invitations, representations and API keys.

Every function is keyword-only, runs in one transaction, takes the `Actor` doing it and writes an
audit event in the same transaction. E-mails go out only once the transaction has committed.
Rule violations raise `django.core.exceptions.ValidationError` with a message naming the field.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record

from .api_keys import generate_api_key
from .models import ApiKey, Invitation, Membership, Organisation, OrganisationKind, Representation
from .policy import API_KEY_ROLES, Role
from .validators import normalise_eori, validate_eori

INVITATION_TTL_DAYS = 7

# Kinds that are EU economic operators and therefore identified by an EORI (Reg. 2023/956 Art 17(2)).
EORI_REQUIRED_KINDS = frozenset({OrganisationKind.DECLARANT, OrganisationKind.REPRESENTATIVE})
ORGANISATION_EDITABLE_FIELDS = ("name", "country", "eori", "registration_number", "address")


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_url(path: str) -> str:
    """An absolute link for e-mails, which have no request to build one from."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def invitation_accept_path(token: str) -> str:
    return reverse("accounts:invitation_accept", kwargs={"token": token})


# --- organisations -------------------------------------------------------------------------


def _organisation_snapshot(organisation: Organisation) -> dict:
    return {
        "kind": organisation.kind,
        "name": organisation.name,
        "country": organisation.country,
        "eori": organisation.eori,
        "registration_number": organisation.registration_number,
        "address": organisation.address,
    }


def _clean_country(country: str) -> str:
    code = (country or "").strip().upper()
    if not code or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(
            {
                "country": _("%(value)s is not an ISO 3166-1 alpha-2 country code.")
                % {"value": country or "''"}
            }
        )
    return code


def _clean_eori(*, kind: str, eori: str, exclude_pk: int | None = None) -> str:
    """Normalise and check an EORI: required for EU declarants and representatives (Reg. 2023/956
    Art 17(2)), one per economic operator, so unique across the portal."""
    value = normalise_eori(eori)
    if not value:
        if kind in EORI_REQUIRED_KINDS:
            raise ValidationError(
                {"eori": _("An EORI number is required for declarants and customs representatives.")}
            )
        return ""
    try:
        validate_eori(value)
    except ValidationError as exc:
        raise ValidationError({"eori": exc.messages}) from None
    clash = Organisation.objects.filter(eori=value)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {"eori": _("An organisation with EORI %(eori)s already exists.") % {"eori": value}}
        )
    return value


def _save_organisation(organisation: Organisation) -> None:
    # The unique constraint is the last word when two requests race for one EORI.
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise ValidationError(
            {"eori": _("An organisation with EORI %(eori)s already exists.") % {"eori": organisation.eori}}
        ) from None


@transaction.atomic
def organisation_create(
    *,
    actor: Actor,
    kind: str,
    name: str,
    country: str,
    eori: str = "",
    registration_number: str = "",
    address: str = "",
) -> Organisation:
    """Create an organisation and make the acting user its administrator."""
    if kind not in OrganisationKind.values:
        raise ValidationError({"kind": _("Choose declarant, operator or representative.")})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    organisation = Organisation(
        kind=kind,
        name=name,
        country=_clean_country(country),
        eori=_clean_eori(kind=kind, eori=eori),
        registration_number=(registration_number or "").strip(),
        address=(address or "").strip(),
        created_by=actor.user,
    )
    _save_organisation(organisation)
    if actor.user is not None:
        Membership.objects.create(user=actor.user, organisation=organisation, role=Role.ADMIN)
    audit_record(
        actor=actor,
        verb="organisation.created",
        organisation=organisation,
        target=organisation,
        after=_organisation_snapshot(organisation),
    )
    return organisation


@transaction.atomic
def organisation_update(*, actor: Actor, organisation: Organisation, **fields) -> Organisation:
    """Change an organisation's details. The kind never changes (it decides what data exists)."""
    unknown = set(fields) - set(ORGANISATION_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = _organisation_snapshot(organisation)
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise ValidationError({"name": _("A name is required.")})
        organisation.name = name
    if "country" in fields:
        organisation.country = _clean_country(fields["country"])
    if "eori" in fields:
        organisation.eori = _clean_eori(
            kind=organisation.kind, eori=fields["eori"], exclude_pk=organisation.pk
        )
    for name in ("registration_number", "address"):
        if name in fields:
            setattr(organisation, name, (fields[name] or "").strip())
    after = _organisation_snapshot(organisation)
    if after != before:
        _save_organisation(organisation)
        changed = [k for k in after if after[k] != before[k]]
        audit_record(
            actor=actor,
            verb="organisation.updated",
            organisation=organisation,
            target=organisation,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return organisation


# --- invitations ---------------------------------------------------------------------------


def _send_invitation_email(invitation: Invitation, token: str, inviter_label: str) -> None:
    context = {
        "invitation": invitation,
        "organisation_name": invitation.organisation.name,
        "role": invitation.get_role_display(),
        "inviter": inviter_label,
        "accept_url": portal_url(invitation_accept_path(token)),
        "expires_at": invitation.expires_at,
    }
    subject = _("You are invited to join %(name)s on the CBAM portal") % {
        "name": invitation.organisation.name
    }
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def invitation_create(
    *, actor: Actor, organisation: Organisation, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite an e-mail address to the organisation. Returns the invitation and the raw token, which
    only the e-mailed link carries (the database keeps its SHA-256)."""
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": _("Enter a valid e-mail address.")})
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}})
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ValidationError(
            {
                "email": _("%(email)s is already a member of %(org)s.")
                % {"email": email, "org": organisation.name}
            }
        )
    now = timezone.now()
    pending = Invitation.objects.filter(
        organisation=organisation,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    )
    if pending.exists():
        raise ValidationError(
            {
                "email": _("%(email)s already has a pending invitation; revoke it first to send a new one.")
                % {"email": email}
            }
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=hash_invitation_token(token),
        invited_by=actor.user,
        expires_at=now + timedelta(days=INVITATION_TTL_DAYS),
    )
    audit_record(
        actor=actor,
        verb="invitation.created",
        organisation=organisation,
        target=invitation,
        after={"email": email, "role": role, "expires_at": invitation.expires_at},
    )
    inviter = actor.label
    transaction.on_commit(lambda: _send_invitation_email(invitation, token, inviter))
    return invitation, token


@transaction.atomic
def invitation_accept(*, actor: Actor, token: str) -> Membership:
    """The signed-in user joins the organisation with the invited role. Single use."""
    user = actor.user
    if user is None:
        raise ValidationError(_("Sign in to accept this invitation."))
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organisation")
        .filter(token_hash=hash_invitation_token(token or ""))
        .first()
    )
    if invitation is None:
        raise ValidationError(_("This invitation link is not valid. Check that you copied the whole link."))
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been used."))
    if invitation.revoked_at is not None:
        raise ValidationError(
            _("This invitation has been revoked by an administrator of %(org)s.")
            % {"org": invitation.organisation.name}
        )
    if invitation.expires_at <= timezone.now():
        raise ValidationError(
            _("This invitation expired on %(date)s. Ask an administrator of %(org)s to invite you again.")
            % {
                "date": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
                "org": invitation.organisation.name,
            }
        )
    if invitation.email.lower() != (user.email or "").lower():
        raise ValidationError(
            _(
                "This invitation was sent to %(invited)s, but you are signed in as %(current)s. Sign in with the invited address to accept it."
            )
            % {"invited": invitation.email, "current": user.email}
        )
    duplicate = _("You are already a member of %(org)s.") % {"org": invitation.organisation.name}
    if Membership.objects.filter(user=user, organisation=invitation.organisation).exists():
        raise ValidationError(duplicate)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, organisation=invitation.organisation, role=invitation.role
            )
    except IntegrityError:
        raise ValidationError(duplicate) from None
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=actor,
        verb="invitation.accepted",
        organisation=invitation.organisation,
        target=invitation,
        after={"email": invitation.email, "role": invitation.role, "membership": membership.pk},
    )
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been accepted; remove the member instead."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            verb="invitation.revoked",
            organisation=invitation.organisation,
            target=invitation,
            before={"status": "pending"},
            after={"status": "revoked"},
        )
    return invitation


# --- memberships ---------------------------------------------------------------------------


def _lock_admins(organisation_id: int) -> list[int]:
    """Lock the organisation's admin memberships so two concurrent demotions cannot both pass."""
    return list(
        Membership.objects.select_for_update()
        .filter(organisation_id=organisation_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )


@transaction.atomic
def membership_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}})
    admins = _lock_admins(membership.organisation_id)
    membership = (
        Membership.objects.select_for_update().select_related("user", "organisation").get(pk=membership.pk)
    )
    before = membership.role
    if before == role:
        return membership
    if before == Role.ADMIN and admins == [membership.pk]:
        raise ValidationError(
            {
                "role": _(
                    "%(email)s is the last administrator of %(org)s; make someone else administrator first."
                )
                % {"email": membership.user.email, "org": membership.organisation.name}
            }
        )
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        verb="membership.role_changed",
        organisation=membership.organisation,
        target=membership,
        before={"role": before},
        after={"role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    """Remove a member (or let a member leave). An organisation always keeps an administrator."""
    admins = _lock_admins(membership.organisation_id)
    membership = (
        Membership.objects.select_for_update().select_related("user", "organisation").get(pk=membership.pk)
    )
    if membership.role == Role.ADMIN and admins == [membership.pk]:
        raise ValidationError(
            _("%(email)s is the last administrator of %(org)s; make someone else administrator first.")
            % {"email": membership.user.email, "org": membership.organisation.name}
        )
    organisation = membership.organisation
    audit_record(
        actor=actor,
        verb="membership.removed",
        organisation=organisation,
        target=membership,
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


# --- representations -----------------------------------------------------------------------


@transaction.atomic
def representation_create(
    *, actor: Actor, representative: Organisation, name: str, eori: str, country: str
) -> Organisation:
    """Register an importer the customs representative acts for (Reg. 2023/956 Art 5(5): the
    application lists the persons represented). The importer is a declarant organisation with its
    own EORI; the representative's members reach it without administering it."""
    if representative.kind != OrganisationKind.REPRESENTATIVE:
        raise ValidationError(_("Only customs representatives act for importers."))
    importer = _importer_create(actor=actor, name=name, eori=eori, country=country)
    representation = Representation.objects.create(
        representative=representative, importer=importer, created_by=actor.user
    )
    audit_record(
        actor=actor,
        verb="representation.created",
        organisation=representative,
        target=representation,
        after={"importer": importer.name, "eori": importer.eori, "country": importer.country},
    )
    audit_record(
        actor=actor,
        verb="representation.created",
        organisation=importer,
        target=representation,
        after={"representative": representative.name, "eori": representative.eori},
    )
    return importer


def _importer_create(*, actor: Actor, name: str, eori: str, country: str) -> Organisation:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    importer = Organisation(
        kind=OrganisationKind.DECLARANT,
        name=name,
        country=_clean_country(country),
        eori=_clean_eori(kind=OrganisationKind.DECLARANT, eori=eori),
        created_by=actor.user,
    )
    _save_organisation(importer)
    audit_record(
        actor=actor,
        verb="organisation.created",
        organisation=importer,
        target=importer,
        after=_organisation_snapshot(importer),
    )
    return importer


@transaction.atomic
def representation_remove(*, actor: Actor, representation: Representation) -> None:
    """Stop acting for an importer. The importer's data stays with the importer."""
    representation = Representation.objects.select_related("representative", "importer").get(
        pk=representation.pk
    )
    for organisation in (representation.representative, representation.importer):
        audit_record(
            actor=actor,
            verb="representation.removed",
            organisation=organisation,
            target=representation,
            before={
                "representative": representation.representative.name,
                "importer": representation.importer.name,
            },
        )
    representation.delete()


# --- API keys ------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(*, actor: Actor, organisation: Organisation, name: str, role: str) -> tuple[ApiKey, str]:
    """Create an organisation API key. The full key is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name that says where it is used.")})
    if role not in API_KEY_ROLES:
        raise ValidationError(
            {
                "role": _("API keys can only have the role %(roles)s.")
                % {"roles": " or ".join(str(r.value) for r in API_KEY_ROLES)}
            }
        )
    full_key, prefix, key_hash = generate_api_key()
    api_key = ApiKey.objects.create(
        organisation=organisation,
        name=name[:100],
        prefix=prefix,
        key_hash=key_hash,
        role=role,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        verb="api_key.created",
        organisation=organisation,
        target=api_key,
        after={"name": api_key.name, "prefix": prefix, "role": role},
    )
    return api_key, full_key


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            verb="api_key.revoked",
            organisation=api_key.organisation,
            target=api_key,
            before={"revoked_at": None},
            after={"revoked_at": api_key.revoked_at},
        )
    return api_key
