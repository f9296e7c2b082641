"""Declaration exports: the JSON document against its schema, CSV and XLSX contents, formula safety."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import jsonschema
import pytest
from openpyxl import load_workbook

from cbam_portal.core.actor import Actor
from declarations.exports.document import SCHEMA
from declarations.exports.json_format import json_schema
from declarations.models import DeclarationGroup
from declarations.services import declarations as services
from declarations.services.traces import declaration_group_trace
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

from .test_exports_support import (  # noqa: F401
    FORMULA,
    declaration_fixture,
    file_declaration,
    render,
    supplier_with_requests,
)

pytestmark = pytest.mark.django_db


def _json(declaration) -> dict:
    return json.loads(render(declaration, "json"))


def _validate(document: dict) -> None:
    jsonschema.validate(document, json_schema(), format_checker=jsonschema.FormatChecker())


def test_the_json_export_validates_against_its_schema_and_carries_the_declarations_numbers(
    declaration, personas
):
    supplier_with_requests(personas)
    document = _json(declaration)
    _validate(document)
    assert document["schema"] == SCHEMA == "cbam-portal/declaration/1.1"
    assert document["data_source"] == "live" and document["declaration"]["is_draft"] is True
    assert document["declarant"] == {
        "name": personas.organisation.name,
        "eori": personas.organisation.eori,
        "country": personas.organisation.country,
    }
    declaration.refresh_from_db()
    totals = document["totals"]
    assert Decimal(totals["certificates"]) == declaration.certificates
    assert Decimal(totals["embedded_emissions_t_co2e"]) == declaration.embedded_t_co2e
    assert Decimal(totals["cost_eur"]) == declaration.cost_eur
    # Decimals are strings, never floats.
    assert isinstance(totals["certificates"], str) and isinstance(document["groups"][0]["quantity"], str)
    groups = {g["cn_code"]: g for g in document["groups"]}
    for row in DeclarationGroup.objects.filter(declaration=declaration):
        g = groups[row.cn_code]
        assert Decimal(g["certificates"]) == row.certificates
        assert Decimal(g["embedded_emissions_t_co2e"]) == row.embedded_t_co2e
        assert Decimal(g["free_allocation_adjustment_t_co2e"]) == row.faa
        assert Decimal(g["quantity"]) == row.mass_tonnes
        assert g["trace"] == declaration_group_trace(row) and row.trace is None  # a draft: derived
        assert set(g["datasets"]) == set(row.datasets)
    aluminium = groups["76011010"]
    assert aluminium["effective_source"] == "actual" and aluminium["certificates"] == "167.575"
    assert aluminium["installation"]["country"] == "CN"
    assert groups["72081000"]["effective_source"] == "default"
    # Totals per type of goods, per installation and country, report used and its status.
    assert {g["cn_code"]: g["unit"] for g in document["goods"]} == {"72081000": "t", "76011010": "t"}
    assert sum(Decimal(g["certificates"]) for g in document["goods"]) == declaration.certificates
    assert len(document["installations"]) == 2
    (report,) = document["operator_reports"]
    assert report["id"] == aluminium["operator_report_id"] and report["verified"] is False
    assert {d["kind"] for d in document["datasets"]} >= {"default_values", "benchmarks"}
    (supplier,) = document["supplier_evidence"]
    assert supplier["name"] == "Anatolia Steel Trading"
    assert [e["kind"] for e in supplier["requests"][0]["events"]] == ["sent", "declined"]


def test_the_schema_refuses_a_number_written_as_a_float(declaration):
    document = _json(declaration)
    document["totals"]["certificates"] = 167.575
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)


def test_a_filed_declaration_exports_its_frozen_snapshot_not_the_live_rows(declaration, personas):
    declaration = file_declaration(declaration, personas)
    filed_certificates = declaration.certificates
    # Tamper with the live rows after filing: the export must not see it.
    DeclarationGroup.objects.filter(declaration=declaration).update(certificates=Decimal("999999"))
    document = _json(declaration)
    _validate(document)
    assert document["data_source"] == "filed_snapshot" and document["declaration"]["is_draft"] is False
    assert document["dates"]["filed_by"] == personas.reviewer.email
    assert document["dates"]["approved_by"] == personas.reviewer.email
    assert Decimal(document["totals"]["certificates"]) == filed_certificates
    assert "999999" not in json.dumps(document)
    assert document["import_lines"]["count"] == 2 and len(document["import_lines"]["sha256"]) == 64
    assert b"999999" not in render(declaration, "csv")


def test_the_csv_has_one_row_per_group_with_every_figure(declaration):
    text = render(declaration, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == declaration.groups.count() == 2
    aluminium = next(r for r in rows if r["CN code"] == "76011010")
    assert aluminium["Certificates"] == "167.575"
    assert aluminium["Source used"] == "actual" and aluminium["Benchmark column"] == "A"
    assert aluminium["Year"] == "2026" and aluminium["Status"] == "draft"
    assert "default_values" in next(r for r in rows if r["CN code"] == "72081000")["Datasets"]


def test_the_xlsx_has_a_summary_groups_with_numeric_cells_and_the_trace(declaration):
    book = load_workbook(io.BytesIO(render(declaration, "xlsx")))
    assert book.sheetnames == ["Summary", "Groups", "Trace"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, max_row=19, values_only=True)}
    assert summary["Year"] == 2026 and summary["Status"] == "draft"
    assert summary["Certificates due"] == pytest.approx(float(declaration.certificates))
    sheet = book["Groups"]
    header = [c.value for c in sheet[1]]
    certificates_col = header.index("Certificates") + 1
    cost_col = header.index("Cost (EUR)") + 1
    values = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    cell = sheet.cell(row=values["76011010"], column=certificates_col)
    assert isinstance(cell.value, float) and cell.value == pytest.approx(167.575)
    assert cell.number_format == "#,##0.000###"
    assert sheet.cell(row=values["76011010"], column=cost_col).number_format == "#,##0.00"
    trace = list(book["Trace"].iter_rows(min_row=2, values_only=True))
    assert any("[IR2620] Annex Eq. 2–3" in (row[4] or "") for row in trace)


def test_formula_like_text_is_neutralised_in_csv_and_xlsx(declaration, personas):
    group = declaration.groups.get(cn_code="76011010")
    group.installation.name = FORMULA
    group.installation.name_en = ""
    group.installation.save()
    services.declaration_group_override(
        actor=Actor(user=personas.owner),
        declaration=declaration,
        group_id=group.pk,
        source="default",
        reason=FORMULA,
    )
    supplier_with_requests(personas, name=FORMULA, decline=False)

    text = render(declaration, "csv").decode("utf-8-sig")
    assert "'" + FORMULA in text
    for row in csv.reader(io.StringIO(text)):
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)

    book = load_workbook(io.BytesIO(render(declaration, "xlsx")))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith(("=", "+", "@")))
    groups = book["Groups"]
    texts = [c.value for row in groups.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + FORMULA in texts
    assert all(c.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for c in row)

    document = _json(declaration)
    assert document["supplier_evidence"][0]["name"] == FORMULA  # JSON keeps the exact text


def test_building_an_export_takes_the_same_few_queries_whatever_the_number_of_groups(
    declaration, personas, django_assert_max_num_queries
):
    import datetime as dt

    from tests.declarations.test_declaration_services import add_line

    supplier_with_requests(personas)
    # With the traces of the draft derived for all groups at once (lines, reports, claims, reference data).
    with django_assert_max_num_queries(26) as small:
        render(declaration, "json")
    for month in (4, 7, 10):
        add_line(personas.organisation, day=dt.date(2026, month, 2))
        add_line(personas.organisation, cn="72083900", country="IN", day=dt.date(2026, month, 3))
    services.declaration_compute(actor=Actor(user=personas.owner), declaration=declaration)
    supplier_with_requests(personas, name="Second supplier")
    assert declaration.groups.count() == 8
    with django_assert_max_num_queries(len(small.captured_queries)):
        render(declaration, "json")


@pytest.mark.parametrize("filed", [False, True], ids=["live", "filed"])
def test_a_document_without_traces_has_the_same_groups_and_a_later_one_with_traces_is_built(
    declaration, personas, filed
):
    from declarations.exports import get_exporter
    from declarations.exports.document import document_for
    from declarations.models import Declaration

    if filed:
        declaration = file_declaration(declaration, personas)
    lean = document_for(Declaration.objects.get(pk=declaration.pk), traces=False)
    fresh = Declaration.objects.get(pk=declaration.pk)
    full = document_for(fresh)
    assert any(g["trace"] for g in full["groups"]) and not any(g["trace"] for g in lean["groups"])
    assert [{**g, "trace": []} for g in full["groups"]] == list(lean["groups"])
    same = lambda doc: {k: v for k, v in doc.items() if k not in ("groups", "generated_at")}  # noqa: E731
    assert same(lean) == same(full)
    # Asking for traces after a lean document builds them; the CSV (no traces) reads the lean one.
    reused = Declaration.objects.get(pk=declaration.pk)
    assert not any(g["trace"] for g in document_for(reused, traces=False)["groups"])
    assert any(g["trace"] for g in document_for(reused)["groups"])
    assert get_exporter("csv").traces is False and get_exporter("xlsx").traces and get_exporter("json").traces


def test_the_json_is_written_group_by_group_exactly_as_one_dump(declaration):
    from declarations.exports.document import document_for
    from declarations.exports.json_format import document_json

    document = document_for(declaration)
    groups = list(document["groups"])
    assert len(groups) >= 2
    for doc in (document, {**document, "groups": []}, {**document, "groups": groups[:1]}):
        plain = {**doc, "groups": list(doc["groups"])}
        assert document_json(doc) == json.dumps(plain, ensure_ascii=False, indent=2).encode("utf-8")


@pytest.mark.parametrize("filed", [False, True], ids=["live", "filed"])
def test_the_groups_are_formatted_as_walked_the_same_each_time_with_some_traces_on_demand(
    declaration, personas, filed, django_assert_max_num_queries
):
    from declarations.exports.document import document_for
    from declarations.models import Declaration

    if filed:
        declaration = file_declaration(declaration, personas)
    groups = document_for(Declaration.objects.get(pk=declaration.pk))["groups"]
    first, again = list(groups), list(groups)
    assert first == again and len(groups) == len(first) >= 2 and all(g["trace"] for g in first)
    assert list(groups.without_traces()) == [{**g, "trace": []} for g in first]
    last = len(first) - 1
    assert groups.traced([last, 0]) == {0: first[0], last: first[-1]}
    assert groups.traced([len(first) + 5]) == {}
    # A walk with traces reads the draft's inputs once, not once per group.
    with django_assert_max_num_queries(15):
        assert list(groups) == first


def test_a_draft_trace_walk_reads_its_inputs_once_whatever_the_number_of_groups(declaration, monkeypatch):
    from declarations.exports.document import document_for
    from declarations.services import traces

    reads = []
    original = traces.Computation.read
    monkeypatch.setattr(traces.Computation, "read", classmethod(lambda cls, *a, **k: reads.append(k) or original(*a, **k)))
    groups = list(document_for(declaration)["groups"])
    assert len(groups) >= 2 and all(g["trace"] for g in groups)
    assert reads == [{"lines": None}]


def test_the_export_job_stores_a_file_written_in_pieces(declaration, personas, monkeypatch):
    from declarations.exports import json_format, tabular

    from .test_exports_support import run_export

    monkeypatch.setattr(tabular, "CSV_PIECE_ROWS", 1)  # a piece per group
    job = run_export(declaration, personas, "csv")
    assert job.status == "done", job.error
    stored = job.result_file.read()
    assert stored == render(declaration, "csv") and job.result["bytes"] == len(stored)
    assert stored.startswith("\ufeff".encode()) and stored.count("\ufeff".encode()) == 1
    rows = list(csv.reader(io.StringIO(stored.decode("utf-8-sig"))))
    assert len(rows) == 1 + declaration.groups.count()

    pieces = list(json_format.document_json_chunks(json_format.document_for(declaration), chunk_bytes=1))
    assert len(pieces) > 2 and json.loads(b"".join(pieces))["totals"]["groups"] == declaration.groups.count()
    job = run_export(declaration, personas, "json")
    document = json.loads(job.result_file.read())
    assert job.result["bytes"] == job.result_file.size and document["totals"]["groups"] == declaration.groups.count()


def test_filing_in_sql_writes_the_groups_as_the_portable_path_does(declaration, personas, monkeypatch):
    from django.db import connection

    from declarations.models import FiledGroup
    from declarations.selectors.declarations import declaration_filed_groups

    if connection.vendor != "postgresql":
        pytest.skip("the groups are copied in SQL on PostgreSQL only")
    filed = file_declaration(declaration, personas)
    in_sql = declaration_filed_groups(filed)
    assert len(in_sql) == filed.groups.count() >= 2 and all(g["trace"] for g in in_sql)
    assert any(g["price_eur"] is None or "." in (g["certificates"] or "") for g in in_sql)
    FiledGroup.objects.filter(declaration=filed).delete()
    monkeypatch.setattr(connection, "vendor", "portable")
    assert services._file_groups(filed) == len(in_sql)
    assert declaration_filed_groups(filed) == in_sql


def test_goods_whose_period_has_no_published_price_are_counted_and_not_shown_as_free(declaration, personas):
    """Q3 2026 has no published certificate price: its groups carry no cost, and the document says
    so per type of goods and per installation rather than show a cost of 0.00."""
    import datetime as dt

    from declarations.exports.pdf import declaration_html

    from .test_declaration_services import add_line

    add_line(personas.organisation, day=dt.date(2026, 7, 15))  # 72081000 again, in Q3
    add_line(personas.organisation, cn="72139120", day=dt.date(2026, 8, 3))  # a type only imported in Q3
    services.declaration_compute(actor=Actor(user=personas.owner), declaration=declaration)
    document = _json(declaration)
    _validate(document)

    goods = {g["cn_code"]: g for g in document["goods"]}
    assert (goods["72081000"]["groups"], goods["72081000"]["groups_without_price"]) == (2, 1)
    assert (goods["72139120"]["groups"], goods["72139120"]["groups_without_price"]) == (1, 1)
    assert goods["76011010"]["groups_without_price"] == 0
    assert Decimal(goods["72139120"]["cost_eur"]) == 0
    assert sum(row["groups_without_price"] for row in document["installations"]) == 2
    assert document["totals"]["groups_without_price"] == 2

    html = declaration_html(declaration)
    wire_rod = html.split("7213 91 20")[1].split("</tr>")[0]
    assert wire_rod.endswith('<td class="num"><span class="muted">no price yet</span></td>')
    coil = html.split("7208 10 00")[1].split("</tr>")[0]
    assert "without 1 group with no price yet" in coil

    summary = load_workbook(io.BytesIO(render(declaration, "xlsx"))).worksheets[0]
    values = [[cell.value for cell in row] for row in summary.iter_rows()]
    assert ["Groups with no published price yet (not in the cost)", 2] in [row[:2] for row in values]
    header = next(row for row in values if row and row[0] == "CN code")
    by_cn = {row[0]: dict(zip(header, row, strict=False)) for row in values if row and row[0] in goods}
    assert by_cn["72139120"]["Groups with no price yet"] == 1 and by_cn["76011010"]["Groups with no price yet"] == 0
