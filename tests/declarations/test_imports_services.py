"""Import lines: single entry and bulk uploads through the services and the job (all or nothing).

Runs on SQLite by default (bulk_create path) and on PostgreSQL with DATABASE_URL (COPY path)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent, Job, JobStatus
from declarations.models import ColumnMapping, ImportLine, ImportUpload, Supplier, UploadStatus
from declarations.services.imports import (
    import_line_create,
    import_upload_create,
    import_upload_start,
    import_upload_submit,
)

from .test_imports_support import (
    HEADER,
    csv_bytes,
    good_row,
    import_reference,  # noqa: F401  (fixture)
    mrn,
    upload_file,
    xlsx_bytes,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]


@pytest.fixture
def org(personas):
    return personas.organisation


@pytest.fixture
def actor(personas):
    return Actor(user=personas.owner)


def run_upload(org, actor, content: bytes, capture, name="extract.csv", mapping=None) -> ImportUpload:
    """Create, map and run an upload the way the pages do (job run eagerly on commit)."""
    upload = import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(content, name))
    with capture(execute=True):
        import_upload_start(actor=actor, organisation=org, upload=upload, mapping=mapping or upload.mapping)
    upload.refresh_from_db()
    return upload


def rejected_rows(upload: ImportUpload) -> list[dict]:
    job = Job.objects.get(pk=upload.job_id)
    assert job.status == JobStatus.DONE, job.error
    with job.result_file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_clean_csv_is_imported_whole_with_scope_and_codes(org, actor, django_capture_on_commit_callbacks):
    rows = [
        good_row(1),
        good_row(2, **{"CN code": "7208512090", "Production country": "TR"}),  # TARIC 10
        good_row(3, **{"Origin": "NO"}),  # Annex III
        good_row(4, **{"Origin": "DE"}),  # EU
        good_row(5, **{"CN code": "39011010"}),  # not in Annex I
        good_row(6, **{"CN code": "27160000", "Net mass (t)": "", "MWh": "1500.250"}),  # electricity
        good_row(7, **{"Production country": "CN", "Procedure": "51", "Net mass (t)": "0,75"}),
    ]
    upload = run_upload(org, actor, csv_bytes(rows), django_capture_on_commit_callbacks)

    assert upload.status == UploadStatus.IMPORTED
    assert (upload.rows_total, upload.rows_imported, upload.rows_out_of_scope) == (7, 7, 3)
    lines = {line.mrn: line for line in ImportLine.objects.filter(organisation=org)}
    assert lines[mrn(1)].in_scope and lines[mrn(1)].net_mass_tonnes == Decimal("12.5")
    assert (lines[mrn(2)].cn_code, lines[mrn(2)].taric_code, lines[mrn(2)].production_country) == ("72085120", "7208512090", "TR")
    assert not lines[mrn(3)].in_scope and "Annex III" in lines[mrn(3)].out_of_scope_reason
    assert not lines[mrn(4)].in_scope and "EU" in lines[mrn(4)].out_of_scope_reason
    assert not lines[mrn(5)].in_scope and "Annex I" in lines[mrn(5)].out_of_scope_reason
    assert lines[mrn(6)].quantity_mwh == Decimal("1500.25") and lines[mrn(6)].net_mass_tonnes is None
    assert lines[mrn(7)].production_country == ""  # same as origin
    assert lines[mrn(7)].procedure == "inward_processing"
    assert lines[mrn(7)].net_mass_tonnes == Decimal("0.75")
    assert AuditEvent.objects.filter(verb="import_upload.imported", organisation=org).count() == 1


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_the_delimiter_is_detected(org, actor, delimiter, django_capture_on_commit_callbacks):
    rows = [good_row(1, **{"Net mass (t)": "3.5"}), good_row(2)]
    upload = run_upload(org, actor, csv_bytes(rows, delimiter=delimiter), django_capture_on_commit_callbacks)
    assert upload.delimiter == delimiter
    assert upload.status == UploadStatus.IMPORTED
    assert ImportLine.objects.filter(organisation=org).count() == 2


def test_a_cp1252_file_with_accents_is_decoded(org, actor, django_capture_on_commit_callbacks):
    Supplier.objects.create(organisation=org, name="Aciérie Générale", country="CN")
    header = [*HEADER, "Supplier"]
    rows = [good_row(1) + ["Aciérie Générale"]]
    upload = run_upload(org, actor, csv_bytes(rows, header=header, encoding="cp1252"), django_capture_on_commit_callbacks)
    assert upload.encoding == "cp1252"
    assert any("Windows-1252" in notice for notice in upload.notices)
    assert upload.status == UploadStatus.IMPORTED
    assert ImportLine.objects.get().supplier.name == "Aciérie Générale"


def test_unknown_columns_need_a_mapping_that_names_the_missing_fields(org, actor):
    content = csv_bytes([["a", "b", "c"]], header=["Referenz", "Pos", "Datum"])
    upload = import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(content))
    assert upload.status == UploadStatus.MAPPING
    assert upload.columns == ["Referenz", "Pos", "Datum"]
    with pytest.raises(ValidationError) as exc:
        import_upload_start(actor=actor, organisation=org, upload=upload, mapping={"mrn": "Referenz", "line_no": "Nope"})
    errors = exc.value.message_dict
    assert "line_no" in errors and "Nope" in errors["line_no"][0]
    assert {"released_on", "cn_code", "origin_country"} <= set(errors)
    assert Job.objects.count() == 0


def test_the_mapping_is_remembered_for_the_next_upload(org, actor, django_capture_on_commit_callbacks):
    header = ["Ref", "Pos", "Datum", "Warennummer", "Ursprung", "Masse"]
    mapping = {"mrn": "Ref", "line_no": "Pos", "released_on": "Datum", "cn_code": "Warennummer",
               "origin_country": "Ursprung", "net_mass_tonnes": "Masse"}
    content = csv_bytes([[mrn(1), "1", "2026-02-01", "72081000", "CN", "5"]], header=header)
    first = run_upload(org, actor, content, django_capture_on_commit_callbacks, mapping=mapping)
    assert first.status == UploadStatus.IMPORTED
    assert ColumnMapping.objects.get(organisation=org).mapping == mapping
    second = import_upload_create(
        actor=actor, organisation=org,
        uploaded_file=upload_file(csv_bytes([[mrn(2), "1", "2026-02-01", "72081000", "CN", "5"]], header=header)),
    )
    assert second.mapping == mapping


def test_bad_rows_reject_the_whole_file_and_every_error_is_listed(org, actor, django_capture_on_commit_callbacks):
    rows = [
        good_row(1),
        good_row(2, **{"Release date": "2099-01-01"}),
        good_row(3, **{"Release date": "2025-12-31"}),
        good_row(4, **{"Net mass (t)": "-4"}),
        good_row(5, **{"Net mass (t)": "0"}),
        good_row(6, **{"CN code": "77001234"}),
        good_row(7, **{"CN code": "72AB1000"}),
        good_row(8, **{"Origin": "XX"}),
        good_row(9, **{"Release date": "15/13/2026"}),
        good_row(10, **{"MRN": "12345"}),
    ]
    upload = run_upload(org, actor, csv_bytes(rows), django_capture_on_commit_callbacks)

    assert upload.status == UploadStatus.REJECTED
    assert ImportLine.objects.count() == 0  # not even the good first row
    assert upload.rows_rejected == 9
    errors = {(int(r["row"]), r["column"]): r for r in rejected_rows(upload)}
    assert errors[(3, "Release date")]["message"] == "In the future."
    assert "Before 1 January 2026" in errors[(4, "Release date")]["message"]
    assert errors[(5, "Net mass (t)")]["value"] == "-4"  # a plain number cannot run as a formula
    # Each error line carries the rejected row's own cells under the file's headers, to correct it.
    assert errors[(5, "Net mass (t)")]["Net mass (t)"] == "-4"
    assert errors[(8, "CN code")]["CN code"] == "72AB1000"
    assert errors[(11, "MRN")]["MRN"] == "12345"
    assert errors[(6, "Net mass (t)")]["message"] == "Must be greater than zero."
    assert "chapter 77" in errors[(7, "CN code")]["message"]
    assert "8 digits" in errors[(8, "CN code")]["message"]
    assert "Unknown country" in errors[(9, "Origin")]["message"]
    assert "Not a date" in errors[(10, "Release date")]["message"]
    assert "18 characters" in errors[(11, "MRN")]["message"]
    job = Job.objects.get(pk=upload.job_id)
    assert job.result["status"] == "rejected" and job.result["error_count"] == 9
    assert job.result_file_name.endswith(".csv")


def test_a_row_split_by_the_wrong_delimiter_is_named(org, actor, django_capture_on_commit_callbacks):
    content = csv_bytes([good_row(1)]).decode("utf-8-sig") + f"{mrn(2)};1;2026-03-15;72081000;CN;;12;5;;40;extra\r\n"
    upload = run_upload(org, actor, content.encode(), django_capture_on_commit_callbacks)
    assert upload.status == UploadStatus.REJECTED
    [error] = rejected_rows(upload)
    assert error["row"] == "3" and "cells but the header has 9" in error["message"]


def test_duplicate_lines_within_the_file_are_rejected(org, actor, django_capture_on_commit_callbacks):
    upload = run_upload(org, actor, csv_bytes([good_row(1), good_row(2), good_row(1)]), django_capture_on_commit_callbacks)
    assert upload.status == UploadStatus.REJECTED
    [error] = rejected_rows(upload)
    assert error["row"] == "4" and "Duplicate of row 2" in error["message"]
    assert ImportLine.objects.count() == 0


def test_lines_already_recorded_are_rejected(org, actor, django_capture_on_commit_callbacks):
    first = run_upload(org, actor, csv_bytes([good_row(1)]), django_capture_on_commit_callbacks)
    assert first.status == UploadStatus.IMPORTED
    second = run_upload(org, actor, csv_bytes([good_row(2), good_row(1, **{"Net mass (t)": "9"})]), django_capture_on_commit_callbacks)
    assert second.status == UploadStatus.REJECTED
    [error] = rejected_rows(second)
    assert error["row"] == "3" and "Already recorded" in error["message"]
    assert ImportLine.objects.count() == 1


def test_the_same_file_cannot_be_imported_twice(org, actor, django_capture_on_commit_callbacks):
    content = csv_bytes([good_row(1), good_row(2)])
    run_upload(org, actor, content, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(content, "again.csv"))
    assert "already imported" in exc.value.message_dict["file"][0]
    assert ImportLine.objects.count() == 2


def test_the_same_lines_from_another_organisation_do_not_clash(personas, org, actor, django_capture_on_commit_callbacks):
    content = csv_bytes([good_row(1)])
    run_upload(org, actor, content, django_capture_on_commit_callbacks)
    other = run_upload(personas.other_organisation, Actor(user=personas.outsider), content, django_capture_on_commit_callbacks)
    assert other.status == UploadStatus.IMPORTED
    assert ImportLine.objects.count() == 2


class NeverRead:
    """An upload that fails the test if anything reads it."""

    name = "huge.csv"
    size = 2 * 1024**3

    def chunks(self, *args, **kwargs):
        raise AssertionError("the file was read")

    def read(self, *args, **kwargs):
        raise AssertionError("the file was read")

    def seek(self, *args, **kwargs):
        raise AssertionError("the file was touched")


def test_a_2_gb_file_is_refused_before_reading(org, actor):
    with pytest.raises(ValidationError) as exc:
        import_upload_create(actor=actor, organisation=org, uploaded_file=NeverRead())
    assert "the limit is" in exc.value.message_dict["file"][0]
    assert ImportUpload.objects.count() == 0


def test_formulas_are_stored_as_text_and_neutralised_in_the_rejected_rows_file(org, actor, django_capture_on_commit_callbacks):
    rows = [good_row(1, **{"MRN": "=cmd|' /C calc'!A0", "Procedure": "@SUM(1+1)"})]
    upload = run_upload(org, actor, csv_bytes(rows), django_capture_on_commit_callbacks)
    assert upload.status == UploadStatus.REJECTED
    values = {r["column"]: r["value"] for r in rejected_rows(upload)}
    assert values["MRN"] == "'=cmd|' /C calc'!A0"
    assert values["Procedure"] == "'@SUM(1+1)"
    # The row's own cells, copied after the error columns, are neutralised too.
    first = rejected_rows(upload)[0]
    assert first["MRN"] == "'=cmd|' /C calc'!A0" and first["Procedure"] == "'@SUM(1+1)"


def test_an_xlsx_extract_is_imported_and_its_formulas_are_not_evaluated(org, actor, django_capture_on_commit_callbacks):
    import datetime as dt

    rows = [
        [mrn(1), 1, dt.datetime(2026, 4, 2), "72081000", "CN", None, 10.25, None, "40"],
        [mrn(2), 2, dt.date(2026, 4, 3), 76011010, "IN", "CN", 3, None, None],
    ]
    upload = run_upload(org, actor, xlsx_bytes(rows), django_capture_on_commit_callbacks, name="extract.xlsx")
    assert upload.format == "xlsx"
    assert upload.status == UploadStatus.IMPORTED, upload.notices
    assert ImportLine.objects.get(mrn=mrn(1)).net_mass_tonnes == Decimal("10.25")
    assert ImportLine.objects.get(mrn=mrn(2)).production_country == "CN"

    formula = run_upload(
        org, actor, xlsx_bytes([[mrn(3), 1, "2026-04-02", "72081000", "CN", None, "=1+1", None, None]]),
        django_capture_on_commit_callbacks, name="formula.xlsx",
    )
    assert formula.status == UploadStatus.REJECTED  # no cached value: the formula was not run
    assert ImportLine.objects.filter(mrn=mrn(3)).count() == 0


def test_an_empty_or_unreadable_file_is_refused_with_a_message(org, actor):
    with pytest.raises(ValidationError) as exc:
        import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(b"just one column\r\nx\r\n"))
    assert "separator" in exc.value.message_dict["file"][0]
    with pytest.raises(ValidationError):
        import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(b"PK\x03\x04broken", "x.xlsx"))
    assert ImportUpload.objects.count() == 0


def test_running_the_job_again_after_success_adds_nothing(org, actor, django_capture_on_commit_callbacks):
    from cbam_portal.core.jobs import job_run

    upload = run_upload(org, actor, csv_bytes([good_row(1), good_row(2)]), django_capture_on_commit_callbacks)
    Job.objects.filter(pk=upload.job_id).update(status=JobStatus.RUNNING)  # a redelivered message
    job_run(upload.job_id)
    assert ImportLine.objects.count() == 2
    assert Job.objects.get(pk=upload.job_id).result["imported"] == 2


def test_the_api_submit_keeps_nothing_when_the_mapping_is_incomplete(org, actor):
    content = csv_bytes([["x"]], header=["Referenz", "Pos"])
    with pytest.raises(ValidationError) as exc:
        import_upload_submit(actor=actor, organisation=org, uploaded_file=upload_file(content))
    assert exc.value.message_dict["columns"] == ["Referenz", "Pos"]
    assert ImportUpload.objects.count() == 0


def test_a_single_line_is_recorded_with_the_same_rules(org, actor):
    values = {"mrn": mrn(1), "line_no": 3, "released_on": "2026-05-05", "cn_code": "2523 10 00",
              "origin_country": "tr", "net_mass_tonnes": Decimal("20"), "functional_unit_quantity": Decimal("19.1"),
              "procedure": "returned_goods"}
    line = import_line_create(actor=actor, organisation=org, values=values)
    assert (line.cn_code, line.origin_country, line.in_scope, line.procedure) == ("25231000", "TR", True, "returned_goods")
    assert line.functional_unit_quantity == Decimal("19.1")
    with pytest.raises(ValidationError) as exc:
        import_line_create(actor=actor, organisation=org, values=values)
    assert "already recorded" in exc.value.message_dict["line_no"][0]
    bad = {**values, "line_no": 4, "released_on": "2024-01-01", "net_mass_tonnes": Decimal("-1")}
    with pytest.raises(ValidationError) as exc:
        import_line_create(actor=actor, organisation=org, values=bad)
    assert set(exc.value.message_dict) == {"released_on", "net_mass_tonnes"}
    assert ImportLine.objects.count() == 1


def test_operators_do_not_record_imports(operator_personas):
    with pytest.raises(ValidationError):
        import_line_create(actor=Actor(user=operator_personas.owner), organisation=operator_personas.organisation, values={})


def many_rows(count: int) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        overrides = {}
        if n % 50 == 0:
            overrides = {"Origin": "NO"}  # Annex III: out of scope
        elif n % 77 == 0:
            overrides = {"CN code": "27160000", "Net mass (t)": "", "MWh": "3.5"}  # electricity
        rows.append(good_row(n, **overrides))
    return rows


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted-half-way"])
def test_a_file_read_in_many_blocks_is_imported_whole_with_progress(org, actor, monkeypatch, quoted):
    from declarations.ingest import reader
    from declarations.services.imports import import_upload_run

    monkeypatch.setattr(reader, "CHUNK", 2048)  # dozens of blocks
    rows = many_rows(600)
    if quoted:
        rows[300][0] = f'"{rows[300][0]}"'  # from here on the csv module reads the rest
    upload = import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(csv_bytes(rows)))
    ImportUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.QUEUED)
    reports: list[int] = []

    result, rejected = import_upload_run(upload_id=upload.pk, actor=actor, progress=lambda done, total, message: reports.append(done))

    assert rejected is None and result["status"] == UploadStatus.IMPORTED
    assert (result["rows"], result["imported"], result["out_of_scope"]) == (600, 600, 12)
    lines = ImportLine.objects.filter(organisation=org)
    assert lines.count() == 600 and lines.filter(in_scope=False).count() == 12
    assert lines.get(mrn=mrn(301)).net_mass_tonnes == Decimal("12.5")
    assert lines.get(mrn=mrn(77)).quantity_mwh == Decimal("3.5") and lines.get(mrn=mrn(77)).net_mass_tonnes is None
    assert lines.get(mrn=mrn(50)).out_of_scope_reason.startswith("Origin in an Annex III country")
    assert all(line.created_at is not None for line in lines.only("created_at"))
    assert reports, "progress was reported"


def test_a_bad_row_deep_in_a_large_file_rejects_it_whole_and_is_named(org, actor, monkeypatch, django_capture_on_commit_callbacks):
    from declarations.ingest import reader

    monkeypatch.setattr(reader, "CHUNK", 2048)
    rows = many_rows(600)
    rows[450][6] = "12,5,0"
    upload = run_upload(org, actor, csv_bytes(rows), django_capture_on_commit_callbacks)

    assert upload.status == UploadStatus.REJECTED and ImportLine.objects.count() == 0
    assert [(r["row"], r["column"], r["value"]) for r in rejected_rows(upload)] == [("452", "Net mass (t)", "12,5,0")]


def test_import_line_ids_are_drawn_from_the_sequence_in_blocks_on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a sequence cache is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seqcache FROM pg_sequence WHERE seqrelid = pg_get_serial_sequence(%s, 'id')::regclass",
            [ImportLine._meta.db_table],
        )
        assert cursor.fetchone() == (1000,)


@pytest.mark.parametrize("threshold, analysed", [(50, True), (51, False)], ids=["large", "small"])
def test_a_large_import_refreshes_the_planner_statistics_once_committed(
    org, actor, monkeypatch, django_capture_on_commit_callbacks, threshold, analysed
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from declarations.services import imports

    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE and planner statistics are PostgreSQL's")
    monkeypatch.setattr(imports, "ANALYZE_FROM_LINES", threshold)

    upload = import_upload_create(actor=actor, organisation=org, uploaded_file=upload_file(csv_bytes(many_rows(50))))
    ImportUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.QUEUED)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        result, _rejected = imports.import_upload_run(upload_id=upload.pk, actor=actor)
    assert result["imported"] == 50
    analyses = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analyses == ([f'ANALYZE "{ImportLine._meta.db_table}"'] if analysed else [])
    # ANALYZE writes the table's size for the planner (in place: it stays, whatever the test's rollback).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [ImportLine._meta.db_table])
        assert (cursor.fetchone()[0] >= 50) or not analysed
