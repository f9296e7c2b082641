"""API: /api/v1/historic-report-uploads/, /historic-reports/ and /historic-emissions/ with the
three personas."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from declarations.models import HistoricReport, HistoricReportUpload, Supplier
from tests.conftest import api_login

from .test_qreport_import_support import (  # noqa: F401  (fixtures)
    personas_fixture,
    sample_bytes_fixture,
    schema_valid,
    upload_and_run,
    with_xsd_fixture,
    without_xsd_fixture,
    xml_file,
    xsd_path_fixture,
)
from .test_qreport_security import BILLION_LAUGHS

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks):
    (upload,), _job = upload_and_run(
        personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks
    )
    return upload


def test_the_owner_uploads_reports_as_multipart_and_gets_202_with_the_job(
    api_clients, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    url = reverse("api:historic-report-upload-list")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_clients["owner"].post(
            url,
            {"files": [xml_file(schema_valid(sample_bytes), "q4.xml"), xml_file(sample_bytes, "sample.xml")]},
            format="multipart",
        )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["job"]["kind"] == "declarations_qreport_import"
    assert [u["file_name"] for u in body["uploads"]] == ["q4.xml", "sample.xml"]
    first, second = (
        api_clients["owner"].get(reverse("api:historic-report-upload-detail", args=[u["id"]])).json()
        for u in body["uploads"]
    )
    assert first["status"] == "imported" and first["schema_validated"] is True
    assert second["status"] == "rejected" and second["problem_count"] == 8
    assert {k: v for k, v in second["problems"][2].items() if k in ("path", "line")} == {
        "path": "/QReport/Year",
        "line": 6,
    }
    job = api_clients["owner"].get(reverse("api:job-detail", args=[body["job"]["id"]])).json()
    assert job["status"] == "done" and job["result"]["imported"] == 1 and job["result"]["rejected"] == 1


def test_a_hostile_file_fails_the_job_with_a_clear_error_and_no_500(
    api_clients, without_xsd, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_clients["owner"].post(
            reverse("api:historic-report-upload-list"),
            {"files": [xml_file(BILLION_LAUGHS)]},
            format="multipart",
        )

    assert response.status_code == 202
    job = api_clients["owner"].get(reverse("api:job-detail", args=[response.json()["job"]["id"]])).json()
    assert job["status"] == "failed" and "DOCTYPE or ENTITY declaration" in job["error"]
    assert not HistoricReport.objects.exists()


def test_uploading_the_same_file_again_returns_a_duplicate_and_no_job(
    api_clients, imported, sample_bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_clients["owner"].post(
            reverse("api:historic-report-upload-list"),
            {"files": [xml_file(schema_valid(sample_bytes))]},
            format="multipart",
        )

    assert response.status_code == 202
    assert response.json()["job"] is None
    (upload,) = response.json()["uploads"]
    assert upload["status"] == "duplicate" and upload["report"] == imported.report_id
    assert HistoricReport.objects.count() == 1


def test_bad_uploads_get_field_errors(api_clients, settings, sample_bytes, without_xsd):
    url = reverse("api:historic-report-upload-list")
    assert "files" in api_clients["owner"].post(url, {}, format="multipart").json()

    settings.CBAM_MAX_UPLOAD_BYTES = 1000
    response = api_clients["owner"].post(url, {"files": [xml_file(sample_bytes, "big.xml")]}, format="multipart")
    assert response.status_code == 400
    assert "big.xml is" in response.json()["files"][0]
    assert not HistoricReportUpload.objects.exists()


def test_viewers_read_but_may_not_upload(api_clients, imported, sample_bytes):
    response = api_clients["viewer"].post(
        reverse("api:historic-report-upload-list"), {"files": [xml_file(sample_bytes)]}, format="multipart"
    )

    assert response.status_code == 403
    assert HistoricReportUpload.objects.count() == 1
    assert (
        api_clients["viewer"].get(reverse("api:historic-report-detail", args=[imported.report_id])).status_code
        == 200
    )


def test_reports_list_with_their_totals_and_outsiders_see_none(
    personas,
    api_clients,
    sample_bytes,
    with_xsd,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    for year, period in ((2023, "Q4"), (2024, "Q1"), (2024, "Q2")):
        upload_and_run(
            personas,
            xml_file(schema_valid(sample_bytes, year=year, period=period, draft_id=f"D-{year}-{period}")),
            capture=django_capture_on_commit_callbacks,
        )
    url = reverse("api:historic-report-list")

    with django_assert_max_num_queries(8):
        listed = api_clients["viewer"].get(url)

    body = listed.json()
    assert body["count"] == 3
    latest = body["results"][0]
    assert (latest["period"], latest["draft_report_id"], latest["goods_count"]) == ("2024-Q2", "D-2024-Q2", 1)
    assert Decimal(latest["embedded_emissions_total"]) == Decimal("13615")
    assert Decimal(latest["imported_net_mass_total"]) == Decimal("550")
    assert api_clients["outsider"].get(url).json()["count"] == 0
    pk = latest["id"]
    assert api_clients["outsider"].get(reverse("api:historic-report-detail", args=[pk])).status_code == 404
    foreign = api_clients["outsider"].get(url, HTTP_X_ORGANISATION=str(personas.organisation.pk))
    assert foreign.status_code == 404


def test_emissions_filter_by_report_and_supplier_and_are_tenant_scoped(
    api_clients, imported, django_assert_max_num_queries
):
    supplier = Supplier.objects.get()
    url = reverse("api:historic-emission-list")

    with django_assert_max_num_queries(8):
        listed = api_clients["viewer"].get(url, {"report": imported.report_id, "supplier": supplier.pk})

    rows = listed.json()["results"]
    assert [(r["installation_code"], Decimal(r["see_direct"]), Decimal(r["see_indirect"])) for r in rows] == [
        ("IN03", Decimal("23.5"), Decimal("1")),
        ("IN01", Decimal("15"), Decimal("79.5")),
    ]
    assert rows[1]["carbon_price_due"][0]["amount"] == "500.519"
    assert api_clients["outsider"].get(url).json()["count"] == 0
    assert (
        api_clients["outsider"].get(reverse("api:historic-emission-detail", args=[rows[0]["id"]])).status_code
        == 404
    )
    assert (
        api_clients["outsider"].get(reverse("api:historic-report-upload-detail", args=[imported.pk])).status_code
        == 404
    )
    assert api_clients["outsider"].get(reverse("api:historic-report-upload-list")).json()["count"] == 0


def test_the_endpoints_do_not_exist_for_operators(operator_personas):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    assert client.get(reverse("api:historic-report-list")).status_code == 404
    assert client.get(reverse("api:historic-emission-list")).status_code == 404
