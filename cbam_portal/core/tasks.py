from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from .jobs import job_run
from .models import Job, JobStatus


@shared_task(acks_late=True, reject_on_worker_lost=True, name="cbam_portal.core.tasks.run_job")
def run_job(job_id: int) -> None:
    job_run(job_id)


@shared_task(name="cbam_portal.core.tasks.fail_stale_jobs")
def fail_stale_jobs(max_age_hours: int = 6, max_queued_hours: int = 24) -> int:
    """Mark jobs that have been running for hours (a lost worker), or were never picked up (a lost
    message), as failed, so users are told instead of watching a bar that never moves."""
    now = timezone.now()
    running = Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=now - timedelta(hours=max_age_hours)).update(
        status=JobStatus.FAILED,
        finished_at=now,
        error=_("The worker running this job stopped responding. Please start it again."),
    )
    queued = Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=now - timedelta(hours=max_queued_hours)).update(
        status=JobStatus.FAILED,
        finished_at=now,
        error=_("This job was never started by a worker. Please start it again."),
    )
    return running + queued
