"""Reads: annual declarations of the active organisation (404 for anything else)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.models import Organisation
from cbam_portal.accounts.selectors import representation_list
from emissions.models import OPEN_REQUEST_STATUSES, DataRequest, DataRequestStatus

from ..liability import declaration_due_on, declaration_year_due
from ..models import (
    GROUP_USES_ACTUAL_DATA,
    Declaration,
    DeclarationComment,
    DeclarationGroup,
    SupplierDataRequest,
)
from ..services.declarations import grouped_lines
from ..services.requests import is_overdue


def declaration_list(access: Access) -> QuerySet[Declaration]:
    """The organisation's declarations, without their filed snapshots (read when used: a large
    declaration's list of operator reports alone is a megabyte of JSON)."""
    return (
        Declaration.objects.filter(organisation=access.organisation)
        .select_related("prepared_by", "approved_by")
        .defer("snapshot")
    )


def declaration_get(access: Access, pk) -> Declaration:
    return get_object_or_404(
        declaration_list(access).select_related("submitted_for_review_by", "filed_by", "supersedes"), pk=pk
    )


def declaration_groups(declaration: Declaration) -> QuerySet[DeclarationGroup]:
    return declaration.groups.select_related("installation").order_by("cn_code", "country", "quarter", "pk")


def declaration_group_rows(declaration: Declaration) -> QuerySet[DeclarationGroup]:
    """The groups as the declaration's goods table lists them: without their traces (a large
    declaration has tens of thousands; each group's "why?" page reads its own)."""
    return declaration_groups(declaration).defer("trace", "datasets")


def declaration_group_get(declaration: Declaration, pk) -> DeclarationGroup:
    return get_object_or_404(declaration_groups(declaration), pk=pk)


def declaration_filed_groups(declaration: Declaration) -> list[dict]:
    """The groups of a filed declaration as filed, in table order: figures, dataset versions and
    ``trace`` (empty before filing). For a few groups; an export walks them in chunks."""
    return [
        {**data, "trace": trace}
        for data, trace in declaration.filed_groups.order_by("position").values_list("data", "trace")
    ]


def declaration_comments(declaration: Declaration) -> QuerySet[DeclarationComment]:
    return declaration.comments.select_related("author")


@dataclass(frozen=True)
class DeclarationOverview:
    """Where an importer's declaration due next stands: its latest version (None before one is
    drafted), the deadline, and how much of its embedded emissions rest on suppliers' actual data."""

    organisation: Organisation
    year: int
    due_on: dt.date
    days_left: int
    declaration: Declaration | None
    groups: int = 0
    actual_groups: int = 0
    embedded_t_co2e: Decimal = Decimal(0)
    actual_t_co2e: Decimal = Decimal(0)
    unpriced_groups: int = 0
    #: Data requests of that year to suppliers: waiting (of which past their due date), answered.
    open_requests: int = 0
    overdue_requests: int = 0
    answered_requests: int = 0

    @property
    def actual_share_percent(self) -> Decimal | None:
        """Share of the embedded emissions from actual data, in per cent (None when there are none)."""
        if not self.embedded_t_co2e:
            return None
        return self.actual_t_co2e * 100 / self.embedded_t_co2e


def declarations_due(organisations: list[Organisation], today: dt.date) -> list[DeclarationOverview]:
    """The declaration due next on ``today`` of each of ``organisations``, which the caller has
    already established it may read (its own, or the importers a representative acts for), with
    the year's data requests to suppliers. Three queries, whatever the number of organisations."""
    year = declaration_year_due(today)
    due_on = declaration_due_on(year)
    latest: dict[int, Declaration] = {}
    versions = (
        Declaration.objects.filter(organisation__in=organisations, year=year)
        .defer("snapshot")
        .order_by("organisation_id", "-version")
    )
    for declaration in versions:
        latest.setdefault(declaration.organisation_id, declaration)
    figures = {
        row.pop("declaration"): row
        for row in DeclarationGroup.objects.filter(declaration__in=[d.pk for d in latest.values()])
        .values("declaration")
        .annotate(
            groups=Count("pk"),
            actual_groups=Count("pk", filter=GROUP_USES_ACTUAL_DATA),
            embedded=Sum("embedded_t_co2e"),
            actual=Sum("embedded_t_co2e", filter=GROUP_USES_ACTUAL_DATA, default=Decimal(0)),
            unpriced_groups=Count("pk", filter=Q(price_eur__isnull=True)),
        )
        .order_by()
    }
    waiting = Q(status__in=OPEN_REQUEST_STATUSES)
    requests = {
        row.pop("declarant"): row
        for row in DataRequest.objects.filter(declarant__in=organisations, year=year)
        .values("declarant")
        .annotate(
            open_requests=Count("pk", filter=waiting),
            overdue_requests=Count("pk", filter=waiting & Q(due_date__lt=today)),
            answered_requests=Count("pk", filter=Q(status=DataRequestStatus.ANSWERED)),
        )
        .order_by()
    }
    overviews = []
    for organisation in organisations:
        declaration = latest.get(organisation.pk)
        row = figures.get(declaration.pk, {}) if declaration is not None else {}
        overviews.append(
            DeclarationOverview(
                organisation=organisation,
                year=year,
                due_on=due_on,
                days_left=(due_on - today).days,
                declaration=declaration,
                groups=row.get("groups", 0),
                actual_groups=row.get("actual_groups", 0),
                embedded_t_co2e=row.get("embedded", Decimal(0)),
                actual_t_co2e=row.get("actual", Decimal(0)),
                unpriced_groups=row.get("unpriced_groups", 0),
                **requests.get(organisation.pk, {}),
            )
        )
    return overviews


def declaration_overview(access: Access, today: dt.date) -> DeclarationOverview:
    """The dashboard's view of the active organisation's declaration due next (3 queries)."""
    return declarations_due([access.organisation], today)[0]


def represented_declarations_due(access: Access, today: dt.date) -> list[DeclarationOverview]:
    """For a customs representative: the declaration due next of every importer it acts for."""
    importers = [r.importer for r in representation_list(organisation=access.organisation)]
    return declarations_due(importers, today)


#: How many groups on default values the declaration page lists as where suppliers' data would
#: matter most.
HOTSPOTS = 5


@dataclass(frozen=True)
class SupplierOfGroup:
    """A supplier named on a group's import lines (``supplier_id`` None: lines naming none), with
    the latest of the year's data requests to it that covers the group's CN code."""

    supplier_id: int | None
    name: str
    lines: int
    request_status: str = ""  # a DataRequestStatus value, or "" when none was sent
    request_overdue: bool = False

    @property
    def request_label(self) -> str:
        return str(DataRequestStatus(self.request_status).label) if self.request_status else ""

    @property
    def request_waiting_or_answered(self) -> bool:
        """A request is on its way or answered: asking again would only repeat it."""
        return self.request_status in (*OPEN_REQUEST_STATUSES, DataRequestStatus.ANSWERED)


@dataclass(frozen=True)
class DefaultValueHotspot:
    group: DeclarationGroup
    suppliers: list[SupplierOfGroup]


def default_value_hotspots(declaration: Declaration, today: dt.date, *, limit: int = HOTSPOTS) -> list[DefaultValueHotspot]:
    """The groups on default values with the most certificates, where actual data from the
    supplier would change the most, with the suppliers named on their lines and where the year's
    request to each stands (the "all possible efforts" of IR 2025/2547 Art 4(3)). Three queries.

    From 2027 a quarter's lines may be priced in several weekly groups: each lists the suppliers of
    the whole quarter."""
    groups = list(
        declaration.groups.exclude(GROUP_USES_ACTUAL_DATA)
        .filter(certificates__gt=0)
        .select_related("installation")
        .defer("trace", "datasets")
        .order_by("-certificates", "pk")[:limit]
    )
    if not groups:
        return []
    wanted = {(g.cn_code, g.country, g.installation_id, g.quarter) for g in groups}
    named: dict[tuple, list[tuple[int | None, str, int]]] = {}
    rows = (
        grouped_lines(organisation=declaration.organisation, year=declaration.year)
        .filter(cn_code__in={g.cn_code for g in groups})
        .values("cn_code", "group_country", "installation_id", "group_quarter", "supplier_id", "supplier__name")
        .annotate(lines=Count("pk"))
        .order_by("supplier__name")
    )
    for r in rows:
        key = (r["cn_code"], r["group_country"], r["installation_id"], r["group_quarter"])
        if key in wanted:
            named.setdefault(key, []).append((r["supplier_id"], r["supplier__name"] or "", r["lines"]))
    supplier_ids = {sid for found in named.values() for sid, _name, _n in found if sid is not None}
    links = (
        SupplierDataRequest.objects.filter(
            organisation=declaration.organisation, supplier_id__in=supplier_ids, data_request__year=declaration.year
        )
        .select_related("data_request")
        .order_by("data_request__created_at", "pk")
    )
    latest: dict[tuple[int, str], tuple[str, bool]] = {}  # (supplier, CN) -> (status, overdue)
    for link in links:
        request = link.data_request
        for cn in request.cn_codes or [g.cn_code for g in groups]:  # no CN codes: every good
            latest[(link.supplier_id, cn)] = (request.status, is_overdue(request, today=today))
    hotspots = []
    for g in groups:
        suppliers = []
        for sid, name, n in named.get((g.cn_code, g.country, g.installation_id, g.quarter), []):
            status, overdue = latest.get((sid, g.cn_code), ("", False)) if sid is not None else ("", False)
            suppliers.append(SupplierOfGroup(sid, name, n, status, overdue))
        hotspots.append(DefaultValueHotspot(group=g, suppliers=suppliers))
    return hotspots
