"""Frozen dataclasses for a transitional CBAM quarterly report (QReport, schema v17.03).

Content of the report: [R956] Art 35(2) (quantities per installation, actual embedded emissions,
indirect emissions, carbon price due) and Implementing Regulation (EU) 2023/1773. Field names
follow the XML elements (``<SpecificEmbeddedEmissions>`` → ``specific_embedded_emissions``).
Units are not fixed by the schema: every quantity travels with the ``measurement_unit`` code
given next to it in the report (e.g. ``01`` for tonnes, ``EMU1`` for tCO2e and tCO2e/t in the
Commission sample), so names carry no unit. Every number is a ``Decimal`` exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

__all__ = [
    "Address",
    "CarbonPriceDue",
    "Commodity",
    "Contact",
    "DirectEmissions",
    "EmissionsTotals",
    "GoodsEmissions",
    "ImportedGood",
    "ImportedQuantity",
    "IndirectEmissions",
    "Installation",
    "InstallationAddress",
    "Measure",
    "Operator",
    "Party",
    "Procedure",
    "ProductCovered",
    "ProductionMethod",
    "QReport",
    "QualifyingParameter",
    "SupplierGood",
    "SupplierInstallation",
    "SupplierOperator",
    "SupplierSummary",
    "suppliers_from_qreport",
]


@dataclass(frozen=True)
class Address:
    """``AddressType``: address of the declarant, importer, representative or operator."""

    country: str
    subdivision: str | None = None
    city: str | None = None
    street: str | None = None
    street_additional_line: str | None = None
    number: str | None = None
    postcode: str | None = None
    po_box: str | None = None


@dataclass(frozen=True)
class Party:
    """Declarant, importer or representative (``IdentificationNumber`` is the EORI number)."""

    identification_number: str
    name: str
    address: Address | None = None
    role: str | None = None  # declarant only, e.g. "02"


@dataclass(frozen=True)
class Commodity:
    """``CommodityCode``: ``cn8`` is the 8-digit CN code (HS code + the two CN digits)."""

    hs_code: str
    cn_code: str
    cn8: str
    description: str | None = None


@dataclass(frozen=True)
class Procedure:
    requested: str
    previous: str | None = None


@dataclass(frozen=True)
class Measure:
    """A quantity: net mass and/or supplementary units with the unit code."""

    net_mass: Decimal | None
    supplementary_units: Decimal | None
    measurement_unit: str
    indicator: int | None = None  # MeasureProcedureImported only


@dataclass(frozen=True)
class ImportedQuantity:
    sequence_number: int
    procedure: Procedure
    import_area: str | None
    measures: tuple[Measure, ...]
    special_references: str | None = None


@dataclass(frozen=True)
class EmissionsTotals:
    """``TotalEmissions`` of a good (with ``emissions_per_unit``) or ``InstallationEmissions``."""

    overall_emissions: Decimal
    total_direct: Decimal
    total_indirect: Decimal
    measurement_unit: str
    emissions_per_unit: Decimal | None = None


@dataclass(frozen=True)
class Contact:
    name: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class Operator:
    """``InstallationOperator``."""

    operator_id: str
    name: str
    address: Address | None
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class InstallationAddress:
    """``InstallationAddressType``: location of the installation, with UN/LOCODE and coordinates."""

    country: str
    subdivision: str | None = None
    city: str | None = None
    street: str | None = None
    street_additional_line: str | None = None
    number: str | None = None
    postcode: str | None = None
    po_box: str | None = None
    plot_parcel_number: str | None = None
    unlocode: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    coordinates_type: str | None = None


@dataclass(frozen=True)
class Installation:
    installation_id: str
    name: str
    economic_activity: str | None
    address: InstallationAddress | None


@dataclass(frozen=True)
class DirectEmissions:
    """``DirectEmissions``: determination type and specific embedded emissions (SEE) per unit."""

    determination_type: str | None
    determination_type_electricity: str | None
    applicable_reporting_type_methodology: str | None
    applicable_reporting_methodology: str | None
    specific_embedded_emissions: Decimal | None
    other_source_indication: str | None
    emission_factor_source_electricity: str | None
    emission_factor: Decimal | None
    electricity_imported: Decimal | None
    total_embedded_electricity_imported: Decimal | None
    measurement_unit: str | None
    emission_factor_source_value: str | None = None
    justification: str | None = None
    conditionality_fulfillment: str | None = None


@dataclass(frozen=True)
class IndirectEmissions:
    """``IndirectEmissions``: electricity consumed and its emission factor, indirect SEE."""

    determination_type: str
    emission_factor_source: str | None
    emission_factor: Decimal | None
    specific_embedded_emissions: Decimal
    measurement_unit: str | None
    electricity_consumed: Decimal | None
    electricity_source: str | None
    other_source_indication: str | None = None
    emission_factor_source_value: str | None = None


@dataclass(frozen=True)
class QualifyingParameter:
    """A qualifying parameter; the schema types ``ParameterValue`` as text, so it stays text."""

    sequence_number: int
    determination_type: str | None
    parameter_id: str
    parameter_name: str | None
    description: str | None
    value_type: str | None
    value: str
    additional_information: str | None = None


@dataclass(frozen=True)
class ProductionMethod:
    """``ProdMethodQualifyingParams``: production method and its qualifying parameters."""

    sequence_number: int
    method_id: str
    method_name: str | None
    steel_mill_number: str | None
    additional_information: str | None
    direct_parameters: tuple[QualifyingParameter, ...] = ()
    indirect_parameters: tuple[QualifyingParameter, ...] = ()


@dataclass(frozen=True)
class ProductCovered:
    sequence_number: int
    type: str
    cn: str | None
    quantity_covered: Decimal
    quantity_covered_free_allocation: Decimal
    supplementary_information: str | None
    additional_information: str | None
    measure: Measure | None


@dataclass(frozen=True)
class CarbonPriceDue:
    """``CarbonPriceDue`` ([R956] Art 35(2)(d)); ``exchange_rate`` is text (``an..5``) in v17.03."""

    sequence_number: int
    instrument_type: str
    legal_act_description: str | None
    amount: Decimal
    currency: str
    exchange_rate: str | None
    amount_eur: Decimal
    country: str
    products_covered: tuple[ProductCovered, ...] = ()


@dataclass(frozen=True)
class GoodsEmissions:
    """Emissions of an imported good attributed to one installation of production."""

    sequence_number: int
    production_country: str | None
    operator: Operator | None
    installation: Installation | None
    produced_measure: Measure
    installation_emissions: EmissionsTotals
    direct: DirectEmissions
    indirect: IndirectEmissions | None
    production_methods: tuple[ProductionMethod, ...] = ()
    carbon_prices_due: tuple[CarbonPriceDue, ...] = ()
    remarks: tuple[str, ...] = ()
    path: str = ""  # location in the report, for provenance


@dataclass(frozen=True)
class ImportedGood:
    item_number: int
    commodity: Commodity
    origin_country: str
    quantities: tuple[ImportedQuantity, ...]
    measure_imported: Measure
    total_emissions: EmissionsTotals
    goods_emissions: tuple[GoodsEmissions, ...]
    importer: Party | None = None
    representative: Party | None = None
    remarks: str | None = None
    path: str = ""


@dataclass(frozen=True)
class QReport:
    """A transitional quarterly report. ``year`` is taken as written (range checks belong to
    schema validation); the header totals are ``None`` when the report omits them."""

    reporting_period: str
    year: int
    declarant: Party
    imported_goods: tuple[ImportedGood, ...]
    submission_date: datetime | None = None
    draft_report_id: str | None = None
    report_id: str | None = None
    total_imported: int | None = None
    total_emissions: Decimal | None = None
    importer: Party | None = None
    representative: Party | None = None
    national_competent_authority: str | None = None
    remarks: str | None = None

    @property
    def period(self) -> str:
        """The quarter as ``"2023-Q4"``."""
        return f"{self.year}-{self.reporting_period}"


# --------------------------------------------------------------------------------------------
# Pre-fill summary: operators → installations → goods
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierGood:
    """What an installation reported for one CN code in one quarter. ``sources`` are the
    locations of the ``GoodsEmissions`` elements this line summarises (for provenance)."""

    cn8: str
    description: str | None
    origin_country: str
    production_country: str | None
    year: int
    reporting_period: str
    see_direct: Decimal | None
    see_indirect: Decimal | None
    see_measurement_unit: str | None
    direct_determination_type: str | None
    indirect_determination_type: str | None
    sources: tuple[str, ...] = ()

    def _key(self) -> tuple[object, ...]:
        return (
            self.cn8,
            self.origin_country,
            self.production_country,
            self.year,
            self.reporting_period,
            self.see_direct,
            self.see_indirect,
            self.see_measurement_unit,
            self.direct_determination_type,
            self.indirect_determination_type,
        )


@dataclass(frozen=True)
class SupplierInstallation:
    installation_id: str
    name: str
    economic_activity: str | None
    address: InstallationAddress | None
    goods: tuple[SupplierGood, ...]


@dataclass(frozen=True)
class SupplierOperator:
    operator_id: str
    name: str
    address: Address | None
    contacts: tuple[Contact, ...]
    installations: tuple[SupplierInstallation, ...]


@dataclass(frozen=True)
class SupplierSummary:
    """Suppliers found in a report. ``unattributed`` holds goods whose emissions name no
    operator or no installation: they cannot be pre-filled against a supplier."""

    operators: tuple[SupplierOperator, ...]
    unattributed: tuple[SupplierGood, ...] = ()


def _merge(goods: dict[tuple[object, ...], SupplierGood], good: SupplierGood) -> None:
    key = good._key()
    known = goods.get(key)
    goods[key] = good if known is None else replace(known, sources=known.sources + good.sources)


def suppliers_from_qreport(report: QReport) -> SupplierSummary:
    """De-duplicated operators → installations → goods of a quarterly report, for pre-filling
    suppliers and their installations ([R956] Art 35(2): emissions per installation of production).

    Operators are keyed by ``OperatorId`` and installations by (``OperatorId``,
    ``InstallationId``), since registry installation ids are only unique per operator; goods
    lines that report the same CN code, countries, quarter, SEE and determination types are merged
    and keep every source location. Order is that of first appearance; for an operator or
    installation reported several times, the first occurrence's name and address are kept.
    """
    operators: dict[
        str, tuple[Operator, dict[str, tuple[Installation, dict[tuple[object, ...], SupplierGood]]]]
    ] = {}
    unattributed: dict[tuple[object, ...], SupplierGood] = {}
    for imported in report.imported_goods:
        for emissions in imported.goods_emissions:
            line = SupplierGood(
                cn8=imported.commodity.cn8,
                description=imported.commodity.description,
                origin_country=imported.origin_country,
                production_country=emissions.production_country,
                year=report.year,
                reporting_period=report.reporting_period,
                see_direct=emissions.direct.specific_embedded_emissions,
                see_indirect=emissions.indirect.specific_embedded_emissions if emissions.indirect else None,
                see_measurement_unit=emissions.direct.measurement_unit,
                direct_determination_type=emissions.direct.determination_type,
                indirect_determination_type=emissions.indirect.determination_type
                if emissions.indirect
                else None,
                sources=(emissions.path,),
            )
            if emissions.operator is None or emissions.installation is None:
                _merge(unattributed, line)
                continue
            _operator, installations = operators.setdefault(
                emissions.operator.operator_id, (emissions.operator, {})
            )
            _installation, goods = installations.setdefault(
                emissions.installation.installation_id, (emissions.installation, {})
            )
            _merge(goods, line)
    return SupplierSummary(
        operators=tuple(
            SupplierOperator(
                operator_id=operator.operator_id,
                name=operator.name,
                address=operator.address,
                contacts=operator.contacts,
                installations=tuple(
                    SupplierInstallation(
                        installation_id=installation.installation_id,
                        name=installation.name,
                        economic_activity=installation.economic_activity,
                        address=installation.address,
                        goods=tuple(goods.values()),
                    )
                    for installation, goods in installations.values()
                ),
            )
            for operator, installations in operators.values()
        ),
        unattributed=tuple(unattributed.values()),
    )
