"""Reads: installations of the active operator organisation (outsiders get 404)."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access
from cbam_portal.core.models import AuditEvent

from ..models import Installation


def installation_list(access: Access) -> QuerySet[Installation]:
    """The organisation's installations with their number of reports and latest reporting year."""
    return Installation.objects.filter(organisation=access.organisation).annotate(
        report_count=Count("reports"), latest_year=Max("reports__year")
    )


def installation_get(access: Access, pk: int) -> Installation:
    return get_object_or_404(Installation.objects.filter(organisation=access.organisation), pk=pk)


def installation_history(installation: Installation, *, limit: int = 100) -> list[AuditEvent]:
    """The installation's edit history (audit events with before/after), newest first."""
    return list(
        AuditEvent.objects.filter(
            organisation_id=installation.organisation_id,
            target_type=Installation._meta.label,
            target_id=str(installation.pk),
        ).select_related("actor")[:limit]
    )
