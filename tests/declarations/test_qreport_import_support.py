"""Fixtures (imported by the test modules under their `_fixture` names) for the quarterly report import tests: the Commission sample, a schema-valid variant
of it built with lxml, the XSD setting and helpers to upload and run the import job."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import etree

from cbam_portal.core.actor import Actor
from declarations.services.qreports import historic_report_uploads_create
from tests.conftest import make_personas, require_shared_data

NS = "http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"
MAIN_XSD = "cbam_transitional_QReport_v17.03.xsd"
STYPES_XSD = "cbam_transitional_stypes_v17.03.xsd"
SAMPLE = "cbam_transitional_sample_quarterly_report.xml"


#: The EORI of the Declarant (and Importer) of the Commission sample.
SAMPLE_EORI = "GR293847584930295"


@pytest.fixture(name="personas")
def personas_fixture(db):
    """The usual personas, their organisation registered under the sample declarant's EORI (a
    report is imported only by the organisation that filed it or is its importer)."""
    personas = make_personas()
    personas.organisation.eori = SAMPLE_EORI
    personas.organisation.save(update_fields=["eori"])
    return personas


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _element(name: str, text: str) -> etree._Element:
    element = etree.Element(q(name))
    element.text = text
    return element


@pytest.fixture(name="sample_bytes")
def sample_bytes_fixture() -> bytes:
    return require_shared_data(SAMPLE).read_bytes()


@pytest.fixture(name="xsd_path")
def xsd_path_fixture():
    require_shared_data(STYPES_XSD)
    return require_shared_data(MAIN_XSD)


@pytest.fixture(name="with_xsd")
def with_xsd_fixture(settings, xsd_path):
    settings.CBAM_QREPORT_XSD = str(xsd_path)
    return xsd_path


@pytest.fixture(name="without_xsd")
def without_xsd_fixture(settings):
    settings.CBAM_QREPORT_XSD = ""


def schema_valid(
    sample: bytes, *, year: int = 2023, period: str = "Q4", draft_id: str = "DRAFT-2023-Q4-0001"
) -> bytes:
    """The Commission sample with its known differences from schema v17.03 fixed (with lxml):
    the Year (20229), the empty ReportId (a DraftReportId is required), the missing header totals,
    Importer before Representative, the misspelt ApplicableMethdologyConfirmation, the full CN code
    in CnCode (an2), the 5-character supporting document type and attachments without Binary."""
    root = etree.fromstring(sample)
    root.find(q("Year")).text = str(year)
    root.find(q("ReportingPeriod")).text = period
    report_id = root.find(q("ReportId"))
    report_id.tag = q("DraftReportId")
    report_id.text = draft_id
    year_element = root.find(q("Year"))
    year_element.addnext(_element("TotalImported", "1"))
    root.find(q("TotalImported")).addnext(_element("TotalEmissions", "13615"))
    importer = root.find(q("Importer"))
    root.find(q("Representative")).addnext(importer)
    for element in root.iter(q("ApplicableMethdologyConfirmation")):
        element.tag = q("ApplicableMethodologyConfirmation")
    for element in root.iter(q("CnCode")):
        if element.text == "76090000":
            element.text = "00"
    for element in root.iter(q("Type")):
        if element.text == "TED02":
            element.text = "TD02"
    for mime in root.iter(q("MIME")):
        mime.addnext(_element("Binary", "UEsDBA=="))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_parties(
    data: bytes,
    *,
    declarant: str | None = None,
    declarant_name: str | None = None,
    importer: str | None = None,
    report_id: str | None = None,
    submitted: str | None = None,
) -> bytes:
    """The report with another Declarant / Importer EORI (and name), ReportId or SubmissionDate."""
    root = etree.fromstring(data)
    for party, eori in (("Declarant", declarant), ("Importer", importer)):
        if eori is not None:
            root.find(f"{q(party)}/{q('IdentificationNumber')}").text = eori
    if declarant_name is not None:
        root.find(f"{q('Declarant')}/{q('Name')}").text = declarant_name
    if report_id is not None:
        element = root.find(q("ReportId"))
        if element is None:
            element = root.find(q("DraftReportId"))
            element.tag = q("ReportId")
        element.text = report_id
    if submitted is not None:
        root.find(q("SubmissionDate")).text = submitted
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def xml_file(data: bytes, name: str = "report.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/xml")


def upload_and_run(personas, *files, capture, organisation=None, user=None):
    """Upload files as the owner and run the job (Celery is eager in tests)."""
    with capture(execute=True):
        uploads, job = historic_report_uploads_create(
            actor=Actor(user=user or personas.owner),
            organisation=organisation or personas.organisation,
            uploaded_files=list(files),
        )
    for upload in uploads:
        upload.refresh_from_db()
    if job is not None:
        job.refresh_from_db()
    return uploads, job
