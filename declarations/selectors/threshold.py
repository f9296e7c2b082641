"""Reads for the 50-tonne de minimis watch: cumulative net mass per importer and calendar year.

The figures are summed in the database (one grouped query, one window query), then the rule in
:func:`declarations.liability.de_minimis_status` decides ([OMN] Art 1(2) → [R956] Art 2a).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, Sum, Value
from django.db.models.functions import Coalesce
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


def _day_totals(organisation, year: int | None) -> list[tuple]:
    """One grouped query: (release date, CN code, in scope, net mass, MWh, lines).

    Grouped by day rather than by year, so that the running total that finds the crossing date
    is summed over a few hundred days per year instead of over every line (a window over a
    million lines took seconds; a per-line sector lookup took tens of seconds)."""
    qs = ImportLine.objects.filter(organisation=organisation)
    if year is not None:
        qs = qs.filter(released_on__year=year)
    return list(
        qs.values("released_on", "cn_code", "in_scope")
        .annotate(
            mass_t=Coalesce(Sum("net_mass_tonnes"), Value(ZERO), output_field=_QUANTITY),
            mwh=Coalesce(Sum("quantity_mwh"), Value(ZERO), output_field=_QUANTITY),
            lines=Count("id"),
        )
        .order_by("released_on", "cn_code")
        .values_list("released_on", "cn_code", "in_scope", "mass_t", "mwh", "lines")
    )


def _sectors_of(cn_codes: set[str]) -> dict[str, str]:
    """Sector of each CN code in the current Annex I list (one query; none without codes)."""
    if not cn_codes:
        return {}
    sectors: dict[str, str] = {}
    rows = CnGood.objects.filter(
        dataset__kind=DatasetKind.CN_GOODS, dataset__is_current=True, cn8__in=cn_codes
    ).values_list("cn8", "sector")
    for cn8, sector in rows:
        sectors.setdefault(cn8, sector)
    return sectors


def _year_totals(days: list[tuple], sectors: dict[str, str]) -> list[dict]:
    """Mass, MWh and line count per (year, CN code, in scope), in year and CN code order."""
    totals: dict[tuple, dict] = {}
    for released_on, cn_code, in_scope, mass_t, mwh, lines in days:
        key = (released_on.year, cn_code, in_scope)
        row = totals.get(key)
        if row is None:
            totals[key] = {
                "year": key[0],
                "cn_code": cn_code,
                "sector": sectors.get(cn_code),
                "in_scope": in_scope,
                "mass_t": mass_t,
                "mwh": mwh,
                "lines": lines,
            }
        else:
            row["mass_t"] += mass_t
            row["mwh"] += mwh
            row["lines"] += lines
    return [totals[key] for key in sorted(totals, key=lambda k: (k[0], k[1]))]


def _counts_for_threshold(cn_code: str) -> bool:
    return not cn_code.startswith((ELECTRICITY_CN_PREFIX, HYDROGEN_CN_PREFIX))


def _crossing_dates(days: list[tuple], threshold_t: Decimal) -> dict[int, dt.date]:
    """First release date per year on which the running total of counted mass exceeded the threshold.

    The running total of the in-scope lines (electricity and hydrogen aside) day by day, in
    release order: the crossing day is the first whose total is above the threshold. Net masses
    are never negative, so that is the day of the line that took the total over it.
    """
    running: dict[int, Decimal] = {}
    crossed: dict[int, dt.date] = {}
    for released_on, cn_code, in_scope, mass_t, _mwh, _lines in days:  # in release order
        year = released_on.year
        if not in_scope or year in crossed or not _counts_for_threshold(cn_code):
            continue
        running[year] = total = running.get(year, ZERO) + mass_t
        if total > threshold_t:
            crossed[year] = released_on
    return crossed


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
    Two queries, whatever the number of lines: the lines summed per day and CN code, and the
    sectors of those CN codes.
    """
    access.require(Capability.VIEW)
    organisation = access.organisation
    days = _day_totals(organisation, year)
    rows = _year_totals(days, _sectors_of({cn_code for _day, cn_code, *_rest in days}))
    crossings = _crossing_dates(days, threshold_t)

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
