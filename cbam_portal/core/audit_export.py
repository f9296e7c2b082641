"""Job kind "audit_log_export": the organisation's audit log, filtered, as a CSV file."""

from __future__ import annotations

import json
from datetime import UTC

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cbam_portal.accounts.policy import Capability

from .csv_export import SafeCsvWriter
from .errors import UserFacingError
from .jobs import JobOutcome, Progress, job_handler
from .models import Job

KIND = "audit_log_export"
CHUNK_ROWS = 500

HEADER = (
    "time_utc",
    "actor",
    "verb",
    "target_type",
    "target_id",
    "target",
    "ip",
    "before",
    "after",
)


def _summarise(result: dict) -> str:
    rows = result.get("rows", 0)
    return ngettext("%(rows)s event exported", "%(rows)s events exported", rows) % {"rows": rows}


def _json_cell(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@job_handler(KIND, label=_("Audit log export (CSV)"), capability=Capability.VIEW_AUDIT, summarise=_summarise)
def audit_log_export(job: Job, progress: Progress) -> JobOutcome:
    from .selectors import AuditFilters, audit_events_of  # the selectors import this registry

    try:
        filters = AuditFilters.from_params(job.params or {})
    except (TypeError, ValueError) as exc:
        raise UserFacingError(_("The export's filters are not valid: %(error)s") % {"error": exc}) from exc
    events = audit_events_of(job.organisation, filters)
    total = events.count()
    progress(0, total, str(_("Exporting audit events…")), force=True)
    writer = SafeCsvWriter(HEADER)
    done = 0
    for event in events.iterator(chunk_size=CHUNK_ROWS):
        writer.writerow(
            (
                event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                event.actor_label,
                event.verb,
                event.target_type,
                event.target_id,
                event.target_repr,
                event.ip or "",
                _json_cell(event.before),
                _json_cell(event.after),
            )
        )
        done += 1
        if done % CHUNK_ROWS == 0:
            progress(done, total, str(_("%(done)s of %(total)s events exported")) % {"done": done, "total": total})
    progress(done, done, str(_("Writing the file…")), force=True)
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return JobOutcome(
        result={"rows": done, "filters": filters.to_params()},
        file_name=f"audit-log-{stamp}.csv",
        file_content=writer.getvalue(),
    )
