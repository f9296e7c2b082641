"""Background job registry and runner.

A job kind is a function registered with `@job_handler("kind", label=...)` in an app's
`jobs.py`. It receives the `Job` and a `Progress` reporter, and returns a `JobOutcome`.

Conventions every handler follows, so that a killed worker or a redelivered message never
doubles or loses data (tasks run with `acks_late`):
- read and validate first (reporting progress), then write everything in one `transaction.atomic`
  block at the end: a rerun starts from scratch and either lands whole or not at all;
- raise `UserFacingError` with a readable message for bad input; anything else is logged and
  shown to the user as an unexpected error with the job's number.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone

from .errors import UserFacingError
from .models import Job, JobStatus

logger = logging.getLogger(__name__)


@dataclass
class JobOutcome:
    result: dict = field(default_factory=dict)
    file_name: str | None = None
    file_content: bytes | None = None


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: str
    run: Callable[[Job, Progress], JobOutcome]


_REGISTRY: dict[str, JobKind] = {}


def job_handler(kind: str, *, label: str):
    def register(func: Callable[[Job, Progress], JobOutcome]):
        _REGISTRY[kind] = JobKind(kind=kind, label=label, run=func)
        return func

    return register


def get_handler(kind: str) -> JobKind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"Unknown job kind {kind!r}") from None


def job_label(kind: str) -> str:
    handler = _REGISTRY.get(kind)
    return str(handler.label) if handler else kind


class Progress:
    """Reports progress to the job row, at most a few times a second."""

    def __init__(self, job: Job, min_interval_s: float = 0.3):
        self.job = job
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval_s and (total is None or done < total):
            return
        self._last = now
        fields = {"progress": done, "message": message[:300]}
        if total is not None:
            fields["total"] = total
        Job.objects.filter(pk=self.job.pk).update(**fields)


def job_run(job_id: int) -> None:
    """Run a job once. Finished jobs are left alone, so a redelivered message is a no-op."""
    claimed = Job.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, error="", progress=0
    )
    if not claimed:
        return
    job = Job.objects.get(pk=job_id)
    try:
        outcome = get_handler(job.kind).run(job, Progress(job))
    except UserFacingError as exc:
        _finish(job, status=JobStatus.FAILED, error=str(exc))
        return
    except Exception:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        _finish(
            job,
            status=JobStatus.FAILED,
            error=f"An unexpected error stopped this job (reference job #{job.pk}). Nothing was saved; "
            "please try again or contact support with the reference.",
        )
        return
    job.result = outcome.result
    if outcome.file_name and outcome.file_content is not None:
        job.result_file.save(outcome.file_name, ContentFile(outcome.file_content), save=False)
    _finish(job, status=JobStatus.DONE)


def _finish(job: Job, *, status: str, error: str = "") -> None:
    job.refresh_from_db(fields=["progress", "total", "message"])
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    if status == JobStatus.DONE:
        job.total = job.total or job.progress or 1
        job.progress = job.total
    job.save()
