"""CSV and XLSX exports: one row per goods group with every figure.

Text cells that a spreadsheet could run as a formula are neutralised (a leading quote), in CSV
through :class:`cbam_portal.core.csv_export.SafeCsvWriter` and in XLSX by the same rule; XLSX
numbers are real numeric cells (converted from the Decimal strings only at this last step,
as spreadsheets store binary floating point) with a number format.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from cbam_portal.core.csv_export import SafeCsvWriter, csv_safe

from . import PROGRESS_EVERY, exporter, report_progress
from .document import document_for

QUANTITY_FORMAT = "#,##0.000###"
EUR_FORMAT = "#,##0.00"
#: The CSV is handed on every this many rows; the XLSX in pieces of this many bytes.
CSV_PIECE_ROWS = 5000
PIECE_BYTES = 1 << 20


def _columns():
    """(header, key or callable, kind) of the group rows; kind: text, int, num, eur."""
    return [
        (_("CN code"), "cn_code", "text"),
        (_("Unit"), "unit", "text"),
        (_("Country"), "country", "text"),
        (_("Installation"), lambda g: (g["installation"] or {}).get("name"), "text"),
        (_("Installation ID"), lambda g: (g["installation"] or {}).get("id"), "int"),
        (_("Operator"), lambda g: (g["installation"] or {}).get("operator"), "text"),
        (_("Quarter"), "quarter", "int"),
        (_("Source"), "source", "text"),
        (_("Source chosen by declarant"), "override_source", "text"),
        (_("Justification"), "override_reason", "text"),
        (_("Source used"), "effective_source", "text"),
        (_("Operator report"), "operator_report_id", "int"),
        (_("Import lines"), "import_lines", "int"),
        (_("Quantity"), "quantity", "num"),
        (_("Returned quantity"), "returned_quantity", "num"),
        (_("SEE used (tCO2e/unit)"), "see_used_t_co2e_per_unit", "num"),
        (_("Embedded emissions (tCO2e)"), "embedded_emissions_t_co2e", "num"),
        (_("Benchmark"), "benchmark", "num"),
        (_("Benchmark column"), "benchmark_column", "text"),
        (_("Route"), "route", "text"),
        (_("SEFA"), "sefa", "num"),
        (_("Free allocation adjustment (tCO2e)"), "free_allocation_adjustment_t_co2e", "num"),
        (_("Carbon price deduction (tCO2e)"), "carbon_price_deduction_t_co2e", "num"),
        (_("Certificates"), "certificates", "num"),
        (_("Certificate price (EUR)"), "certificate_price_eur", "eur"),
        (_("Cost (EUR)"), "cost_eur", "eur"),
        (_("Error"), "error", "text"),
        (_("Datasets"), lambda g: "; ".join(
            f"{kind}: {d['legal_act'] or ''} {d['version']} (#{d['id']})".strip() for kind, d in g["datasets"].items()
        ), "text"),
    ]  # fmt: skip


def _value(group: dict, key):
    return key(group) if callable(key) else group.get(key)


@exporter(
    "csv",
    label=gettext_lazy("CSV (one row per group)"),
    media_type="text/csv; charset=utf-8",
    extension="csv",
    description=gettext_lazy("Every figure of every group, for spreadsheets."),
    traces=False,
)
def declaration_csv(declaration) -> Iterator[bytes]:
    document = document_for(declaration, traces=False)  # a row per group, no trace
    columns = _columns()
    header = [
        _("Declarant"), _("EORI"), _("Year"), _("Version"), _("Status"), *[c[0] for c in columns],
    ]  # fmt: skip
    writer = SafeCsvWriter(header)
    head = [
        document["declarant"]["name"],
        document["declarant"]["eori"] or "",
        document["declaration"]["year"],
        document["declaration"]["version"],
        document["declaration"]["status"],
    ]
    for number, group in enumerate(document["groups"], start=1):
        writer.writerow([*head, *["" if (v := _value(group, key)) is None else v for _, key, _ in columns]])
        if number % CSV_PIECE_ROWS == 0:
            yield writer.take()
    yield writer.take()


def _cell(value, kind: str):
    """A worksheet value: numbers as numbers, text neutralised against formulas."""
    if value is None:
        return None
    if kind in ("num", "eur"):
        return float(Decimal(value))  # the spreadsheet's own number type; the JSON keeps full precision
    if kind == "int":
        return int(value)
    return csv_safe(value)


def _number_format(kind: str) -> str | None:
    return EUR_FORMAT if kind == "eur" else QUANTITY_FORMAT if kind == "num" else None


def _bold(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def _formatted(sheet, value, number_format: str | None):
    """``value`` as a write-only cell with ``number_format``, or as it is without one (or empty)."""
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _write_rows(sheet, header, rows: Iterable[list], kinds) -> None:
    """A header and ``rows`` streamed into a write-only sheet: numbers with their format, column
    widths from the first 200 rows, the header row frozen."""
    rows = iter(rows)
    first = list(itertools.islice(rows, 200))
    for index in range(1, len(kinds) + 1):
        width = max([len(str(header[index - 1]))] + [len(str(r[index - 1] or "")) for r in first])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"
    formats = [_number_format(kind) for kind in kinds]
    sheet.append([_bold(sheet, csv_safe(h)) for h in header])
    for row in itertools.chain(first, rows):
        sheet.append(
            [_formatted(sheet, _cell(v, k), f) for v, k, f in zip(row, kinds, formats, strict=True)]
        )


@exporter(
    "xlsx",
    label=gettext_lazy("Excel workbook (XLSX)"),
    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    extension="xlsx",
    description=gettext_lazy("Summary, groups with numeric cells, and the trace of every group."),
)
def declaration_xlsx(declaration) -> Iterator[bytes]:
    document = document_for(declaration)
    d, org, dates, totals = (
        document["declaration"],
        document["declarant"],
        document["dates"],
        document["totals"],
    )
    # Write-only: rows stream into the file instead of a cell object each staying in memory.
    book = Workbook(write_only=True)
    summary = book.create_sheet(_("Summary")[:31])
    rows = [
        (_("Schema"), document["schema"], "text"),
        (
            _("Data"),
            _("filed snapshot") if document["data_source"] == "filed_snapshot" else _("live (not filed)"),
            "text",
        ),
        (_("Declarant"), org["name"], "text"),
        (_("EORI"), org["eori"], "text"),
        (_("Year"), d["year"], "int"),
        (_("Version"), d["version"], "int"),
        (_("Status"), d["status"], "text"),
        (_("Prepared by"), dates["prepared_by"], "text"),
        (_("Approved by"), dates["approved_by"], "text"),
        (_("Approved at"), dates["approved_at"], "text"),
        (_("Filed by"), dates["filed_by"], "text"),
        (_("Filed at"), dates["filed_at"], "text"),
        (_("Embedded emissions (tCO2e)"), totals["embedded_emissions_t_co2e"], "num"),
        (_("Free allocation adjustment (tCO2e)"), totals["free_allocation_adjustment_t_co2e"], "num"),
        (_("Carbon price deduction (tCO2e)"), totals["carbon_price_deduction_t_co2e"], "num"),
        (_("Certificates due"), totals["certificates"], "num"),
        (_("Cost (EUR)"), totals["cost_eur"], "eur"),
        (_("Groups"), totals["groups"], "int"),
        (_("Groups with no published price yet (not in the cost)"), totals["groups_without_price"], "int"),
    ]
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 48
    summary.freeze_panes = "A2"
    summary.append([_bold(summary, csv_safe(_("Item"))), _bold(summary, csv_safe(_("Value")))])
    for label, value, kind in rows:
        summary.append([csv_safe(label), _formatted(summary, _cell(value, kind), _number_format(kind))])
    summary.append([])
    summary.append(
        [
            csv_safe(h)
            for h in (
                _("CN code"),
                _("Unit"),
                _("Quantity"),
                _("Embedded emissions (tCO2e)"),
                _("Certificates"),
                _("Cost (EUR)"),
                _("Groups with no price yet"),
            )
        ]
    )
    for good in document["goods"]:
        summary.append([
            csv_safe(good["cn_code"]), csv_safe(good["unit"]), _cell(good["quantity"], "num"),
            _cell(good["embedded_emissions_t_co2e"], "num"), _cell(good["certificates"], "num"), _cell(good["cost_eur"], "eur"),
            _cell(good["groups_without_price"], "int"),
        ])  # fmt: skip

    columns = _columns()
    groups = book.create_sheet(_("Groups")[:31])
    _write_rows(
        groups,
        [c[0] for c in columns],
        ([_value(g, key) for _, key, _ in columns] for g in document["groups"].without_traces()),
        [c[2] for c in columns],
    )

    total = len(document["groups"])

    def trace_rows() -> Iterator[list]:
        for index, g in enumerate(document["groups"]):
            if index % PROGRESS_EVERY == 0:
                report_progress(index, total, _("Writing the steps of group %(n)s of %(total)s…") % {
                    "n": f"{index + 1:,}", "total": f"{total:,}"
                })
            for number, step in enumerate(g["trace"], start=1):
                inputs = "; ".join(f"{k}: {'' if v is None else v}" for k, v in step["inputs"].items())
                yield [
                    g["cn_code"],
                    g["country"],
                    g["quarter"],
                    number,
                    step["rule"],
                    step["description"],
                    inputs,
                    step["result"],
                ]

    trace = book.create_sheet(_("Trace")[:31])
    _write_rows(
        trace,
        [
            _("CN code"),
            _("Country"),
            _("Quarter"),
            _("Step"),
            _("Rule"),
            _("Description"),
            _("Inputs"),
            _("Result"),
        ],
        trace_rows(),
        ["text", "text", "int", "int", "text", "text", "text", "text"],
    )
    with tempfile.TemporaryFile() as out:  # the workbook is a zip: written whole, then handed on in pieces
        book.save(out)
        out.seek(0)
        while piece := out.read(PIECE_BYTES):
            yield piece
