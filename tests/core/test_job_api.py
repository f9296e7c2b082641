"""/api/v1/jobs/: the organisation's jobs with progress and an authenticated result-file URL."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cbam_portal.accounts.api_keys import generate_api_key
from cbam_portal.accounts.models import ApiKey
from cbam_portal.accounts.policy import Role
from cbam_portal.core.models import JobStatus
from tests.conftest import api_login

from .factories import JobFactory

pytestmark = pytest.mark.django_db


def _done_job(organisation, kind="test.ok"):
    job = JobFactory(organisation=organisation, kind=kind, status=JobStatus.DONE, progress=4, total=4,
                     result={"items": 4}, started_at=timezone.now(), finished_at=timezone.now(),
                     result_file_name="out.csv")
    job.result_file.save("token-out.csv", ContentFile(b"a\r\n"), save=True)
    return job


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_members_list_the_organisations_jobs_with_progress_and_result(personas, test_job_kinds, persona):
    job = _done_job(personas.organisation)
    JobFactory(organisation=personas.other_organisation)

    response = api_login(getattr(personas, persona), personas.organisation).get(reverse("api:job-list"))

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == job.pk
    assert row["kind"] == "test.ok" and row["kind_label"] == "Test OK"
    assert row["status"] == "done"
    assert (row["progress"], row["total"], row["percent"]) == (4, 4, 100)
    assert row["result"] == {"items": 4}
    assert row["error"] == "" and row["message"] == ""
    assert row["result_file_url"] == "http://testserver" + reverse("api:job-download", args=[job.pk])
    assert "/media/" not in row["result_file_url"]


def test_job_detail_reports_a_failed_jobs_readable_error(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation, status=JobStatus.FAILED, error="Row 2: bad date.")

    row = api_login(personas.owner, personas.organisation).get(reverse("api:job-detail", args=[job.pk])).json()

    assert row["status"] == "failed"
    assert row["error"] == "Row 2: bad date."
    assert row["result_file_url"] is None
    assert row["percent"] is None


def test_outsider_gets_404_for_another_organisations_job(personas, test_job_kinds):
    job = _done_job(personas.organisation)
    client = api_login(personas.outsider, personas.other_organisation)

    assert client.get(reverse("api:job-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("api:job-download", args=[job.pk])).status_code == 404
    assert client.get(reverse("api:job-list")).json()["results"] == []


def test_outsider_naming_another_organisation_in_the_header_gets_404(personas, test_job_kinds):
    client = api_login(personas.outsider, personas.other_organisation)

    response = client.get(reverse("api:job-list"), HTTP_X_ORGANISATION=str(personas.organisation.pk))

    assert response.status_code == 404


def test_jobs_cannot_be_created_or_deleted_through_the_api(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation)
    client = api_login(personas.owner, personas.organisation)

    assert client.post(reverse("api:job-list"), {"kind": "test.ok"}).status_code == 405
    assert client.delete(reverse("api:job-detail", args=[job.pk])).status_code == 405


def test_api_key_downloads_the_result_file_of_its_organisation(personas, test_job_kinds):
    job = _done_job(personas.organisation)
    raw, prefix, key_hash = generate_api_key()
    ApiKey.objects.create(organisation=personas.organisation, name="ERP", prefix=prefix, key_hash=key_hash,
                          role=Role.VIEWER, created_by=personas.owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    url = client.get(reverse("api:job-detail", args=[job.pk])).json()["result_file_url"]
    response = client.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="out.csv"'


def test_audit_log_exports_are_hidden_from_members_who_cannot_read_the_audit_log(personas, test_job_kinds):
    export = _done_job(personas.organisation, kind="audit_log_export")

    viewer = api_login(personas.viewer, personas.organisation)
    assert viewer.get(reverse("api:job-detail", args=[export.pk])).status_code == 404
    assert viewer.get(reverse("api:job-download", args=[export.pk])).status_code == 404
    reviewer = api_login(personas.reviewer, personas.organisation)
    assert reviewer.get(reverse("api:job-detail", args=[export.pk])).status_code == 200


def test_job_list_filters_by_status_and_kind(personas, test_job_kinds):
    done = _done_job(personas.organisation)
    JobFactory(organisation=personas.organisation, status=JobStatus.FAILED)
    JobFactory(organisation=personas.organisation, kind="test.crash", status=JobStatus.DONE)

    rows = api_login(personas.owner, personas.organisation).get(
        reverse("api:job-list"), {"status": "done", "kind": "test.ok"}
    ).json()["results"]

    assert [r["id"] for r in rows] == [done.pk]


def test_job_list_endpoint_uses_a_bounded_number_of_queries(personas, test_job_kinds, django_assert_max_num_queries):
    for _ in range(20):
        JobFactory(organisation=personas.organisation, created_by=personas.owner)
    client = api_login(personas.owner, personas.organisation)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("api:job-list"))

    assert response.json()["count"] == 20
