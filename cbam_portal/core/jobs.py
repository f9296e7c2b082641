"""Background job registry and runner.

A job kind is a function registered with `@job_handler("kind", label=...)` in an app's
`jobs.py`. It receives the `Job` and a `Progress` reporter, and returns a `JobOutcome`.

Conventions every handler follows, so that a killed worker or a redelivered message never
doubles or loses data (tasks run with `acks_late`):
- read and validate first (reporting progress), then write everything in one `transaction.atomic`
  block at the end: a rerun starts from scratch and either lands whole or not at all;
- raise `UserFacingError` with a readable message for bad input; anything else is logged and
  shown to the user as an unexpected error with the job's number.

A kind may name the capability needed to see its jobs (`capability=`): an audit-log export,
for instance, is only visible to those who may read the audit log.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import BinaryIO

from django.core.files.base import ContentFile, File
from django.db import connections
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from cbam_portal.accounts.policy import Capability

from .errors import UserFacingError
from .models import Job, JobStatus

logger = logging.getLogger(__name__)


@dataclass
class JobOutcome:
    result: dict = field(default_factory=dict)
    file_name: str | None = None
    #: The result file: its bytes, or an open binary file to copy from (closed once stored), for
    #: a file too large to hold in memory.
    file_content: bytes | BinaryIO | None = None


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: str
    run: Callable[[Job, Progress], JobOutcome]
    capability: Capability = Capability.VIEW
    summarise: Callable[[dict], str] | None = None


_REGISTRY: dict[str, JobKind] = {}


def job_handler(
    kind: str,
    *,
    label: str,
    capability: Capability = Capability.VIEW,
    summarise: Callable[[dict], str] | None = None,
):
    def register(func: Callable[[Job, Progress], JobOutcome]):
        _REGISTRY[kind] = JobKind(kind=kind, label=label, run=func, capability=capability, summarise=summarise)
        return func

    return register


def get_handler(kind: str) -> JobKind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"Unknown job kind {kind!r}") from None


def job_kinds() -> list[JobKind]:
    return sorted(_REGISTRY.values(), key=lambda k: str(k.label))


def job_label(kind: str) -> str:
    handler = _REGISTRY.get(kind)
    return str(handler.label) if handler else kind


def job_summary(job: Job) -> str:
    """A one-line, human summary of a finished job's result."""
    if not job.result:
        return ""
    handler = _REGISTRY.get(job.kind)
    if handler is not None and handler.summarise is not None:
        return str(handler.summarise(job.result))
    return ", ".join(f"{key}: {value}" for key, value in job.result.items() if not isinstance(value, dict | list))


def hidden_kinds_for(access) -> list[str]:
    """Job kinds whose jobs `access` may not see (it lacks the kind's capability)."""
    return [k.kind for k in _REGISTRY.values() if not access.can(k.capability)]


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
        fields = {"progress": done, "message": str(message)[:300]}
        if total is not None:
            fields["total"] = total
        # Only while running: a job already failed by the stale-job sweep stays failed.
        Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(**fields)


class BackgroundProgress:
    """Passes progress on from a thread of its own, hence on a database connection of its own: the
    job row is updated at once, outside the work's transaction (an import's, an export's
    read-only snapshot), and never while the work's connection is busy (with COPY). One report at
    a time; those arriving meanwhile are dropped. Call :meth:`close` when done."""

    def __init__(self, progress: Callable[..., None]):
        self.progress = progress
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-progress")
        self.pending = None

    def __call__(self, done: int, total: int | None, message: str) -> None:
        if self.pending is None or self.pending.done():
            self.pending = self.pool.submit(self._send, done, total, str(message))

    def _send(self, done: int, total: int | None, message: str) -> None:
        try:
            self.progress(done, total, message)
        except Exception:  # noqa: BLE001 - progress is a courtesy; the work goes on
            logger.warning("Job progress could not be reported", exc_info=True)

    def close(self) -> None:
        self.pool.submit(connections.close_all)  # the thread's own connection
        self.pool.shutdown(wait=True)


def unexpected_error_message(job_id: int) -> str:
    return _(
        "An unexpected error stopped this job (reference job #%(id)s). Nothing was saved; "
        "please try again or contact support with the reference."
    ) % {"id": job_id}


def job_run(job_id: int) -> None:
    """Run a job once. Finished jobs are left alone, so a redelivered message is a no-op.

    A job still marked running is claimed again: with `acks_late` its message only comes back
    when the worker that had it died, and handlers are written to start over from scratch.
    """
    claimed = Job.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        attempts=F("attempts") + 1,
        error="",
        message="",
        progress=0,
    )
    if not claimed:
        return
    job = Job.objects.select_related("organisation", "created_by").get(pk=job_id)
    try:
        outcome = get_handler(job.kind).run(job, Progress(job))
        if outcome.file_name and outcome.file_content is not None:
            job.result_file_name = get_valid_filename(PurePath(outcome.file_name).name)[:200]
            # The stored name is unguessable; the download view sends `result_file_name`.
            content = outcome.file_content
            stored = ContentFile(content) if isinstance(content, bytes | bytearray) else File(content)
            try:
                job.result_file.save(f"{secrets.token_urlsafe(16)}-{job.result_file_name}", stored, save=False)
            finally:
                stored.close()
    except UserFacingError as exc:
        _finish(job, status=JobStatus.FAILED, error=str(exc))
        return
    except Exception:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        _finish(job, status=JobStatus.FAILED, error=unexpected_error_message(job.pk))
        return
    job.result = outcome.result
    _finish(job, status=JobStatus.DONE)


def _finish(job: Job, *, status: str, error: str = "") -> None:
    job.refresh_from_db(fields=["progress", "total", "message"])
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    fields = ["status", "error", "finished_at", "progress", "total", "message"]
    if status == JobStatus.DONE:
        job.total = job.total or job.progress or 1
        job.progress = job.total
        fields += ["result", "result_file", "result_file_name"]
    else:
        # A failed job never offers a half-written file.
        job.result = None
        job.result_file = ""
        job.result_file_name = ""
        fields += ["result", "result_file", "result_file_name"]
    # Only a job this run still owns: never overwrite a job that was failed as stale meanwhile.
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(**{name: getattr(job, name) for name in fields})


# Job kinds defined by this app.
from . import audit_export  # noqa: E402, F401
