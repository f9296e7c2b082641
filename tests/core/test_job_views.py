"""Job pages: list, detail, the polled progress component and the tenant-checked download."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from cbam_portal.core.models import JobStatus
from tests.conftest import login

from .factories import JobFactory

pytestmark = pytest.mark.django_db


def _done_job(organisation, *, kind="test.ok", user=None, name="report.csv", content=b"a,b\r\n"):
    job = JobFactory(organisation=organisation, kind=kind, status=JobStatus.DONE, progress=3, total=3,
                     result={"items": 3}, created_by=user, started_at=timezone.now(), finished_at=timezone.now(),
                     result_file_name=name)
    job.result_file.save(f"secret-token-{name}", ContentFile(content), save=True)
    return job


# -- list -------------------------------------------------------------------------------------


def test_owner_sees_the_organisations_jobs_with_status_progress_and_result(personas, test_job_kinds):
    done = _done_job(personas.organisation, user=personas.owner)
    failed = JobFactory(organisation=personas.organisation, kind="test.crash", status=JobStatus.FAILED,
                        error="Row 4: the CN code is missing.")
    running = JobFactory(organisation=personas.organisation, kind="test.ok", status=JobStatus.RUNNING,
                         progress=1, total=4, message="Reading rows")

    response = login(personas.owner, personas.organisation).get(reverse("core:job_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert list(response.context["jobs"]) == [running, failed, done]
    assert "Test OK" in html and "Test crash" in html
    assert "Row 4: the CN code is missing." in html
    assert "items: 3" in html
    assert reverse("core:job_download", args=[done.pk]) in html
    assert personas.owner.email in html
    assert 'style="width: 25%"' in html  # running job's progress bar


def test_viewer_can_read_the_job_list(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation)

    response = login(personas.viewer, personas.organisation).get(reverse("core:job_list"))

    assert response.status_code == 200
    assert list(response.context["jobs"]) == [job]


def test_outsider_never_sees_another_organisations_jobs(personas, test_job_kinds):
    JobFactory(organisation=personas.organisation)
    own = JobFactory(organisation=personas.other_organisation)

    response = login(personas.outsider, personas.other_organisation).get(reverse("core:job_list"))

    assert list(response.context["jobs"]) == [own]


def test_jobs_of_a_kind_needing_a_capability_are_hidden_from_members_without_it(personas, test_job_kinds):
    secret = JobFactory(organisation=personas.organisation, kind="test.admin_only")

    viewer = login(personas.viewer, personas.organisation)
    assert secret not in viewer.get(reverse("core:job_list")).context["jobs"]
    assert viewer.get(reverse("core:job_detail", args=[secret.pk])).status_code == 404
    owner = login(personas.owner, personas.organisation)
    assert secret in owner.get(reverse("core:job_list")).context["jobs"]


def test_job_list_filters_by_status_and_kind(personas, test_job_kinds):
    done = _done_job(personas.organisation)
    JobFactory(organisation=personas.organisation, kind="test.ok", status=JobStatus.FAILED)
    JobFactory(organisation=personas.organisation, kind="test.crash", status=JobStatus.DONE)
    client = login(personas.owner, personas.organisation)

    response = client.get(reverse("core:job_list"), {"status": "done", "kind": "test.ok"})

    assert list(response.context["jobs"]) == [done]


def test_job_list_names_an_invalid_filter_value(personas, test_job_kinds):
    response = login(personas.owner, personas.organisation).get(reverse("core:job_list"), {"status": "exploded"})

    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    assert "Select a valid choice" in response.content.decode()


def test_job_list_is_paginated_with_a_bounded_number_of_queries(
    personas, test_job_kinds, django_assert_max_num_queries
):
    for _ in range(30):
        JobFactory(organisation=personas.organisation, created_by=personas.owner, status=JobStatus.DONE,
                   result={"items": 1})
    client = login(personas.owner, personas.organisation)
    client.get(reverse("core:job_list"))  # warm the session

    with django_assert_max_num_queries(8):
        response = client.get(reverse("core:job_list"))

    assert len(response.context["jobs"]) == 25
    assert response.context["page"].paginator.count == 30
    assert "page=2" in response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("core:job_list"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# -- detail and progress --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_members_can_open_a_job(personas, test_job_kinds, persona):
    job = _done_job(personas.organisation)

    response = login(getattr(personas, persona), personas.organisation).get(reverse("core:job_detail", args=[job.pk]))

    assert response.status_code == 200
    assert response.context["job"] == job


@pytest.mark.parametrize("view", ["core:job_detail", "core:job_progress", "core:job_download"])
def test_outsider_gets_404_for_another_organisations_job(personas, test_job_kinds, view):
    job = _done_job(personas.organisation)

    response = login(personas.outsider, personas.other_organisation).get(reverse(view, args=[job.pk]))

    assert response.status_code == 404


def test_progress_of_a_queued_job_keeps_polling_every_second(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation)

    response = login(personas.owner, personas.organisation).get(
        reverse("core:job_progress", args=[job.pk]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="{reverse("core:job_progress", args=[job.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "Waiting for a worker" in html
    assert "<html" not in html  # a fragment, not a page


def test_progress_of_a_running_job_shows_the_bar_and_the_message(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation, status=JobStatus.RUNNING, progress=2, total=8,
                     message="Reading row 2")

    html = login(personas.viewer, personas.organisation).get(reverse("core:job_progress", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="25"' in html
    assert "Reading row 2" in html


def test_progress_of_a_finished_job_stops_polling_and_offers_the_result(personas, test_job_kinds):
    job = _done_job(personas.organisation)

    html = login(personas.owner, personas.organisation).get(reverse("core:job_progress", args=[job.pk])).content.decode()

    assert "hx-trigger" not in html
    assert "items: 3" in html
    assert reverse("core:job_download", args=[job.pk]) in html


def test_progress_of_a_failed_job_stops_polling_and_shows_the_readable_error(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation, status=JobStatus.FAILED, error="Sheet 'Imports', row 7: no CN code.")

    html = login(personas.owner, personas.organisation).get(reverse("core:job_progress", args=[job.pk])).content.decode()

    assert "hx-trigger" not in html
    assert "This job failed." in html
    assert "Sheet &#x27;Imports&#x27;, row 7: no CN code." in html


# -- download ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_members_download_the_result_file_as_an_attachment(personas, test_job_kinds, persona):
    job = _done_job(personas.organisation, name="report.csv", content=b"x,y\r\n1,2\r\n")

    response = login(getattr(personas, persona), personas.organisation).get(reverse("core:job_download", args=[job.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"x,y\r\n1,2\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'


def test_download_of_a_job_without_a_result_file_is_404(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation, status=JobStatus.RUNNING)

    response = login(personas.owner, personas.organisation).get(reverse("core:job_download", args=[job.pk]))

    assert response.status_code == 404


def test_download_is_refused_after_switching_to_another_organisation(personas, test_job_kinds):
    from tests.factories import MembershipFactory

    MembershipFactory(user=personas.owner, organisation=personas.other_organisation)
    job = _done_job(personas.organisation)

    response = login(personas.owner, personas.other_organisation).get(reverse("core:job_download", args=[job.pk]))

    assert response.status_code == 404
