"""Reads: sharing grants and access log (operator side), reports shared with a declarant
(declarant side), and data requests received by an operator.

Operator reads are scoped to the active operator organisation; declarant reads see only reports
of installations with an active grant to the active organisation, and only once submitted.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.models import Organisation, OrganisationKind

from ..models import (
    DataRequest,
    DataRequestEvent,
    EmissionsReport,
    GoodResult,
    Installation,
    ReportAccess,
    ReportStatus,
    SharingGrant,
)

SHARED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.VERIFIED)
SEARCH_LIMIT = 20


# --- operator side ---------------------------------------------------------------------------


def sharing_installation_get(access: Access, pk: int) -> Installation:
    """One installation of the active operator; 404 for anyone else's."""
    return get_object_or_404(Installation.objects.filter(organisation=access.organisation), pk=pk)


def declarant_search(query: str) -> list[Organisation]:
    """Declarant organisations whose name contains `query` or whose EORI starts with it."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    return list(
        Organisation.objects.filter(kind=OrganisationKind.DECLARANT)
        .filter(Q(name__icontains=query) | Q(eori__istartswith=query.replace(" ", "")))
        .order_by("name")[:SEARCH_LIMIT]
    )


def declarant_get(pk) -> Organisation:
    return get_object_or_404(Organisation.objects.filter(kind=OrganisationKind.DECLARANT), pk=pk)


def grant_list(access: Access, *, installation: Installation | None = None) -> QuerySet[SharingGrant]:
    """The operator's grants (active first, then revoked), with declarant and installation."""
    qs = SharingGrant.objects.filter(organisation=access.organisation)
    if installation is not None:
        qs = qs.filter(installation=installation)
    return qs.select_related("declarant", "installation", "granted_by", "revoked_by").order_by(
        "revoked_at", "-granted_at"
    )


def grant_get(access: Access, pk) -> SharingGrant:
    return get_object_or_404(grant_list(access), pk=pk)


def shareable_reports(installation: Installation) -> list[EmissionsReport]:
    """The reports of the installation a declarant with access can read (submitted, verified)."""
    return list(installation.reports.filter(status__in=SHARED_STATUSES).order_by("-year", "-version"))


def access_log_for(access: Access, installation: Installation, *, limit: int = 200) -> list[ReportAccess]:
    """Who of which declarant opened which report of the installation, newest first."""
    return list(
        ReportAccess.objects.filter(
            report__organisation=access.organisation, report__installation=installation
        )
        .select_related("report", "declarant", "user")
        .order_by("-at")[:limit]
    )


def data_request_list(access: Access, *, status: str = "") -> QuerySet[DataRequest]:
    """Requests addressed to the active operator organisation."""
    qs = DataRequest.objects.filter(operator=access.organisation).select_related("declarant", "installation")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("due_date", "pk")


def data_request_get(access: Access, pk) -> DataRequest:
    return get_object_or_404(
        data_request_list(access).prefetch_related(
            Prefetch("events", DataRequestEvent.objects.select_related("actor").order_by("at", "pk"))
        ),
        pk=pk,
    )


# --- declarant side --------------------------------------------------------------------------


def _active_grant_to(organisation: Organisation):
    return SharingGrant.objects.filter(
        installation=OuterRef("installation"), declarant=organisation, revoked_at__isnull=True
    )


def shared_reports_for(access: Access) -> QuerySet[EmissionsReport]:
    """Submitted and verified reports of installations shared with the active organisation."""
    return (
        EmissionsReport.objects.filter(status__in=SHARED_STATUSES)
        .filter(Exists(_active_grant_to(access.organisation)))
        .select_related("installation", "organisation")
        .order_by("installation__name", "-year", "-version")
    )


def shared_installations_for(access: Access) -> QuerySet[SharingGrant]:
    """The active grants to the active organisation, with installation and operator."""
    return (
        SharingGrant.objects.filter(declarant=access.organisation, revoked_at__isnull=True)
        .select_related("installation", "organisation")
        .order_by("installation__name")
    )


def shared_report_get(access: Access, pk) -> EmissionsReport:
    """One shared report with its processes and results; 404 when not (or no longer) shared."""
    return get_object_or_404(
        shared_reports_for(access).prefetch_related(
            Prefetch(
                "results", GoodResult.objects.select_related("process").order_by("process__key", "cn_code")
            ),
            "processes",
        ),
        pk=pk,
    )
