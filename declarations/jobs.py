"""Job kinds of the declarant side (discovered by core at start-up)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.errors import UserFacingError
from cbam_portal.core.jobs import JobOutcome, Progress, job_handler
from cbam_portal.core.models import Job

from .services.imports import KIND, import_upload_run
from .services.qreports import KIND as QREPORT_KIND
from .services.qreports import historic_report_batch_run


def _summarise(result: dict) -> str:
    if result.get("status") == "rejected":
        rows = result.get("rejected_rows", 0)
        return ngettext(
            "Nothing imported: %(rows)s row was rejected (see the file of rejected rows).",
            "Nothing imported: %(rows)s rows were rejected (see the file of rejected rows).",
            rows,
        ) % {"rows": f"{rows:,}"}
    lines = result.get("imported", 0)
    return ngettext(
        "%(lines)s line imported, %(out)s out of scope",
        "%(lines)s lines imported, %(out)s out of scope",
        lines,
    ) % {"lines": f"{lines:,}", "out": f"{result.get('out_of_scope', 0):,}"}


@job_handler(KIND, label=_("Import lines upload"), capability=Capability.VIEW, summarise=_summarise)
def declarations_import_upload(job: Job, progress: Progress) -> JobOutcome:
    """Validate and import one uploaded customs extract, all or nothing."""
    upload_id = (job.params or {}).get("upload")
    if not upload_id:
        raise UserFacingError(str(_("This job does not name an upload.")))
    result, rejected_csv = import_upload_run(
        upload_id=upload_id,
        actor=Actor(user=job.created_by),
        organisation=job.organisation,
        progress=lambda done, total, message: progress(done, total, str(message)),
    )
    if rejected_csv is not None:
        return JobOutcome(result=result, file_name=f"rejected-rows-upload-{upload_id}.csv", file_content=rejected_csv)
    return JobOutcome(result=result)


@job_handler(
    "declarations.declaration_recompute",
    label=_("Declaration recalculation"),
    capability=Capability.VIEW,
    summarise=lambda result: _("Declaration recalculated: %(certificates)s certificates") % result,
)
def declarations_declaration_recompute(job: Job, progress: Progress) -> JobOutcome:
    """Recompute a draft declaration after its inputs changed; other statuses are left alone."""
    from .models import Declaration, DeclarationStatus
    from .services.declarations import declaration_compute

    declaration = Declaration.objects.filter(
        pk=(job.params or {}).get("declaration"), organisation=job.organisation
    ).first()
    if declaration is None:
        raise UserFacingError(str(_("This job does not name a declaration of the organisation.")))
    if declaration.status != DeclarationStatus.DRAFT:
        return JobOutcome(
            result={"skipped": declaration.status, "certificates": str(declaration.certificates)}
        )
    declaration = declaration_compute(
        actor=Actor(user=job.created_by),
        declaration=declaration,
        trigger=(job.params or {}).get("trigger", "inputs"),
        job=job,
    )
    return JobOutcome(result={"certificates": str(declaration.certificates)})


def _summarise_qreports(result: dict) -> str:
    return _("%(imported)s imported, %(duplicate)s already imported, %(rejected)s rejected") % {
        "imported": result.get("imported", 0),
        "duplicate": result.get("duplicate", 0),
        "rejected": result.get("rejected", 0),
    }


@job_handler(
    QREPORT_KIND,
    label=_("Transitional quarterly reports import"),
    capability=Capability.VIEW,
    summarise=_summarise_qreports,
)
def declarations_qreport_import(job: Job, progress: Progress) -> JobOutcome:
    """Import uploaded quarterly reports (QReport XML), each file whole or not at all."""
    upload_ids = [int(pk) for pk in (job.params or {}).get("uploads", [])]
    if not upload_ids:
        raise UserFacingError(str(_("This job does not name any uploaded report.")))
    result = historic_report_batch_run(
        upload_ids=upload_ids,
        actor=Actor(user=job.created_by),
        organisation=job.organisation,
        progress=lambda done, total, message: progress(done, total, str(message)),
    )
    if result["rejected"] and not result["imported"] and not result["duplicate"]:
        first = next(u for u in result["uploads"] if u["status"] == "rejected")
        problem = (first["problems"] or [{}])[0]
        where = problem.get("path", "/") + (f" (line {problem['line']})" if problem.get("line") else "")
        raise UserFacingError(
            str(
                ngettext(
                    "Nothing was imported: %(file)s has %(n)s problem, first %(where)s: %(message)s",
                    "Nothing was imported: %(file)s has %(n)s problems, first %(where)s: %(message)s",
                    first["problem_count"],
                )
                % {"file": first["file_name"], "n": first["problem_count"], "where": where, "message": problem.get("message", "")}
            )
        )
    return JobOutcome(result=result)


# Declaration exports (PDF, CSV, XLSX, JSON and any registered format).
from .exports import jobs as _export_jobs  # noqa: E402, F401
