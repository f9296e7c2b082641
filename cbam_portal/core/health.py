"""Liveness and readiness probes for whoever runs the service.

The bodies name the failing check but never the exception text (it can contain host names or
credentials); details go to the log.
"""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_S = 2


@never_cache
@require_GET
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.warning("Readiness: database check failed", exc_info=True)
        return f"unavailable ({type(exc).__name__})"
    return None


def _broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL) and not settings.CELERY_TASK_ALWAYS_EAGER


def _check_broker() -> str | None:
    if not _broker_configured():
        return None
    from cbam_portal.celery import app

    try:
        with app.connection_for_write(
            settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_TIMEOUT_S,
            transport_options={"socket_connect_timeout": BROKER_TIMEOUT_S, "socket_timeout": BROKER_TIMEOUT_S},
        ) as conn:
            # One attempt, no back-off: a probe must answer within its own timeout.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0,
                                   timeout=BROKER_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001
        logger.warning("Readiness: broker check failed", exc_info=True)
        return f"unavailable ({type(exc).__name__})"
    return None


@never_cache
@require_GET
def readyz(request):
    """The database answers, and the broker too when one is configured."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    broker_state = "ok" if _broker_configured() else "not configured (tasks run eagerly)"
    failing = [name for name, problem in checks.items() if problem]
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {
            "database": checks["database"] or "ok",
            "broker": checks["broker"] or broker_state,
        },
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
