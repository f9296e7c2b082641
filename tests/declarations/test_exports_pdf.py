"""Declaration PDF export: a background job whose PDF shows the goods, totals, trace and evidence."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from cbam_portal.core.models import JobStatus
from declarations.exports.pdf import BASE_URL, static_only_url_fetcher, static_path_for
from declarations.models import DeclarationGroup
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

from .test_exports_support import (  # noqa: F401
    declaration_fixture,
    file_declaration,
    run_export,
    supplier_with_requests,
)

pytestmark = pytest.mark.django_db


def _pdf_text(job) -> tuple[str, int]:
    with job.result_file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_the_pdf_job_makes_a_pdf_with_the_goods_totals_trace_and_supplier_evidence(declaration, personas):
    supplier_with_requests(personas)
    job = run_export(declaration, personas, "pdf")
    assert job.status == JobStatus.DONE, job.error
    assert job.result_file_name.endswith("-2026-v1-draft.pdf")
    assert job.result["format"] == "pdf" and job.result["data_source"] == "live"
    with job.result_file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    text, pages = _pdf_text(job)
    assert pages >= 4
    assert "7601 10 10" in text and "7208 10 00" in text
    declaration.refresh_from_db()
    assert f"{declaration.certificates.normalize():f}" in text  # total certificates
    assert "167.575" in text
    assert "DRAFT" in text
    assert personas.organisation.eori in text
    assert "Annex A" in text and "[IR2620] Annex Eq. 2" in text  # the "why" of every group
    assert "Anatolia Steel Trading" in text and "declined" in text and "No data collected yet" in text
    assert "Page 1 of" in text


def test_a_filed_declaration_pdf_shows_the_snapshot_and_no_draft_mark(declaration, personas):
    declaration = file_declaration(declaration, personas)
    DeclarationGroup.objects.filter(declaration=declaration).update(certificates=Decimal("999999"))
    job = run_export(declaration, personas, "pdf")
    assert job.status == JobStatus.DONE, job.error
    assert job.result["data_source"] == "filed_snapshot"
    assert job.result_file_name.endswith("-2026-v1.pdf")
    text, _ = _pdf_text(job)
    assert "999999" not in text and "DRAFT" not in text
    assert "frozen snapshot" in text and "167.575" in text


def test_the_pdf_renderer_may_fetch_only_our_static_files(settings):
    assert static_path_for(f"{BASE_URL}static/css/declaration-print.css") is not None
    for url in (
        "file:///etc/passwd",
        "https://example.com/static/css/declaration-print.css",
        f"{BASE_URL}media/secret.pdf",
        f"{BASE_URL}static/../../cbam_portal/settings.py",
        f"{BASE_URL}static/css/%2e%2e/%2e%2e/manage.py",
        "data:text/css,body{}",
        "http://127.0.0.1:8000/admin/",
    ):
        assert static_path_for(url) is None, url
        with pytest.raises(ValueError):
            static_only_url_fetcher().fetch(url)
    response = static_only_url_fetcher().fetch(f"{BASE_URL}static/css/declaration-print.css")
    assert b"@page" in response.read()


def test_an_image_pointing_elsewhere_in_user_text_is_not_fetched(declaration, personas, monkeypatch):
    fetched = []
    from declarations.exports import pdf

    original = pdf.static_path_for

    def spy(url):
        fetched.append(url)
        return original(url)

    monkeypatch.setattr(pdf, "static_path_for", spy)
    group = declaration.groups.get(cn_code="76011010")
    group.installation.name = '<img src="http://127.0.0.1:9/x.png"> Plant'
    group.installation.save()
    job = run_export(declaration, personas, "pdf")
    assert job.status == JobStatus.DONE, job.error
    # Text is escaped, so no image is requested; only the print stylesheet is fetched.
    assert fetched == [f"{BASE_URL}static/css/declaration-print.css"]


def test_a_large_declaration_pdf_traces_the_groups_with_the_most_certificates(declaration, monkeypatch):
    from declarations.exports import pdf
    from declarations.exports.document import document_for

    groups = list(document_for(declaration)["groups"])
    assert len(groups) >= 2
    html = pdf.declaration_html(declaration)
    assert 'data-testid="traces-left-out"' not in html and html.count('class="why"') == len(groups)

    monkeypatch.setattr(pdf, "PDF_TRACE_GROUPS", 1)
    largest = max(range(len(groups)), key=lambda i: Decimal(groups[i]["certificates"] or "0"))
    traced = pdf._traced_groups(document_for(declaration)["groups"])
    assert [g["number"] for g in traced] == [largest + 1]
    assert traced[0]["trace"] == groups[largest]["trace"] and traced[0]["trace"]
    html = pdf.declaration_html(declaration)
    assert html.count('class="why"') == 1 and f"<h3>{largest + 1}. " in html
    assert f"The steps of the group with the most certificates follow (of {len(groups)} groups" in html


def test_a_long_pdf_is_laid_out_in_parts_numbered_on_and_shows_every_row_once(declaration, personas, monkeypatch):
    from declarations.exports import pdf
    from declarations.exports.document import document_for

    supplier_with_requests(personas)
    groups = list(document_for(declaration)["groups"])
    installations = document_for(declaration)["installations"]
    assert len(groups) >= 2
    whole = run_export(declaration, personas, "pdf")
    whole_text, whole_pages = _pdf_text(whole)
    monkeypatch.setattr(pdf, "PDF_PART_ROWS", 1)  # a part per table row and per traced group
    monkeypatch.setattr(pdf, "PDF_PART_TRACES", 1)
    context = pdf.pdf_context(document_for(declaration))
    reports, traced = context["reports"], context["traced_groups"]
    assert len(reports) >= 1 and len(traced) == len(groups)
    parts = list(pdf.pdf_parts(context, 1, 1))
    assert len(parts) == 1 + (len(installations) - 1) + len(groups) + 1 + (len(reports) - 1) + len(traced) + 1
    job = run_export(declaration, personas, "pdf")
    assert job.status == JobStatus.DONE, job.error
    text, pages = _pdf_text(job)
    assert pages > whole_pages  # each part starts on a page of its own
    with job.result_file.open("rb") as handle:
        page_texts = [page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages]
    furniture = ("CBAM declaration 2026 v1", "Generated ", "DRAFT")
    assert all(
        any(line.strip() and not any(f in line for f in furniture) for line in page.splitlines()) for page in page_texts
    ), "a part starts with an empty page"
    assert "CBAM declaration 2026 v1" not in page_texts[0] and "CBAM declaration 2026 v1" in page_texts[-1]
    # Pages are numbered on across the parts, without a total.
    for number in range(1, pages + 1):
        assert f"Page {number}\n" in text + "\n" or f"Page {number} " in text
    assert "Page 1 of" not in text and "Page 1 of" in whole_text
    # Every group is in the table once, numbered as when laid out at once; the totals once.
    for number, group in enumerate(groups, start=1):
        assert f"\n{number} {group['cn_code'][:4]} {group['cn_code'][4:6]} {group['cn_code'][6:]}" in text
    assert text.count("Goods groups (continued)") == len(groups) - 1
    assert text.count("Annex A — Methodology and trace\n") == whole_text.count("Annex A — Methodology and trace\n") == 1
    assert text.count("Annex A — Methodology and trace (continued)") == len(reports) - 1 + len(traced)
    for group in traced:
        assert text.count(f"{group['number']}. {group['cn_code'][:4]} {group['cn_code'][4:6]}") == 1
    assert text.count("Annex B") == whole_text.count("Annex B") == 1
    assert "Anatolia Steel Trading" in text and personas.organisation.name in text
    declaration.refresh_from_db()
    assert text.count(f"{declaration.certificates.normalize():f}") == whole_text.count(
        f"{declaration.certificates.normalize():f}"
    )


@pytest.mark.parametrize(("rows", "traces"), [(1, 1), (2, 1), (1, 5), (500, 25)])
def test_the_part_count_is_the_number_of_parts(declaration, rows, traces):
    from declarations.exports import pdf
    from declarations.exports.document import document_for

    context = pdf.pdf_context(document_for(declaration))
    assert pdf.pdf_part_count(context, rows, traces) == len(list(pdf.pdf_parts(context, rows, traces)))


def test_the_export_job_reports_the_parts_of_a_long_pdf_through_its_own_reporter(declaration, personas, monkeypatch):
    from types import SimpleNamespace

    from declarations.exports import jobs, pdf

    monkeypatch.setattr(pdf, "PDF_PART_ROWS", 1)
    monkeypatch.setattr(pdf, "PDF_PART_TRACES", 1)
    reports, closed = [], []

    class Recorder:  # stands in for the reporter thread of PostgreSQL, synchronously
        def __init__(self, progress):
            self.progress = progress

        def __call__(self, done, total, message):
            reports.append((done, total, message))

        def close(self):
            closed.append(True)

    monkeypatch.setattr(jobs, "BackgroundProgress", Recorder)
    monkeypatch.setattr(jobs, "connection", SimpleNamespace(vendor="postgresql"))
    job = run_export(declaration, personas, "pdf")
    assert job.status == JobStatus.DONE, job.error
    count = reports[0][1]
    assert count >= 5 and closed == [True]
    assert reports == [(n, count, f"Laying out part {n + 1} of {count} of the PDF…") for n in range(count)]
    assert (job.progress, job.total, job.message) == (1, 1, "Saving the file…")
