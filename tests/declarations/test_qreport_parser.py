"""Reading the Commission's transitional quarterly report (QReport) into the model."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarations.qreport import NAMESPACE, QReportError, parse_qreport
from declarations.qreport.model import InstallationAddress, Measure
from tests.conftest import require_shared_data

SAMPLE = "cbam_transitional_sample_quarterly_report.xml"


@pytest.fixture
def sample_path():
    return require_shared_data(SAMPLE)


@pytest.fixture
def sample(sample_path) -> str:
    return sample_path.read_text(encoding="utf-8")


def good_block(xml: str) -> str:
    return re.search(r"<ImportedGood>.*</ImportedGood>", xml, re.S).group(0)


def with_second_good(xml: str, edit=lambda block: block) -> str:
    """The sample with a copy of its imported good appended as item 2 (after `edit`)."""
    second = edit(good_block(xml).replace("<ItemNumber>1</ItemNumber>", "<ItemNumber>2</ItemNumber>"))
    return xml.replace("</QReport>", second + "\n</QReport>")


def problems_of(xml: str | bytes):
    data = xml.encode() if isinstance(xml, str) else xml
    with pytest.raises(QReportError) as caught:
        parse_qreport(data)
    return caught.value.problems


def line_of(xml: str, needle: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = xml.index(needle, index + 1)
    return xml.count("\n", 0, index) + 1


# ---------------------------------------------------------------------------------------------
# The Commission sample
# ---------------------------------------------------------------------------------------------


def test_sample_header_is_read_with_the_year_as_written(sample_path):
    report = parse_qreport(sample_path)

    assert report.submission_date == datetime(2023, 8, 8, 8, 21, 14, tzinfo=UTC)
    assert report.report_id is None  # <ReportId></ReportId>
    assert report.draft_report_id is None
    assert report.reporting_period == "Q4"
    assert report.year == 20229  # lenient: the schema validation reports it
    assert report.period == "20229-Q4"
    assert report.total_imported is None
    assert report.total_emissions is None
    assert report.national_competent_authority == "BE000017"

    declarant = report.declarant
    assert (declarant.identification_number, declarant.name, declarant.role) == (
        "GR293847584930295",
        "Declarant CBAM",
        "02",
    )
    assert declarant.address.country == "BE"
    assert declarant.address.city == "Declarant city"
    assert declarant.address.postcode == "DCL-123"
    assert declarant.address.po_box == "PO DCL-123"
    assert report.importer.identification_number == "GR293847584930295"
    assert report.importer.address.street == "Declarant Street"
    assert report.representative.identification_number == "IT293847584930295"
    assert report.representative.name == "Representative CBAM"
    assert report.representative.address.city == "Representative city"


def test_sample_imported_good_is_read_with_exact_decimals(sample_path):
    (good,) = parse_qreport(sample_path).imported_goods

    assert good.path == "/QReport/ImportedGood[1]"
    assert good.item_number == 1
    assert good.commodity.hs_code == "760900"
    assert good.commodity.cn8 == "76090000"
    assert good.commodity.description.startswith("Aluminium tube or pipe fittings")
    assert good.origin_country == "TR"
    (quantity,) = good.quantities
    assert quantity.sequence_number == 1
    assert (quantity.procedure.requested, quantity.procedure.previous) == ("44", "48")
    assert quantity.import_area == "EU"
    assert quantity.measures == (Measure(Decimal("550"), None, "01", indicator=0),)
    assert quantity.special_references == "Special references for goods"
    assert good.measure_imported == Measure(Decimal("550"), None, "01")
    totals = good.total_emissions
    assert totals.emissions_per_unit == Decimal("24.75454")
    assert (totals.overall_emissions, totals.total_direct, totals.total_indirect) == (
        Decimal("13615"),
        Decimal("12908"),
        Decimal("707"),
    )
    assert totals.measurement_unit == "EMU1"
    assert good.remarks == "Goods' additional information"
    assert len(good.goods_emissions) == 2


def test_sample_first_installation_is_read_with_operator_methods_and_direct_see(sample_path):
    first = parse_qreport(sample_path).imported_goods[0].goods_emissions[0]

    assert first.path == "/QReport/ImportedGood[1]/GoodsEmissions[1]"
    assert first.sequence_number == 1
    assert first.production_country == "TR"
    operator = first.operator
    assert (operator.operator_id, operator.name) == ("OP04-0001", "TR Steel Operator LTD")
    assert operator.address.country == "TR"
    assert operator.address.number == "4"
    assert operator.address.postcode == "34025"
    assert [(c.name, c.phone, c.email) for c in operator.contacts] == [
        ("OP04-0001 Contact name", "901234567", "OP04-0001@cbam.com")
    ]
    installation = first.installation
    assert (installation.installation_id, installation.name, installation.economic_activity) == (
        "IN03",
        "Augusta Steel INC",
        None,
    )
    assert installation.address == InstallationAddress(
        country="TR",
        subdivision="Turkey Sub-division",
        city="Istanbul",
        street="Istanbul Street",
        street_additional_line="Istanbul Street Additional line",
        number="5",
        postcode="200042",
        po_box="PO BOX 200042",
        plot_parcel_number="IN03-200042",
        unlocode=None,
        latitude=Decimal("41.0091982"),
        longitude=Decimal("28.9662187"),
        coordinates_type="01",
    )
    assert first.produced_measure == Measure(Decimal("548"), None, "01")
    emissions = first.installation_emissions
    assert (emissions.overall_emissions, emissions.total_direct, emissions.total_indirect) == (
        Decimal("13426"),
        Decimal("12878"),
        Decimal("548"),
    )
    assert first.direct.determination_type == "01"
    assert first.direct.applicable_reporting_type_methodology == "TOM02"
    assert first.direct.specific_embedded_emissions == Decimal("23.5")
    assert first.direct.measurement_unit == "EMU1"
    assert first.indirect.determination_type == "02"
    assert first.indirect.specific_embedded_emissions == Decimal("1")
    assert first.indirect.emission_factor is None
    assert first.indirect.electricity_consumed is None
    assert first.indirect.electricity_source == "SOE03"
    assert [(m.sequence_number, m.method_id, m.method_name) for m in first.production_methods] == [
        (1, "P11", "Primary Al (with pre-baked Anodes)"),
        (2, "P10", "Secondary Al (using scrap)"),
    ]
    primary = first.production_methods[0]
    assert [(p.parameter_id, p.determination_type, p.value) for p in primary.direct_parameters] == [
        ("EQP08", "01", "7"),
        ("EQP14", "02", "14"),
    ]
    assert [(p.parameter_id, p.value, p.value_type) for p in primary.indirect_parameters] == [
        ("EQP08", "9", "PERCENTAGE")
    ]
    assert first.carbon_prices_due == ()
    assert first.remarks == ("Additional information",)


def test_sample_second_installation_is_read_with_electricity_and_carbon_price(sample_path):
    second = parse_qreport(sample_path).imported_goods[0].goods_emissions[1]

    assert (second.installation.installation_id, second.installation.name) == (
        "IN01",
        "Bursa steel factory INC",
    )
    assert second.installation.address.postcode == "V7P"
    assert second.produced_measure == Measure(Decimal("2000"), None, "02")
    assert second.installation_emissions.overall_emissions == Decimal("189")
    assert second.installation_emissions.total_direct == Decimal("30")
    assert second.installation_emissions.total_indirect == Decimal("159")
    assert second.direct.specific_embedded_emissions == Decimal("15")
    assert second.direct.applicable_reporting_type_methodology == "TOM01"
    indirect = second.indirect
    assert indirect.determination_type == "01"
    assert indirect.emission_factor_source == "01"
    assert indirect.emission_factor == Decimal("5.3")
    assert indirect.specific_embedded_emissions == Decimal("79.5")
    assert indirect.electricity_consumed == Decimal("15")
    assert indirect.emission_factor_source_value == "Source of emissions factor value"
    assert second.production_methods[1].indirect_parameters[0].value == "6.3"
    (price,) = second.carbon_prices_due
    assert (price.sequence_number, price.instrument_type, price.currency, price.country) == (
        1,
        "01",
        "USD",
        "TR",
    )
    assert price.amount == Decimal("500.519")
    assert price.amount_eur == Decimal("592.5")
    assert price.exchange_rate == "USD"  # an..5 text in v17.03, kept as written
    (product,) = price.products_covered
    assert (product.type, product.cn) == ("TPC01", "76090000")
    assert product.quantity_covered == Decimal("5")
    assert product.quantity_covered_free_allocation == Decimal("5")
    assert product.measure == Measure(Decimal("5"), None, "01")
    assert second.remarks == ("Emission's additional information",)


def test_report_can_be_read_from_bytes_and_from_a_binary_file(sample_path):
    from_bytes = parse_qreport(sample_path.read_bytes())
    with sample_path.open("rb") as handle:
        from_file = parse_qreport(handle)

    assert from_bytes == from_file == parse_qreport(str(sample_path))


def test_two_cn_digits_are_appended_to_the_hs_code_and_header_totals_are_read(sample):
    xml = sample.replace("<CnCode>76090000</CnCode>", "<CnCode>00</CnCode>").replace(
        "<Year>20229</Year>",
        "<Year>2023</Year><TotalImported>1</TotalImported><TotalEmissions>13615.25</TotalEmissions>",
    )

    report = parse_qreport(xml.encode())

    assert report.imported_goods[0].commodity.cn8 == "76090000"
    assert report.imported_goods[0].commodity.cn_code == "00"
    assert report.total_imported == 1
    assert report.total_emissions == Decimal("13615.25")


def test_lower_case_country_codes_are_upper_cased(sample):
    report = parse_qreport(
        sample.replace(
            "<Country>TR</Country>\n        </OriginCountry>", "<Country>tr</Country></OriginCountry>"
        ).encode()
    )

    assert report.imported_goods[0].origin_country == "TR"


# ---------------------------------------------------------------------------------------------
# Problems with their locations
# ---------------------------------------------------------------------------------------------


def test_truncated_xml_is_refused_with_line_and_column(sample):
    truncated = sample[: sample.index("<GoodsEmissions>") + 40]

    (problem,) = problems_of(truncated)

    assert problem.path == "/"
    assert "not well-formed" in problem.message
    assert problem.line == truncated.count("\n") + 1
    assert problem.column is not None


def test_mismatched_tags_are_reported_at_their_line(sample):
    broken = sample.replace("</OperatorName>", "</OperatorNam>", 1)

    (problem,) = problems_of(broken)

    assert problem.line == line_of(sample, "</OperatorName>")
    assert "mismatch" in problem.message


def test_wrong_root_element_is_refused(sample):
    xml = sample.replace("<QReport xmlns", "<Report xmlns").replace("</QReport>", "</Report>")

    (problem,) = problems_of(xml)

    assert problem.path == "/Report"
    assert "expected <QReport>" in problem.message


def test_report_without_the_namespace_is_refused_naming_the_namespace(sample):
    xml = sample.replace(f' xmlns="{NAMESPACE}"', "")

    (problem,) = problems_of(xml)

    assert problem.path == "/QReport"
    assert "has no namespace" in problem.message
    assert NAMESPACE in problem.message


def test_report_in_another_namespace_is_refused(sample):
    (problem,) = problems_of(sample.replace(NAMESPACE, "http://example.com/cbam"))

    assert "http://example.com/cbam" in problem.message


def test_an_element_outside_the_namespace_is_reported_as_such(sample):
    (problem,) = problems_of(sample.replace("<Year>20229</Year>", '<Year xmlns="">2023</Year>'))

    assert problem.path == "/QReport/Year"
    assert "not in the namespace" in problem.message


@pytest.mark.parametrize(
    ("written", "detail"),
    [("548,5", "decimal separator"), ("1,548", "decimal separator"), ("5.48e2", ""), ("about 548", "")],
)
def test_numbers_not_in_xml_notation_are_refused_naming_the_element(sample, written, detail):
    xml = sample.replace("<NetMass>548</NetMass>", f"<NetMass>{written}</NetMass>")

    (problem,) = problems_of(xml)

    assert problem.path == "/QReport/ImportedGood[1]/GoodsEmissions[1]/ProducedMeasure/NetMass"
    assert problem.message.startswith(f"“{written}” is not a number")
    assert detail in problem.message
    assert problem.line == line_of(sample, "<NetMass>548</NetMass>")


def test_latitude_out_of_range_in_a_second_good_is_located_precisely(sample):
    xml = with_second_good(sample, lambda block: block.replace("41.0091982", "141.5", 1))

    (problem,) = problems_of(xml)

    assert problem.path == "/QReport/ImportedGood[2]/GoodsEmissions[1]/Installation/Address/Latitude"
    assert "between -90 and 90" in problem.message


def test_a_country_that_is_not_two_letters_is_refused(sample):
    (problem,) = problems_of(
        sample.replace(
            "<ProductionCountry>TR</ProductionCountry>", "<ProductionCountry>TUR</ProductionCountry>", 1
        )
    )

    assert problem.path == "/QReport/ImportedGood[1]/GoodsEmissions[1]/ProductionCountry"
    assert "not a 2-letter country code" in problem.message


def test_a_missing_required_element_is_named(sample):
    (problem,) = problems_of(sample.replace("<InstallationId>IN01</InstallationId>", ""))

    assert problem.path == "/QReport/ImportedGood[1]/GoodsEmissions[2]/Installation/InstallationId"
    assert problem.message == "Required element is missing."


def test_a_report_without_goods_is_refused(sample):
    xml = sample.replace(good_block(sample), "")

    (problem,) = problems_of(xml)

    assert problem.path == "/QReport/ImportedGood[1]"


def test_every_problem_is_reported_at_once(sample):
    xml = (
        sample.replace("<Year>20229</Year>", "<Year>twenty</Year>")
        .replace("<OverallEmissions>189</OverallEmissions>", "<OverallEmissions>1 89</OverallEmissions>")
        .replace("<Currency>USD</Currency>", "<Currency>$</Currency>")
    )

    problems = problems_of(xml)

    assert [p.path for p in problems] == [
        "/QReport/Year",
        "/QReport/ImportedGood[1]/GoodsEmissions[2]/InstallationEmissions/OverallEmissions",
        "/QReport/ImportedGood[1]/GoodsEmissions[2]/CarbonPriceDue[1]/Currency",
    ]
    assert "not a whole number" in problems[0].message
    assert "3-letter currency code" in problems[2].message


def test_the_error_message_lists_the_problems(sample):
    with pytest.raises(QReportError) as caught:
        parse_qreport(sample.replace("<Year>20229</Year>", "<Year>MMXXIII</Year>").encode())

    assert isinstance(caught.value, ValueError)
    assert "/QReport/Year (line 6): “MMXXIII” is not a whole number" in str(caught.value)


@pytest.mark.parametrize(
    ("hs", "cn", "path", "message"),
    [
        ("7609", "00", "HsCode", "not a 6-digit HS code"),
        ("760900", "76100000", "CnCode", "does not start with the HS code 760900"),
        ("760900", "000", "CnCode", "neither the 2 CN digits nor an 8-digit CN code"),
    ],
)
def test_a_cn_code_that_does_not_make_eight_digits_is_refused(sample, hs, cn, path, message):
    xml = sample.replace("<HsCode>760900</HsCode>", f"<HsCode>{hs}</HsCode>").replace(
        "<CnCode>76090000</CnCode>", f"<CnCode>{cn}</CnCode>"
    )

    (problem,) = problems_of(xml)

    assert problem.path == f"/QReport/ImportedGood[1]/CommodityCode/{path}"
    assert message in problem.message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, places=7, min_value=-(10**8), max_value=10**8)
)
def test_any_decimal_in_xml_notation_is_read_exactly(sample, value):
    xml = sample.replace(
        "<EmissionsPerUnit>24.75454</EmissionsPerUnit>", f"<EmissionsPerUnit>{value:f}</EmissionsPerUnit>"
    )

    report = parse_qreport(xml.encode())

    read = report.imported_goods[0].total_emissions.emissions_per_unit
    assert read == value
    assert f"{read:f}" == f"{value:f}"  # same digits, no float rounding


def test_a_long_list_of_problems_is_summarised_in_the_message():
    from declarations.qreport import Problem

    error = QReportError([Problem(f"/QReport/ImportedGood[{n}]", "Broken.", n) for n in range(1, 13)])

    assert len(error.problems) == 12
    assert str(error).startswith(
        "The quarterly report cannot be read (12 problems): /QReport/ImportedGood[1] (line 1): Broken."
    )
    assert str(error).endswith("; and 2 more")
