"""Celery application. Tasks are thin adapters around services (see ARCHITECTURE §6)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cbam_portal.settings")

app = Celery("cbam_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
