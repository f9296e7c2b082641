"""Writes: the e-mailed link of a data request and claiming a request into an operator's inbox.

A declarant may ask a supplier that is not on the portal yet (only its e-mail address is known).
The e-mail carries a link with a single-use token; once the supplier has signed up and created its
operator organisation, opening the link lets a member claim the request: it enters the operator's
inbox and the declarant's supplier record is linked to that operator. Opening the link is recorded
as evidence of the declarant's efforts ([R956] Art 7(2) as amended by [OMN] Art 1(6); IR 2025/2547
Art 4(3)).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Membership, Organisation, OrganisationKind
from cbam_portal.accounts.policy import Capability, role_can
from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record

from ..models import OPEN_REQUEST_STATUSES, DataRequest, DataRequestEvent, DataRequestStatus

LINK_TTL_DAYS = 90
_TOKEN_SALT = "emissions.data_request.link"


def link_ttl() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "DATA_REQUEST_LINK_TTL_DAYS", LINK_TTL_DAYS))


def link_token(data_request: DataRequest) -> str:
    """The raw token of the request's link. Derived from the request and the secret key, so every
    e-mail (the request and each reminder) carries the same link; only its hash is stored."""
    return salted_hmac(_TOKEN_SALT, f"data-request:{data_request.pk}", algorithm="sha256").hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def link_token_issue(*, data_request: DataRequest, now: dt.datetime | None = None) -> str:
    """Give the request a link token valid for the link lifetime from `now` (called when the request
    or a reminder is sent, inside the caller's transaction). Returns the raw token."""
    now = now or timezone.now()
    token = link_token(data_request)
    data_request.token_hash = hash_token(token)
    data_request.token_expires_at = now + link_ttl()
    data_request.save(update_fields=["token_hash", "token_expires_at"])
    return token


def data_request_by_token(token: str) -> DataRequest | None:
    if not token or len(token) > 200:
        return None
    return (
        DataRequest.objects.select_related("declarant", "operator")
        .filter(token_hash=hash_token(token))
        .exclude(token_hash="")
        .first()
    )


def link_is_expired(data_request: DataRequest, *, now: dt.datetime | None = None) -> bool:
    expires = data_request.token_expires_at
    return expires is not None and expires < (now or timezone.now())


def claimable_organisations(user) -> list[Organisation]:
    """The operator organisations in which `user` may claim a request (direct members who can edit)."""
    if not getattr(user, "is_authenticated", False):
        return []
    memberships = Membership.objects.filter(
        user=user, organisation__kind=OrganisationKind.OPERATOR
    ).select_related("organisation")
    return sorted(
        (m.organisation for m in memberships if role_can(m.role, Capability.EDIT)),
        key=lambda o: (o.name, o.pk),
    )


def _event(
    request: DataRequest, *, kind: str, actor: Actor, note: str = "", label: str = ""
) -> DataRequestEvent:
    return DataRequestEvent.objects.create(
        request=request, kind=kind, actor=actor.user, actor_label=(label or actor.label)[:200], note=note
    )


@transaction.atomic
def data_request_link_opened(*, actor: Actor, data_request: DataRequest) -> DataRequest:
    """Record the first opening of the e-mailed link (the request moves from sent to opened).
    Later openings change nothing, so the evidence log shows when the supplier first saw it."""
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if data_request.status == DataRequestStatus.SENT:
        data_request.status = DataRequestStatus.OPENED
        data_request.save(update_fields=["status"])
        label = actor.label if actor.user is not None else _("supplier (e-mailed link)")
        _event(
            data_request,
            kind="opened",
            actor=actor,
            note=_("The link in the e-mail was opened."),
            label=label,
        )
    return data_request


@transaction.atomic
def data_request_claim(*, actor: Actor, token: str, operator: Organisation) -> DataRequest:
    """An operator organisation claims the request the link was sent for: the request enters its
    inbox, the declarant's supplier is linked to it (audited on both sides) and the link is used up.
    Errors never name another organisation."""
    if operator.kind != OrganisationKind.OPERATOR:
        raise ValidationError(
            {"organisation": _("Only an operator organisation can claim a data request. Create one first.")}
        )
    found = data_request_by_token(token)
    if found is None:
        raise ValidationError({"token": _("This link is not valid. Ask the sender for a new one.")})
    data_request = DataRequest.objects.select_for_update().select_related("declarant").get(pk=found.pk)
    if data_request.claimed_at is not None or data_request.operator_id is not None:
        if data_request.operator_id == operator.pk:
            return data_request
        raise ValidationError({"token": _("This link has already been used to claim the request.")})
    if data_request.status not in OPEN_REQUEST_STATUSES:
        raise ValidationError(
            {
                "token": _("This request is %(status)s and can no longer be claimed.")
                % {"status": data_request.get_status_display().lower()}
            }
        )
    if link_is_expired(data_request):
        raise ValidationError({"token": _("This link has expired. Ask the sender for a new one.")})
    now = timezone.now()
    if data_request.status == DataRequestStatus.SENT:
        data_request.status = DataRequestStatus.OPENED
        _event(data_request, kind="opened", actor=actor, note=_("The link in the e-mail was opened."))
    data_request.operator = operator
    data_request.claimed_at = now
    data_request.save(update_fields=["status", "operator", "claimed_at"])
    _event(data_request, kind="claimed", actor=actor, note=_("Claimed by %(org)s.") % {"org": operator.name})
    after = {"operator": operator.pk, "operator_name": operator.name, "claimed_at": now}
    audit_record(
        actor=actor, verb="data_request.claimed", organisation=operator, target=data_request, after=after
    )
    audit_record(
        actor=actor,
        verb="data_request.claimed",
        organisation=data_request.declarant,
        target=data_request,
        after=after,
    )
    # Imported here: the operator side does not depend on the declarant side at import time.
    from declarations.services.suppliers import supplier_link_by_claim

    supplier_link_by_claim(actor=actor, data_request=data_request, operator=operator)
    return data_request
