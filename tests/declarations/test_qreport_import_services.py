"""Importing historic transitional quarterly reports: what is created, what is refused, and that
nothing is ever half-saved or duplicated."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from cbam_portal.core.actor import Actor
from cbam_portal.core.jobs import job_run
from cbam_portal.core.models import AuditEvent, JobStatus
from declarations.models import (
    HistoricEmission,
    HistoricInstallation,
    HistoricReport,
    HistoricReportUpload,
    HistoricUploadStatus,
    Supplier,
)
from declarations.services.qreports import historic_report_uploads_create, qreport_schema_check
from declarations.services.suppliers import supplier_create
from emissions.models import Installation
from tests.factories import OperatorFactory

from .test_qreport_import_support import (  # noqa: F401  (fixtures)
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
from .test_qreport_security import BILLION_LAUGHS, EXTERNAL_ENTITY

pytestmark = pytest.mark.django_db


def nothing_saved() -> bool:
    return not (
        HistoricReport.objects.exists()
        or HistoricEmission.objects.exists()
        or HistoricInstallation.objects.exists()
        or Supplier.objects.exists()
    )


def edited(data: bytes, edit) -> bytes:
    root = etree.fromstring(data)
    edit(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------------------------------
# The Commission sample against the XSD
# ---------------------------------------------------------------------------------------------


def test_with_the_xsd_the_commission_sample_is_rejected_naming_its_year_and_nothing_is_saved(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    (upload,), job = upload_and_run(
        personas, xml_file(sample_bytes), capture=django_capture_on_commit_callbacks
    )

    assert upload.status == HistoricUploadStatus.REJECTED
    (year,) = [p for p in upload.problems if p["path"] == "/QReport/Year"]
    assert year["line"] == 6 and "20229" in year["message"]
    assert upload.problem_count == len(upload.problems) == 8
    assert job.status == JobStatus.FAILED
    assert "Nothing was imported: report.xml has 8 problems" in job.error
    assert nothing_saved()
    assert AuditEvent.objects.filter(verb="historic_report_upload.rejected").count() == 1


def test_the_schema_valid_variant_imports_and_prefills_suppliers_installations_and_emissions(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    (upload,), job = upload_and_run(
        personas,
        xml_file(schema_valid(sample_bytes), "2023-Q4.xml"),
        capture=django_capture_on_commit_callbacks,
    )

    assert job.status == JobStatus.DONE and job.result["imported"] == 1
    assert upload.status == HistoricUploadStatus.IMPORTED and upload.schema_validated
    report = HistoricReport.objects.get()
    assert upload.report == report
    assert (report.year, report.quarter, report.period) == (2023, 4, "2023-Q4")
    assert (report.draft_report_id, report.report_id) == ("DRAFT-2023-Q4-0001", "")
    assert (report.declarant_eori, report.declarant_name) == ("GR293847584930295", "Declarant CBAM")
    assert (report.goods_count, report.emissions_count) == (1, 2)
    assert report.imported_net_mass_total == Decimal("550")
    assert report.embedded_emissions_total == Decimal("13615")
    assert (report.header_total_imported, report.header_total_emissions) == (1, Decimal("13615"))
    assert report.schema_validated and report.uploaded_by == personas.owner

    (supplier,) = Supplier.objects.all()
    assert (supplier.organisation, supplier.name, supplier.country) == (
        personas.organisation,
        "TR Steel Operator LTD",
        "TR",
    )
    augusta, bursa = HistoricInstallation.objects.order_by("name")
    assert (augusta.operator_id, augusta.installation_id, augusta.name) == (
        "OP04-0001",
        "IN03",
        "Augusta Steel INC",
    )
    assert (augusta.latitude, augusta.longitude) == (Decimal("41.0091982"), Decimal("28.9662187"))
    assert (augusta.country, augusta.city, augusta.postcode) == ("TR", "Istanbul", "200042")
    assert (bursa.installation_id, bursa.name) == ("IN01", "Bursa steel factory INC")
    assert {augusta.supplier, bursa.supplier} == {supplier}
    assert not Installation.objects.exists()  # operator-side records are the operators' own

    first, second = HistoricEmission.objects.order_by("sequence_number")
    assert (first.cn_code, first.origin_country, first.production_country) == ("76090000", "TR", "TR")
    assert (first.imported_net_mass, first.imported_unit) == (Decimal("550"), "01")
    assert (first.produced_net_mass, first.see_direct, first.see_indirect) == (
        Decimal("548"),
        Decimal("23.5"),
        Decimal("1"),
    )
    assert (first.direct_determination_type, first.indirect_determination_type, first.see_unit) == (
        "01",
        "02",
        "EMU1",
    )
    assert first.installation == augusta and first.supplier == supplier
    assert first.installation_emissions_total == Decimal("13426")
    assert first.qualifying_params[0]["method_id"] == "P11"
    assert first.qualifying_params[0]["direct"][0] == {
        "id": "EQP08",
        "name": "Post-consumer scrap (Aluminium)",
        "value": "7",
        "type": "PERCENTAGE",
    }
    assert first.path == "/QReport/ImportedGood[1]/GoodsEmissions[1]"
    assert (second.see_direct, second.see_indirect, second.produced_net_mass) == (
        Decimal("15"),
        Decimal("79.5"),
        Decimal("2000"),
    )
    assert second.installation == bursa
    (price,) = second.carbon_price_due
    assert (price["amount"], price["currency"], price["amount_eur"], price["country"]) == (
        "500.519",
        "USD",
        "592.5",
        "TR",
    )
    assert price["products"] == [{"type": "TPC01", "cn": "76090000", "quantity_covered": "5"}]
    assert (
        AuditEvent.objects.filter(verb="historic_report.imported", organisation=personas.organisation).count()
        == 1
    )
    assert AuditEvent.objects.filter(verb="supplier.created").count() == 1


# ---------------------------------------------------------------------------------------------
# Without the XSD: the hardened parser decides
# ---------------------------------------------------------------------------------------------


def test_without_the_xsd_the_sample_parses_but_its_year_is_refused_as_outside_the_transitional_period(
    personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks
):
    (upload,), job = upload_and_run(
        personas, xml_file(sample_bytes), capture=django_capture_on_commit_callbacks
    )

    (problem,) = upload.problems
    assert problem["path"] == "/QReport/Year" and problem["line"] == 6
    assert "20229" in problem["message"] and "transitional period" in problem["message"]
    assert job.status == JobStatus.FAILED and "/QReport/Year (line 6)" in job.error
    assert nothing_saved()


def test_without_the_xsd_a_valid_report_imports_unvalidated(
    personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks
):
    (upload,), _job = upload_and_run(
        personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks
    )

    assert upload.status == HistoricUploadStatus.IMPORTED
    assert not upload.schema_validated and not HistoricReport.objects.get().schema_validated


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (BILLION_LAUGHS, "DOCTYPE or ENTITY declaration"),
        (EXTERNAL_ENTITY, "DOCTYPE or ENTITY declaration"),
        (b"MRN;line;CN\n24DE1;1;72081000\n", "not well-formed XML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not well-formed XML"),
    ],
    ids=["billion-laughs", "external-entity", "csv", "binary"],
)
def test_without_the_xsd_unsafe_or_non_xml_files_are_refused_with_a_clear_problem(
    personas, without_xsd, payload, expected, django_capture_on_commit_callbacks
):
    (upload,), job = upload_and_run(personas, xml_file(payload), capture=django_capture_on_commit_callbacks)

    assert upload.status == HistoricUploadStatus.REJECTED
    (problem,) = upload.problems
    assert problem["path"] == "/" and expected in problem["message"]
    assert job.status == JobStatus.FAILED and expected in job.error
    assert nothing_saved()


def test_a_too_large_file_is_refused_before_anything_is_stored(personas, settings, without_xsd, sample_bytes):
    settings.CBAM_MAX_UPLOAD_BYTES = 1000

    with pytest.raises(ValidationError) as caught:
        historic_report_uploads_create(
            actor=Actor(user=personas.owner),
            organisation=personas.organisation,
            uploaded_files=[xml_file(sample_bytes, "big.xml")],
        )

    (message,) = caught.value.message_dict["files"]
    assert message.startswith("big.xml is ") and "the limit is 1000" in message
    assert not HistoricReportUpload.objects.exists()


def test_an_empty_file_is_refused(personas, without_xsd):
    with pytest.raises(ValidationError, match="empty.xml is empty"):
        historic_report_uploads_create(
            actor=Actor(user=personas.owner),
            organisation=personas.organisation,
            uploaded_files=[xml_file(b"", "empty.xml")],
        )


def test_a_report_missing_required_values_names_each_element(
    personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks
):
    def drop(root):
        good = root.find(q("ImportedGood"))
        good.remove(good.find(q("OriginCountry")))

    (upload,), _job = upload_and_run(
        personas,
        xml_file(edited(schema_valid(sample_bytes), drop)),
        capture=django_capture_on_commit_callbacks,
    )

    assert upload.status == HistoricUploadStatus.REJECTED
    assert [p["path"] for p in upload.problems] == ["/QReport/ImportedGood[1]/OriginCountry"]
    assert nothing_saved()


# ---------------------------------------------------------------------------------------------
# Transitional period only
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "period", "accepted"),
    [(2023, "Q3", False), (2023, "Q4", True), (2025, "Q4", True), (2026, "Q1", False), (2022, "Q4", False)],
)
def test_only_quarters_of_the_transitional_period_are_imported(
    personas, sample_bytes, with_xsd, year, period, accepted, django_capture_on_commit_callbacks
):
    data = schema_valid(sample_bytes, year=year, period=period)

    (upload,), _job = upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    if accepted:
        assert HistoricReport.objects.get().period == f"{year}-{period}"
    else:
        (problem,) = upload.problems
        assert problem["path"] == "/QReport/Year" and "2023 Q4 to 2025 Q4" in problem["message"]
        assert nothing_saved()


def test_a_reporting_period_that_is_not_a_quarter_is_refused_without_the_xsd(
    personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks
):
    (upload,), _job = upload_and_run(
        personas,
        xml_file(schema_valid(sample_bytes, period="H2")),
        capture=django_capture_on_commit_callbacks,
    )

    (problem,) = upload.problems
    assert problem["path"] == "/QReport/ReportingPeriod" and "“H2”" in problem["message"]
    assert problem["line"] == 5


def test_a_value_with_more_decimals_than_the_schema_allows_is_refused_not_rounded(
    personas, sample_bytes, without_xsd, django_capture_on_commit_callbacks
):
    def precise(root):
        root.find(f".//{q('DirectEmissions')}/{q('SpecificEmbeddedEmissions')}").text = "23.123456789"

    (upload,), _job = upload_and_run(
        personas,
        xml_file(edited(schema_valid(sample_bytes), precise)),
        capture=django_capture_on_commit_callbacks,
    )

    (problem,) = upload.problems
    assert (
        problem["path"]
        == "/QReport/ImportedGood[1]/GoodsEmissions[1]/DirectEmissions/SpecificEmbeddedEmissions"
    )
    assert "more than 7 decimal places" in problem["message"]
    assert nothing_saved()


# ---------------------------------------------------------------------------------------------
# Idempotence, suppliers matching, tenancy
# ---------------------------------------------------------------------------------------------


def test_uploading_the_same_file_again_changes_nothing(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    data = schema_valid(sample_bytes)
    (first,), _job = upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    (again,), job = upload_and_run(
        personas, xml_file(data, "copy.xml"), capture=django_capture_on_commit_callbacks
    )

    assert job is None
    assert again.status == HistoricUploadStatus.DUPLICATE and again.report == first.report
    assert (HistoricReport.objects.count(), HistoricEmission.objects.count()) == (1, 2)
    assert (Supplier.objects.count(), HistoricInstallation.objects.count()) == (1, 2)


def test_the_same_file_twice_in_one_upload_is_imported_once(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    data = schema_valid(sample_bytes)

    (one, two), job = upload_and_run(
        personas, xml_file(data, "a.xml"), xml_file(data, "b.xml"), capture=django_capture_on_commit_callbacks
    )

    assert (one.status, two.status) == (HistoricUploadStatus.IMPORTED, HistoricUploadStatus.DUPLICATE)
    assert two.report == one.report
    assert job.status == JobStatus.DONE and (job.result["imported"], job.result["duplicate"]) == (1, 1)
    assert HistoricEmission.objects.count() == 2


def test_running_the_job_again_changes_nothing(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    (_upload,), job = upload_and_run(
        personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks
    )
    type(job).objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)  # as if the message came back

    job_run(job.pk)

    assert (HistoricReport.objects.count(), HistoricEmission.objects.count(), Supplier.objects.count()) == (
        1,
        2,
        1,
    )


def test_one_broken_file_does_not_stop_the_others(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    (good, bad), job = upload_and_run(
        personas,
        xml_file(schema_valid(sample_bytes), "good.xml"),
        xml_file(sample_bytes[:300], "broken.xml"),
        capture=django_capture_on_commit_callbacks,
    )

    assert (good.status, bad.status) == (HistoricUploadStatus.IMPORTED, HistoricUploadStatus.REJECTED)
    assert bad.problems[0]["line"] is not None and "not well-formed" in bad.problems[0]["message"]
    assert job.status == JobStatus.DONE and (job.result["imported"], job.result["rejected"]) == (1, 1)
    assert HistoricReport.objects.count() == 1


def test_an_existing_supplier_is_matched_by_name_and_another_organisations_is_never_touched(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    mine = supplier_create(
        actor=Actor(user=personas.owner),
        organisation=personas.organisation,
        name="tr steel operator ltd",
        country="TR",
    )
    theirs = supplier_create(
        actor=Actor(user=personas.outsider),
        organisation=personas.other_organisation,
        name="TR Steel Operator LTD",
        country="TR",
    )

    upload_and_run(personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks)

    assert set(Supplier.objects.values_list("pk", flat=True)) == {mine.pk, theirs.pk}
    assert set(HistoricEmission.objects.values_list("supplier", flat=True)) == {mine.pk}
    assert not theirs.historic_installations.exists() and not theirs.historic_emissions.exists()
    assert set(HistoricInstallation.objects.values_list("organisation", flat=True)) == {
        personas.organisation.pk
    }


def test_a_later_report_finds_the_supplier_by_operator_id_even_under_another_name(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    upload_and_run(personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks)

    def renamed(root):
        for name in root.iter(q("OperatorName")):
            name.text = "TR Steel Operator A.S."

    later = edited(schema_valid(sample_bytes, year=2024, period="Q1", draft_id="DRAFT-2024-Q1"), renamed)
    upload_and_run(personas, xml_file(later, "2024-Q1.xml"), capture=django_capture_on_commit_callbacks)

    (supplier,) = Supplier.objects.all()
    assert HistoricInstallation.objects.count() == 2
    assert HistoricEmission.objects.filter(supplier=supplier).count() == 4
    assert sorted(HistoricReport.objects.values_list("quarter", "year")) == [(1, 2024), (4, 2023)]


def test_a_report_naming_two_organisations_as_declarant_and_importer_is_imported_by_each_for_itself(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    data = with_parties(schema_valid(sample_bytes), importer=personas.other_organisation.eori)
    upload_and_run(personas, xml_file(data), capture=django_capture_on_commit_callbacks)

    (other,), _job = upload_and_run(
        personas,
        xml_file(data),
        capture=django_capture_on_commit_callbacks,
        organisation=personas.other_organisation,
        user=personas.outsider,
    )

    assert other.status == HistoricUploadStatus.IMPORTED
    assert Supplier.objects.filter(organisation=personas.other_organisation).count() == 1
    assert HistoricReport.objects.count() == 2


def test_operators_cannot_import_quarterly_reports(personas, sample_bytes):
    with pytest.raises(ValidationError, match="Only declarants"):
        historic_report_uploads_create(
            actor=Actor(user=personas.owner),
            organisation=OperatorFactory(),
            uploaded_files=[xml_file(sample_bytes)],
        )


# ---------------------------------------------------------------------------------------------
# The XSD setting
# ---------------------------------------------------------------------------------------------


def test_a_missing_xsd_rejects_the_upload_with_a_clear_configuration_message(
    personas, settings, sample_bytes, tmp_path, django_capture_on_commit_callbacks
):
    settings.CBAM_QREPORT_XSD = str(tmp_path / "absent.xsd")

    (upload,), job = upload_and_run(
        personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks
    )

    (problem,) = upload.problems
    assert "CBAM_QREPORT_XSD cannot be used" in problem["message"] and "does not exist" in problem["message"]
    assert job.status == JobStatus.FAILED
    assert nothing_saved()


def test_the_system_check_warns_about_an_unusable_xsd_and_is_quiet_otherwise(settings, tmp_path, xsd_path):
    settings.CBAM_QREPORT_XSD = str(tmp_path / "absent.xsd")
    (warning,) = qreport_schema_check()
    assert warning.id == "declarations.W001" and "does not exist" in warning.msg

    settings.CBAM_QREPORT_XSD = str(xsd_path)
    assert qreport_schema_check() == []
    settings.CBAM_QREPORT_XSD = ""
    assert qreport_schema_check() == []


def test_an_unexpected_error_rejects_that_file_only_and_the_batch_goes_on(
    personas, sample_bytes, with_xsd, monkeypatch, django_capture_on_commit_callbacks
):
    from declarations.services import qreports

    real = qreports._write
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["upload"].file_name)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return real(**kwargs)

    monkeypatch.setattr(qreports, "_write", flaky)

    (first, second), job = upload_and_run(
        personas,
        xml_file(schema_valid(sample_bytes), "first.xml"),
        xml_file(schema_valid(sample_bytes, period="Q4", draft_id="OTHER"), "second.xml"),
        capture=django_capture_on_commit_callbacks,
    )

    assert first.status == HistoricUploadStatus.REJECTED
    assert (
        "unexpected error" in first.problems[0]["message"]
        and "disk on fire" not in first.problems[0]["message"]
    )
    assert second.status == HistoricUploadStatus.IMPORTED
    assert job.status == JobStatus.DONE and HistoricReport.objects.count() == 1
