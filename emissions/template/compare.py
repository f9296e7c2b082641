"""From a parsed template to the SEE engine, and back: does the template add up?

:func:`to_see_inputs` builds :class:`emissions.see.ProcessInput` items from ``D_Processes`` and
``E_PurchPrec`` so that the portal computes SEE itself ([IR2547] Annex III A.3 Eq. 55–58 and
B Eq. 59–63); :func:`compare` sets the values the template communicates in
``Summary_Communication`` against the computed ones, per product line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from emissions.see import (
    EmissionsFlow,
    InstallationResult,
    InternalPrecursor,
    ProcessInput,
    PurchasedPrecursor,
    SeeInputError,
    WasteGasFlow,
)

from .errors import Problem, TemplateError
from .layout import PRECURSOR_SHEET, PROCESS_SHEET, SUMMARY_SHEET
from .model import ParsedTemplate, ProcessData, PurchasedPrecursorData

__all__ = ["DEFAULT_TOLERANCE", "Comparison", "ComparisonRow", "Difference", "compare", "to_see_inputs"]

#: SEE are communicated with at most 5 decimals ([IR2547] Annex II A.1(8)); a value that
#: differs by more than half a unit of the 5th decimal is a real difference.
DEFAULT_TOLERANCE = Decimal("0.000005")

#: Imported waste gas is credited at the natural-gas factor without the efficiency correction
#: ([IR2547] Annex III A.3 Eq. 57; the template computes L×EF_NG for imports, M×EF_NG×0.667
#: for exports).
_NO_CORRECTION = Decimal(1)
ZERO = Decimal(0)


def _positive(value: Decimal | None) -> bool:
    return value is not None and value > 0


def _flow(
    amount: Decimal | None,
    factor: Decimal | None,
    what: str,
    process: ProcessData,
    attr: str,
    problems: list[Problem],
) -> EmissionsFlow | None:
    if not _positive(amount):
        return None
    if factor is None:
        problems.append(
            Problem.at(
                process.cells.get(attr, PROCESS_SHEET),
                f"{what} of {amount} is given without its emission factor.",
                f"{process.name}: {what} emission factor",
            )
        )
        return None
    return EmissionsFlow(amount=amount, factor_tco2e_per_unit=factor)


def _purchased(
    pp: PurchasedPrecursorData, quantity: Decimal, annex_ii: bool, problems: list[Problem]
) -> PurchasedPrecursor | None:
    if pp.see_direct is None:
        problems.append(
            Problem.at(
                pp.cells.get("see_direct", PRECURSOR_SHEET),
                f"purchased precursor “{pp.name}” is used ({quantity}) but has no SEE (direct).",
                "SEE (direct)",
            )
        )
        return None
    # The template's SEE (indirect) of a precursor is its specific electricity consumption × EF.
    if pp.electricity_mwh_per_t is not None and pp.electricity_ef_tco2_per_mwh is not None:
        see_indirect = pp.electricity_mwh_per_t * pp.electricity_ef_tco2_per_mwh
    else:
        see_indirect = pp.see_indirect or ZERO
    return PurchasedPrecursor(
        name=pp.name,
        quantity=quantity,
        see_direct=pp.see_direct,
        see_indirect=see_indirect,
        is_default=pp.is_default,
        is_annex_ii=annex_ii,
        electricity_mwh_per_unit=pp.electricity_mwh_per_t or ZERO,
    )


def to_see_inputs(
    parsed: ParsedTemplate,
    *,
    annex_ii_cn_codes: Iterable[str] | None = None,
) -> tuple[ProcessInput, ...]:
    """Inputs of :func:`emissions.see.calculate_installation` built from the template's input sheets.

    Per process ([IR2547] Annex III A.3, Eq. 55–58): DirEm*, measurable heat imported/exported
    (TJ × tCO2/TJ), waste gases (imports at EF_NG, exports at EF_NG × 0.667, Eq. 57), electricity
    exported (subtracted as electricity produced), electricity consumed × EF. Precursors
    ([IR2547] Annex III B): goods of other processes listed under "consumed in other production
    processes" become internal precursors of the consuming process; purchased precursors from
    ``E_PurchPrec`` with their quantity per process, SEE direct (measured/default) and SEE
    indirect = specific electricity consumption × EF. ``annex_ii_cn_codes`` marks processes
    whose products are all Annex II goods (direct emissions only in the definitive period).
    Raises :class:`TemplateError` when the sheets are missing or inconsistent.
    """
    if not parsed.processes:
        raise TemplateError(
            Problem(
                "the workbook has no production processes in sheet 'D_Processes'; SEE can only be "
                "computed from a complete template (the summary sheet alone is not enough).",
                sheet=PROCESS_SHEET,
                field="sheet",
            )
        )
    problems: list[Problem] = []
    annex_ii = set(annex_ii_cn_codes or ())
    by_name = {p.name: p for p in parsed.processes}

    internal: dict[str, list[InternalPrecursor]] = {p.name: [] for p in parsed.processes}
    for source in parsed.processes:
        for use in source.consumed_in_processes:
            if not _positive(use.quantity):
                continue
            if use.process_name not in by_name:
                problems.append(
                    Problem.at(
                        source.cells.get(f"consumed_in:{use.process_name}", PROCESS_SHEET),
                        f"goods of “{source.name}” are consumed in “{use.process_name}”, which is not a "
                        "production process of this template.",
                        "consumed in other production processes",
                    )
                )
                continue
            internal[use.process_name].append(InternalPrecursor(process_id=source.id, quantity=use.quantity))

    purchased: dict[str, list[PurchasedPrecursor]] = {p.name: [] for p in parsed.processes}
    for pp in parsed.purchased_precursors:
        for use in pp.consumption:
            if not _positive(use.quantity):
                continue
            if use.process_name not in by_name:
                problems.append(
                    Problem.at(
                        pp.cells.get(f"consumed_in:{use.process_name}", PRECURSOR_SHEET),
                        f"purchased precursor “{pp.name}” is consumed in “{use.process_name}”, which is not a "
                        "production process of this template.",
                        "consumed in production processes",
                    )
                )
                continue
            item = _purchased(pp, use.quantity, False, problems)
            if item is not None:
                purchased[use.process_name].append(item)

    codes_by_process: dict[str, set[str]] = {}
    for product in parsed.summary.products:
        codes_by_process.setdefault(product.process_name, set()).add(product.cn_code)

    inputs: list[ProcessInput] = []
    for p in parsed.processes:
        codes = codes_by_process.get(p.name, set())
        waste_in = (
            WasteGasFlow(energy_tj=p.waste_gas_imported_tj, corr_eta=_NO_CORRECTION)
            if _positive(p.waste_gas_imported_tj)
            else None
        )
        waste_out = (
            WasteGasFlow(energy_tj=p.waste_gas_exported_tj) if _positive(p.waste_gas_exported_tj) else None
        )
        try:
            inputs.append(
                ProcessInput(
                    process_id=p.id,
                    activity_level=p.activity_level,
                    direct_emissions_tco2e=p.direct_emissions_tco2e or ZERO,
                    heat_imported=_flow(
                        p.heat_imported_tj,
                        p.heat_imported_ef_tco2_per_tj,
                        "heat imported",
                        p,
                        "heat_imported_ef",
                        problems,
                    ),
                    heat_exported=_flow(
                        p.heat_exported_tj,
                        p.heat_exported_ef_tco2_per_tj,
                        "heat exported",
                        p,
                        "heat_exported_ef",
                        problems,
                    ),
                    waste_gas_imported=waste_in,
                    waste_gas_exported=waste_out,
                    electricity_produced=_flow(
                        p.electricity_exported_mwh,
                        p.electricity_exported_ef_tco2_per_mwh,
                        "electricity exported",
                        p,
                        "electricity_exported_ef",
                        problems,
                    ),
                    electricity_consumed_mwh=p.electricity_consumed_mwh or ZERO,
                    electricity_ef_tco2e_per_mwh=p.electricity_ef_tco2_per_mwh or ZERO,
                    purchased_precursors=tuple(purchased[p.name]),
                    internal_precursors=tuple(internal[p.name]),
                    annex_ii=bool(codes) and codes <= annex_ii,
                )
            )
        except SeeInputError as exc:
            problems.append(Problem.at(p.cells.get("activity_level", PROCESS_SHEET), str(exc), p.name))
    if problems:
        raise TemplateError(problems)
    return tuple(inputs)


@dataclass(frozen=True)
class Difference:
    """A value of the template that differs from the computed one by more than the tolerance."""

    cn_code: str
    product_name: str
    field: str
    cell: str
    template: Decimal | None
    computed: Decimal | None

    @property
    def delta(self) -> Decimal | None:
        if self.template is None or self.computed is None:
            return None
        return self.computed - self.template

    def __str__(self) -> str:
        return (
            f"{self.cell} {self.field} of CN {self.cn_code} “{self.product_name}”: template "
            f"{self.template}, computed {self.computed}"
        )


@dataclass(frozen=True)
class ComparisonRow:
    """One product line: the template's SEE next to the computed SEE (full precision)."""

    row: int
    process_id: str
    process_name: str
    cn_code: str
    product_name: str
    template_see_direct: Decimal | None
    template_see_indirect: Decimal | None
    template_see_total: Decimal | None
    computed_see_direct: Decimal | None
    computed_see_indirect: Decimal | None
    computed_see_total: Decimal | None
    template_default_share: Decimal | None = None
    computed_default_share: Decimal | None = None
    template_embedded_electricity_mwh_per_t: Decimal | None = None
    computed_embedded_electricity_mwh_per_t: Decimal | None = None


@dataclass(frozen=True)
class Comparison:
    """Per product line, template vs computed; ``differences`` beyond the tolerance."""

    rows: tuple[ComparisonRow, ...]
    differences: tuple[Difference, ...]
    tolerance: Decimal

    @property
    def matches(self) -> bool:
        return not self.differences


_COMPARED = (
    ("see_direct", "SEE (direct)"),
    ("see_indirect", "SEE (indirect)"),
    ("see_total", "SEE (total)"),
)


def compare(
    parsed: ParsedTemplate,
    computed: InstallationResult,
    *,
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> Comparison:
    """Template SEE (direct, indirect, total) vs computed SEE for every product line.

    A difference is reported when |template − computed| > ``tolerance`` (default 0.000005:
    SEE are communicated to 5 decimals, [IR2547] Annex II A.1(8)), or when the product's
    process was not computed. Share of default values and embedded electricity are shown
    alongside for information.
    """
    ids = {p.name: p.id for p in parsed.processes}
    rows: list[ComparisonRow] = []
    differences: list[Difference] = []
    for product in parsed.summary.products:
        process_id = ids.get(product.process_name, "")
        result = computed.processes.get(process_id) if process_id else None
        values = {
            "see_direct": result.see_direct if result else None,
            "see_indirect": result.see_indirect if result else None,
            "see_total": result.see_total if result else None,
        }
        rows.append(
            ComparisonRow(
                row=product.row,
                process_id=process_id,
                process_name=product.process_name,
                cn_code=product.cn_code,
                product_name=product.product_name,
                template_see_direct=product.see_direct,
                template_see_indirect=product.see_indirect,
                template_see_total=product.see_total,
                computed_see_direct=values["see_direct"],
                computed_see_indirect=values["see_indirect"],
                computed_see_total=values["see_total"],
                template_default_share=product.default_share,
                computed_default_share=result.default_share if result else None,
                template_embedded_electricity_mwh_per_t=product.embedded_electricity_mwh_per_t,
                computed_embedded_electricity_mwh_per_t=result.embedded_electricity_mwh_per_unit
                if result
                else None,
            )
        )
        for attr, label in _COMPARED:
            template_value = getattr(product, attr)
            computed_value = values[attr]
            cell = product.cells.get(attr, SUMMARY_SHEET)
            if result is None:
                differences.append(
                    Difference(
                        product.cn_code,
                        product.product_name,
                        f"{label} (process “{product.process_name}” not computed)",
                        cell,
                        template_value,
                        None,
                    )
                )
                break
            if template_value is None or abs(computed_value - template_value) > tolerance:
                differences.append(
                    Difference(
                        product.cn_code, product.product_name, label, cell, template_value, computed_value
                    )
                )
    return Comparison(rows=tuple(rows), differences=tuple(differences), tolerance=tolerance)
