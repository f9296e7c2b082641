"""Template helpers shared by every page: `{% load portal %}`."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cbam_portal.accounts.policy import Capability

from ..jobs import job_label as _job_label
from ..jobs import job_summary as _job_summary

register = template.Library()


@register.filter
def can(access, capability: str) -> bool:
    """`{% if access|can:"view_audit" %}`: whether the active access has a capability."""
    if access is None:
        return False
    try:
        return access.can(Capability(capability))
    except ValueError:
        return False


@register.filter
def job_label(kind: str) -> str:
    return _job_label(kind)


@register.filter
def job_summary(job) -> str:
    return _job_summary(job)


#: Results of a finished job that mean "it ran, but the work was refused" (e.g. an upload
#: whose rows had errors): the job is done, its outcome is not a success.
REFUSED_RESULTS = {"rejected", "failed", "invalid", "error"}


@register.filter
def job_outcome(job) -> str:
    """'success', 'refused', 'failed' or 'pending': what a person should read from a job's badge."""
    if job.status == "failed":
        return "failed"
    if job.status != "done":
        return "pending"
    result = job.result if isinstance(job.result, dict) else {}
    if str(result.get("status", "")).lower() in REFUSED_RESULTS:
        return "refused"
    return "success"


#: Readable labels of the audit verbs; any other verb is humanised ("import_upload.imported" ->
#: "Import upload: imported").
AUDIT_VERB_LABELS = {
    "organisation.created": gettext_lazy("Organisation created"),
    "organisation.updated": gettext_lazy("Organisation details changed"),
    "membership.role_changed": gettext_lazy("Member's role changed"),
    "membership.removed": gettext_lazy("Member removed"),
    "invitation.created": gettext_lazy("Invitation sent"),
    "invitation.accepted": gettext_lazy("Invitation accepted"),
    "invitation.revoked": gettext_lazy("Invitation revoked"),
    "representation.created": gettext_lazy("Representation added"),
    "representation.removed": gettext_lazy("Representation removed"),
    "api_key.created": gettext_lazy("API key created"),
    "api_key.revoked": gettext_lazy("API key revoked"),
    "job.enqueued": gettext_lazy("Background job started"),
    "import_upload.created": gettext_lazy("Customs extract uploaded"),
    "import_upload.started": gettext_lazy("Import of a customs extract started"),
    "import_upload.imported": gettext_lazy("Customs extract imported"),
    "import_upload.rejected": gettext_lazy("Customs extract rejected (rows with errors)"),
    "import_line.created": gettext_lazy("Import line added"),
    "historic_report_upload.created": gettext_lazy("Transitional report uploaded"),
    "historic_report_upload.rejected": gettext_lazy("Transitional report rejected"),
    "historic_report.imported": gettext_lazy("Transitional report imported"),
    "historic_report.superseded": gettext_lazy("Transitional report replaced by its correction"),
    "supplier.created": gettext_lazy("Supplier added"),
    "supplier.updated": gettext_lazy("Supplier changed"),
    "supplier.mapping_created": gettext_lazy("Supplier linked to an installation"),
    "supplier.mapping_deleted": gettext_lazy("Supplier's installation link removed"),
    "supplier.mapping_applied": gettext_lazy("Supplier's installation applied to import lines"),
    "supplier.linked_by_claim": gettext_lazy("Supplier linked by the operator's claim"),
    "data_request.sent": gettext_lazy("Data request sent"),
    "data_request.reminded": gettext_lazy("Data request reminder sent"),
    "data_request.claimed": gettext_lazy("Data request claimed by the operator"),
    "data_request.answered": gettext_lazy("Data request answered"),
    "data_request.declined": gettext_lazy("Data request declined"),
    "data_request.cancelled": gettext_lazy("Data request cancelled"),
    "data_request.defaults_updated": gettext_lazy("Data request defaults changed"),
    "declaration.created": gettext_lazy("Declaration drafted"),
    "declaration.computed": gettext_lazy("Declaration recalculated"),
    "declaration.source_overridden": gettext_lazy("Source of emissions chosen for a group"),
    "declaration.submitted_for_review": gettext_lazy("Declaration submitted for review"),
    "declaration.returned_to_draft": gettext_lazy("Declaration returned to the preparer"),
    "declaration.approved": gettext_lazy("Declaration approved"),
    "declaration.filed": gettext_lazy("Declaration filed"),
    "declaration.amended": gettext_lazy("Declaration amended (new version)"),
    "declaration.commented": gettext_lazy("Comment on a declaration"),
    "declaration.export_requested": gettext_lazy("Declaration export requested"),
    "declaration.carbon_price_claimed": gettext_lazy("Carbon price paid abroad claimed"),
    "declaration.carbon_price_claim_withdrawn": gettext_lazy("Carbon price claim withdrawn"),
    "installation.created": gettext_lazy("Installation added"),
    "installation.updated": gettext_lazy("Installation changed"),
    "sharing_grant.created": gettext_lazy("Installation data shared"),
    "sharing_grant.revoked": gettext_lazy("Data sharing revoked"),
    "emissions_report.created": gettext_lazy("Emissions report started"),
    "emissions_report.imported": gettext_lazy("Emissions report imported"),
    "emissions_report.submitted": gettext_lazy("Emissions report submitted"),
    "emissions_report.verified": gettext_lazy("Emissions report verified"),
    "emissions_report.superseded": gettext_lazy("Emissions report superseded"),
    "emissions_report.correction_started": gettext_lazy("Correction of an emissions report started"),
    "emissions_template.uploaded": gettext_lazy("Commission template uploaded"),
    "reference.dataset_loaded": gettext_lazy("Reference data loaded"),
    "reference.dataset_made_current": gettext_lazy("Reference data version made current"),
    "reference.dataset_reactivated": gettext_lazy("Reference data version reactivated"),
    "reference.countries_synced": gettext_lazy("Country list updated"),
}


def humanise_verb(verb: str) -> str:
    """'import_upload.imported' -> 'Import upload: imported' (for verbs without a label)."""
    subject, _dot, action = (verb or "").partition(".")
    words = subject.replace("_", " ").strip()
    action = action.replace("_", " ").replace(".", " ").strip()
    text = f"{words}: {action}" if action else words
    return text[:1].upper() + text[1:]


@register.filter
def audit_verb(verb: str) -> str:
    label = AUDIT_VERB_LABELS.get(verb)
    return str(label) if label is not None else humanise_verb(verb)


@register.filter
def duration(value: timedelta | None) -> str:
    """A short, readable duration: "0.4 s", "12 s", "3 min 05 s", "2 h 01 min"."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 10:
        return _("%(s).1f s") % {"s": seconds}
    whole = int(seconds)
    if whole < 60:
        return _("%(s)d s") % {"s": whole}
    if whole < 3600:
        return _("%(m)d min %(s)02d s") % {"m": whole // 60, "s": whole % 60}
    return _("%(h)d h %(m)02d min") % {"h": whole // 3600, "m": (whole % 3600) // 60}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def audit_diff(event) -> list[dict]:
    """The fields of an event's before/after snapshots, side by side, changed ones flagged."""
    before = (
        event.before
        if isinstance(event.before, dict)
        else ({} if event.before is None else {"": event.before})
    )
    after = (
        event.after if isinstance(event.after, dict) else ({} if event.after is None else {"": event.after})
    )
    rows = []
    for key in sorted(set(before) | set(after)):
        rows.append(
            {
                "field": key,
                "before": _cell(before.get(key)) if key in before else None,
                "after": _cell(after.get(key)) if key in after else None,
                "changed": before.get(key) != after.get(key) or (key in before) != (key in after),
            }
        )
    return rows


@register.simple_tag(takes_context=True)
def nav_active(context, *names: str) -> str:
    """`active` when the current page's URL name (`namespace:name` or `namespace:*`) is one of `names`."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    current = match.view_name
    for name in names:
        if name == current or (name.endswith(":*") and current.startswith(name[:-1])):
            return "active"
    return ""


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[dict]:
    """The domain apps' menu entries visible to the active access, with URL and active state."""
    from django.urls import NoReverseMatch, reverse

    from ..navigation import nav_items_for

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    items = []
    for item in nav_items_for(context.get("access")):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # a page not wired up (yet) never breaks every other page
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": "active" if item.is_active(view_name) else "",
                "description": item.description,
            }
        )
    return items
