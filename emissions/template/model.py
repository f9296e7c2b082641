"""What a filled communication template says, as plain frozen dataclasses (``Decimal`` numbers).

Field names follow the Commission communication template (v2.1 / v2.1.1) and [IR2547] Annex IV
(content of the operator's emissions report and of its summary). Records read from a file keep
where each field was read (``cells``: field name -> ``Sheet!A1``) so that checks can point at it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "CellMap",
    "GoodsCategory",
    "InstallationData",
    "InstallationSummary",
    "ParsedTemplate",
    "PrecursorUse",
    "ProcessData",
    "ProcessDefinition",
    "ProcessSummary",
    "ProductRow",
    "PurchasedPrecursorData",
    "PurchasedPrecursorDefinition",
    "RouteAmount",
    "SummaryCommunication",
    "Verifier",
]


class CellMap(Mapping[str, str]):
    """Read-only map of field name -> cell reference (``"D_Processes!L54"``); hashable, copyable."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"CellMap({self._data!r})"


_EMPTY = CellMap()


@dataclass(frozen=True)
class RouteAmount:
    """Amount produced or purchased through one production route (t, or the good's unit)."""

    route: str
    amount: Decimal


@dataclass(frozen=True)
class GoodsCategory:
    """An aggregated goods category produced by the installation, with its routes (G1..G10)."""

    id: str
    category: str
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessSummary:
    """A production process as listed in ``Summary_Communication`` section 1(b) (P1..P10)."""

    id: str
    name: str
    category: str = ""
    included_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstallationSummary:
    """Section 1 "Installation details" of ``Summary_Communication`` ([IR2547] Annex IV 1.2)."""

    name: str = ""
    street: str = ""
    economic_activity: str = ""
    city: str = ""
    country_code: str = ""
    unlocode: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class ProductRow:
    """One product line of ``Summary_Communication`` section 2, as the importer receives it.

    SEE in tCO2e per unit of the good (``unit``) with all significant digits as in the file
    ([IR2547] Annex II A.1(8)); shares and percentages as fractions (0.18 = 18 %); qualifying
    parameters per [IR2547] Annex IV point 2.
    """

    process_name: str
    aggregated_good: str = ""
    cn_code: str = ""
    cn_name: str = ""
    product_name: str = ""
    see_direct: Decimal | None = None
    see_indirect: Decimal | None = None
    see_total: Decimal | None = None
    unit: str = ""
    default_share: Decimal | None = None
    electricity_ef_source: str = ""
    embedded_electricity_mwh_per_t: Decimal | None = None
    electricity_ef_tco2_per_mwh: Decimal | None = None
    reducing_agent: str = ""
    steel_mill_id: str = ""
    mn_pct: Decimal | None = None
    cr_pct: Decimal | None = None
    ni_pct: Decimal | None = None
    other_alloys_pct: Decimal | None = None
    carbon_pct: Decimal | None = None
    scrap_t_per_t_steel: Decimal | None = None
    other_materials_pct: Decimal | None = None
    pre_consumer_scrap_pct: Decimal | None = None
    scrap_t_per_t_aluminium: Decimal | None = None
    non_aluminium_pct: Decimal | None = None
    clinker_factor: Decimal | None = None
    calcined: str = ""
    hydrous_concentration: Decimal | None = None
    nitric_acid_pct: Decimal | None = None
    urea_pct: Decimal | None = None
    n_contained_pct: Decimal | None = None
    n_ammonium_pct: Decimal | None = None
    n_nitrate_pct: Decimal | None = None
    n_urea_pct: Decimal | None = None
    n_other_pct: Decimal | None = None
    carbon_price_instrument: str = ""
    carbon_price_share_covered: Decimal | None = None
    carbon_price_emissions_covered: Decimal | None = None
    carbon_price_emissions_covered_unit: str = ""
    currency: str = ""
    carbon_price_due: Decimal | None = None
    carbon_price_due_unit: str = ""
    rebate_type: str = ""
    rebate_share_covered: Decimal | None = None
    rebate_emissions_covered: Decimal | None = None
    rebate_emissions_covered_unit: str = ""
    rebate_amount: Decimal | None = None
    rebate_amount_unit: str = ""
    effective_carbon_price_due: Decimal | None = None
    effective_carbon_price_due_unit: str = ""
    row: int = 0
    cells: Mapping[str, str] = field(default=_EMPTY, compare=False, repr=False)


@dataclass(frozen=True)
class SummaryCommunication:
    """The sheet ``Summary_Communication``: what a reporting declarant needs ([IR2547] Annex IV 1.2)."""

    installation: InstallationSummary = field(default_factory=InstallationSummary)
    goods: tuple[GoodsCategory, ...] = ()
    processes: tuple[ProcessSummary, ...] = ()
    calculation_based_tco2e: Decimal | None = None
    pfc_tco2e: Decimal | None = None
    measurement_based_tco2e: Decimal | None = None
    other_tco2e: Decimal | None = None
    total_direct_tco2e: Decimal | None = None
    total_indirect_tco2e: Decimal | None = None
    total_tco2e: Decimal | None = None
    data_quality: str = ""
    default_values_justification: str = ""
    quality_assurance: str = ""
    carbon_price_instrument: str = ""
    additional_information: str = ""
    products: tuple[ProductRow, ...] = ()


@dataclass(frozen=True)
class Verifier:
    """Section 3 of ``A_InstData``: the verifier of the report, where given."""

    company_name: str = ""
    street: str = ""
    city: str = ""
    post_code: str = ""
    country: str = ""
    representative_name: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    accreditation_member_state: str = ""
    accreditation_body: str = ""
    registration_number: str = ""


@dataclass(frozen=True)
class ProcessDefinition:
    """A production process declared in ``A_InstData`` section 4(b) (P1..P10)."""

    id: str
    category: str
    name: str
    included_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class PurchasedPrecursorDefinition:
    """A purchased precursor declared in ``A_InstData`` section 5 (PP1..PP20)."""

    id: str
    category: str
    name: str
    country_code: str = ""
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstallationData:
    """The sheet ``A_InstData``: reporting period, installation, verifier, goods, processes."""

    period_start: date | None = None
    period_end: date | None = None
    name: str = ""
    name_english: str = ""
    street: str = ""
    economic_activity: str = ""
    post_code: str = ""
    po_box: str = ""
    city: str = ""
    country: str = ""
    country_code: str = ""
    unlocode: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    authorised_representative: str = ""
    email: str = ""
    telephone: str = ""
    verifier: Verifier = field(default_factory=Verifier)
    goods: tuple[GoodsCategory, ...] = ()
    processes: tuple[ProcessDefinition, ...] = ()
    purchased_precursors: tuple[PurchasedPrecursorDefinition, ...] = ()
    cells: Mapping[str, str] = field(default=_EMPTY, compare=False, repr=False)


@dataclass(frozen=True)
class PrecursorUse:
    """A quantity of goods going into a named production process of the installation."""

    process_name: str
    quantity: Decimal


@dataclass(frozen=True)
class ProcessData:
    """One production process of ``D_Processes`` ([IR2547] Annex III A.3, Eq. 55–58 inputs).

    ``activity_level`` is the total production (sum over routes, the SEE denominator);
    ``consumed_in_processes`` lists this process's goods used as precursors by other processes
    of the installation. Amounts in t (or the good's unit), emissions in tCO2e, heat and waste
    gas in TJ with tCO2/TJ, electricity in MWh with tCO2/MWh. Empty cells are ``None``.
    """

    index: int
    id: str
    name: str
    aggregated_good: str
    activity_level: Decimal
    direct_emissions_tco2e: Decimal | None = None
    production_by_route: tuple[RouteAmount, ...] = ()
    produced_for_market: Decimal | None = None
    consumed_in_processes: tuple[PrecursorUse, ...] = ()
    consumed_for_non_cbam: Decimal | None = None
    heat_relevant: bool | None = None
    waste_gas_relevant: bool | None = None
    indirect_relevant: bool | None = None
    heat_imported_tj: Decimal | None = None
    heat_imported_ef_tco2_per_tj: Decimal | None = None
    heat_exported_tj: Decimal | None = None
    heat_exported_ef_tco2_per_tj: Decimal | None = None
    waste_gas_imported_tj: Decimal | None = None
    waste_gas_imported_ef_tco2_per_tj: Decimal | None = None
    waste_gas_exported_tj: Decimal | None = None
    waste_gas_exported_ef_tco2_per_tj: Decimal | None = None
    electricity_consumed_mwh: Decimal | None = None
    electricity_ef_tco2_per_mwh: Decimal | None = None
    electricity_ef_source: str = ""
    electricity_exported_mwh: Decimal | None = None
    electricity_exported_ef_tco2_per_mwh: Decimal | None = None
    cells: Mapping[str, str] = field(default=_EMPTY, compare=False, repr=False)


@dataclass(frozen=True)
class PurchasedPrecursorData:
    """One purchased precursor of ``E_PurchPrec`` ([IR2547] Annex III B, Eq. 59–63 inputs).

    ``consumption`` is the mass entering each production process (including cut-offs and
    scrap, [IR2547] Annex III B); ``see_direct_source`` is "Measured" or "Default".
    """

    index: int
    id: str
    name: str
    aggregated_good: str
    total_purchased: Decimal | None = None
    purchased_by_route: tuple[RouteAmount, ...] = ()
    consumption: tuple[PrecursorUse, ...] = ()
    other_use: Decimal | None = None
    see_direct: Decimal | None = None
    see_direct_source: str = ""
    electricity_mwh_per_t: Decimal | None = None
    electricity_source: str = ""
    electricity_ef_tco2_per_mwh: Decimal | None = None
    electricity_ef_source: str = ""
    see_indirect: Decimal | None = None
    default_values_justification: str = ""
    cells: Mapping[str, str] = field(default=_EMPTY, compare=False, repr=False)

    @property
    def is_default(self) -> bool:
        """True when the direct SEE is a default value rather than measured data."""
        return self.see_direct_source.strip().lower() == "default"


@dataclass(frozen=True)
class ParsedTemplate:
    """A parsed communication template. ``summary`` is always present; the input sheets
    (``A_InstData``, ``D_Processes``, ``E_PurchPrec``) are read where the file has them."""

    summary: SummaryCommunication
    source_name: str = ""
    template_version: str = ""
    installation: InstallationData | None = None
    processes: tuple[ProcessData, ...] = ()
    purchased_precursors: tuple[PurchasedPrecursorData, ...] = ()
    sheet_names: tuple[str, ...] = ()

    @property
    def has_input_sheets(self) -> bool:
        """True when production processes (``D_Processes``) were read."""
        return bool(self.processes)
