"""Specific embedded emissions (SEE) of an installation's goods — pure Python, ``Decimal`` only.

Implements the attribution of emissions to production processes and the specific embedded
emissions of simple and complex goods: Regulation (EU) 2023/956 Annex IV points 2–3 (as replaced
by Regulation (EU) 2025/2083 Annex I) and Implementing Regulation (EU) 2025/2547 ([IR2547])
Annex III section A.3 (Eq. 55–58) and section B (Eq. 59–63).

Public API
----------
- Inputs (frozen dataclasses): :class:`ProcessInput`, :class:`EmissionsFlow`,
  :class:`WasteGasFlow`, :class:`PurchasedPrecursor`, :class:`InternalPrecursor`.
- :func:`calculate_installation` — SEE direct / indirect / total of every process of one
  installation, recursive over internal precursors; returns an :class:`InstallationResult`
  whose :class:`ProcessResult` items carry a trace of :class:`TraceStep`.
- :func:`obligation_see` — the part of the SEE that counts for the certificate obligation in the
  definitive period (Annex II direct-only rule and the precursor cross-over rule).
- :func:`precursor_shares` — the specific mass of every precursor in a good (``m_i``), which the
  declarant needs for the free allocation adjustment of complex goods ([IR2620] Annex 4, Eq. 4–5).
- :func:`quantise` — the one presentation helper (SEE to 5 decimals, money to cents).
- Errors: :class:`SeeInputError` (bad input, names the process/field) and its subclass
  :class:`ProcessCycleError` (internal precursors form a cycle).

Everything is computed at full precision (a private 34-digit ``Decimal`` context, independent of
the caller's); values are quantised only for presentation, through :func:`quantise`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

__all__ = [
    "EUR_PLACES",
    "SEE_PLACES",
    "EmissionsFlow",
    "InstallationResult",
    "InternalPrecursor",
    "ObligationSee",
    "PrecursorContribution",
    "PrecursorShare",
    "ProcessCycleError",
    "ProcessInput",
    "ProcessResult",
    "PurchasedPrecursor",
    "SeeInputError",
    "TraceStep",
    "WasteGasFlow",
    "calculate_installation",
    "normalise_decimal_fields",
    "obligation_see",
    "precursor_shares",
    "quantise",
    "to_decimal",
]

#: SEE is reported "with all significant digits, max 5 decimals" ([IR2547] Annex II A.1(8)).
SEE_PLACES = 5
#: Amounts of money are presented in euro cents.
EUR_PLACES = 2

ZERO = Decimal(0)

#: Default emission factor of natural gas (tCO2/TJ) and efficiency correction factor used for
#: waste-gas corrections ([IR2547] Annex III A.3, Eq. 57–58; the values of the Commission
#: communication template).
EF_NATURAL_GAS_TCO2_PER_TJ = Decimal("56.1")
CORR_ETA_WASTE_GAS = Decimal("0.667")

#: The arithmetic context of both engines: generous precision, traps on every invalid operation.
CALC_CONTEXT = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class SeeInputError(ValueError):
    """Input that cannot be calculated; the message names the process and the field."""


class ProcessCycleError(SeeInputError):
    """Internal precursors refer to each other in a cycle; ``cycle`` lists the process ids."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(
            "Production processes use each other's goods as precursors in a cycle: "
            + " -> ".join(cycle)
            + ". A precursor produced within the same process must not be added "
            "([IR2547] Annex III B); merge these processes or remove one link."
        )


def to_decimal(value: object, name: str, error: type[ValueError] = SeeInputError) -> Decimal:
    """Return ``value`` as a finite ``Decimal``; ``name`` is used in the ``error`` message.

    Accepts ``Decimal``, ``int`` and numeric strings; refuses ``float`` (binary rounding must
    never enter a legal calculation) and ``bool``.
    """
    if isinstance(value, bool | float):
        raise error(f"{name}: give a Decimal or a string, not {type(value).__name__} ({value!r}).")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise error(f"{name}: “{value}” is not a number.") from None
    else:
        raise error(f"{name}: expected a number, got {type(value).__name__}.")
    if not result.is_finite():
        raise error(f"{name}: must be a finite number, not {result}.")
    return result


def normalise_decimal_fields(
    instance: object,
    label: str,
    *,
    non_negative: Iterable[str] = (),
    error: type[ValueError] = SeeInputError,
) -> None:
    """Convert every ``Decimal``-annotated field of a frozen dataclass in place and check signs.

    Called from ``__post_init__`` so that inputs built from strings or ints hold ``Decimal``.
    """
    must_be_positive = set(non_negative)
    for name in _decimal_fields(type(instance)):
        raw = getattr(instance, name)
        if raw is None:
            continue
        value = (
            raw if type(raw) is Decimal and raw.is_finite() else to_decimal(raw, f"{label}: {name}", error)
        )
        if name in must_be_positive and value < 0:
            raise error(f"{label}: {name} must not be negative (got {value}).")
        if value is not raw:
            object.__setattr__(instance, name, value)


@functools.cache
def _decimal_fields(cls: type) -> tuple[str, ...]:
    """The ``Decimal``-annotated fields of a dataclass (worked out once per class)."""
    return tuple(f.name for f in fields(cls) if "Decimal" in str(f.type))


def quantise(value: Decimal, places: int = SEE_PLACES) -> Decimal:
    """Round ``value`` half-up to ``places`` decimals, for presentation only.

    SEE: 5 decimals ([IR2547] Annex II A.1(8)); money: 2 decimals (``EUR_PLACES``). Keep the
    unrounded value for any further arithmetic.
    """
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TraceStep:
    """One step of a calculation: the rule applied, in words, with the numbers used."""

    rule: str
    description: str
    inputs: dict[str, Decimal | str]
    result: Decimal


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmissionsFlow:
    """Emissions carried by imported/exported measurable heat or produced electricity.

    Give either ``amount`` (TJ of heat or MWh of electricity) with ``factor_tco2e_per_unit``
    (tCO2/TJ or tCO2/MWh), or ``emissions_tco2e`` already calculated.
    """

    amount: Decimal | None = None
    factor_tco2e_per_unit: Decimal | None = None
    emissions_tco2e: Decimal | None = None

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self, "flow", non_negative=("amount", "factor_tco2e_per_unit", "emissions_tco2e")
        )
        given = (
            self.amount is not None,
            self.factor_tco2e_per_unit is not None,
            self.emissions_tco2e is not None,
        )
        if given not in ((True, True, False), (False, False, True)):
            raise SeeInputError(
                "flow: give either an amount with its emission factor, or the emissions in tCO2e."
            )

    def tco2e(self) -> Decimal:
        """Emissions of the flow: amount × emission factor ([IR2547] Annex III A.3, Eq. 56)."""
        if self.emissions_tco2e is not None:
            return self.emissions_tco2e
        assert self.amount is not None and self.factor_tco2e_per_unit is not None
        return self.amount * self.factor_tco2e_per_unit


@dataclass(frozen=True)
class WasteGasFlow:
    """A waste-gas import or export correction ([IR2547] Annex III A.3, Eq. 57–58).

    WG_corr = energy content (TJ) × EF_NG × Corr_η, with the natural-gas emission factor 56.1 tCO2/TJ
    and Corr_η = 0.667 unless the monitoring plan justifies other values; or the correction given
    directly in tCO2e.
    """

    energy_tj: Decimal | None = None
    ef_natural_gas_tco2_per_tj: Decimal = EF_NATURAL_GAS_TCO2_PER_TJ
    corr_eta: Decimal = CORR_ETA_WASTE_GAS
    emissions_tco2e: Decimal | None = None

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            "waste gas",
            non_negative=("energy_tj", "ef_natural_gas_tco2_per_tj", "corr_eta", "emissions_tco2e"),
        )
        if (self.energy_tj is None) == (self.emissions_tco2e is None):
            raise SeeInputError("waste gas: give either the energy content in TJ or the correction in tCO2e.")

    def tco2e(self) -> Decimal:
        """The correction in tCO2e ([IR2547] Annex III A.3, Eq. 57–58)."""
        if self.emissions_tco2e is not None:
            return self.emissions_tco2e
        assert self.energy_tj is not None
        return self.energy_tj * self.ef_natural_gas_tco2_per_tj * self.corr_eta


@dataclass(frozen=True)
class PurchasedPrecursor:
    """A precursor bought in (from another installation), entering one production process.

    ``quantity`` is the total mass entering the process, including cut-offs and scrap
    ([IR2547] Annex III B), in the precursor's functional unit. ``see_direct``/``see_indirect``
    are the precursor's actual or default SEE; ``electricity_mwh_per_unit`` its specific
    electricity consumption (for embedded electricity). ``is_annex_ii`` marks an Annex II good
    (only direct emissions count, [R956] Annex II) for :func:`obligation_see`.
    """

    name: str
    quantity: Decimal
    see_direct: Decimal
    see_indirect: Decimal = ZERO
    is_default: bool = False
    is_annex_ii: bool = False
    electricity_mwh_per_unit: Decimal = ZERO
    cn_code: str = ""

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            f"precursor “{self.name}”",
            non_negative=("quantity", "see_direct", "see_indirect", "electricity_mwh_per_unit"),
        )


@dataclass(frozen=True)
class InternalPrecursor:
    """Goods of another production process of the same installation used as a precursor."""

    process_id: str
    quantity: Decimal

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self, f"internal precursor from “{self.process_id}”", non_negative=("quantity",)
        )


@dataclass(frozen=True)
class ProcessInput:
    """Monitored data of one production process for the reporting period.

    Amounts in tCO2e, electricity in MWh, activity level in the functional unit of the goods
    ([IR2547] Art 4). ``direct_emissions_tco2e`` is DirEm* (directly attributable emissions);
    ``annex_ii`` says whether the process's goods are Annex II goods (direct emissions only).
    """

    process_id: str
    activity_level: Decimal
    direct_emissions_tco2e: Decimal
    heat_imported: EmissionsFlow | None = None
    heat_exported: EmissionsFlow | None = None
    waste_gas_imported: WasteGasFlow | None = None
    waste_gas_exported: WasteGasFlow | None = None
    electricity_produced: EmissionsFlow | None = None
    electricity_consumed_mwh: Decimal = ZERO
    electricity_ef_tco2e_per_mwh: Decimal = ZERO
    purchased_precursors: tuple[PurchasedPrecursor, ...] = ()
    internal_precursors: tuple[InternalPrecursor, ...] = ()
    annex_ii: bool = False

    def __post_init__(self) -> None:
        normalise_decimal_fields(
            self,
            f"process “{self.process_id}”",
            non_negative=("electricity_consumed_mwh", "electricity_ef_tco2e_per_mwh"),
        )
        object.__setattr__(self, "purchased_precursors", tuple(self.purchased_precursors))
        object.__setattr__(self, "internal_precursors", tuple(self.internal_precursors))
        if self.activity_level <= 0:
            raise SeeInputError(
                f"process “{self.process_id}”: activity level must be greater than zero "
                f"(got {self.activity_level}); SEE is emissions divided by the activity level "
                "([IR2547] Annex III A.3, Eq. 58)."
            )


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrecursorContribution:
    """What one precursor adds to the embedded emissions of a process (M_i × SEE_i)."""

    name: str
    source: str  # "purchased" or "internal"
    quantity: Decimal
    see_direct: Decimal
    see_indirect: Decimal
    is_default: bool
    is_annex_ii: bool
    process_id: str | None = None  # for internal precursors

    @property
    def embedded_direct_tco2e(self) -> Decimal:
        return self.quantity * self.see_direct

    @property
    def embedded_indirect_tco2e(self) -> Decimal:
        return self.quantity * self.see_indirect


@dataclass(frozen=True)
class ProcessResult:
    """SEE of the goods of one production process, at full precision, with its trace.

    ``default_share`` is the share of the embedded (direct) emissions that rests on default
    values of precursors, as the Commission communication template computes it.
    """

    process_id: str
    annex_ii: bool
    activity_level: Decimal
    attributed_direct_tco2e: Decimal
    attributed_indirect_tco2e: Decimal
    embedded_direct_tco2e: Decimal
    embedded_indirect_tco2e: Decimal
    default_direct_tco2e: Decimal
    embedded_electricity_mwh: Decimal
    see_direct: Decimal
    see_indirect: Decimal
    see_total: Decimal
    default_share: Decimal
    embedded_electricity_mwh_per_unit: Decimal
    precursors: tuple[PrecursorContribution, ...]
    trace: tuple[TraceStep, ...]

    def presented(self) -> dict[str, Decimal]:
        """The reportable figures rounded to 5 decimals ([IR2547] Annex II A.1(8))."""
        return {
            "see_direct": quantise(self.see_direct),
            "see_indirect": quantise(self.see_indirect),
            "see_total": quantise(self.see_total),
            "default_share": quantise(self.default_share),
            "embedded_electricity_mwh_per_unit": quantise(self.embedded_electricity_mwh_per_unit),
        }


@dataclass(frozen=True)
class InstallationResult:
    """Results of every process of an installation, keyed by process id (input order kept)."""

    processes: Mapping[str, ProcessResult]

    def __getitem__(self, process_id: str) -> ProcessResult:
        try:
            return self.processes[process_id]
        except KeyError:
            raise SeeInputError(f"No production process “{process_id}” in this installation.") from None

    def __iter__(self) -> Iterator[ProcessResult]:
        return iter(self.processes.values())

    def __len__(self) -> int:
        return len(self.processes)


@dataclass(frozen=True)
class ObligationSee:
    """The SEE that counts for the certificate obligation of a process's goods, with its trace."""

    process_id: str
    annex_ii: bool
    see: Decimal
    trace: tuple[TraceStep, ...]


# --------------------------------------------------------------------------------------------
# Calculation
# --------------------------------------------------------------------------------------------

_RULE_ATTR_DIR = "[IR2547] Annex III A.3 Eq. 55–57"
_RULE_ATTR_INDIR = "[IR2547] Annex III A.3 Eq. 56; Annex II D.4"
_RULE_COMPLEX = "Reg (EU) 2023/956 Annex IV pt 3; [IR2547] Annex III B Eq. 59–63"
_RULE_SIMPLE = "Reg (EU) 2023/956 Annex IV pt 2; [IR2547] Annex III A.3 Eq. 58"
_RULE_DEFAULT_SHARE = "[IR2547] Annex IV 1.2 (share of emissions based on default values)"
_RULE_ELECTRICITY = "[IR2547] Annex IV 1.2 (embedded electricity)"


def calculate_installation(processes: Iterable[ProcessInput]) -> InstallationResult:
    """SEE (direct, indirect, total) of the goods of every production process of an installation.

    Per process ([IR2547] Annex III A.3, Eq. 55–58):
    ``AttrEm_Dir = DirEm* + Em_H,imp − Em_H,exp + WG_corr,imp − WG_corr,exp − Em_el,prod``
    (set to 0 if negative) and ``AttrEm_Indir = E_el,cons × EF_el``.
    Complex goods ([R956] Annex IV pt 3; [IR2547] Annex III B, Eq. 59–63):
    ``SEE = (AttrEm + Σ M_i × SEE_i) / AL``, separately for the direct and indirect parts;
    precursors made by another process of the installation take that process's SEE, computed
    first (recursively). Raises :class:`ProcessCycleError` when internal precursors form a
    cycle and :class:`SeeInputError` for unknown or duplicate process ids.
    """
    by_id: dict[str, ProcessInput] = {}
    for process in processes:
        if process.process_id in by_id:
            raise SeeInputError(f"Production process “{process.process_id}” is given twice.")
        by_id[process.process_id] = process
    for process in by_id.values():
        for link in process.internal_precursors:
            if link.process_id not in by_id:
                raise SeeInputError(
                    f"process “{process.process_id}”: internal precursor refers to unknown "
                    f"process “{link.process_id}”."
                )

    results: dict[str, ProcessResult] = {}
    with localcontext(CALC_CONTEXT):
        for process_id in by_id:
            _evaluate(process_id, by_id, results, [])
    return InstallationResult(processes={pid: results[pid] for pid in by_id})


def _evaluate(
    process_id: str,
    by_id: Mapping[str, ProcessInput],
    results: dict[str, ProcessResult],
    path: list[str],
) -> ProcessResult:
    if process_id in results:
        return results[process_id]
    if process_id in path:
        raise ProcessCycleError(path[path.index(process_id) :] + [process_id])
    path.append(process_id)
    process = by_id[process_id]
    upstream = {
        link.process_id: _evaluate(link.process_id, by_id, results, path)
        for link in process.internal_precursors
    }
    path.pop()
    result = _process_see(process, upstream)
    results[process_id] = result
    return result


def _flow(flow: EmissionsFlow | WasteGasFlow | None) -> Decimal:
    return flow.tco2e() if flow is not None else ZERO


def _process_see(process: ProcessInput, upstream: Mapping[str, ProcessResult]) -> ProcessResult:
    trace: list[TraceStep] = []
    label = process.process_id

    heat_imp = _flow(process.heat_imported)
    heat_exp = _flow(process.heat_exported)
    wg_imp = _flow(process.waste_gas_imported)
    wg_exp = _flow(process.waste_gas_exported)
    el_prod = _flow(process.electricity_produced)
    raw_direct = process.direct_emissions_tco2e + heat_imp - heat_exp + wg_imp - wg_exp - el_prod
    attr_direct = max(raw_direct, ZERO)
    trace.append(
        TraceStep(
            rule=_RULE_ATTR_DIR,
            description=(
                f"Attributed direct emissions of {label}: DirEm* plus imported heat minus exported heat, "
                "plus imported minus exported waste-gas corrections, minus emissions of electricity "
                "produced; set to zero if negative."
            ),
            inputs={
                "DirEm*": process.direct_emissions_tco2e,
                "Em_H,imp": heat_imp,
                "Em_H,exp": heat_exp,
                "WG_corr,imp": wg_imp,
                "WG_corr,exp": wg_exp,
                "Em_el,prod": el_prod,
            },
            result=attr_direct,
        )
    )

    attr_indirect = process.electricity_consumed_mwh * process.electricity_ef_tco2e_per_mwh
    trace.append(
        TraceStep(
            rule=_RULE_ATTR_INDIR,
            description=f"Attributed indirect emissions of {label}: electricity consumed × emission factor.",
            inputs={
                "E_el,cons (MWh)": process.electricity_consumed_mwh,
                "EF_el (tCO2e/MWh)": process.electricity_ef_tco2e_per_mwh,
            },
            result=attr_indirect,
        )
    )

    contributions: list[PrecursorContribution] = []
    default_direct = ZERO
    electricity = process.electricity_consumed_mwh
    for p in process.purchased_precursors:
        contributions.append(
            PrecursorContribution(
                name=p.name,
                source="purchased",
                quantity=p.quantity,
                see_direct=p.see_direct,
                see_indirect=p.see_indirect,
                is_default=p.is_default,
                is_annex_ii=p.is_annex_ii,
            )
        )
        if p.is_default:
            default_direct += p.quantity * p.see_direct
        electricity += p.quantity * p.electricity_mwh_per_unit
    for link in process.internal_precursors:
        source = upstream[link.process_id]
        contributions.append(
            PrecursorContribution(
                name=f"goods of process {link.process_id}",
                source="internal",
                quantity=link.quantity,
                see_direct=source.see_direct,
                see_indirect=source.see_indirect,
                is_default=False,
                is_annex_ii=source.annex_ii,
                process_id=link.process_id,
            )
        )
        default_direct += link.quantity * source.default_direct_tco2e / source.activity_level
        electricity += link.quantity * source.embedded_electricity_mwh_per_unit

    for c in contributions:
        trace.append(
            TraceStep(
                rule=_RULE_COMPLEX,
                description=(
                    f"Embedded emissions of precursor {c.name} used in {label}: "
                    "mass entering the process × its SEE (direct, indirect)."
                    + (" Default values." if c.is_default else "")
                ),
                inputs={
                    "M_i": c.quantity,
                    "SEE_i,dir": c.see_direct,
                    "SEE_i,indir": c.see_indirect,
                    "M_i × SEE_i,indir": c.embedded_indirect_tco2e,
                },
                result=c.embedded_direct_tco2e,
            )
        )

    embedded_direct = attr_direct + sum((c.embedded_direct_tco2e for c in contributions), ZERO)
    embedded_indirect = attr_indirect + sum((c.embedded_indirect_tco2e for c in contributions), ZERO)
    al = process.activity_level
    rule = _RULE_COMPLEX if contributions else _RULE_SIMPLE
    see_direct = embedded_direct / al
    see_indirect = embedded_indirect / al
    see_total = see_direct + see_indirect
    trace.append(
        TraceStep(
            rule=rule,
            description=f"SEE direct of {label}: (attributed direct + precursors' direct) ÷ activity level.",
            inputs={"AttrEm_Dir + Σ M_i × SEE_i,dir": embedded_direct, "AL": al},
            result=see_direct,
        )
    )
    trace.append(
        TraceStep(
            rule=rule,
            description=f"SEE indirect of {label}: (attributed indirect + precursors' indirect) ÷ activity level.",
            inputs={"AttrEm_Indir + Σ M_i × SEE_i,indir": embedded_indirect, "AL": al},
            result=see_indirect,
        )
    )
    trace.append(
        TraceStep(
            rule=rule,
            description=f"SEE total of {label}: direct + indirect.",
            inputs={"SEE_dir": see_direct, "SEE_indir": see_indirect},
            result=see_total,
        )
    )

    default_share = default_direct / embedded_direct if embedded_direct else ZERO
    trace.append(
        TraceStep(
            rule=_RULE_DEFAULT_SHARE,
            description=(
                f"Share of the embedded direct emissions of {label} based on default values of precursors."
            ),
            inputs={
                "default-based direct (tCO2e)": default_direct,
                "embedded direct (tCO2e)": embedded_direct,
            },
            result=default_share,
        )
    )
    electricity_per_unit = electricity / al
    trace.append(
        TraceStep(
            rule=_RULE_ELECTRICITY,
            description=(
                f"Embedded electricity of {label}: electricity consumed in the process plus that embedded "
                "in precursors, per unit of activity level."
            ),
            inputs={"embedded electricity (MWh)": electricity, "AL": al},
            result=electricity_per_unit,
        )
    )

    return ProcessResult(
        process_id=process.process_id,
        annex_ii=process.annex_ii,
        activity_level=al,
        attributed_direct_tco2e=attr_direct,
        attributed_indirect_tco2e=attr_indirect,
        embedded_direct_tco2e=embedded_direct,
        embedded_indirect_tco2e=embedded_indirect,
        default_direct_tco2e=default_direct,
        embedded_electricity_mwh=electricity,
        see_direct=see_direct,
        see_indirect=see_indirect,
        see_total=see_total,
        default_share=default_share,
        embedded_electricity_mwh_per_unit=electricity_per_unit,
        precursors=tuple(contributions),
        trace=tuple(trace),
    )


_RULE_ANNEX_II = "Reg (EU) 2023/956 Art 7(1), Annex II (as amended by Reg (EU) 2025/2083 Art 1(29))"
_RULE_CROSS_OVER = "[IR2547] Annex I point 3.1; Commission CBAM Q&A 4.9"


def obligation_see(installation: InstallationResult, process_id: str) -> ObligationSee:
    """SEE of a process's goods that counts for the obligation in the definitive period.

    Annex II goods count direct emissions only; other goods direct + indirect
    ([R956] Art 7(1), Annex II; Reg 2025/2083 Art 1(29)). Cross-over rule for precursors
    ([IR2547] Annex I point 3.1; Q&A 4.9): an Annex II complex good **includes** the indirect
    emissions of non-Annex II precursors; a non-Annex II complex good **excludes** the indirect
    emissions of Annex II precursors. Each precursor counts what it would count as a good in its
    own right, so the rule applies recursively through internal precursors:
    ``SEE_obl = (AttrEm_Dir + [AttrEm_Indir if not Annex II] + Σ M_i × SEE_i,obl) / AL``.
    """
    with localcontext(CALC_CONTEXT):
        return _obligation_see(installation, process_id, [])


def _obligation_see(installation: InstallationResult, process_id: str, path: list[str]) -> ObligationSee:
    if process_id in path:  # cannot happen for a result of calculate_installation; guard anyway
        raise ProcessCycleError(path[path.index(process_id) :] + [process_id])
    result = installation[process_id]
    trace: list[TraceStep] = []
    own_indirect = ZERO if result.annex_ii else result.attributed_indirect_tco2e
    trace.append(
        TraceStep(
            rule=_RULE_ANNEX_II,
            description=(
                f"Goods of {process_id} are Annex II goods: only the process's own direct emissions count."
                if result.annex_ii
                else f"Goods of {process_id} are not Annex II goods: the process's direct and indirect emissions count."
            ),
            inputs={
                "AttrEm_Dir": result.attributed_direct_tco2e,
                "AttrEm_Indir": result.attributed_indirect_tco2e,
                "Annex II": "yes" if result.annex_ii else "no",
            },
            result=result.attributed_direct_tco2e + own_indirect,
        )
    )
    numerator = result.attributed_direct_tco2e + own_indirect
    for c in result.precursors:
        if c.source == "internal":
            assert c.process_id is not None
            upstream = _obligation_see(installation, c.process_id, [*path, process_id])
            counted = upstream.see
            why = f"internal precursor from {c.process_id}, counted as its own goods would be"
        else:
            counted = c.see_direct if c.is_annex_ii else c.see_direct + c.see_indirect
            why = (
                "Annex II precursor: its indirect emissions are not included"
                if c.is_annex_ii
                else "non-Annex II precursor: its indirect emissions are included"
            )
        contribution = c.quantity * counted
        numerator += contribution
        trace.append(
            TraceStep(
                rule=_RULE_CROSS_OVER,
                description=f"Precursor {c.name} in {process_id}: {why}.",
                inputs={"M_i": c.quantity, "SEE_i counted": counted},
                result=contribution,
            )
        )
    see = numerator / result.activity_level
    trace.append(
        TraceStep(
            rule=f"{_RULE_ANNEX_II}; {_RULE_CROSS_OVER}",
            description=f"SEE of {process_id} that counts for the obligation: counted emissions ÷ activity level.",
            inputs={"counted emissions (tCO2e)": numerator, "AL": result.activity_level},
            result=see,
        )
    )
    return ObligationSee(process_id=process_id, annex_ii=result.annex_ii, see=see, trace=tuple(trace))


# --------------------------------------------------------------------------------------------
# Precursor shares for the free allocation adjustment of complex goods
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrecursorShare:
    """Specific mass of one precursor in a good, ``m_i = M_i / AL_g`` ([IR2620] Annex 4, Eq. 5).

    The declarant needs these to compute the SEFA of a complex good from actual data
    (``SEFA_g = SFAProc_g + Σ m_i × SEFA_i``, [IR2620] Annex 4, Eq. 4): the operator's report is
    the only place where the precursor masses are known. ``precursors`` holds the shares of an
    internal precursor's own precursors (per unit of that precursor), so the sum can recurse.
    """

    name: str
    source: str  # "purchased" or "internal"
    cn_code: str
    route: str
    mass_per_unit: Decimal
    is_default: bool
    precursors: tuple[PrecursorShare, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping) -> PrecursorShare:
        """The inverse of :meth:`as_dict` (a stored report's shares)."""
        return cls(
            name=str(data.get("name", "")),
            source=str(data.get("source", "")),
            cn_code=str(data.get("cn_code", "")),
            route=str(data.get("route", "")),
            mass_per_unit=to_decimal(data.get("mass_per_unit", "0"), "mass_per_unit"),
            is_default=bool(data.get("is_default", False)),
            precursors=tuple(cls.from_dict(p) for p in data.get("precursors", ())),
        )

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "cn_code": self.cn_code,
            "route": self.route,
            "mass_per_unit": str(self.mass_per_unit),
            "is_default": self.is_default,
            "precursors": [p.as_dict() for p in self.precursors],
        }


def precursor_shares(
    processes: Iterable[ProcessInput],
    process_id: str,
    *,
    cn_by_process: Mapping[str, str],
    route_by_process: Mapping[str, str],
    name_by_process: Mapping[str, str] | None = None,
) -> tuple[PrecursorShare, ...]:
    """The precursor shares of the goods of ``process_id`` ([IR2620] Annex 4, Eq. 4–5).

    Purchased precursors carry their CN code as reported; internal precursors take the CN code
    and route of the process that makes them (``cn_by_process``/``route_by_process``) and, in
    turn, that process's own shares. Raises :class:`ProcessCycleError` on a cycle.
    """
    by_id = {p.process_id: p for p in processes}
    names = name_by_process or {}

    def shares(pid: str, path: tuple[str, ...]) -> tuple[PrecursorShare, ...]:
        if pid in path:
            raise ProcessCycleError(list(path[path.index(pid) :]) + [pid])
        process = by_id[pid]
        found: list[PrecursorShare] = []
        with localcontext(CALC_CONTEXT):
            for bought in process.purchased_precursors:
                found.append(
                    PrecursorShare(
                        name=bought.name,
                        source="purchased",
                        cn_code=bought.cn_code,
                        route="",
                        mass_per_unit=bought.quantity / process.activity_level,
                        is_default=bought.is_default,
                    )
                )
            for link in process.internal_precursors:
                found.append(
                    PrecursorShare(
                        name=names.get(link.process_id, link.process_id),
                        source="internal",
                        cn_code=cn_by_process.get(link.process_id, ""),
                        route=route_by_process.get(link.process_id, ""),
                        mass_per_unit=link.quantity / process.activity_level,
                        is_default=False,
                        precursors=shares(link.process_id, (*path, pid)),
                    )
                )
        return tuple(found)

    if process_id not in by_id:
        raise SeeInputError(f"Unknown production process “{process_id}”.")
    return shares(process_id, ())
