"""Reads for the 50-tonne de minimis watch: cumulative net mass per importer and calendar year.

The figures are summed in the database (one grouped query, one window query), then the rule in
:func:`declarations.liability.de_minimis_status` decides ([OMN] Art 1(2) → [R956] Art 2a).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import gettext_lazy as _

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.policy import Capability
from cbam_portal.reference.models import CnGood, DatasetKind, Sector

from ..liability import (
    DE_MINIMIS_THRESHOLD_T,
    DE_MINIMIS_WARNING_SHARE,
    ImportedMass,
    ThresholdStatus,
    de_minimis_status,
)
from ..models import ImportLine

ZERO = Decimal("0")
# CN codes never covered by the exemption ([OMN] Art 2a(4)): electricity 2716 00 00, hydrogen 2804 10 00.
ELECTRICITY_CN_PREFIX = "2716"
HYDROGEN_CN_PREFIX = "280410"
_QUANTITY = DecimalField(max_digits=20, decimal_places=6)


class ThresholdState:
    EXEMPT = "exempt"
    WARNING = "warning"
    EXCEEDED = "exceeded"


@dataclass(frozen=True)
class SectorMass:
    """Net mass (t) and electricity (MWh) of one sector in one year, in-scope lines only."""

    sector: str  # "" when the CN code is not in the current Annex I list
    net_mass_t: Decimal
    quantity_mwh: Decimal
    lines: int
    cn_codes: tuple[str, ...]
    outside_threshold: bool  # electricity and hydrogen: never exempt

    @property
    def label(self) -> str:
        if self.sector in Sector.values:
            return str(Sector(self.sector).label)
        return str(_("Not in the current Annex I list"))


@dataclass(frozen=True)
class YearThreshold:
    """De minimis position of the active importer for one calendar year."""

    year: int
    status: ThresholdStatus
    sectors: tuple[SectorMass, ...]
    lines_counted: int
    lines_excluded: int  # out of scope (EU or Annex III origin, CN not in Annex I): not counted
    excluded_mass_t: Decimal
    crossed_on: dt.date | None  # first release date on which the running total went above the threshold
    warning_at_t: Decimal = field(default=ZERO)

    @property
    def state(self) -> str:
        if not self.status.exempt:
            return ThresholdState.EXCEEDED
        if self.status.near_threshold:
            return ThresholdState.WARNING
        return ThresholdState.EXEMPT

    @property
    def exceeded(self) -> bool:
        return not self.status.exempt

    @property
    def percent(self) -> Decimal:
        """Share of the threshold used, in percent (unrounded)."""
        if self.status.threshold_t <= 0:
            return ZERO
        return self.status.cumulative_mass_t * 100 / self.status.threshold_t

    @property
    def bar_percent(self) -> int:
        """Width of the progress bar: the percentage capped at 100, as a whole number."""
        return int(min(self.percent, Decimal(100)))

    @property
    def remaining_t(self) -> Decimal:
        return max(self.status.threshold_t - self.status.cumulative_mass_t, ZERO)

    @property
    def has_electricity_or_hydrogen(self) -> bool:
        return self.status.has_electricity_or_hydrogen


def _outside_threshold_q() -> Q:
    return Q(cn_code__startswith=ELECTRICITY_CN_PREFIX) | Q(cn_code__startswith=HYDROGEN_CN_PREFIX)


def _sector_subquery() -> Subquery:
    return Subquery(
        CnGood.objects.filter(
            dataset__kind=DatasetKind.CN_GOODS, dataset__is_current=True, cn8=OuterRef("cn_code")
        ).values("sector")[:1]
    )


def _year_totals(organisation, year: int | None) -> list[dict]:
    """One grouped query: mass, MWh and line count per (year, CN code, in scope)."""
    qs = ImportLine.objects.filter(organisation=organisation)
    if year is not None:
        qs = qs.filter(released_on__year=year)
    return list(
        qs.annotate(year=ExtractYear("released_on"), sector=_sector_subquery())
        .values("year", "cn_code", "sector", "in_scope")
        .annotate(
            mass_t=Coalesce(Sum("net_mass_tonnes"), Value(ZERO), output_field=_QUANTITY),
            mwh=Coalesce(Sum("quantity_mwh"), Value(ZERO), output_field=_QUANTITY),
            lines=Count("id"),
        )
        .order_by("year", "cn_code")
    )


def _crossing_dates(organisation, year: int | None, threshold_t: Decimal) -> dict[int, dt.date]:
    """First release date per year on which the running total of counted mass exceeded the threshold.

    A running sum over the year's counted lines in release order; the crossing line is the one
    whose running total is above the threshold while the total before it was not (net masses are
    never negative, so there is at most one per year).
    """
    qs = ImportLine.objects.filter(organisation=organisation, in_scope=True).exclude(_outside_threshold_q())
    if year is not None:
        qs = qs.filter(released_on__year=year)
    mass = Coalesce(F("net_mass_tonnes"), Value(ZERO), output_field=_QUANTITY)
    rows = (
        qs.annotate(
            year=ExtractYear("released_on"),
            mass_t=mass,
            running_t=Window(
                Sum(mass),
                partition_by=[ExtractYear("released_on")],
                order_by=[F("released_on").asc(), F("id").asc()],
                output_field=_QUANTITY,
            ),
        )
        .annotate(before_t=F("running_t") - F("mass_t"))
        .filter(running_t__gt=threshold_t, before_t__lte=threshold_t)
        .values_list("year", "released_on")
    )
    return {int(y): released_on for y, released_on in rows}


def threshold_years_for(
    access: Access,
    *,
    year: int | None = None,
    threshold_t: Decimal = DE_MINIMIS_THRESHOLD_T,
    warning_share: Decimal = DE_MINIMIS_WARNING_SHARE,
) -> list[YearThreshold]:
    """The 50 t position of the active organisation per calendar year, newest year first.

    Counts every in-scope line, returned goods included ([R956] Art 6(5); Q&A 7.20); lines out of
    scope (EU or Annex III origin, CN code not in Annex I) do not count ([R956] Art 2(1), Annex III).
    With ``year`` given the result always has that one year, even without any import.
    Two queries, whatever the number of lines.
    """
    access.require(Capability.VIEW)
    organisation = access.organisation
    rows = _year_totals(organisation, year)
    crossings = _crossing_dates(organisation, year, threshold_t)

    by_year: dict[int, list[dict]] = {}
    for row in rows:
        by_year.setdefault(int(row["year"]), []).append(row)
    if year is not None:
        by_year.setdefault(year, [])

    result = []
    for y in sorted(by_year, reverse=True):
        year_rows = by_year[y]
        counted = [r for r in year_rows if r["in_scope"]]
        excluded = [r for r in year_rows if not r["in_scope"]]
        imports = [
            ImportedMass(sector=r["sector"] or "", net_mass_t=r["mass_t"], cn_code=r["cn_code"]) for r in counted
        ]
        status = de_minimis_status(imports, threshold_t=threshold_t, warning_share=warning_share)
        result.append(
            YearThreshold(
                year=y,
                status=status,
                sectors=_sectors(counted, imports),
                lines_counted=sum(r["lines"] for r in counted),
                lines_excluded=sum(r["lines"] for r in excluded),
                excluded_mass_t=sum((r["mass_t"] for r in excluded), ZERO),
                crossed_on=crossings.get(y) if not status.exempt else None,
                warning_at_t=status.threshold_t * warning_share,
            )
        )
    return result


def threshold_year_for(access: Access, year: int, **kwargs) -> YearThreshold:
    """The 50 t position of the active organisation for one calendar year."""
    return threshold_years_for(access, year=year, **kwargs)[0]


def _sectors(rows: list[dict], imports: list[ImportedMass]) -> tuple[SectorMass, ...]:
    grouped: dict[str, dict] = {}
    for row, item in zip(rows, imports, strict=True):
        entry = grouped.setdefault(
            row["sector"] or "",
            {"mass": ZERO, "mwh": ZERO, "lines": 0, "cn": [], "outside": False},
        )
        entry["mass"] += row["mass_t"]
        entry["mwh"] += row["mwh"]
        entry["lines"] += row["lines"]
        entry["cn"].append(row["cn_code"])
        entry["outside"] = entry["outside"] or item.outside_threshold
    return tuple(
        SectorMass(
            sector=sector,
            net_mass_t=e["mass"],
            quantity_mwh=e["mwh"],
            lines=e["lines"],
            cn_codes=tuple(e["cn"]),
            outside_threshold=e["outside"],
        )
        for sector, e in sorted(grouped.items(), key=lambda kv: (kv[1]["outside"], -kv[1]["mass"], kv[0]))
    )
