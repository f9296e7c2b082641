"""A real Celery worker, consuming from Redis, runs a job enqueued through `job_enqueue`.

Skipped when Redis is not reachable at 127.0.0.1:6379; with CBAM_REQUIRE_SERVICES=1 (CI) a missing
Redis fails the test instead.
"""

import os
import threading
import uuid

import pytest

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import Job, JobStatus
from cbam_portal.core.selectors import AuditFilters
from cbam_portal.core.services import audit_log_export_enqueue

from .factories import AuditEventFactory

BROKER_URL = "redis://127.0.0.1:6379/15"


def require_redis(url: str = BROKER_URL) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        reason = f"Redis is not reachable at {url} ({type(exc).__name__}: {exc})"
        if os.environ.get("CBAM_REQUIRE_SERVICES") == "1":
            pytest.fail(reason + " and CBAM_REQUIRE_SERVICES=1")
        pytest.skip(reason)


def _forget_connections(app) -> None:
    # Pools are created on first use for the broker configured then; drop them so the next use
    # connects to the broker configured now.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_over_redis(settings):
    """The project's Celery app pointed at Redis (not eager), on a queue of its own so parallel test
    runs sharing the Redis database never take each other's messages."""
    require_redis()
    from celery.contrib.testing.worker import start_worker

    from cbam_portal.celery import app

    queue = f"cbam-test-{uuid.uuid4().hex}"
    # Save before touching Django settings: app.conf reads them lazily, and restoring a value read
    # after the change would pin the test value for every later test in this process.
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = BROKER_URL
    app.conf.update(broker_url=BROKER_URL, task_always_eager=False, task_default_queue=queue)
    _forget_connections(app)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=20):
            yield app
    finally:
        app.conf.update(saved)
        _forget_connections(app)
        import redis

        redis.Redis.from_url(BROKER_URL).delete(queue)


@pytest.mark.django_db(transaction=True)
def test_job_enqueued_through_the_broker_is_completed_by_a_real_worker(celery_over_redis, personas):
    from celery.signals import task_postrun, task_prerun

    AuditEventFactory(organisation=personas.organisation, verb="member.invited")
    deliveries = []
    finished = threading.Event()

    def record(task=None, **kwargs):
        deliveries.append((task.request.is_eager, (task.request.delivery_info or {}).get("routing_key")))

    def done(**kwargs):
        finished.set()

    task_prerun.connect(record, weak=False)
    task_postrun.connect(done, weak=False)
    try:
        job = audit_log_export_enqueue(
            actor=Actor(user=personas.owner), organisation=personas.organisation, filters=AuditFilters()
        )  # outside a test transaction: commits, so the message goes to Redis
        # Wait for the worker's own signal rather than polling the job row: on SQLite (shared
        # cache) a read from this thread while the worker writes made the worker's write fail
        # with "database table is locked".
        assert finished.wait(timeout=30), "the worker did not run the job within 30 s"
    finally:
        task_prerun.disconnect(record)
        task_postrun.disconnect(done)
    job.refresh_from_db()

    assert deliveries == [(False, celery_over_redis.conf.task_default_queue)]  # via the broker, not eagerly
    assert job.status == JobStatus.DONE, job.error or job.status
    assert job.attempts == 1
    assert job.result["rows"] == 2  # the invitation and the job.enqueued event
    assert job.progress == job.total == 2
    with job.result_file.open("rb") as fh:
        assert b"member.invited" in fh.read()
    assert Job.objects.count() == 1


def test_missing_redis_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("CBAM_REQUIRE_SERVICES", raising=False)

    with pytest.raises(pytest.skip.Exception, match="not reachable at redis://127.0.0.1:1/0"):
        require_redis("redis://127.0.0.1:1/0")


def test_missing_redis_fails_when_services_are_required(monkeypatch):
    monkeypatch.setenv("CBAM_REQUIRE_SERVICES", "1")

    with pytest.raises(pytest.fail.Exception, match="CBAM_REQUIRE_SERVICES=1"):
        require_redis("redis://127.0.0.1:1/0")
