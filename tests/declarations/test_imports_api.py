"""API: /api/v1/import-lines/ and /api/v1/import-uploads/ with the three personas."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cbam_portal.core.models import Job, JobStatus
from declarations.models import ImportLine, ImportUpload, UploadStatus

from .test_imports_support import csv_bytes, good_row, import_reference, mrn, upload_file  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]

LINE = {"mrn": mrn(1), "line_no": 1, "released_on": "2026-02-10", "cn_code": "7601 10 10", "origin_country": "IN",
        "net_mass_tonnes": "2.125"}


def test_owner_creates_and_lists_lines_viewer_reads_only(api_clients, django_assert_max_num_queries):
    url = reverse("api:import-line-list")
    response = api_clients["owner"].post(url, LINE, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["cn_code"] == "76011010" and response.json()["in_scope"] is True
    for n in range(2, 12):
        api_clients["owner"].post(url, {**LINE, "mrn": mrn(n)}, format="json")
    with django_assert_max_num_queries(10):
        listed = api_clients["viewer"].get(url)
    assert listed.status_code == 200 and listed.json()["count"] == 11
    assert api_clients["viewer"].post(url, {**LINE, "line_no": 2}, format="json").status_code == 403
    assert api_clients["outsider"].get(url).json()["count"] == 0
    line = ImportLine.objects.first()
    assert api_clients["outsider"].get(reverse("api:import-line-detail", args=[line.pk])).status_code == 404
    assert api_clients["viewer"].get(reverse("api:import-line-detail", args=[line.pk])).status_code == 200


def test_line_errors_are_keyed_by_field(api_clients):
    bad = {**LINE, "released_on": "2025-06-01", "origin_country": "QQ", "net_mass_tonnes": "0"}
    response = api_clients["owner"].post(reverse("api:import-line-list"), bad, format="json")
    assert response.status_code == 400
    assert {"released_on", "origin_country", "net_mass_tonnes"} <= set(response.json())
    assert ImportLine.objects.count() == 0


def test_lines_filter_by_scope(api_clients):
    url = reverse("api:import-line-list")
    api_clients["owner"].post(url, LINE, format="json")
    api_clients["owner"].post(url, {**LINE, "mrn": mrn(2), "origin_country": "NO"}, format="json")
    out = api_clients["owner"].get(url, {"in_scope": "false"}).json()
    assert [r["mrn"] for r in out["results"]] == [mrn(2)]


def test_owner_uploads_a_file_and_the_job_imports_it(
    api_clients, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    url = reverse("api:import-upload-list")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_clients["owner"].post(url, {"file": upload_file(csv_bytes([good_row(1), good_row(2)]))}, format="multipart")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["job"]["id"] == Job.objects.get().pk
    detail = api_clients["viewer"].get(reverse("api:import-upload-detail", args=[body["id"]])).json()
    assert detail["status"] == UploadStatus.IMPORTED and detail["rows_imported"] == 2
    assert Job.objects.get().status == JobStatus.DONE
    assert api_clients["outsider"].get(reverse("api:import-upload-detail", args=[body["id"]])).status_code == 404
    with django_assert_max_num_queries(10):
        listed = api_clients["owner"].get(url)
    assert listed.status_code == 200 and listed.json()["count"] == 1


def test_an_explicit_mapping_is_used_and_a_bad_one_lists_the_columns(api_clients, django_capture_on_commit_callbacks):
    url = reverse("api:import-upload-list")
    header = ["Ref", "Pos", "Datum", "KN", "Ursprung", "Masse"]
    content = csv_bytes([[mrn(1), "1", "2026-02-01", "72081000", "CN", "5"]], header=header)
    bad = api_clients["owner"].post(url, {"file": upload_file(content), "mapping": json.dumps({"mrn": "Ref"})}, format="multipart")
    assert bad.status_code == 400
    assert bad.json()["columns"] == header
    assert ImportUpload.objects.count() == 0
    mapping = {"mrn": "Ref", "line_no": "Pos", "released_on": "Datum", "cn_code": "KN", "origin_country": "Ursprung",
               "net_mass_tonnes": "Masse"}
    with django_capture_on_commit_callbacks(execute=True):
        ok = api_clients["owner"].post(url, {"file": upload_file(content), "mapping": json.dumps(mapping)}, format="multipart")
    assert ok.status_code == 202
    assert ImportLine.objects.count() == 1
    assert api_clients["owner"].post(url, {"file": upload_file(content), "mapping": "{not json"}, format="multipart").status_code == 400


def test_viewer_and_outsider_cannot_upload_into_the_organisation(personas, api_clients):
    url = reverse("api:import-upload-list")
    file = upload_file(csv_bytes([good_row(1)]))
    assert api_clients["viewer"].post(url, {"file": file}, format="multipart").status_code == 403
    outsider = api_clients["outsider"].post(
        url, {"file": upload_file(csv_bytes([good_row(1)]))}, format="multipart",
        HTTP_X_ORGANISATION=str(personas.organisation.pk),
    )
    assert outsider.status_code == 404
    assert ImportUpload.objects.count() == 0


def test_an_oversize_upload_is_refused_with_413(api_clients, settings):
    settings.CBAM_MAX_UPLOAD_BYTES = 1000
    response = api_clients["owner"].post(
        reverse("api:import-upload-list"), {"file": upload_file(b"a;b\r\n" + b"1;2\r\n" * 40_000)}, format="multipart"
    )
    assert response.status_code == 413
    assert "the limit is" in response.json()["detail"]
    assert ImportUpload.objects.count() == 0


def test_a_rejected_upload_offers_the_rejected_rows_file(api_clients, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_clients["owner"].post(
            reverse("api:import-upload-list"),
            {"file": upload_file(csv_bytes([good_row(1, **{"Origin": "XX"})]))},
            format="multipart",
        )
    assert response.status_code == 202
    job = Job.objects.get()
    detail = api_clients["owner"].get(reverse("api:job-detail", args=[job.pk])).json()
    assert detail["result"]["status"] == "rejected"
    assert detail["result"]["errors"][0]["column"] == "Origin"
    download = api_clients["owner"].get(reverse("api:job-download", args=[job.pk]))
    assert b"Unknown country" in b"".join(download.streaming_content)
