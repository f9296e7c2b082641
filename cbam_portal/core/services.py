"""Writes shared by every app: the audit trail and background jobs."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from .actor import Actor
from .models import AuditEvent, Job, JobStatus

if TYPE_CHECKING:
    from .selectors import AuditFilters

logger = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(
    *,
    actor: Actor,
    verb: str,
    organisation=None,
    target: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the service's transaction so both land or neither."""
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=actor.user,
        actor_label=actor.label[:200],
        verb=verb,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:300] if target is not None else "",
        before=_jsonable(before),
        after=_jsonable(after),
        ip=actor.ip,
    )


@transaction.atomic
def job_enqueue(*, actor: Actor, organisation, kind: str, params: dict | None = None) -> Job:
    """Create a queued job and hand it to Celery once the transaction commits."""
    from . import jobs  # the registry; imported late to keep models importable on their own

    jobs.get_handler(kind)  # unknown kinds fail here, not in the worker
    job = Job.objects.create(
        organisation=organisation, kind=kind, params=_jsonable(params or {}), created_by=actor.user
    )
    audit_record(actor=actor, verb="job.enqueued", organisation=organisation, target=job, after={"kind": kind})
    job_id = job.pk
    transaction.on_commit(lambda: _dispatch(job_id))
    return job


def _dispatch(job_id: int) -> None:
    """Send the job to the broker. If the broker refuses it, the job fails visibly instead of
    staying queued for ever, and the request that started it still succeeds."""
    from django.utils.translation import gettext as _

    from .tasks import run_job

    try:
        run_job.delay(job_id)
    except Exception:
        logger.exception("Could not queue job %s", job_id)
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED,
            error=_("The job could not be queued (reference job #%(id)s). Please try again in a few minutes.")
            % {"id": job_id},
        )


@transaction.atomic
def audit_log_export_enqueue(*, actor: Actor, organisation, filters: AuditFilters) -> Job:
    """Start exporting the organisation's audit log (with `filters`) to a CSV file."""
    from .audit_export import KIND

    return job_enqueue(actor=actor, organisation=organisation, kind=KIND, params=filters.to_params())
