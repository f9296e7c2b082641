"""The audit_log_export job kind: filtered, formula-safe CSV of the organisation's audit log."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from cbam_portal.core.actor import Actor
from cbam_portal.core.csv_export import csv_safe
from cbam_portal.core.models import AuditEvent, JobStatus
from cbam_portal.core.selectors import AuditFilters
from cbam_portal.core.services import audit_log_export_enqueue

from .factories import AuditEventFactory

pytestmark = pytest.mark.django_db


def _rows(job):
    with job.result_file.open("rb") as fh:
        text = fh.read().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _export(personas, callbacks, filters=None):
    with callbacks(execute=True):
        job = audit_log_export_enqueue(
            actor=Actor(user=personas.owner, ip="198.51.100.7"),
            organisation=personas.organisation,
            filters=filters or AuditFilters(),
        )
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+31 20 123", "'+31 20 123"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-30,125", "-30,125"),  # a plain (negative) number cannot run: left as it is
        ("-30.125", "-30.125"),
        ("+12", "+12"),
        ("-1e5", "'-1e5"),
        ("-", "'-"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(value, expected):
    assert csv_safe(value) == expected


def test_export_writes_every_event_of_the_organisation_with_progress_complete(
    personas, django_capture_on_commit_callbacks
):
    AuditEventFactory(organisation=personas.organisation, actor=personas.owner, verb="member.invited",
                      target_repr="Invitation of a@example.test", before=None, after={"role": "viewer"})
    AuditEventFactory(organisation=personas.organisation, verb="organisation.updated",
                      before={"name": "Old"}, after={"name": "New"})
    AuditEventFactory(organisation=personas.other_organisation, verb="secret.other.org")

    job = _export(personas, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.DONE, job.error
    own_events = AuditEvent.objects.filter(organisation=personas.organisation).count()  # includes job.enqueued
    assert job.progress == job.total == own_events
    assert job.result["rows"] == own_events
    rows = _rows(job)
    assert rows[0] == ["time_utc", "actor", "verb", "target_type", "target_id", "target", "ip", "before", "after"]
    assert len(rows) == own_events + 1
    verbs = [r[2] for r in rows[1:]]
    assert "secret.other.org" not in verbs
    assert {"member.invited", "organisation.updated", "job.enqueued"} <= set(verbs)
    updated = next(r for r in rows[1:] if r[2] == "organisation.updated")
    assert updated[7] == '{"name": "Old"}' and updated[8] == '{"name": "New"}'
    assert updated[0].endswith("Z")
    assert job.result_file_name.startswith("audit-log-") and job.result_file_name.endswith(".csv")


def test_export_neutralises_formulas_injected_through_audited_values(personas, django_capture_on_commit_callbacks):
    AuditEventFactory(organisation=personas.organisation, verb="organisation.updated",
                      actor_label="=HYPERLINK(\"http://evil\")", target_repr="+cmd|' /C calc'!A0",
                      after={"name": "=1+1"})

    job = _export(personas, django_capture_on_commit_callbacks, AuditFilters(verb="organisation.updated"))

    row = _rows(job)[1]
    assert row[1] == "'=HYPERLINK(\"http://evil\")"
    assert row[5] == "'+cmd|' /C calc'!A0"
    assert row[8] == '{"name": "=1+1"}'  # JSON text starts with "{", harmless


def test_export_applies_the_filters(personas, django_capture_on_commit_callbacks):
    old = AuditEventFactory(organisation=personas.organisation, verb="member.removed", actor_label="alice@example.test")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    AuditEventFactory(organisation=personas.organisation, verb="member.removed", actor_label="alice@example.test")
    AuditEventFactory(organisation=personas.organisation, verb="member.removed", actor_label="bob@example.test")
    AuditEventFactory(organisation=personas.organisation, verb="member.invited", actor_label="alice@example.test")
    today = timezone.localdate()

    job = _export(
        personas,
        django_capture_on_commit_callbacks,
        AuditFilters(verb="member.removed", actor="ALICE", date_from=today - timedelta(days=1), date_to=today),
    )

    rows = _rows(job)[1:]
    assert [(r[1], r[2]) for r in rows] == [("alice@example.test", "member.removed")]
    assert job.result["filters"]["verb"] == "member.removed"


def test_export_of_an_empty_selection_is_a_header_only_file(personas, django_capture_on_commit_callbacks):
    job = _export(personas, django_capture_on_commit_callbacks, AuditFilters(verb="nothing.like.this"))

    assert job.status == JobStatus.DONE
    assert job.result["rows"] == 0
    assert len(_rows(job)) == 1


def test_export_with_unreadable_filters_fails_with_a_readable_error(personas):
    from cbam_portal.core.jobs import job_run

    from .factories import JobFactory

    job = JobFactory(organisation=personas.organisation, kind="audit_log_export", params={"date_from": "31/12/2026"})

    job_run(job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "filters are not valid" in job.error
    assert "31/12/2026" in job.error
