"""The job runner: enqueue on commit, progress, outcome, readable errors, idempotent reruns."""

import pytest

from cbam_portal.core.actor import Actor
from cbam_portal.core.jobs import job_run
from cbam_portal.core.models import AuditEvent, Job, JobStatus
from cbam_portal.core.services import job_enqueue

from .factories import JobFactory

pytestmark = pytest.mark.django_db


def _enqueue(personas, kind, callbacks, **params):
    with callbacks(execute=True):
        job = job_enqueue(actor=Actor(user=personas.owner), organisation=personas.organisation, kind=kind, params=params)
    job.refresh_from_db()
    return job


def test_enqueued_job_runs_on_commit_and_finishes_with_full_progress(
    personas, test_job_kinds, django_capture_on_commit_callbacks
):
    job = _enqueue(personas, "test.ok", django_capture_on_commit_callbacks, total=5)

    assert job.status == JobStatus.DONE
    assert job.progress == job.total == 5
    assert job.percent == 100
    assert job.result == {"items": 5}
    assert job.attempts == 1
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.created_by == personas.owner


def test_result_file_is_stored_under_an_unguessable_name_and_keeps_a_safe_download_name(
    personas, test_job_kinds, django_capture_on_commit_callbacks
):
    job = _enqueue(personas, "test.ok", django_capture_on_commit_callbacks)

    assert job.result_file_name == "result_file.txt"
    assert job.result_file.name.startswith("jobs/")
    assert job.result_file.name.endswith("-result_file.txt")
    assert len(job.result_file.name.rsplit("/", 1)[1]) > len("result_file.txt") + 16
    with job.result_file.open("rb") as fh:
        assert fh.read() == b"hello"


def test_enqueueing_is_audited_in_the_same_transaction(personas, test_job_kinds, django_capture_on_commit_callbacks):
    job = _enqueue(personas, "test.ok", django_capture_on_commit_callbacks)

    event = AuditEvent.objects.get(verb="job.enqueued")
    assert event.organisation == personas.organisation
    assert event.target_id == str(job.pk)
    assert event.actor == personas.owner


def test_job_is_not_run_before_the_transaction_commits(personas, test_job_kinds, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_enqueue(actor=Actor(user=personas.owner), organisation=personas.organisation, kind="test.ok")
    job.refresh_from_db()

    assert job.status == JobStatus.QUEUED
    assert len(callbacks) == 1


def test_unknown_job_kind_is_refused_at_enqueue_time(personas):
    with pytest.raises(LookupError):
        job_enqueue(actor=Actor(user=personas.owner), organisation=personas.organisation, kind="no.such.kind")
    assert not Job.objects.exists()


def test_failing_handler_records_its_readable_error_and_fails_the_job(
    personas, test_job_kinds, django_capture_on_commit_callbacks
):
    job = _enqueue(personas, "test.user_error", django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert job.error == "Row 3, column B: the CN code 7208 is not an 8-digit code."
    assert job.finished_at is not None
    assert job.result is None
    assert not job.result_file


def test_unexpected_exception_shows_a_generic_message_with_the_job_number_and_hides_details(
    personas, test_job_kinds, django_capture_on_commit_callbacks
):
    job = _enqueue(personas, "test.crash", django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert f"#{job.pk}" in job.error
    assert "unexpected error" in job.error
    assert "hunter2" not in job.error


def test_rerunning_a_finished_job_is_a_no_op(personas, test_job_kinds, django_capture_on_commit_callbacks):
    job = _enqueue(personas, "test.ok", django_capture_on_commit_callbacks)
    before = Job.objects.values().get(pk=job.pk)

    job_run(job.pk)  # the broker redelivers the message

    assert Job.objects.values().get(pk=job.pk) == before


def test_rerunning_a_failed_job_is_a_no_op(personas, test_job_kinds, django_capture_on_commit_callbacks):
    job = _enqueue(personas, "test.user_error", django_capture_on_commit_callbacks)

    job_run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.attempts == 1


def test_job_left_running_by_a_lost_worker_is_claimed_again_from_scratch(personas, test_job_kinds):
    job = JobFactory(organisation=personas.organisation, kind="test.ok", status=JobStatus.RUNNING, attempts=1,
                     progress=2, total=3, message="step 2")

    job_run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.attempts == 2
    assert job.progress == job.total == 3


def test_job_failed_as_stale_while_running_is_not_overwritten_by_its_late_finish(personas, test_job_kinds, monkeypatch):
    job = JobFactory(organisation=personas.organisation, kind="test.ok")
    from cbam_portal.core import jobs

    original = jobs._REGISTRY["test.ok"].run

    def sweep_then_run(j, progress):
        Job.objects.filter(pk=j.pk).update(status=JobStatus.FAILED, error="stale")
        return original(j, progress)

    monkeypatch.setitem(jobs._REGISTRY, "test.ok", jobs.JobKind("test.ok", "Test OK", sweep_then_run))
    job_run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "stale"


def test_job_that_the_broker_refuses_fails_visibly_instead_of_staying_queued(
    personas, test_job_kinds, django_capture_on_commit_callbacks, monkeypatch
):
    from cbam_portal.core import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_job, "delay", refuse)
    job = _enqueue(personas, "test.ok", django_capture_on_commit_callbacks)

    assert job.status == JobStatus.FAILED
    assert f"#{job.pk}" in job.error
    assert "could not be queued" in job.error


def test_stale_running_jobs_are_failed_by_the_periodic_sweep(personas):
    from datetime import timedelta

    from django.utils import timezone

    from cbam_portal.core.tasks import fail_stale_jobs

    stale = JobFactory(organisation=personas.organisation, status=JobStatus.RUNNING,
                       started_at=timezone.now() - timedelta(hours=7))
    fresh = JobFactory(organisation=personas.organisation, status=JobStatus.RUNNING, started_at=timezone.now())

    assert fail_stale_jobs() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == JobStatus.FAILED and "stopped responding" in stale.error
    assert fresh.status == JobStatus.RUNNING


def test_jobs_never_picked_up_by_a_worker_are_failed_by_the_periodic_sweep(personas):
    from datetime import timedelta

    from django.utils import timezone

    from cbam_portal.core.tasks import fail_stale_jobs

    lost = JobFactory(organisation=personas.organisation)
    Job.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=25))
    waiting = JobFactory(organisation=personas.organisation)

    assert fail_stale_jobs() == 1
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert lost.status == JobStatus.FAILED and "never started" in lost.error
    assert waiting.status == JobStatus.QUEUED
