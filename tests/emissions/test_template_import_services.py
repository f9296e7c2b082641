"""Importing the Commission communication template: a draft report with every row, the portal's
SEE next to the template's, and nothing saved from a bad file."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent, Job, JobStatus
from cbam_portal.reference.models import Dataset
from emissions.models import (
    EmissionsReport,
    GoodResult,
    Installation,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
    ReportSource,
    ReportStatus,
)
from emissions.services.template_import import (
    report_export_xlsx,
    template_import_enqueue,
)
from emissions.template import read_template
from tests.emissions.test_template_reader import (
    ALL_EXAMPLES,
    CEMENT,
    STEEL_BF,
    STEEL_EAF,
    example,
    patch_cells,
)
from tests.factories import MembershipFactory, OperatorFactory


@pytest.fixture
def operator(db):
    return OperatorFactory(name="Anadolu Çelik A.Ş.")


@pytest.fixture
def operator_admin(operator):
    return MembershipFactory(organisation=operator).user


def upload(path, name=None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")


def counts() -> tuple[int, int, int, int]:
    return (
        Dataset.objects.count(),
        Installation.objects.count(),
        EmissionsReport.objects.count(),
        ProductionProcess.objects.count(),
    )


def run_import(operator, user, path, *, name=None, installation=None, capture=None) -> Job:
    with capture(execute=True):
        job = template_import_enqueue(
            actor=Actor(user=user),
            organisation=operator,
            uploaded_file=upload(path, name),
            installation=installation,
        )
    job.refresh_from_db()
    return job


def test_importing_example_2_creates_installation_draft_report_and_the_published_see(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    job = run_import(operator, operator_admin, example(STEEL_BF), capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.DONE, job.error
    report = EmissionsReport.objects.get(pk=job.result["report_id"])
    assert report.status == ReportStatus.DRAFT and report.source == ReportSource.TEMPLATE
    assert report.year == 2023 and report.version == 1
    assert report.source_file_name == example(STEEL_BF).name and report.source_file
    installation = report.installation
    assert installation.organisation == operator
    assert installation.name == "Example Blast Steelworks"
    assert (installation.country, installation.unlocode) == ("CN", "CN ABC")
    assert installation.latitude == D("16.691128")
    (process,) = report.processes.all()
    assert (process.key, process.activity_level) == ("P1", D("4800000"))
    assert sorted(ProcessGood.objects.filter(process=process).values_list("cn_code", flat=True)) == [
        "72081000",
        "72122000",
        "72139120",
        "73021028",
    ]
    result = GoodResult.objects.get(report=report, cn_code="72081000")
    assert result.see_direct.quantize(D("0.00001")) == D("1.53898")
    assert result.see_indirect.quantize(D("0.00001")) == D("0.20355")
    assert result.see_total.quantize(D("0.00001")) == D("1.74253")
    assert result.template_see_total.quantize(D("0.00001")) == D("1.74253")
    assert result.trace
    assert job.result["matches"] is True and job.result["differences"] == []
    assert job.result["created_installation"] is True
    assert {r["cn_code"] for r in job.result["rows"]} == {"72081000", "72122000", "72139120", "73021028"}
    assert AuditEvent.objects.filter(verb="emissions_report.imported", target_id=str(report.pk)).exists()


def test_importing_example_3_keeps_purchased_precursors_and_both_processes(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    job = run_import(operator, operator_admin, example(STEEL_EAF), capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.DONE, job.error
    report = EmissionsReport.objects.get(pk=job.result["report_id"])
    assert report.processes.count() == 2
    assert PurchasedPrecursor.objects.filter(process__report=report).count() == 4
    pipes = GoodResult.objects.get(report=report, cn_code="73041100")
    assert pipes.see_total.quantize(D("0.00001")) == D("3.17109")
    assert job.result["matches"] is True


def test_a_changed_input_is_imported_and_every_difference_is_flagged(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    ref = read_template(example(CEMENT)).processes[0].cells["direct_emissions_tco2e"]
    changed = patch_cells(example(CEMENT), tmp_path / "cement.xlsx", {ref: 1_000_000})

    job = run_import(operator, operator_admin, changed, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.DONE, job.error
    assert job.result["matches"] is False
    fields = {d["field"] for d in job.result["differences"]}
    assert "see_direct" in fields and "see_total" in fields
    assert all(d["cell"].startswith("Summary_Communication!") for d in job.result["differences"])


def test_a_broken_template_fails_with_cells_and_saves_nothing(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    broken = patch_cells(
        example(STEEL_BF),
        tmp_path / "broken.xlsx",
        {"Summary_Communication!I26": "lots", "Summary_Communication!F27": "99999999"},
    )
    before = counts()

    job = run_import(operator, operator_admin, broken, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "nothing was saved" in job.error
    assert "Summary_Communication!I26" in job.error and "Summary_Communication!F27" in job.error
    assert counts() == before


def test_importing_the_same_year_twice_is_refused_and_saves_nothing_more(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    first = run_import(
        operator, operator_admin, example(STEEL_BF), capture=django_capture_on_commit_callbacks
    )
    installation = Installation.objects.get(pk=first.result["installation_id"])
    before = counts()

    second = run_import(
        operator,
        operator_admin,
        example(STEEL_BF),
        installation=installation,
        capture=django_capture_on_commit_callbacks,
    )

    assert second.status == JobStatus.FAILED
    assert "already has a report for 2023" in second.error
    assert counts() == before


def test_coordinates_out_of_range_name_the_cell_and_save_nothing(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    broken = patch_cells(example(CEMENT), tmp_path / "coords.xlsx", {"A_InstData!I29": "-190.25"})
    before = counts()

    job = run_import(operator, operator_admin, broken, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "A_InstData!I29" in job.error
    assert counts() == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.csv", b"a,b\n1,2\n", "Only .xlsx files"),
        ("empty.xlsx", b"", "empty"),
    ],
)
def test_wrong_type_or_empty_uploads_are_refused_before_any_job(
    operator, operator_admin, name, content, message
):
    with pytest.raises(ValidationError) as excinfo:
        template_import_enqueue(
            actor=Actor(user=operator_admin),
            organisation=operator,
            uploaded_file=SimpleUploadedFile(name, content),
        )

    assert message in str(excinfo.value)
    assert Job.objects.count() == 0


def test_an_upload_over_the_size_limit_is_refused(operator, operator_admin, settings):
    settings.CBAM_MAX_UPLOAD_BYTES = 100

    with pytest.raises(ValidationError) as excinfo:
        template_import_enqueue(
            actor=Actor(user=operator_admin),
            organisation=operator,
            uploaded_file=SimpleUploadedFile("big.xlsx", b"x" * 101),
        )

    assert "limit" in str(excinfo.value)


def test_a_renamed_text_file_fails_in_the_job_with_a_clear_message(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"this is not a workbook")
    before = counts()

    job = run_import(operator, operator_admin, fake, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "not an Excel workbook" in job.error
    assert counts() == before


def test_the_stored_upload_is_removed_after_the_job(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    job = run_import(operator, operator_admin, example(CEMENT), capture=django_capture_on_commit_callbacks)

    assert not default_storage.exists(job.params["file"])


def test_an_imported_report_exports_to_a_summary_communication_that_reads_back(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    job = run_import(operator, operator_admin, example(STEEL_BF), capture=django_capture_on_commit_callbacks)
    report = EmissionsReport.objects.get(pk=job.result["report_id"])

    data = report_export_xlsx(report)

    parsed = read_template(data)
    assert [p.cn_code for p in parsed.summary.products] == ["72081000", "72122000", "72139120", "73021028"]
    assert parsed.summary.products[0].see_total.quantize(D("0.00001")) == D("1.74253")
    assert parsed.summary.installation.unlocode == "CN ABC"


def test_importing_into_a_chosen_installation_reuses_it(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    from tests.emissions.factories import InstallationFactory

    installation = InstallationFactory(organisation=operator)

    job = run_import(
        operator,
        operator_admin,
        example(STEEL_BF),
        installation=installation,
        capture=django_capture_on_commit_callbacks,
    )

    assert job.status == JobStatus.DONE, job.error
    assert job.result["created_installation"] is False
    assert EmissionsReport.objects.get(pk=job.result["report_id"]).installation == installation
    assert Installation.objects.count() == 1


def test_cn_codes_outside_the_loaded_annex_i_list_are_refused(
    operator, operator_admin, annex_i, django_capture_on_commit_callbacks
):
    # The test Annex I list holds 72081000 but not the other three products of example 2.
    before = counts()

    job = run_import(operator, operator_admin, example(STEEL_BF), capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "72122000" in job.error and "Annex I" in job.error
    assert "Summary_Communication!F27" in job.error
    assert counts() == before


def test_an_activity_level_of_zero_names_the_cell_and_saves_nothing(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    (process,) = read_template(example(CEMENT)).processes
    ref = process.cells["activity_level"]
    routes = {cell: 0 for key, cell in process.cells.items() if key.startswith("route:")}
    broken = patch_cells(example(CEMENT), tmp_path / "zero.xlsx", routes)
    before = counts()

    job = run_import(operator, operator_admin, broken, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert ref in job.error
    assert counts() == before


def test_a_password_protected_workbook_is_refused_with_a_clear_message(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    encrypted = tmp_path / "protected.xlsx"
    encrypted.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048
    )  # OLE2: how Excel stores encrypted files
    before = counts()

    job = run_import(operator, operator_admin, encrypted, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "password" in job.error.lower() or "encrypted" in job.error.lower()
    assert counts() == before


def test_an_xml_bomb_is_refused_and_saves_nothing(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(example(CEMENT)) as source, zipfile.ZipFile(bomb, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data = (
                    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                    + data.split(b"?>", 1)[1]
                )
            target.writestr(info, data)
    before = counts()

    job = run_import(operator, operator_admin, bomb, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "nothing was saved" in job.error
    assert counts() == before


def test_a_renamed_summary_sheet_is_refused(
    operator, operator_admin, tmp_path, django_capture_on_commit_callbacks
):
    import zipfile

    renamed = tmp_path / "renamed.xlsx"
    with zipfile.ZipFile(example(CEMENT)) as source, zipfile.ZipFile(renamed, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'name="Summary_Communication"', b'name="Summary"')
            target.writestr(info, data)

    job = run_import(operator, operator_admin, renamed, capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert "Summary_Communication" in job.error


def test_a_template_for_a_known_installation_lands_on_it_instead_of_a_duplicate(
    operator, operator_admin, django_capture_on_commit_callbacks
):
    from tests.emissions.factories import InstallationFactory

    known = InstallationFactory(
        organisation=operator, name="Example Blast Steelworks", country="CN", unlocode="CN ABC"
    )

    job = run_import(operator, operator_admin, example(STEEL_BF), capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.DONE, job.error
    assert job.result["created_installation"] is False
    assert job.result["installation_id"] == known.pk
    assert Installation.objects.count() == 1


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_every_commission_example_imports_with_no_difference(
    operator, operator_admin, name, django_capture_on_commit_callbacks
):
    job = run_import(operator, operator_admin, example(name), capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.DONE, job.error
    assert job.result["matches"] is True, job.result["differences"]
    report = EmissionsReport.objects.get(pk=job.result["report_id"])
    assert GoodResult.objects.filter(report=report, template_see_total__isnull=False).count() == len(
        job.result["rows"]
    )
