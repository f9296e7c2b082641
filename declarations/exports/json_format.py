"""JSON export: the declaration document as it is (schema ``cbam-portal/declaration/1.1``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import PROGRESS_EVERY, exporter, report_progress
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
def declaration_json(declaration) -> Iterator[bytes]:
    return document_json_chunks(document_for(declaration))


def document_json(document: dict) -> bytes:
    """``json.dumps(document, ensure_ascii=False, indent=2)`` in UTF-8 (its groups as a list)."""
    return b"".join(document_json_chunks(document))


def document_json_chunks(document: dict, *, chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
    """The bytes of :func:`document_json` in pieces of about ``chunk_bytes``, written group by
    group: a declaration of tens of thousands of groups with their traces is some hundred
    megabytes of JSON, which is never held whole, nor are the groups (see
    :class:`~.document.GroupSequence`)."""
    groups = document["groups"]
    if not groups:
        yield json.dumps({**document, "groups": []}, ensure_ascii=False, indent=2).encode("utf-8")
        return
    # Where the array goes: a string no text of ours holds (the database stores no NUL character).
    marker = "\x00groups of the declaration\x00"
    head, tail = json.dumps({**document, "groups": marker}, ensure_ascii=False, indent=2).split(json.dumps(marker), 1)
    out = io.BytesIO()
    out.write(head.encode("utf-8"))
    out.write(b"[\n")
    total = len(groups)
    for number, group in enumerate(groups):
        if number % PROGRESS_EVERY == 0:
            report_progress(number, total, gettext("Writing group %(n)s of %(total)s…") % {"n": f"{number + 1:,}", "total": f"{total:,}"})
        # The array is a value of the top-level object: its items sit two levels (4 spaces) deep.
        text = "    " + json.dumps(group, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        out.write(((",\n" if number else "") + text).encode("utf-8"))
        if out.tell() >= chunk_bytes:
            yield out.getvalue()
            out = io.BytesIO()
    out.write(b"\n  ]")
    out.write(tail.encode("utf-8"))
    yield out.getvalue()
