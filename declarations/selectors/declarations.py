"""Reads: annual declarations of the active organisation (404 for anything else)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.models import Organisation
from emissions.models import OPEN_REQUEST_STATUSES, DataRequest, DataRequestStatus

from ..liability import declaration_due_on, declaration_year_due
from ..models import Declaration, DeclarationComment, DeclarationGroup, EmissionsSource


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


#: Groups whose emissions come from an operator's report: actual data was found and the declarant
#: kept it, or the declarant chose it.
USES_ACTUAL_DATA = Q(override_source=EmissionsSource.ACTUAL) | Q(override_source="", source=EmissionsSource.ACTUAL)


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
            actual_groups=Count("pk", filter=USES_ACTUAL_DATA),
            embedded=Sum("embedded_t_co2e"),
            actual=Sum("embedded_t_co2e", filter=USES_ACTUAL_DATA, default=Decimal(0)),
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
