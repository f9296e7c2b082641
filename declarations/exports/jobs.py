"""Job kind "declarations.declaration_export": one declaration in one format of the registry."""

from __future__ import annotations

import tempfile

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cbam_portal.accounts.policy import Capability
from cbam_portal.core.db import one_snapshot
from cbam_portal.core.errors import UserFacingError
from cbam_portal.core.jobs import BackgroundProgress, JobOutcome, Progress, job_handler
from cbam_portal.core.models import Job

from . import progress_to
from .services import KIND


def _summarise(result: dict) -> str:
    return _("%(format)s export of the %(year)s declaration, version %(version)s (%(status)s)") % {
        "format": str(result.get("format", "")).upper(),
        "year": result.get("year", ""),
        "version": result.get("version", ""),
        "status": result.get("status", ""),
    }


@job_handler(KIND, label=gettext_lazy("Declaration export"), capability=Capability.VIEW, summarise=_summarise)
def declarations_declaration_export(job: Job, progress: Progress) -> JobOutcome:
    """Render the declaration named in the job with the exporter of its format (read-only)."""
    from ..models import Declaration
    from . import get_exporter
    from .document import document_for

    params = job.params or {}
    try:
        exporter = get_exporter(params.get("format"))
    except ValidationError as exc:
        raise UserFacingError(" ".join(exc.messages)) from exc
    progress(0, 1, _("Collecting the declaration's figures…"), force=True)
    # One snapshot of the database for the whole file: a draft recalculated meanwhile (its groups
    # replaced) cannot make the totals and the groups of one file disagree. The snapshot is read
    # only, so on PostgreSQL the exporter's progress goes through a connection of its own.
    report = BackgroundProgress(progress) if connection.vendor == "postgresql" else progress
    try:
        with progress_to(report), one_snapshot():
            declaration = (
                Declaration.objects.filter(pk=params.get("declaration"), organisation=job.organisation)
                .select_related(
                    "organisation", "prepared_by", "submitted_for_review_by", "approved_by", "filed_by", "supersedes"
                )
                .first()
            )
            if declaration is None:
                raise UserFacingError(_("This job does not name a declaration of the organisation."))
            document = document_for(declaration, traces=exporter.traces)
            content = exporter.render(declaration)
            if isinstance(content, bytes | bytearray):
                size = len(content)
            else:  # pieces of a large file, spooled to disk rather than joined in memory
                pieces, content = content, tempfile.TemporaryFile()  # noqa: SIM115 - job_run closes it once stored
                for piece in pieces:
                    content.write(piece)
                size = content.tell()
                content.seek(0)
    finally:
        if isinstance(report, BackgroundProgress):
            report.close()
    progress(1, 1, _("Saving the file…"), force=True)
    return JobOutcome(
        result={
            "format": exporter.key,
            "declaration": declaration.pk,
            "year": declaration.year,
            "version": declaration.version,
            "status": declaration.status,
            "data_source": document["data_source"],
            "bytes": size,
        },
        file_name=exporter.file_name(declaration),
        file_content=content,
    )
