"""CBAM certificate obligation of a declarant — pure Python, ``Decimal`` only.

Regulation (EU) 2023/956 ([R956]) Art 6(2)(c), 7, 9, 22, 31 as amended by Regulation (EU)
2025/2083 ([OMN]); free allocation adjustment per Implementing Regulation (EU) 2025/2620
([IR2620]) Annex Eq. 1–6; default values and mark-ups per Implementing Regulation (EU) 2025/2621
([IR2621]) Annex I.

Public API
----------
- Reference helpers: :data:`CBAM_FACTOR_SCHEDULE`, :func:`cbam_factor`, :func:`markup_rate`,
  :func:`marked_up_default`.
- Obligation: inputs :class:`GoodsGroup` with an :class:`ActualSource` or a
  :class:`DefaultSource`; :func:`group_obligation` (one group) and
  :func:`certificate_obligation` (all groups of a declaration, no offset between groups),
  returning :class:`GroupLiability` / :class:`Liability` with traces.
- Threshold: :class:`ImportedMass`, :func:`de_minimis_status` -> :class:`ThresholdStatus`
  ([OMN] Art 2a, 50 t).
- Quarterly holding from 2027: :class:`HoldingLine`, :func:`quarterly_holding` ->
  :class:`HoldingRequirement` ([OMN] Art 22(2)).
- Deadlines: :func:`declaration_due_on` (declaration and surrender of a year of import) and
  :func:`declaration_year_due` (the year whose declaration is due next).
- Errors: :class:`LiabilityInputError` (bad input or a rule refused; the message names the group
  and field).

Numbers stay at full precision; present money with ``quantise(value, EUR_PLACES)`` from
:mod:`emissions.see`. Whether certificate counts are rounded is not settled in the sources
(CBAM.md §4.5), so counts are returned unrounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from types import MappingProxyType

from emissions.see import (
    CALC_CONTEXT,
    EUR_PLACES,
    TraceStep,
    normalise_decimal_fields,
    quantise,
    to_decimal,
)

__all__ = [
    "CBAM_FACTOR_SCHEDULE",
    "FIRST_YEAR",
    "ActualSource",
    "DefaultSource",
    "GoodsGroup",
    "GroupLiability",
    "HoldingLine",
    "HoldingRequirement",
    "ImportedMass",
    "Liability",
    "LiabilityInputError",
    "ThresholdStatus",
    "cbam_factor",
    "certificate_obligation",
    "de_minimis_status",
    "declaration_due_on",
    "declaration_year_due",
    "group_obligation",
    "marked_up_default",
    "markup_rate",
    "quarterly_holding",
]

ZERO = Decimal(0)
FIRST_YEAR = 2026  # the definitive period starts on 1 January 2026 ([R956] Art 36(2)(b) as amended)

#: Share of free allocation still granted (Directive 2003/87/EC Art 10a(1a)); CBAM.md §4.3.
#: A default only: the portal passes the factor of the year from versioned reference data.
CBAM_FACTOR_SCHEDULE: Mapping[int, Decimal] = MappingProxyType(
    {
        2026: Decimal("0.975"),
        2027: Decimal("0.95"),
        2028: Decimal("0.90"),
        2029: Decimal("0.775"),
        2030: Decimal("0.515"),
        2031: Decimal("0.39"),
        2032: Decimal("0.265"),
        2033: Decimal("0.14"),
        2034: Decimal("0"),
    }
)

FERTILISERS = "fertilisers"
ELECTRICITY = "electricity"
HYDROGEN = "hydrogen"
_MARKUP_BY_YEAR = {2026: Decimal("0.10"), 2027: Decimal("0.20")}
_MARKUP_FROM_2028 = Decimal("0.30")
_MARKUP_FERTILISERS = Decimal("0.01")

DE_MINIMIS_THRESHOLD_T = Decimal(50)
DE_MINIMIS_WARNING_SHARE = Decimal("0.9")
HOLDING_SHARE = Decimal("0.5")


class LiabilityInputError(ValueError):
    """Input that cannot be calculated, or a claim the rules refuse; names the group and field."""


def _check_year(year: int, what: str) -> None:
    if isinstance(year, bool) or not isinstance(year, int):
        raise LiabilityInputError(f"{what}: year must be a whole number, got {year!r}.")
    if year < FIRST_YEAR:
        raise LiabilityInputError(
            f"{what}: {year} is before the definitive period; CBAM obligations start with imports in {FIRST_YEAR}."
        )


# --------------------------------------------------------------------------------------------
# Reference helpers
# --------------------------------------------------------------------------------------------


def cbam_factor(year: int, schedule: Mapping[int, Decimal] = CBAM_FACTOR_SCHEDULE) -> Decimal:
    """CBAM factor of ``year`` (Directive 2003/87/EC Art 10a(1a); [IR2620] Annex 3.1).

    Years after the last entry of ``schedule`` take its last value (0 from 2034).
    """
    _check_year(year, "CBAM factor")
    if year in schedule:
        return schedule[year]
    last = max(schedule)
    if year > last:
        return schedule[last]
    raise LiabilityInputError(f"CBAM factor: no value for {year} in the schedule.")


def markup_rate(sector: str, year: int) -> Decimal:
    """Mark-up on default values ([IR2621] Annex I headers, recitals 4–6; Q&A 4.25).

    +10 % for 2026, +20 % for 2027, +30 % from 2028; fertilisers a flat +1 % in every year.
    Electricity: none — its default emission factors ([IR2621] Annex III) have no mark-up columns.
    """
    _check_year(year, "mark-up")
    if sector == ELECTRICITY:
        return ZERO
    if sector == FERTILISERS:
        return _MARKUP_FERTILISERS
    return _MARKUP_BY_YEAR.get(year, _MARKUP_FROM_2028)


def marked_up_default(total: Decimal, sector: str, year: int, *, places: int | None = None) -> Decimal:
    """Default value including the mark-up of ``year``: ``total × (1 + mark-up)`` ([IR2621] Annex I).

    Exact by default (e.g. 2.760 × 1.01 = 2.7876). The Commission workbook stores that exact
    product but prints it with the precision of the column (format ``0.000`` → 2.788); pass
    ``places`` to reproduce a printed value. Prefer the published figure when one is loaded.
    """
    value = normalise_value(total, "default value")
    with localcontext(CALC_CONTEXT):
        result = value * (1 + markup_rate(sector, year))
    return quantise(result, places) if places is not None else result


def normalise_value(value: object, name: str) -> Decimal:
    """``value`` as a finite ``Decimal`` (floats refused), raising :class:`LiabilityInputError`."""
    return to_decimal(value, name, LiabilityInputError)


# --------------------------------------------------------------------------------------------
# Obligation inputs and outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActualSource:
    """Verified actual SEE of the good (per functional unit) and the Column A benchmark (BM*).

    ``see_for_obligation`` overrides the Annex II rule with a value already computed by
    :func:`emissions.see.obligation_see` (for complex goods under the precursor cross-over rule).
    ``benchmark_column_a`` may be omitted only for electricity (no free allocation).
    """

    see_direct: Decimal
    see_indirect: Decimal = ZERO
    benchmark_column_a: Decimal | None = None
    see_for_obligation: Decimal | None = None

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            "actual emissions",
            non_negative=("see_direct", "see_indirect", "benchmark_column_a", "see_for_obligation"),
            error=LiabilityInputError,
        )


@dataclass(frozen=True)
class DefaultSource:
    """Default values of [IR2621] Annex I for the good's country and CN code, and the Column B
    benchmark (BM, [IR2620] Annex 4) of the default route.

    Either ``marked_up_value`` — the year's published value including the mark-up, chosen by the
    caller — or the raw ``direct``/``indirect``/``total`` values, to which :func:`marked_up_default`
    is applied for the year of import. ``benchmark_column_b`` may be omitted only for electricity.
    """

    benchmark_column_b: Decimal | None = None
    marked_up_value: Decimal | None = None
    direct: Decimal | None = None
    indirect: Decimal | None = None
    total: Decimal | None = None

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            "default values",
            non_negative=("benchmark_column_b", "marked_up_value", "direct", "indirect", "total"),
            error=LiabilityInputError,
        )
        if self.marked_up_value is None and self.direct is None and self.total is None:
            raise LiabilityInputError(
                "default values: give the published value including mark-up, or the direct/total default value."
            )


@dataclass(frozen=True)
class GoodsGroup:
    """Imports of one good (CN code, origin, installation/source) in one period, summed.

    ``net_mass`` is in the functional unit of the good ([IR2547] Art 4). ``cbam_factor`` and
    ``cscf`` are those of the year (pass them from reference data); ``certificate_price_eur`` is
    the price applying to the import (quarterly average for 2026 imports, [OMN] Art 21(1a)).
    A carbon price paid abroad may be claimed as ``carbon_price_deduction_tco2e`` (certificates)
    or ``carbon_price_paid_eur`` (converted at the certificate price), only with actual data.
    """

    label: str
    cn_code: str
    sector: str
    annex_ii: bool
    net_mass: Decimal
    year: int
    source: ActualSource | DefaultSource
    cbam_factor: Decimal
    cscf: Decimal
    certificate_price_eur: Decimal
    quarter: int | None = None
    carbon_price_deduction_tco2e: Decimal = ZERO
    carbon_price_paid_eur: Decimal = ZERO

    def __post_init__(self) -> None:
        what = f"goods group “{self.label}”"
        normalise_decimal_fields(
            self,
            what,
            non_negative=(
                "net_mass",
                "cbam_factor",
                "cscf",
                "certificate_price_eur",
                "carbon_price_deduction_tco2e",
                "carbon_price_paid_eur",
            ),
            error=LiabilityInputError,
        )
        _check_year(self.year, what)
        if self.quarter is not None and self.quarter not in (1, 2, 3, 4):
            raise LiabilityInputError(f"{what}: quarter must be 1 to 4, got {self.quarter!r}.")
        if self.cbam_factor > 1:
            raise LiabilityInputError(
                f"{what}: cbam_factor is a share and cannot exceed 1 (got {self.cbam_factor})."
            )
        if not isinstance(self.source, ActualSource | DefaultSource):
            raise LiabilityInputError(f"{what}: source must be actual or default values.")


@dataclass(frozen=True)
class GroupLiability:
    """Obligation of one goods group at full precision, with its trace."""

    label: str
    method: str  # "actual" or "default"
    net_mass: Decimal
    see_used: Decimal
    embedded_tco2e: Decimal
    sefa: Decimal
    faa_tco2e: Decimal
    carbon_price_deduction_tco2e: Decimal
    net_tco2e: Decimal  # before the floor at zero; negative values do not offset other groups
    certificates: Decimal
    cost_eur: Decimal
    trace: tuple[TraceStep, ...]

    @property
    def cost_eur_presented(self) -> Decimal:
        """Cost rounded half-up to cents, for display."""
        return quantise(self.cost_eur, EUR_PLACES)


@dataclass(frozen=True)
class Liability:
    """Obligation of all goods groups of a declaration."""

    groups: tuple[GroupLiability, ...]
    embedded_tco2e: Decimal
    certificates: Decimal
    cost_eur: Decimal
    trace: tuple[TraceStep, ...]

    @property
    def cost_eur_presented(self) -> Decimal:
        """Total cost rounded half-up to cents (the sum is rounded, not the rounded parts)."""
        return quantise(self.cost_eur, EUR_PLACES)


# --------------------------------------------------------------------------------------------
# Obligation
# --------------------------------------------------------------------------------------------

_RULE_SEE_ANNEX_II = "Reg (EU) 2023/956 Art 7(1), Annex II (as amended by Reg (EU) 2025/2083 Art 1(29))"
_RULE_DEFAULTS = "Reg (EU) 2023/956 Art 7(2), Annex IV pt 4.1; [IR2621] Annex I (mark-up)"
_RULE_EMBEDDED = "Reg (EU) 2023/956 Art 6(2)(c), Art 7"
_RULE_SEFA_ACTUAL = "[IR2620] Annex Eq. 2–3 (Column A benchmark)"
_RULE_SEFA_DEFAULT = "[IR2620] Annex Eq. 6 (Column B benchmark)"
_RULE_FAA = "Reg (EU) 2023/956 Art 31; [IR2620] Annex Eq. 1"
_RULE_FAA_ELECTRICITY = (
    "Reg (EU) 2023/956 Art 31; Commission CBAM Q&A 3.8 (no free allocation for electricity)"
)
_RULE_CARBON_PRICE = "Reg (EU) 2023/956 Art 9(1) (as amended by Reg (EU) 2025/2083 Art 1(8))"
_RULE_CERTIFICATES = "Reg (EU) 2023/956 Art 6(2)(c), 22(1); Commission CBAM Q&A 4.32 (floor per good)"
_RULE_COST = "Reg (EU) 2023/956 Art 21 (as amended by Reg (EU) 2025/2083 Art 1(17))"


def group_obligation(group: GoodsGroup, *, trace: bool = True) -> GroupLiability:
    """Certificates to surrender and their cost for one goods group (without ``trace``, the same
    numbers without the steps that explain them: for a recalculation that stores none).

    ``certificates = max(0, M × SEE − FAA − CP)`` with ``FAA = SEFA × M`` and
    ``SEFA = CBAM factor × CSCF × benchmark`` ([R956] Art 6(2)(c), 7, 9, 31; [IR2620] Annex
    Eq. 1–6; Q&A 4.32). SEE counts direct emissions only for Annex II goods, direct + indirect
    otherwise ([R956] Art 7(1), Annex II). Actual data use the Column A benchmark, default values
    the Column B benchmark and the year's mark-up ([IR2621] Annex I). Electricity has no free
    allocation (FAA = 0). A carbon price paid abroad reduces the obligation only with actual
    data ([R956] Art 9(1)); claiming it with default values raises :class:`LiabilityInputError`.
    """
    with localcontext(CALC_CONTEXT):
        return _group_obligation(group, [] if trace else None)


def _group_obligation(group: GoodsGroup, trace: list[TraceStep] | None) -> GroupLiability:
    what = f"goods group “{group.label}”"
    source = group.source
    is_electricity = group.sector == ELECTRICITY
    claimed = group.carbon_price_deduction_tco2e > 0 or group.carbon_price_paid_eur > 0

    if isinstance(source, ActualSource):
        method = "actual"
        benchmark = source.benchmark_column_a
        benchmark_name = "Column A benchmark BM*"
        sefa_rule = _RULE_SEFA_ACTUAL
        if source.see_for_obligation is not None:
            see_used = source.see_for_obligation
            see_text = "SEE already computed under the Annex II and precursor cross-over rules"
        elif group.annex_ii:
            see_used = source.see_direct
            see_text = "Annex II good: only the direct SEE counts"
        else:
            see_used = source.see_direct + source.see_indirect
            see_text = "not an Annex II good: direct + indirect SEE count"
        if trace is not None:
            trace.append(
                TraceStep(
                    rule=_RULE_SEE_ANNEX_II,
                    description=f"SEE used for {group.label} (actual values): {see_text}.",
                    inputs={
                        "SEE direct": source.see_direct,
                        "SEE indirect": source.see_indirect,
                        "Annex II": "yes" if group.annex_ii else "no",
                    },
                    result=see_used,
                )
            )
    else:
        method = "default"
        if claimed:
            raise LiabilityInputError(
                f"{what}: a carbon price paid abroad can only be deducted when embedded emissions are "
                "based on actual data, not on default values (Reg 2023/956 Art 9(1) as amended)."
            )
        benchmark = source.benchmark_column_b
        benchmark_name = "Column B benchmark BM"
        sefa_rule = _RULE_SEFA_DEFAULT
        see_used = _default_see(group, source, trace)

    embedded = group.net_mass * see_used
    if trace is not None:
        trace.append(
            TraceStep(
                rule=_RULE_EMBEDDED,
                description=f"Embedded emissions of {group.label}: net mass × SEE used.",
                inputs={"CN code": group.cn_code, "net mass": group.net_mass, "SEE used": see_used},
                result=embedded,
            )
        )

    if is_electricity:
        sefa = ZERO
        faa = ZERO
        if trace is not None:
            trace.append(
                TraceStep(
                    rule=_RULE_FAA_ELECTRICITY,
                    description="Electricity: no free allocation adjustment.",
                    inputs={},
                    result=ZERO,
                )
            )
    else:
        if benchmark is None:
            raise LiabilityInputError(
                f"{what}: the {benchmark_name} is required to compute the free allocation adjustment."
            )
        sefa = group.cbam_factor * group.cscf * benchmark
        if trace is not None:
            trace.append(
                TraceStep(
                    rule=sefa_rule,
                    description=f"Specific embedded free allocation of {group.label}: CBAM factor × CSCF × {benchmark_name}.",
                    inputs={
                        "CBAM factor": group.cbam_factor,
                        "CSCF": group.cscf,
                        benchmark_name: benchmark,
                        "year": str(group.year),
                    },
                    result=sefa,
                )
            )
        faa = sefa * group.net_mass
        if trace is not None:
            trace.append(
                TraceStep(
                    rule=_RULE_FAA,
                    description=f"Free allocation adjustment of {group.label}: SEFA × net mass.",
                    inputs={"SEFA": sefa, "net mass": group.net_mass},
                    result=faa,
                )
            )

    deduction = group.carbon_price_deduction_tco2e
    if group.carbon_price_paid_eur > 0:
        if group.certificate_price_eur <= 0:
            raise LiabilityInputError(
                f"{what}: a certificate price is needed to convert the carbon price paid into certificates."
            )
        deduction += group.carbon_price_paid_eur / group.certificate_price_eur
    if claimed and trace is not None:
        trace.append(
            TraceStep(
                rule=_RULE_CARBON_PRICE,
                description=(
                    f"Carbon price effectively paid abroad for {group.label}, as certificates "
                    "(an amount in euro divided by the certificate price; conversion rules of Art 9(5) pending)."
                ),
                inputs={
                    "deduction claimed (tCO2e)": group.carbon_price_deduction_tco2e,
                    "carbon price paid (EUR)": group.carbon_price_paid_eur,
                    "certificate price (EUR)": group.certificate_price_eur,
                },
                result=deduction,
            )
        )

    net = embedded - faa - deduction
    certificates = max(net, ZERO)
    if trace is not None:
        trace.append(
            TraceStep(
                rule=_RULE_CERTIFICATES,
                description=(
                    f"Certificates for {group.label}: embedded emissions − FAA − carbon price deduction, "
                    "floored at zero for this good (no offset against other goods)."
                ),
                inputs={"embedded (tCO2e)": embedded, "FAA (tCO2e)": faa, "deduction (tCO2e)": deduction},
                result=certificates,
            )
        )
    cost = certificates * group.certificate_price_eur
    if trace is not None:
        trace.append(
            TraceStep(
                rule=_RULE_COST,
                description=f"Cost of the certificates for {group.label}: certificates × certificate price.",
                inputs={
                    "certificates": certificates,
                    "price (EUR)": group.certificate_price_eur,
                    "period": f"{group.year} Q{group.quarter}" if group.quarter else str(group.year),
                },
                result=cost,
            )
        )
    return GroupLiability(
        label=group.label,
        method=method,
        net_mass=group.net_mass,
        see_used=see_used,
        embedded_tco2e=embedded,
        sefa=sefa,
        faa_tco2e=faa,
        carbon_price_deduction_tco2e=deduction,
        net_tco2e=net,
        certificates=certificates,
        cost_eur=cost,
        trace=tuple(trace) if trace is not None else (),
    )


def _default_see(group: GoodsGroup, source: DefaultSource, trace: list[TraceStep] | None) -> Decimal:
    if source.marked_up_value is not None:
        if trace is not None:
            trace.append(
                TraceStep(
                    rule=_RULE_DEFAULTS,
                    description=f"SEE used for {group.label}: published default value for {group.year} including mark-up.",
                    inputs={"default incl. mark-up": source.marked_up_value, "year": str(group.year)},
                    result=source.marked_up_value,
                )
            )
        return source.marked_up_value
    if group.annex_ii:
        base = source.direct if source.direct is not None else source.total
        base_text = "Annex II good: direct default value"
    elif source.total is not None:
        base = source.total
        base_text = "total (direct + indirect) default value"
    else:
        base = (source.direct or ZERO) + (source.indirect or ZERO)
        base_text = "direct + indirect default values"
    assert base is not None
    rate = markup_rate(group.sector, group.year)
    see_used = base * (1 + rate)
    if trace is not None:
        trace.append(
            TraceStep(
                rule=_RULE_DEFAULTS,
                description=f"SEE used for {group.label}: {base_text} plus the mark-up for {group.year}.",
                inputs={"default value": base, "mark-up": rate, "sector": group.sector},
                result=see_used,
            )
        )
    return see_used


def certificate_obligation(groups: Iterable[GoodsGroup]) -> Liability:
    """Certificates and cost for all goods groups of a declaration ([R956] Art 6(2)(c), 22(1)).

    Each group is floored at zero on its own; a negative balance of one good never reduces the
    obligation for another (Q&A 4.32).
    """
    results = tuple(group_obligation(g) for g in groups)
    with localcontext(CALC_CONTEXT):
        embedded = sum((r.embedded_tco2e for r in results), ZERO)
        certificates = sum((r.certificates for r in results), ZERO)
        cost = sum((r.cost_eur for r in results), ZERO)
    trace = (
        TraceStep(
            rule=_RULE_CERTIFICATES,
            description="Total certificates: sum of each group's certificates (each already floored at zero).",
            inputs={f"{i}. {r.label}": r.certificates for i, r in enumerate(results, 1)},
            result=certificates,
        ),
        TraceStep(
            rule=_RULE_COST,
            description="Total cost: sum of each group's cost.",
            inputs={f"{i}. {r.label}": r.cost_eur for i, r in enumerate(results, 1)},
            result=cost,
        ),
    )
    return Liability(
        groups=results, embedded_tco2e=embedded, certificates=certificates, cost_eur=cost, trace=trace
    )


# --------------------------------------------------------------------------------------------
# De minimis threshold
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedMass:
    """Net mass (tonnes) of CBAM goods of one CN code imported by one importer in the year."""

    sector: str
    net_mass_t: Decimal
    cn_code: str = ""

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            f"import {self.cn_code or self.sector}",
            non_negative=("net_mass_t",),
            error=LiabilityInputError,
        )

    @property
    def outside_threshold(self) -> bool:
        """Electricity and hydrogen are never covered by the 50 t exemption ([OMN] Art 2a(4))."""
        code = self.cn_code.replace(" ", "")
        return self.sector in (ELECTRICITY, HYDROGEN) or code.startswith(("2716", "280410"))


@dataclass(frozen=True)
class ThresholdStatus:
    """De minimis position of one importer for one calendar year."""

    cumulative_mass_t: Decimal
    threshold_t: Decimal
    exempt: bool  # goods other than electricity and hydrogen are exempt
    near_threshold: bool  # at or above the warning share of the threshold
    has_electricity_or_hydrogen: bool  # those imports are never exempt
    trace: tuple[TraceStep, ...]


def de_minimis_status(
    imports: Iterable[ImportedMass],
    *,
    threshold_t: Decimal = DE_MINIMIS_THRESHOLD_T,
    warning_share: Decimal = DE_MINIMIS_WARNING_SHARE,
) -> ThresholdStatus:
    """Whether an importer's CBAM goods of one calendar year fall under the 50 t exemption.

    Exempt when the cumulative net mass of all CBAM goods other than electricity and hydrogen
    does not exceed the threshold ([OMN] Art 1(2) → [R956] Art 2a(1)); once exceeded, all goods
    of the year are liable (Art 2a(2)); electricity and hydrogen are never exempt (Art 2a(4)).
    ``near_threshold`` flags ≥ 90 % of the threshold, the Commission's monitoring trigger
    (Art 25a(1)).
    """
    items = list(imports)
    threshold = normalise_value(threshold_t, "threshold_t")
    share = normalise_value(warning_share, "warning_share")
    with localcontext(CALC_CONTEXT):
        counted = [i for i in items if not i.outside_threshold]
        cumulative = sum((i.net_mass_t for i in counted), ZERO)
        warning_at = threshold * share
    exempt = cumulative <= threshold
    near = cumulative >= warning_at
    has_special = any(i.outside_threshold for i in items)
    trace = (
        TraceStep(
            rule="Reg (EU) 2023/956 Art 2a(1), (4) (inserted by Reg (EU) 2025/2083 Art 1(2))",
            description=(
                "Cumulative net mass of CBAM goods imported in the year, excluding electricity and hydrogen; "
                + (
                    "within the threshold: exempt."
                    if exempt
                    else "above the threshold: all goods of the year are liable."
                )
            ),
            inputs={"threshold (t)": threshold, "imports counted": str(len(counted))},
            result=cumulative,
        ),
        TraceStep(
            rule="Reg (EU) 2023/956 Art 25a(1) (inserted by Reg (EU) 2025/2083 Art 1(22))",
            description="Monitoring trigger: share of the threshold at which the importer is flagged.",
            inputs={"warning share": share, "threshold (t)": threshold},
            result=warning_at,
        ),
    )
    return ThresholdStatus(
        cumulative_mass_t=cumulative,
        threshold_t=threshold,
        exempt=exempt,
        near_threshold=near,
        has_electricity_or_hydrogen=has_special,
        trace=trace,
    )


# --------------------------------------------------------------------------------------------
# Quarterly holding (from 2027)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldingLine:
    """Goods imported since 1 January of the year, valued for the quarterly holding check.

    ``default_value`` is the default value **without** mark-up (direct only for Annex II goods);
    the FAA per unit is ``cbam_factor × cscf × benchmark_column_b`` (zero for electricity).
    """

    label: str
    sector: str
    net_mass: Decimal
    default_value: Decimal
    cbam_factor: Decimal
    cscf: Decimal
    benchmark_column_b: Decimal = ZERO

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            f"holding line “{self.label}”",
            non_negative=("net_mass", "default_value", "cbam_factor", "cscf", "benchmark_column_b"),
            error=LiabilityInputError,
        )


@dataclass(frozen=True)
class HoldingRequirement:
    """Certificates to hold at the end of a quarter, unrounded, with the basis in tCO2e."""

    basis_tco2e: Decimal
    share: Decimal
    required_certificates: Decimal
    trace: tuple[TraceStep, ...]


def quarterly_holding(lines: Iterable[HoldingLine], *, share: Decimal = HOLDING_SHARE) -> HoldingRequirement:
    """Certificates to hold at the end of each quarter from 2027 ([OMN] Art 1(18)(b) → [R956] Art 22(2)).

    ``required = share × Σ max(0, M × (default value without mark-up − FAA per unit))`` with
    ``share`` = 50 %; FAA per unit = CBAM factor × CSCF × Column B benchmark ([IR2620] Eq. 6).
    The alternative basis of Art 22(2) (certificates surrendered for the previous year) is left
    to the caller.
    """
    share_value = normalise_value(share, "share")
    trace: list[TraceStep] = []
    with localcontext(CALC_CONTEXT):
        basis = ZERO
        for line in lines:
            faa_per_unit = (
                ZERO if line.sector == ELECTRICITY else line.cbam_factor * line.cscf * line.benchmark_column_b
            )
            amount = max(line.net_mass * (line.default_value - faa_per_unit), ZERO)
            basis += amount
            trace.append(
                TraceStep(
                    rule="Reg (EU) 2023/956 Art 22(2) (as amended by Reg (EU) 2025/2083 Art 1(18)(b)); [IR2620] Eq. 6",
                    description=(
                        f"Holding basis for {line.label}: net mass × (default value without mark-up − "
                        "CBAM factor × CSCF × Column B benchmark), not below zero."
                    ),
                    inputs={
                        "net mass": line.net_mass,
                        "default value": line.default_value,
                        "CBAM factor": line.cbam_factor,
                        "CSCF": line.cscf,
                        "Column B benchmark": line.benchmark_column_b,
                    },
                    result=amount,
                )
            )
        required = basis * share_value
    trace.append(
        TraceStep(
            rule="Reg (EU) 2023/956 Art 22(2) (as amended by Reg (EU) 2025/2083 Art 1(18)(b))",
            description="Certificates to hold at quarter end: holding share × basis.",
            inputs={"basis (tCO2e)": basis, "share": share_value},
            result=required,
        )
    )
    return HoldingRequirement(
        basis_tco2e=basis, share=share_value, required_certificates=required, trace=tuple(trace)
    )


# --------------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------------

#: Month and day by which the declaration of a year of import is filed and its certificates
#: surrendered, in the following year ([OMN] Art 1(5), (18) → [R956] Art 6(1), 22(1); was 31 May).
DECLARATION_DUE_MONTH_DAY = (9, 30)


def declaration_due_on(year: int) -> dt.date:
    """The day by which the declaration of imports of ``year`` is filed and its certificates
    surrendered: 30 September of the following year (the first, for 2026, on 30 September 2027)."""
    _check_year(year, "Declaration deadline")
    month, day = DECLARATION_DUE_MONTH_DAY
    return dt.date(year + 1, month, day)


def declaration_year_due(today: dt.date) -> int:
    """The year of import whose declaration is due next on ``today``: the previous year up to and
    including its deadline day, the current year after it; never before the definitive period."""
    month, day = DECLARATION_DUE_MONTH_DAY
    year = today.year - 1 if (today.month, today.day) <= (month, day) else today.year
    return max(year, FIRST_YEAR)
