"""Writes shared by every app: the audit trail and background jobs."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from .actor import Actor
from .models import AuditEvent, Job


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
    from .tasks import run_job

    jobs.get_handler(kind)  # unknown kinds fail here, not in the worker
    job = Job.objects.create(
        organisation=organisation, kind=kind, params=_jsonable(params or {}), created_by=actor.user
    )
    audit_record(actor=actor, verb="job.enqueued", organisation=organisation, target=job, after={"kind": kind})
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job
