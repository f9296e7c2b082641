from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .jobs import job_run
from .models import Job, JobStatus


@shared_task(acks_late=True, reject_on_worker_lost=True, name="cbam_portal.core.tasks.run_job")
def run_job(job_id: int) -> None:
    job_run(job_id)


@shared_task(name="cbam_portal.core.tasks.fail_stale_jobs")
def fail_stale_jobs(max_age_hours: int = 6) -> int:
    """Mark jobs that have been running for hours (a lost worker) as failed, so users are told."""
    cutoff = timezone.now() - timedelta(hours=max_age_hours)
    return Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error="The worker running this job stopped responding. Please start it again.",
    )
