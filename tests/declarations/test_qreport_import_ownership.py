"""Importing quarterly reports: only the organisation's own reports are accepted (by EORI), and a
corrected report (same ReportId, another file) replaces the earlier one instead of adding to it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from lxml import etree

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.models import (
    HistoricEmission,
    HistoricInstallation,
    HistoricReport,
    HistoricUploadStatus,
    Supplier,
)
from declarations.services.qreports import historic_report_uploads_create
from tests.conftest import api_login, login
from tests.factories import MembershipFactory, RepresentationFactory, RepresentativeFactory

from .test_qreport_import_support import (  # noqa: F401  (fixtures)
    SAMPLE_EORI,
    personas_fixture,
    q,
    sample_bytes_fixture,
    schema_valid,
    upload_and_run,
    with_parties,
    with_xsd_fixture,
    without_xsd_fixture,
    xml_file,
    xsd_path_fixture,
)

pytestmark = pytest.mark.django_db


def nothing_saved() -> bool:
    return not (
        HistoricReport.objects.exists()
        or HistoricEmission.objects.exists()
        or HistoricInstallation.objects.exists()
        or Supplier.objects.exists()
    )


def with_see(data: bytes, see_direct: str) -> bytes:
    root = etree.fromstring(data)
    root.find(f".//{q('DirectEmissions')}/{q('SpecificEmbeddedEmissions')}").text = see_direct
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------------------------------
# Whose report it is
# ---------------------------------------------------------------------------------------------


def test_a_report_filed_by_another_eori_is_rejected_naming_both_eoris_and_nothing_is_saved(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    data = with_parties(
        schema_valid(sample_bytes),
        declarant="FR123456789012",
        declarant_name="Autre Importateur SA",
        importer="FR123456789012",
    )

    (upload,), job = upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    assert upload.status == HistoricUploadStatus.REJECTED and upload.problem_count == 1
    (problem,) = upload.problems
    assert problem["path"] == "/QReport/Declarant/IdentificationNumber"
    assert problem["line"] is not None
    assert problem["message"] == (
        "This report was filed by EORI FR123456789012 (Autre Importateur SA); your organisation's EORI is "
        f"{SAMPLE_EORI}: import reports of your own organisation only."
    )
    assert nothing_saved()
    assert AuditEvent.objects.filter(verb="historic_report_upload.rejected").count() == 1


def test_a_report_whose_declarant_is_the_organisation_is_imported(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    data = with_parties(schema_valid(sample_bytes), importer="FR123456789012")

    (upload,), _job = upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    assert upload.status == HistoricUploadStatus.IMPORTED
    report = HistoricReport.objects.get()
    assert (report.declarant_eori, report.importer_eori) == (SAMPLE_EORI, "FR123456789012")


def test_a_report_naming_the_organisation_as_importer_is_imported_and_eoris_compare_in_upper_case(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    personas.organisation.eori = "de000000000042"
    personas.organisation.save(update_fields=["eori"])
    data = with_parties(schema_valid(sample_bytes), declarant="IT293847584930295", importer="DE000000000042")

    (upload,), _job = upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    assert upload.status == HistoricUploadStatus.IMPORTED
    assert HistoricReport.objects.get().importer_eori == "DE000000000042"


def test_a_representative_acting_for_the_importer_imports_the_report_it_filed_for_it(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    representative = RepresentativeFactory(eori="NL123456789")
    RepresentationFactory(representative=representative, importer=personas.organisation)
    agent = MembershipFactory(organisation=representative, role="preparer").user
    # The representative filed the report as declarant, for the importer.
    data = with_parties(schema_valid(sample_bytes), declarant="NL123456789", importer=SAMPLE_EORI)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(agent, personas.organisation).post(
            reverse("declarations:historic_report_upload"), {"files": [xml_file(data)]}
        )

    assert response.status_code == 302
    report = HistoricReport.objects.get()
    assert report.organisation == personas.organisation
    assert (report.declarant_eori, report.importer_eori) == ("NL123456789", SAMPLE_EORI)


def test_a_representative_cannot_import_for_an_importer_a_report_of_another_importer(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    representative = RepresentativeFactory(eori="NL123456789")
    RepresentationFactory(representative=representative, importer=personas.organisation)
    data = with_parties(schema_valid(sample_bytes), declarant="NL123456789", importer="FR123456789012")

    (upload,), _job = upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    assert upload.status == HistoricUploadStatus.REJECTED
    assert "filed by EORI NL123456789" in upload.problems[0]["message"]
    assert nothing_saved()


def test_an_organisation_without_an_eori_is_told_to_record_it_first_and_nothing_is_stored(
    personas, sample_bytes, with_xsd
):
    personas.organisation.eori = ""
    personas.organisation.save(update_fields=["eori"])

    with pytest.raises(ValidationError) as refused:
        historic_report_uploads_create(
            actor=Actor(user=personas.owner),
            organisation=personas.organisation,
            uploaded_files=[xml_file(schema_valid(sample_bytes))],
        )

    (message,) = refused.value.message_dict["files"]
    assert "has no EORI number recorded" in message and "record the organisation's EORI" in message
    assert nothing_saved()


def test_the_upload_page_shows_the_missing_eori_message(personas, sample_bytes, with_xsd):
    personas.organisation.eori = ""
    personas.organisation.save(update_fields=["eori"])

    response = login(personas.owner, personas.organisation).post(
        reverse("declarations:historic_report_upload"), {"files": [xml_file(schema_valid(sample_bytes))]}
    )

    assert response.status_code in (200, 400)
    assert "has no EORI number recorded" in response.content.decode()
    assert nothing_saved()


# ---------------------------------------------------------------------------------------------
# Corrected reports
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def original_and_correction(personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks):
    base = schema_valid(sample_bytes)
    original = with_parties(base, report_id="23GR0000000000001", submitted="2024-01-20T10:00:00Z")
    correction = with_see(
        with_parties(base, report_id="23GR0000000000001", submitted="2024-07-15T09:30:00Z"), "21.25"
    )
    (first,), _job = upload_and_run(
        personas, xml_file(original, "q4.xml"), capture=django_capture_on_commit_callbacks
    )
    (second,), _job = upload_and_run(
        personas, xml_file(correction, "q4-corrected.xml"), capture=django_capture_on_commit_callbacks
    )
    return first, second


def test_a_corrected_report_supersedes_the_earlier_one_which_is_kept_for_the_record(
    personas, original_and_correction
):
    first, second = original_and_correction

    assert (first.status, second.status) == (HistoricUploadStatus.IMPORTED, HistoricUploadStatus.IMPORTED)
    old, new = HistoricReport.objects.get(pk=first.report_id), HistoricReport.objects.get(pk=second.report_id)
    assert old.superseded_by == new and old.superseded_at is not None
    assert new.superseded_by is None
    assert HistoricReport.objects.count() == 2 and HistoricEmission.objects.count() == 4
    current = HistoricReport.objects.filter(superseded_by__isnull=True)
    assert list(current) == [new]
    assert sum(r.embedded_emissions_total for r in current) == Decimal("13615")
    assert Supplier.objects.count() == 1
    event = AuditEvent.objects.get(verb="historic_report.superseded")
    assert event.after["superseded_by"] == new.pk and event.after["report_id"] == "23GR0000000000001"
    imported = AuditEvent.objects.filter(verb="historic_report.imported").order_by("pk").last()
    assert imported.after["supersedes"] == [old.pk]


def test_the_supplier_section_shows_only_the_corrected_see(personas, original_and_correction):
    supplier = Supplier.objects.get()

    html = (
        login(personas.owner, personas.organisation)
        .get(reverse("declarations:supplier_historic_emissions", args=[supplier.pk]))
        .content.decode()
    )

    assert '<td class="num">21.25</td>' in html
    assert '<td class="num">23.5</td>' not in html


def test_the_list_shows_current_reports_and_superseded_ones_with_a_badge_on_request(
    personas, original_and_correction, django_assert_max_num_queries
):
    client = login(personas.owner, personas.organisation)
    url = reverse("declarations:historic_report_list")

    current = client.get(url).content.decode()
    with django_assert_max_num_queries(12):
        everything = client.get(url + "?superseded=1").content.decode()

    assert current.count("23GR0000000000001") == 1 and ">superseded</span>" not in current
    assert everything.count("23GR0000000000001") == 2 and everything.count(">superseded</span>") == 1
    old = HistoricReport.objects.get(superseded_by__isnull=False)
    detail = client.get(reverse("declarations:historic_report_detail", args=[old.pk])).content.decode()
    assert "A corrected report with the same report id replaced this one" in detail


def test_the_api_lists_current_reports_by_default_and_all_on_request(
    personas, original_and_correction, django_assert_max_num_queries
):
    first, second = original_and_correction
    client = api_login(personas.owner, personas.organisation)

    with django_assert_max_num_queries(10):
        default = client.get("/api/v1/historic-reports/").json()
    everything = client.get("/api/v1/historic-reports/?include_superseded=true").json()
    emissions = client.get("/api/v1/historic-emissions/").json()
    old_emissions = client.get(f"/api/v1/historic-emissions/?report={first.report_id}").json()
    old = client.get(f"/api/v1/historic-reports/{first.report_id}/").json()

    def rows(body):
        return body["results"] if isinstance(body, dict) else body

    assert [r["id"] for r in rows(default)] == [second.report_id]
    assert sorted(r["id"] for r in rows(everything)) == sorted([first.report_id, second.report_id])
    assert {e["report"] for e in rows(emissions)} == {second.report_id}
    see = {Decimal(e["see_direct"]) for e in rows(emissions)}
    assert Decimal("21.25") in see and Decimal("23.5") not in see
    assert len(rows(old_emissions)) == 2
    assert old["superseded_by"] == second.report_id and old["superseded_at"] is not None
    outsider = api_login(personas.outsider, personas.other_organisation)
    assert rows(outsider.get("/api/v1/historic-reports/?include_superseded=true").json()) == []


def test_an_older_version_uploaded_after_its_correction_does_not_replace_it(
    personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks
):
    base = schema_valid(sample_bytes)
    correction = with_see(
        with_parties(base, report_id="23GR0000000000001", submitted="2024-07-15T09:30:00Z"), "21.25"
    )
    original = with_parties(base, report_id="23GR0000000000001", submitted="2024-01-20T10:00:00Z")

    (newer,), _job = upload_and_run(
        personas, xml_file(correction), capture=django_capture_on_commit_callbacks
    )
    (older,), _job = upload_and_run(personas, xml_file(original), capture=django_capture_on_commit_callbacks)

    assert older.status == HistoricUploadStatus.IMPORTED
    assert HistoricReport.objects.get(pk=older.report_id).superseded_by_id == newer.report_id
    assert HistoricReport.objects.get(pk=newer.report_id).superseded_by is None
