"""PDF export: the declaration as a printable A4 document, rendered by WeasyPrint.

The document uses the portal's templates and a print stylesheet (``static/css/declaration-print.css``).
WeasyPrint may fetch only our own static files: every other URL (other hosts, ``file:``,
``data:``, media uploads) is refused, so content written by users can never make the renderer
read local files or call out to the network.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import exporter, report_progress
from .document import GroupSequence, document_for

logger = logging.getLogger(__name__)

# A base URL that resolves nowhere: relative and /static/ links become https://cbam-portal.invalid/...
BASE_URL = "https://cbam-portal.invalid/"
TEMPLATE = "declarations/export/pdf/declaration.html"
MEDIA_TYPES = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".woff2": "font/woff2"}


def static_path_for(url: str) -> Path | None:
    """The file of one of our static assets named by ``url``, or None for anything else."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or parts.query or parts.fragment:
        return None
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix) :])
    if not relative or ".." in relative.split("/") or relative.startswith("/"):
        return None
    if Path(relative).suffix.lower() not in MEDIA_TYPES:
        return None
    found = finders.find(relative)
    if not found:
        static_root = Path(settings.STATIC_ROOT) / relative
        found = str(static_root) if static_root.is_file() else None
    return Path(found) if found else None


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyURLFetcher(URLFetcher):
        """Serves our static files from disk; refuses every other URL."""

        def fetch(self, url, headers=None):
            path = static_path_for(url)
            if path is None:
                logger.warning("PDF export refused to fetch %s", url[:200])
                raise ValueError(f"Only the portal's static files may be used in a PDF: {url[:200]}")
            return URLFetcherResponse(
                url,
                body=path.read_bytes(),
                headers={"Content-Type": MEDIA_TYPES[path.suffix.lower()]},
            )

    return StaticOnlyURLFetcher


def static_only_url_fetcher():
    return _fetcher_class()()


def _display_when(value: str | None) -> str:
    """'2026-11-22T10:05:08.123+00:00' -> '2026-11-22 10:05 UTC' (dates stay as they are)."""
    if not value:
        return "–"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= 10:
        return value
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


#: The trace annex of the PDF shows the "why" of this many groups at most, those with the most
#: certificates. Rendering every step of every group of a large declaration takes WeasyPrint
#: minutes and gigabytes (2,939 groups: 7 min, 4.9 GB) for an annex nobody can read on paper;
#: the XLSX and JSON exports and each group's "why?" page carry every trace.
PDF_TRACE_GROUPS = 200
#: Up to this many table rows (installations, goods groups, operator reports) and traced groups a
#: PDF is laid out at once; a longer one in parts of this many rows, and of this many traced groups
#: (see :func:`declaration_pdf`). A part of 1,500 rows took 630 MB, one of 300 rows 270 MB.
PDF_PART_ROWS = 500
PDF_PART_TRACES = 25


def _traced_groups(groups: GroupSequence) -> list[dict]:
    """The groups whose trace the annex shows (numbered as in the goods table), in table order:
    those with the most certificates, picked from a walk without traces, so that only their
    traces are read or derived (:class:`~.document.GroupSequence`)."""
    certificates = [Decimal(g["certificates"] or "0") for g in groups.without_traces()]
    positions = sorted(range(len(certificates)), key=lambda i: certificates[i], reverse=True)[:PDF_TRACE_GROUPS]
    picked = groups.traced(positions)
    return [{**picked[i], "number": i + 1} for i in sorted(picked)]


def pdf_context(document: dict) -> dict:
    """The document with display texts for its times (the template stays free of parsing), and
    the groups whose trace the annex shows."""
    dates = {
        key: _display_when(value) if key.endswith("_at") else value
        for key, value in document["dates"].items()
    }
    evidence = [
        {
            **supplier,
            "requests": [
                {
                    **r,
                    "sent_display": _display_when(r["sent_at"]),
                    "answered_display": _display_when(r["answered_at"]),
                    "events": [{**e, "at_display": _display_when(e["at"])} for e in r["events"]],
                }
                for r in supplier["requests"]
            ],
        }
        for supplier in document["supplier_evidence"]
    ]
    reports = [
        {**r, "submitted_display": _display_when(r["submitted_at"])} for r in document["operator_reports"]
    ]
    traced = _traced_groups(document["groups"])
    return {
        "doc": document,
        "table_groups": document["groups"].without_traces(),  # the goods table shows no step
        "traced_groups": traced,
        "traces_left_out": len(document["groups"]) - len(traced),
        "dates": dates,
        "evidence": evidence,
        "reports": reports,
        "generated_display": _display_when(document["generated_at"]),
        "is_filed": document["data_source"] == "filed_snapshot",
    }


def whole_part(context: dict) -> dict:
    """The one part of a PDF laid out at once: everything."""
    return {
        "front": True,
        "show_installations": True,
        "installation_rows": context["doc"]["installations"],
        "installations_continued": False,
        "show_groups": True,
        "group_rows": context["table_groups"],
        "group_offset": 0,
        "groups_continued": False,
        "groups_last": True,
        "show_annex": True,
        "annex_intro": True,
        "annex_continued": False,
        "show_reports": True,
        "report_rows": context["reports"],
        "reports_continued": False,
        "traced_rows": context["traced_groups"],
        "evidence": True,
        "first_page": None,
    }


def pdf_parts(context: dict, rows: int, traces: int) -> Iterator[dict]:
    """The parts of a long PDF, each laid out on its own, in order: the front pages with the
    first ``rows`` rows of the installation table, its further rows, the goods groups ``rows`` at
    a time (read as they are needed), the methodology with the first ``rows`` operator reports,
    the further reports, the traced groups ``traces`` at a time, then the supplier evidence.
    ``first_page`` is left for the caller."""
    installations, reports, traced = context["doc"]["installations"], context["reports"], context["traced_groups"]
    groups = iter(context["table_groups"])
    total = len(context["table_groups"])
    blank = {key: False for key in whole_part(context)} | {
        "installation_rows": [], "group_rows": [], "group_offset": 0, "report_rows": [], "traced_rows": [],
        "first_page": None,
    }  # fmt: skip
    yield {**blank, "front": True, "show_installations": True, "installation_rows": installations[:rows]}
    for start in range(rows, len(installations), rows):
        yield {**blank, "show_installations": True, "installation_rows": installations[start : start + rows],
               "installations_continued": True}  # fmt: skip
    for start in range(0, max(total, 1), rows):
        chunk = list(itertools.islice(groups, rows))
        yield {**blank, "show_groups": True, "group_rows": chunk, "group_offset": start,
               "groups_continued": start > 0, "groups_last": start + rows >= total}  # fmt: skip
    yield {**blank, "show_annex": True, "annex_intro": True, "show_reports": True, "report_rows": reports[:rows]}
    for start in range(rows, len(reports), rows):
        yield {**blank, "show_annex": True, "annex_continued": True, "show_reports": True,
               "report_rows": reports[start : start + rows], "reports_continued": True}  # fmt: skip
    for start in range(0, len(traced), traces):
        yield {**blank, "show_annex": True, "annex_continued": True, "traced_rows": traced[start : start + traces]}
    yield {**blank, "evidence": True}


def pdf_part_count(context: dict, rows: int, traces: int) -> int:
    """How many parts :func:`pdf_parts` makes (without reading the groups)."""
    installations, reports = len(context["doc"]["installations"]), len(context["reports"])
    groups, traced = len(context["table_groups"]), len(context["traced_groups"])
    more = lambda n, size: max(0, -(-n // size) - 1)  # noqa: E731 - parts after the first
    return 1 + more(installations, rows) + max(1, -(-groups // rows)) + 1 + more(reports, rows) + -(-traced // traces) + 1


def _html(context: dict, part: dict | None = None) -> str:
    """The HTML of ``part`` of the PDF (all of it by default)."""
    return render_to_string(TEMPLATE, {**context, "part": whole_part(context) if part is None else part})


def declaration_html(declaration) -> str:
    """The whole declaration as one HTML page (what a PDF of it shows, laid out at once)."""
    return _html(pdf_context(document_for(declaration)))


def _render(html: str) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    return HTML(string=html, base_url=BASE_URL, url_fetcher=static_only_url_fetcher()).write_pdf()


@exporter(
    "pdf",
    label=_("PDF report"),
    media_type="application/pdf",
    extension="pdf",
    description=_("Summary, goods, the 'why' of every group and the supplier evidence, for printing."),
)
def declaration_pdf(declaration) -> Iterator[bytes]:
    """The PDF, laid out at once up to :data:`PDF_PART_ROWS` table rows and
    :data:`PDF_PART_TRACES` traced groups. A longer one is laid out in parts (:func:`pdf_parts`),
    each numbered on from the pages before it, and the parts' pages joined into one file:
    WeasyPrint keeps every page of a layout in memory (about 4 MB a page; 2,419 groups made 307
    pages, 1.3 GB), so a declaration of tens of thousands of groups could not be laid out at
    once. Its pages say "Page N" without the total, which a part cannot know."""
    context = pdf_context(document_for(declaration))
    rows = len(context["doc"]["installations"]) + len(context["table_groups"]) + len(context["reports"])
    if rows <= PDF_PART_ROWS and len(context["traced_groups"]) <= PDF_PART_TRACES:
        yield _render(_html(context))
        return
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    pages = 0
    count = pdf_part_count(context, PDF_PART_ROWS, PDF_PART_TRACES)
    for number, part in enumerate(pdf_parts(context, PDF_PART_ROWS, PDF_PART_TRACES), start=1):
        report_progress(number - 1, count, gettext("Laying out part %(n)s of %(count)s of the PDF…") % {"n": number, "count": count})
        reader = PdfReader(io.BytesIO(_render(_html(context, {**part, "first_page": pages + 1}))))
        if not pages and reader.metadata:
            writer.add_metadata(dict(reader.metadata))
        writer.append(reader)
        pages += len(reader.pages)
    with tempfile.TemporaryFile() as out:
        writer.write(out)
        out.seek(0)
        while piece := out.read(1 << 20):
            yield piece
