"""Validating quarterly reports against the Commission's QReport XSD v17.03."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from declarations.qreport import parse_qreport, validate_qreport
from declarations.qreport.validate import schema_for
from tests.conftest import require_shared_data

MAIN_XSD = "cbam_transitional_QReport_v17.03.xsd"
STYPES_XSD = "cbam_transitional_stypes_v17.03.xsd"
SAMPLE = "cbam_transitional_sample_quarterly_report.xml"


@pytest.fixture
def xsd_path() -> Path:
    require_shared_data(STYPES_XSD)
    return require_shared_data(MAIN_XSD)


@pytest.fixture
def sample() -> str:
    return require_shared_data(SAMPLE).read_text(encoding="utf-8")


def year_corrected(sample: str) -> str:
    return sample.replace("<Year>20229</Year>", "<Year>2023</Year>")


def conformed_to_v17_03(sample: str) -> str:
    """The sample with its year corrected and the differences from schema v17.03 removed.

    The Commission sample predates v17.03: it lacks DraftReportId/TotalImported/TotalEmissions,
    has an empty ReportId, puts Importer before Representative, misspells
    ApplicableMethodologyConfirmation, writes the full CN code in CnCode (an2), a 5-character
    supporting document Type (an4) and attachments without their Binary content.
    """
    xml = year_corrected(sample)
    xml = xml.replace("<ReportId></ReportId>", "<DraftReportId>DRAFT-2023-Q4-0001</DraftReportId>")
    xml = xml.replace(
        "<Year>2023</Year>",
        "<Year>2023</Year><TotalImported>1</TotalImported><TotalEmissions>13615</TotalEmissions>",
    )
    importer = re.search(r"\s*<Importer>.*?</Importer>", xml, re.S).group(0)
    xml = xml.replace(importer, "", 1).replace("</Representative>", "</Representative>" + importer, 1)
    xml = xml.replace("ApplicableMethdologyConfirmation", "ApplicableMethodologyConfirmation")
    xml = xml.replace("<CnCode>76090000</CnCode>", "<CnCode>00</CnCode>")
    xml = xml.replace("<Type>TED02</Type>", "<Type>TD02</Type>")
    return re.sub(r"(<MIME>[^<]*</MIME>)", r"\1<Binary>UEsDBA==</Binary>", xml)


def test_the_commission_sample_fails_validation_naming_its_year(sample, xsd_path):
    problems = validate_qreport(sample.encode(), xsd_path)

    (year,) = [p for p in problems if p.path == "/QReport/Year"]
    assert "20229" in year.message
    assert "digits" in year.message
    assert year.line == 6


def test_the_year_corrected_sample_has_no_year_problem_but_still_differs_from_v17_03(sample, xsd_path):
    problems = validate_qreport(year_corrected(sample).encode(), xsd_path)

    assert not [p for p in problems if "Year" in p.path]
    assert sorted({p.path for p in problems}) == [
        "/QReport/ImportedGood[1]/CommodityCode/CnCode",
        "/QReport/ImportedGood[1]/GoodsEmissions[1]/SupportingDocuments[1]/Attachment",
        "/QReport/ImportedGood[1]/GoodsEmissions[1]/SupportingDocuments[1]/Type",
        "/QReport/ImportedGood[1]/SupportingDocuments[1]/Attachment",
        "/QReport/ReportId",
        "/QReport/Signatures/ApplicableMethdologyConfirmation",
    ]
    assert any("'DraftReportId' expected" in p.message for p in problems)


def test_the_sample_conformed_to_v17_03_validates(sample, xsd_path, tmp_path):
    document = tmp_path / "report.xml"
    document.write_text(conformed_to_v17_03(sample), encoding="utf-8")

    assert validate_qreport(document, xsd_path) == []


def test_the_conformed_sample_parses_to_the_same_goods_with_header_totals(sample):
    original = parse_qreport(sample.encode())
    conformed = parse_qreport(conformed_to_v17_03(sample).encode())

    assert conformed.year == 2023
    assert conformed.draft_report_id == "DRAFT-2023-Q4-0001"
    assert (conformed.total_imported, conformed.total_emissions) == (1, Decimal("13615"))
    assert conformed.imported_goods[0].commodity.cn8 == original.imported_goods[0].commodity.cn8 == "76090000"
    assert conformed.imported_goods[0].goods_emissions == original.imported_goods[0].goods_emissions


def test_validation_problems_carry_the_element_path_line_and_value(sample, xsd_path):
    xml = conformed_to_v17_03(sample).replace("<Currency>USD</Currency>", "<Currency>US</Currency>")

    (problem,) = validate_qreport(xml.encode(), xsd_path)

    assert problem.path == "/QReport/ImportedGood[1]/GoodsEmissions[2]/CarbonPriceDue[1]/Currency"
    assert "“US”" in problem.message
    assert "{" not in problem.message  # namespaces are not spelled out


def test_a_missing_element_names_what_was_expected(sample, xsd_path):
    xml = re.sub(
        r"<MeasurementUnit>EMU1</MeasurementUnit>(\s*</InstallationEmissions>)",
        r"\1",
        conformed_to_v17_03(sample),
        count=1,
    )

    (problem,) = validate_qreport(xml.encode(), xsd_path)

    assert problem.path == "/QReport/ImportedGood[1]/GoodsEmissions[1]/InstallationEmissions"
    assert "not complete" in problem.message
    assert "'MeasurementUnit' expected" in problem.message


def test_malformed_xml_is_returned_as_a_problem_with_its_line(sample, xsd_path):
    (problem,) = validate_qreport(sample[:500].encode(), xsd_path)

    assert problem.path == "/"
    assert problem.line is not None
    assert "not well-formed" in problem.message


def test_an_entity_attack_is_returned_as_a_problem_not_validated(xsd_path):
    document = b'<?xml version="1.0"?><!DOCTYPE QReport [<!ENTITY x SYSTEM "file:///etc/passwd">]><QReport>&x;</QReport>'

    (problem,) = validate_qreport(document, xsd_path)

    assert "DOCTYPE" in problem.message


def test_a_report_without_the_namespace_fails_validation(sample, xsd_path):
    xml = conformed_to_v17_03(sample).replace(' xmlns="http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"', "")

    problems = validate_qreport(xml.encode(), xsd_path)

    assert [p.path for p in problems] == ["/QReport"]


def test_the_schema_is_found_when_its_include_is_named_stypes_xsd(sample, xsd_path, tmp_path):
    shutil.copyfile(xsd_path, tmp_path / "QReport.xsd")
    shutil.copyfile(xsd_path.with_name(STYPES_XSD), tmp_path / "stypes.xsd")

    assert validate_qreport(conformed_to_v17_03(sample).encode(), tmp_path / "QReport.xsd") == []


def test_the_simple_types_file_can_be_given_explicitly(sample, xsd_path, tmp_path):
    shutil.copyfile(xsd_path, tmp_path / "main.xsd")

    problems = validate_qreport(
        sample.encode(), tmp_path / "main.xsd", stypes_path=xsd_path.with_name(STYPES_XSD)
    )

    assert "/QReport/Year" in [p.path for p in problems]


def test_a_schema_without_its_simple_types_is_a_configuration_error(xsd_path, tmp_path):
    shutil.copyfile(xsd_path, tmp_path / "QReport.xsd")

    with pytest.raises(FileNotFoundError, match="stypes.xsd"):
        validate_qreport(b"<QReport/>", tmp_path / "QReport.xsd")


def test_a_missing_schema_is_a_configuration_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        validate_qreport(b"<QReport/>", tmp_path / "absent.xsd")


def test_the_compiled_schema_is_reused(xsd_path):
    assert schema_for(xsd_path) is schema_for(xsd_path)


def test_the_shared_reference_folder_is_left_untouched(sample, xsd_path):
    before = sorted(p.name for p in xsd_path.parent.iterdir())

    validate_qreport(sample.encode(), xsd_path)

    assert sorted(p.name for p in xsd_path.parent.iterdir()) == before
    assert not xsd_path.with_name("stypes.xsd").exists()
