"""/audit/: the organisation's audit log for admins and reviewers, with filters and CSV export."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cbam_portal.core.models import AuditEvent, Job, JobStatus
from tests.conftest import login

from .factories import AuditEventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["owner", "reviewer"])
def test_admins_and_reviewers_read_the_audit_log(personas, persona):
    event = AuditEventFactory(organisation=personas.organisation, actor=personas.owner, verb="member.role_changed",
                              target_repr="jane@example.test", before={"role": "viewer"}, after={"role": "preparer"})

    response = login(getattr(personas, persona), personas.organisation).get(reverse("core:audit_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert list(response.context["events"]) == [event]
    assert "member.role_changed" in html
    assert personas.owner.email in html
    assert "192.0.2.10" in html
    assert f'id="event-{event.pk}-diff"' in html
    assert "preparer" in html and "viewer" in html
    assert "table-warning" in html  # the changed field is highlighted


@pytest.mark.parametrize("persona", ["viewer", "preparer"])
def test_viewers_and_preparers_may_not_read_the_audit_log(personas, persona):
    client = login(getattr(personas, persona), personas.organisation)

    assert client.get(reverse("core:audit_list")).status_code == 403
    assert client.post(reverse("core:audit_export")).status_code == 403
    assert not Job.objects.exists()


def test_outsider_never_sees_another_organisations_events(personas):
    AuditEventFactory(organisation=personas.organisation, verb="secret.verb")
    own = AuditEventFactory(organisation=personas.other_organisation, verb="own.verb")

    response = login(personas.outsider, personas.other_organisation).get(reverse("core:audit_list"))

    assert list(response.context["events"]) == [own]
    assert "secret.verb" not in response.content.decode()


def test_audit_log_filters_by_verb_actor_and_date_range(personas):
    today = timezone.localdate()
    wanted = AuditEventFactory(organisation=personas.organisation, verb="member.removed", actor_label="alice@example.test")
    AuditEventFactory(organisation=personas.organisation, verb="member.removed", actor_label="bob@example.test")
    AuditEventFactory(organisation=personas.organisation, verb="member.invited", actor_label="alice@example.test")
    old = AuditEventFactory(organisation=personas.organisation, verb="member.removed", actor_label="alice@example.test")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))

    response = login(personas.owner, personas.organisation).get(
        reverse("core:audit_list"),
        {"verb": "member.removed", "actor": "alice", "date_from": (today - timedelta(days=2)).isoformat(),
         "date_to": today.isoformat()},
    )

    assert list(response.context["events"]) == [wanted]
    html = response.content.decode()
    assert '<option value="member.removed" selected>' in html
    assert '<option value="member.invited">' in html


def test_reversed_date_range_is_reported_on_the_to_field(personas):
    AuditEventFactory(organisation=personas.organisation)

    response = login(personas.owner, personas.organisation).get(
        reverse("core:audit_list"), {"date_from": "2026-05-10", "date_to": "2026-05-01"}
    )

    assert response.status_code == 200
    assert "date_to" in response.context["form"].errors
    assert "must be on or after" in response.content.decode()


def test_audit_log_is_paginated_with_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    for i in range(60):
        AuditEventFactory(organisation=personas.organisation, actor=personas.owner, verb=f"thing.done{i % 3}",
                          before={"n": i}, after={"n": i + 1})
    client = login(personas.owner, personas.organisation)
    client.get(reverse("core:audit_list"))

    with django_assert_max_num_queries(8):
        response = client.get(reverse("core:audit_list"), {"verb": "thing.done1", "page": "1"})

    assert response.context["page"].paginator.count == 20
    with django_assert_max_num_queries(8):
        response = client.get(reverse("core:audit_list"), {"page": "2"})
    assert len(response.context["events"]) == 10
    assert "page=1" in response.content.decode()


def test_export_button_starts_the_job_and_shows_the_progress_component(personas, django_capture_on_commit_callbacks):
    AuditEventFactory(organisation=personas.organisation, verb="member.removed")
    AuditEventFactory(organisation=personas.organisation, verb="member.invited")
    client = login(personas.reviewer, personas.organisation)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("core:audit_export"), {"verb": "member.removed"}, HTTP_HX_REQUEST="true")

    job = Job.objects.get()
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="job-{job.pk}-progress"' in html
    assert 'hx-trigger="every 1s"' in html
    assert job.kind == "audit_log_export"
    assert job.params["verb"] == "member.removed"
    assert job.created_by == personas.reviewer
    assert len(callbacks) == 1

    callbacks[0]()  # the transaction commits: the job runs
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.result["rows"] == 1
    progress = client.get(reverse("core:job_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in progress
    assert "1 event exported" in progress
    download = client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert b"member.removed" in b"".join(download.streaming_content)


def test_export_without_htmx_redirects_to_the_job_page(personas, django_capture_on_commit_callbacks):
    client = login(personas.owner, personas.organisation)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:audit_export"), {})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == JobStatus.DONE


def test_export_with_invalid_filters_starts_nothing_and_says_why(personas):
    client = login(personas.owner, personas.organisation)

    response = client.post(reverse("core:audit_export"), {"date_from": "not a date"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "From: Enter a valid date." in response.content.decode()
    assert not Job.objects.exists()


def test_export_page_refuses_get(personas):
    assert login(personas.owner, personas.organisation).get(reverse("core:audit_export")).status_code == 405


def test_outsiders_export_only_contains_their_own_organisation(personas, django_capture_on_commit_callbacks):
    AuditEventFactory(organisation=personas.organisation, verb="secret.verb")
    client = login(personas.outsider, personas.other_organisation)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("core:audit_export"), {})

    job = Job.objects.get()
    assert job.organisation == personas.other_organisation
    with job.result_file.open("rb") as fh:
        assert b"secret.verb" not in fh.read()
    assert login(personas.owner, personas.organisation).get(
        reverse("core:job_detail", args=[job.pk])
    ).status_code == 404
