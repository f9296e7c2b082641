"""Test job kinds registered for the duration of a test, and helpers for the core tests."""

from __future__ import annotations

import pytest

from cbam_portal.accounts.policy import Capability
from cbam_portal.core import jobs
from cbam_portal.core.errors import UserFacingError
from cbam_portal.core.jobs import JobOutcome


def _ok(job, progress):
    total = int(job.params.get("total", 3))
    for i in range(total):
        progress(i + 1, total, f"step {i + 1}")
    return JobOutcome(result={"items": total}, file_name="../../etc/result file.txt", file_content=b"hello")


def _user_error(job, progress):
    progress(1, 4, "reading")
    raise UserFacingError("Row 3, column B: the CN code 7208 is not an 8-digit code.")


def _crash(job, progress):
    raise RuntimeError("database password is hunter2")


def _admin_only(job, progress):
    return JobOutcome(result={"secret": 1})


@pytest.fixture
def test_job_kinds():
    """Registers test.ok / test.user_error / test.crash / test.admin_only, removed afterwards."""
    registered = {
        "test.ok": dict(label="Test OK", run=_ok),
        "test.user_error": dict(label="Test user error", run=_user_error),
        "test.crash": dict(label="Test crash", run=_crash),
        "test.admin_only": dict(label="Test admin only", run=_admin_only, capability=Capability.MANAGE_MEMBERS),
    }
    for kind, spec in registered.items():
        jobs.job_handler(kind, label=spec["label"], capability=spec.get("capability", Capability.VIEW))(spec["run"])
    yield
    for kind in registered:
        jobs._REGISTRY.pop(kind, None)
