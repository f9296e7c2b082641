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


def _summarise(result: dict) -> str:
    if result.get("status") == "rejected":
        rows = result.get("rejected_rows", 0)
        return ngettext(
            "Nothing imported: %(rows)s row was rejected (see the file of rejected rows).",
            "Nothing imported: %(rows)s rows were rejected (see the file of rejected rows).",
            rows,
        ) % {"rows": rows}
    lines = result.get("imported", 0)
    return ngettext(
        "%(lines)s line imported, %(out)s out of scope",
        "%(lines)s lines imported, %(out)s out of scope",
        lines,
    ) % {"lines": lines, "out": result.get("out_of_scope", 0)}


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
    declaration = declaration_compute(actor=Actor(user=job.created_by), declaration=declaration)
    return JobOutcome(result={"certificates": str(declaration.certificates)})
