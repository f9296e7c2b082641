"""JSON export: the declaration document as it is (schema ``cbam-portal/declaration/1.0``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from . import exporter
from .document import document_for

SCHEMA_PATH = Path(__file__).with_name("declaration.schema.json")


@cache
def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of the export, shipped with the package."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@exporter(
    "json",
    label=_("JSON (machine-readable)"),
    media_type="application/json",
    extension="json",
    description=_("Every figure, trace and dataset version; decimals as strings."),
)
def declaration_json(declaration) -> bytes:
    return json.dumps(document_for(declaration), ensure_ascii=False, indent=2).encode("utf-8")
