"""Writes: an operator shares an installation's submitted reports with declarants, revokes that,
and answers declarants' data requests; declarants' reads of shared reports are logged.

Operators communicate their installation's emissions to reporting declarants (Reg (EU)
2023/956 Art 10(4)–(5); IR 2025/2547 Art 10); a grant is explicit and revocable.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record

from ..models import (
    OPEN_REQUEST_STATUSES,
    DataRequest,
    DataRequestEvent,
    DataRequestStatus,
    EmissionsReport,
    Installation,
    ReportAccess,
    SharingGrant,
)
from .notify import declarants_recompute_on_commit


def _grant_snapshot(grant: SharingGrant) -> dict:
    return {
        "installation": grant.installation_id,
        "declarant": grant.declarant_id,
        "declarant_name": grant.declarant.name,
        "revoked_at": grant.revoked_at,
    }


@transaction.atomic
def grant_create(*, actor: Actor, installation: Installation, declarant: Organisation) -> SharingGrant:
    """Let `declarant` read the submitted and verified reports of `installation` (Reg (EU)
    2023/956 Art 10(5)). An active grant to the same declarant is reused, never doubled."""
    if declarant.kind != OrganisationKind.DECLARANT:
        raise ValidationError(
            {
                "declarant": _("%(name)s is not a declarant (importer); reports are shared with declarants.")
                % {"name": declarant.name}
            }
        )
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    existing = SharingGrant.objects.filter(
        installation=installation, declarant=declarant, revoked_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    grant = SharingGrant.objects.create(
        organisation_id=installation.organisation_id,
        installation=installation,
        declarant=declarant,
        granted_by=actor.user,
    )
    audit_record(
        actor=actor,
        verb="sharing_grant.created",
        organisation=installation.organisation,
        target=grant,
        after=_grant_snapshot(grant),
    )
    declarants_recompute_on_commit(actor=actor, declarant_ids=[declarant.pk], trigger="grant")
    return grant


@transaction.atomic
def grant_revoke(*, actor: Actor, grant: SharingGrant) -> SharingGrant:
    """End a grant: the declarant no longer sees the installation's reports. What it already
    filed keeps its own snapshot of the numbers used."""
    grant = SharingGrant.objects.select_for_update(of=("self",)).select_related("declarant").get(pk=grant.pk)
    if grant.revoked_at is not None:
        raise ValidationError(_("This access was already revoked."))
    before = _grant_snapshot(grant)
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor.user
    grant.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        verb="sharing_grant.revoked",
        organisation=grant.organisation,
        target=grant,
        before=before,
        after=_grant_snapshot(grant),
    )
    declarants_recompute_on_commit(actor=actor, declarant_ids=[grant.declarant_id], trigger="grant")
    return grant


def report_access_record(
    *, report: EmissionsReport, declarant: Organisation, user, via: str = "web"
) -> ReportAccess:
    """Log that a member of `declarant` opened a shared report (shown to the operator)."""
    return ReportAccess.objects.create(
        report=report,
        declarant=declarant,
        user=user if getattr(user, "is_authenticated", False) else None,
        via=via[:10],
    )


def _event(request: DataRequest, *, kind: str, actor: Actor, note: str = "") -> DataRequestEvent:
    return DataRequestEvent.objects.create(
        request=request, kind=kind, actor=actor.user, actor_label=actor.label[:200], note=note
    )


def _open_request(request: DataRequest) -> DataRequest:
    request = (
        DataRequest.objects.select_for_update(of=("self",))
        .select_related("declarant", "operator")
        .get(pk=request.pk)
    )
    if request.status not in OPEN_REQUEST_STATUSES:
        raise ValidationError(
            _("This request is %(status)s and can no longer be answered.")
            % {"status": request.get_status_display().lower()}
        )
    return request


@transaction.atomic
def data_request_mark_opened(*, actor: Actor, request: DataRequest) -> DataRequest:
    """The operator has seen a new request (evidence of the declarant's efforts)."""
    request = DataRequest.objects.select_for_update().get(pk=request.pk)
    if request.status == DataRequestStatus.SENT:
        request.status = DataRequestStatus.OPENED
        request.save(update_fields=["status"])
        _event(request, kind="opened", actor=actor)
    return request


@transaction.atomic
def data_request_answer(*, actor: Actor, request: DataRequest, installation: Installation) -> DataRequest:
    """Answer a declarant's request by sharing an installation with it (grant created or reused)."""
    request = _open_request(request)
    if request.operator_id is None or installation.organisation_id != request.operator_id:
        raise ValidationError({"installation": _("Choose one of your own installations.")})
    grant = grant_create(actor=actor, installation=installation, declarant=request.declarant)
    before = {"status": request.status}
    request.status = DataRequestStatus.ANSWERED
    request.answered_at = timezone.now()
    request.answer_grant = grant
    request.installation = installation
    request.save(update_fields=["status", "answered_at", "answer_grant", "installation"])
    _event(
        request,
        kind="answered",
        actor=actor,
        note=_("Shared installation %(installation)s.") % {"installation": installation},
    )
    audit_record(
        actor=actor,
        verb="data_request.answered",
        organisation=installation.organisation,
        target=request,
        before=before,
        after={"status": request.status, "installation": installation.pk, "grant": grant.pk},
    )
    return request


@transaction.atomic
def data_request_decline(*, actor: Actor, request: DataRequest, reason: str) -> DataRequest:
    """Decline a declarant's request, giving the reason (kept as evidence for both sides)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for declining.")})
    request = _open_request(request)
    before = {"status": request.status}
    request.status = DataRequestStatus.DECLINED
    request.answered_at = timezone.now()
    request.save(update_fields=["status", "answered_at"])
    _event(request, kind="declined", actor=actor, note=reason)
    audit_record(
        actor=actor,
        verb="data_request.declined",
        organisation=request.operator,
        target=request,
        before=before,
        after={"status": request.status, "reason": reason},
    )
    return request
