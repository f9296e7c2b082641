"""Labels and column order of the Commission communication template (v2.1 / v2.1.1).

The reader finds blocks by these labels (not by fixed coordinates), so that small layout shifts
between template versions still parse: v2.1.1 inserted "Electricity EF (tCO2/MWh)" after
"Embedded electricity" in the ``Summary_Communication`` product table, which moves every later
column one to the right. The exporter writes the v2.1.1 layout.
"""

from __future__ import annotations

from dataclasses import dataclass

SUMMARY_SHEET = "Summary_Communication"
INST_SHEET = "A_InstData"
PROCESS_SHEET = "D_Processes"
PRECURSOR_SHEET = "E_PurchPrec"
VERSIONS_SHEET = "0_Versions"

TEXT = "text"
NUMBER = "number"
CN = "cn"


@dataclass(frozen=True)
class ProductColumn:
    """One column of the product table (section 2 of ``Summary_Communication``).

    ``unit_attr`` names the attribute holding the unit written in the (unlabelled) column just
    right of the value, where the template has one.
    """

    attr: str
    label: str
    kind: str
    unit_attr: str | None = None


#: Section 2 of ``Summary_Communication`` in the column order of template v2.1.1.
PRODUCT_COLUMNS: tuple[ProductColumn, ...] = (
    ProductColumn("process_name", "Production process from which the products arise", TEXT),
    ProductColumn("aggregated_good", "Type of aggregated good or precursor", TEXT),
    ProductColumn("cn_code", "CN Codes", CN),
    ProductColumn("cn_name", "CN Name", TEXT),
    ProductColumn(
        "product_name",
        "Product name \n(used for communication with reporting declarant, e.g. on invoices)",
        TEXT,
    ),
    ProductColumn("see_direct", "SEE (direct)", NUMBER),
    ProductColumn("see_indirect", "SEE (indirect)", NUMBER),
    ProductColumn("see_total", "SEE (total)", NUMBER),
    ProductColumn("unit", "Unit", TEXT),
    ProductColumn("default_share", "Share of emissions by default value", NUMBER),
    ProductColumn("electricity_ef_source", "Source for electricity EF", TEXT),
    ProductColumn("embedded_electricity_mwh_per_t", "Embedded electricity (MWh/t)", NUMBER),
    ProductColumn("electricity_ef_tco2_per_mwh", "Electricity EF (tCO2/MWh)", NUMBER),
    ProductColumn("reducing_agent", "The main reducing agent of the precursor, if known", TEXT),
    ProductColumn("steel_mill_id", "Steel mill identification number", TEXT),
    ProductColumn("mn_pct", "% Mn", NUMBER),
    ProductColumn("cr_pct", "% Cr", NUMBER),
    ProductColumn("ni_pct", "% Ni", NUMBER),
    ProductColumn("other_alloys_pct", "% other alloys", NUMBER),
    ProductColumn("carbon_pct", "% carbon", NUMBER),
    ProductColumn("scrap_t_per_t_steel", "t scrap per t steel", NUMBER),
    ProductColumn("other_materials_pct", "% other materials", NUMBER),
    ProductColumn("pre_consumer_scrap_pct", "% pre-consumer scrap", NUMBER),
    ProductColumn("scrap_t_per_t_aluminium", "t scrap per t aluminium", NUMBER),
    ProductColumn("non_aluminium_pct", "% non-aluminium elements", NUMBER),
    ProductColumn("clinker_factor", "Clinker factor", NUMBER),
    ProductColumn("calcined", "Calcined or not", TEXT),
    ProductColumn("hydrous_concentration", "Concentration, if hydrous solution", NUMBER),
    ProductColumn("nitric_acid_pct", "% nitric acid", NUMBER),
    ProductColumn("urea_pct", "% urea", NUMBER),
    ProductColumn("n_contained_pct", "% N contained", NUMBER),
    ProductColumn("n_ammonium_pct", "% N as ammonium (NH4+)", NUMBER),
    ProductColumn("n_nitrate_pct", "% N as nitrate (NO3–)", NUMBER),
    ProductColumn("n_urea_pct", "% N as Urea", NUMBER),
    ProductColumn("n_other_pct", "% N in other (organic) forms", NUMBER),
    ProductColumn("carbon_price_instrument", "Type of instrument (carbon pricing)", TEXT),
    ProductColumn(
        "carbon_price_share_covered", "Share of total embedded emissions covered by the carbon price", NUMBER
    ),
    ProductColumn(
        "carbon_price_emissions_covered",
        "Embedded emissions covered by the carbon price",
        NUMBER,
        unit_attr="carbon_price_emissions_covered_unit",
    ),
    ProductColumn("currency", "Currency", TEXT),
    ProductColumn(
        "carbon_price_due",
        "Carbon price (CP) due (per produced t or MWh)",
        NUMBER,
        unit_attr="carbon_price_due_unit",
    ),
    ProductColumn("rebate_type", "Type of rebate", TEXT),
    ProductColumn("rebate_share_covered", "Share of embedded emissions covered by the rebate", NUMBER),
    ProductColumn(
        "rebate_emissions_covered",
        "Embedded emissions covered by rebate",
        NUMBER,
        unit_attr="rebate_emissions_covered_unit",
    ),
    ProductColumn(
        "rebate_amount",
        "Amount of rebate (per produced t or MWh)",
        NUMBER,
        unit_attr="rebate_amount_unit",
    ),
    ProductColumn(
        "effective_carbon_price_due",
        "Result: Effective CP due (per produced t or MWh)",
        NUMBER,
        unit_attr="effective_carbon_price_due_unit",
    ),
)

#: Columns every readable product table must have (the others are optional between versions).
REQUIRED_PRODUCT_ATTRS = ("process_name", "cn_code", "see_direct", "see_indirect", "see_total")

#: Section 1 "Installation details": label -> attribute. "Country:" appears twice in the
#: template: the first holds the city, the second the ISO country code.
INSTALLATION_LABELS: tuple[tuple[str, str], ...] = (
    ("Name of the installation (English name):", "name"),
    ("Street, Number:", "street"),
    ("Economic activity:", "economic_activity"),
    ("Country:", "city"),
    ("Country:", "country_code"),
    ("UNLOCODE:", "unlocode"),
    ("Coordinates of the main emission source (latitude):", "latitude"),
    ("Coordinates of the main emission source (longitude):", "longitude"),
    ("Reporting period start:", "period_start"),
    ("Reporting period end:", "period_end"),
)

METHODOLOGY_LABELS: tuple[tuple[str, str], ...] = (
    ("Calculation - based (excl. PFC emissions)", "calculation_based_tco2e"),
    ("Total PFC emissions", "pfc_tco2e"),
    ("Measurement - based", "measurement_based_tco2e"),
    ("Other", "other_tco2e"),
)

TOTAL_LABELS: tuple[tuple[str, str], ...] = (
    ("Total direct emissions during reporting period:", "total_direct_tco2e"),
    ("Total indirect emissions during reporting period:", "total_indirect_tco2e"),
    ("Total emissions during reporting period:", "total_tco2e"),
)

FURTHER_INFO_LABELS: tuple[tuple[str, str], ...] = (
    ("General information on data quality:", "data_quality"),
    ("Justification for use of default values (if relevant):", "default_values_justification"),
    ("Information on quality assurance:", "quality_assurance"),
    ("Carbon price instrument:", "carbon_price_instrument"),
    ("Any additional information:", "additional_information"),
)

SUMMARY_TITLE = "Communication with reporting declarants"
SUMMARY_INTRO = (
    'This sheet summarises the main information from sheets "Summary_Processes" and '
    '"Summary_Products" to be communicated to the reporting declarants importing the goods into '
    "the European Union. In contrast to previous sheets, the headers and content of the tables will "
    "always be in English language in order to avoid translation problems with reporting declarants."
)
SECTION_1 = "Summary of the installation and production processes"
SECTION_1_1 = "Installation details"
SECTION_1_2 = "Summary of the production processes and production routes, where relevant"
SECTION_1_3 = "Summary of emissions by monitoring methodology and data quality"
SECTION_1_4 = "Further information"
SECTION_2 = "Summary of products"
GOODS_HEADER = "Aggregated good produced"
PROCESS_HEADER = "Production process"
PROCESS_CATEGORY_HEADER = "Aggregated goods category"
