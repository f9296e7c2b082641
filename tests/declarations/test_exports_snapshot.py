"""The export job reads a declaration in one database snapshot (a transaction of its own, which
the tests of the other modules, inside their rolled-back transactions, cannot show)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from cbam_portal.core.models import JobStatus
from tests.reference.conftest import load_builtin

from .test_exports_support import draft_declaration, run_export

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("format_key", ["json", "csv", "xlsx", "pdf"])
def test_the_export_job_reads_in_one_read_only_snapshot_and_writes_nothing(personas, monkeypatch, format_key):
    from declarations.exports import document

    load_builtin()
    declaration = draft_declaration(personas)
    seen = []
    build = document.build_document

    def observed(*args, **kwargs):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')")
                seen.append(cursor.fetchone())
        else:
            seen.append(("in a transaction", connection.in_atomic_block))
        return build(*args, **kwargs)

    monkeypatch.setattr(document, "build_document", observed)
    job = run_export(declaration, personas, format_key)
    assert job.status == JobStatus.DONE, job.error
    if connection.vendor == "postgresql":
        assert seen == [("repeatable read", "on")]
    else:
        assert seen == [("in a transaction", True)]
    if format_key == "json":
        exported = json.loads(job.result_file.read())
        declaration.refresh_from_db()
        assert exported["totals"]["groups"] == declaration.groups.count() == len(exported["groups"])
    assert job.progress == job.total == 1
