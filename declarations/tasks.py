"""Celery tasks of the declarant side: thin adapters that call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, name="declarations.tasks.send_data_request_reminders")
def send_data_request_reminders() -> int:
    """Daily: remind suppliers of open data requests (idempotent per day, so a redelivered or
    repeated run sends nothing twice)."""
    from .services.requests import data_requests_send_reminders

    return data_requests_send_reminders()
