"""Job kinds of the operator side (discovered by core at start-up)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.errors import UserFacingError
from cbam_portal.core.jobs import JobOutcome, Progress, job_handler
from cbam_portal.core.models import Job

from .models import Installation
from .services.template_import import KIND, template_import


def _summarise(result: dict) -> str:
    goods = len(result.get("rows", []))
    differences = len(result.get("differences", []))
    text = ngettext("%(report)s: %(goods)s good read", "%(report)s: %(goods)s goods read", goods) % {
        "report": result.get("report", ""),
        "goods": goods,
    }
    if differences:
        text += ", " + ngettext(
            "%(n)s difference to the template", "%(n)s differences to the template", differences
        ) % {"n": differences}
    else:
        text += ", " + str(_("SEE agree with the template"))
    return text


@job_handler(KIND, label=_("Communication template import"), capability=Capability.VIEW, summarise=_summarise)
def emissions_template_import(job: Job, progress: Progress) -> JobOutcome:
    """Parse the uploaded template and create a draft report from it; the stored upload is
    removed afterwards whatever the outcome (the report keeps its own copy)."""
    params = job.params or {}
    stored = params.get("file") or ""
    try:
        try:
            with default_storage.open(stored, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, OSError, ValueError):
            raise UserFacingError(
                str(_("The uploaded file is no longer available; please upload it again."))
            ) from None
        installation = None
        if params.get("installation"):
            installation = Installation.objects.filter(
                pk=params["installation"], organisation=job.organisation
            ).first()
            if installation is None:
                raise UserFacingError(str(_("The installation chosen for this upload no longer exists.")))
        result = template_import(
            actor=Actor(user=job.created_by),
            organisation=job.organisation,
            data=data,
            file_name=params.get("file_name", ""),
            installation=installation,
            progress=lambda done, total, message: progress(done, total, str(message), force=True),
        )
    finally:
        if stored and default_storage.exists(stored):
            default_storage.delete(stored)
    return JobOutcome(result=result)
