"""Writes: starting the export of a declaration (a background job, any format of the registry)."""

from __future__ import annotations

from django.db import transaction

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import Job
from cbam_portal.core.services import audit_record, job_enqueue

from ..models import Declaration
from . import get_exporter

KIND = "declarations.declaration_export"


@transaction.atomic
def declaration_export_enqueue(*, actor: Actor, declaration: Declaration, format_key: str) -> Job:
    """Start exporting ``declaration`` as ``format_key`` (a key of the exporter registry).

    Reading is enough to export: the file goes to the job, served only through its
    permission-checked download. An unknown format is refused on the ``format`` field.
    """
    exporter = get_exporter(format_key)
    job = job_enqueue(
        actor=actor,
        organisation=declaration.organisation,
        kind=KIND,
        params={"declaration": declaration.pk, "format": exporter.key},
    )
    audit_record(
        actor=actor,
        verb="declaration.export_requested",
        organisation=declaration.organisation,
        target=declaration,
        after={
            "format": exporter.key,
            "job": job.pk,
            "status": declaration.status,
            "version": declaration.version,
        },
    )
    return job
