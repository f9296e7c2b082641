"""Reads of audit events and background jobs, always scoped to one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.policy import Capability

from .jobs import hidden_kinds_for
from .models import AuditEvent, Job


def job_list_for(access: Access, *, status: str = "", kind: str = "") -> QuerySet[Job]:
    """The active organisation's jobs that `access` may see, newest first."""
    access.require(Capability.VIEW)
    qs = Job.objects.filter(organisation=access.organisation).exclude(kind__in=hidden_kinds_for(access))
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("created_by").order_by("-created_at", "-pk")


def job_get_for(access: Access, pk) -> Job:
    """One job of the active organisation; 404 for another organisation's job or a kind it may not see."""
    return get_object_or_404(job_list_for(access), pk=pk)


@dataclass(frozen=True)
class AuditFilters:
    verb: str = ""
    actor: str = ""  # part of the actor's e-mail or API key label
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def to_params(self) -> dict:
        return {
            "verb": self.verb,
            "actor": self.actor,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }

    @classmethod
    def from_params(cls, params: dict) -> AuditFilters:
        def _date(value):
            return date.fromisoformat(value) if value else None

        return cls(
            verb=params.get("verb", ""),
            actor=params.get("actor", ""),
            date_from=_date(params.get("date_from")),
            date_to=_date(params.get("date_to")),
        )

    @property
    def is_active(self) -> bool:
        return any(self.to_params().values())


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_of(organisation, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The organisation's audit events matching `filters`, newest first. No access check: callers
    that act for a person use `audit_events_for`."""
    filters = filters or AuditFilters()
    qs = AuditEvent.objects.filter(organisation=organisation)
    if filters.verb:
        qs = qs.filter(verb=filters.verb)
    if filters.actor:
        qs = qs.filter(actor_label__icontains=filters.actor)
    if filters.date_from:
        qs = qs.filter(at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    return qs.order_by("-at", "-pk")


def audit_events_for(access: Access, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The active organisation's audit events; 403 without the audit capability."""
    access.require(Capability.VIEW_AUDIT)
    return audit_events_of(access.organisation, filters)


def audit_verbs_for(access: Access) -> list[str]:
    """The verbs that occur in the organisation's audit log, for the filter's choices."""
    access.require(Capability.VIEW_AUDIT)
    return list(
        AuditEvent.objects.filter(organisation=access.organisation)
        .order_by("verb")
        .values_list("verb", flat=True)
        .distinct()
    )
