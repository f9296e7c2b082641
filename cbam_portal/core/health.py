"""Liveness and readiness probes for whoever runs the service."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


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
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        return None
    from cbam_portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
@require_GET
def readyz(request):
    """The database answers, and the broker too when one is configured."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    broker_state = "not configured (tasks run eagerly)" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"
    body = {
        "status": "ok" if not any(checks.values()) else "unavailable",
        "checks": {
            "database": checks["database"] or "ok",
            "broker": checks["broker"] or broker_state,
        },
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
