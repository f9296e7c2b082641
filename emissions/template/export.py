"""Write a filled ``Summary_Communication`` sheet in the layout of the Commission template v2.1.1.

The Commission's workbook itself is not shipped; the sheet is generated here with the same sheet
name, labels, cell positions and column order, so that an importer (or any tool that reads the
Commission template, including :func:`emissions.template.read_template`) can use it. This is the
summary an operator communicates to reporting declarants ([IR2547] Art 10(4), Annex IV 1.2).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .layout import (
    FURTHER_INFO_LABELS,
    GOODS_HEADER,
    INSTALLATION_LABELS,
    METHODOLOGY_LABELS,
    NUMBER,
    PROCESS_CATEGORY_HEADER,
    PROCESS_HEADER,
    PRODUCT_COLUMNS,
    SECTION_1,
    SECTION_1_1,
    SECTION_1_2,
    SECTION_1_3,
    SECTION_1_4,
    SECTION_2,
    SUMMARY_INTRO,
    SUMMARY_SHEET,
    SUMMARY_TITLE,
    TOTAL_LABELS,
)

__all__ = ["export_summary"]

# Cell positions of template v2.1.1 (columns as 1-based numbers).
_C, _D, _G, _H, _I, _Q, _R, _S, _AA, _AK, _AL, _AM, _AI, _AD = (
    3,
    4,
    7,
    8,
    9,
    17,
    18,
    19,
    27,
    37,
    38,
    39,
    35,
    30,
)
_HEADER_ROW = 11
_FIRST_ROW = 12
_PRODUCT_HEADER_ROW = 25
_FIRST_PRODUCT_ROW = 26
_TEMPLATE_PRODUCT_ROWS = 100
_UNIT = "tCO2e"

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", start_color="FFD9D9D9")
_INPUT_FILL = PatternFill("solid", start_color="FFFFF2CC")
_THIN = Side(style="thin", color="FF808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")

_SEE_ATTRS = {"see_direct", "see_indirect", "see_total"}


def _excel(value: Any) -> Any:
    """A value Excel can hold. Excel stores numbers as binary doubles and openpyxl writes them
    with 16 significant digits, far beyond the 5 decimals of SEE ([IR2547] Annex II A.1(8))."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if value == "":
        return None
    return value


def _put(
    ws,
    row: int,
    col: int,
    value: Any,
    *,
    bold: bool = False,
    fill: PatternFill | None = None,
    number_format: str | None = None,
    box: bool = False,
    wrap: bool = False,
) -> None:
    cell = ws.cell(row=row, column=col, value=_excel(value))
    if bold:
        cell.font = _BOLD
    if fill is not None:
        cell.fill = fill
    if number_format:
        cell.number_format = number_format
    if box:
        cell.border = _BOX
    if wrap:
        cell.alignment = _WRAP


def _get(obj: Any, attr: str, default: Any = "") -> Any:
    value = getattr(obj, attr, default)
    return default if value is None and default == "" else value


def _summary_of(source: Any) -> Any:
    """The summary-like object: a ParsedTemplate's ``summary``, or the object itself."""
    return getattr(source, "summary", source)


def _coordinate(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal | int | float):
        return f"{value}°"  # the template holds coordinates as text, e.g. "16.6911279°"
    return value


def _write_section_1(ws, summary: Any) -> None:
    installation = _get(summary, "installation", None)
    _put(ws, 8, _C, 1, bold=True)
    _put(ws, 8, _D, SECTION_1, bold=True)
    for col, number, title in (
        (_C, 1, SECTION_1_1),
        (_H, 2, SECTION_1_2),
        (26, 3, SECTION_1_3),
        (_AK, 4, SECTION_1_4),
    ):
        _put(ws, 10, col, number, bold=True)
        _put(ws, 10, col + 1, title, bold=True)

    # 1 Installation details: label in D, value in G.
    _put(ws, _HEADER_ROW, _D, "Parameter", bold=True, fill=_HEAD_FILL, box=True)
    ws.merge_cells(start_row=_HEADER_ROW, start_column=_D, end_row=_HEADER_ROW, end_column=_D + 2)
    _put(ws, _HEADER_ROW, _G, "Value", bold=True, fill=_HEAD_FILL, box=True)
    for offset, (label, attr) in enumerate(INSTALLATION_LABELS):
        row = _FIRST_ROW + offset
        value = _get(installation, attr, None) if installation is not None else None
        if attr in ("latitude", "longitude"):
            value = _coordinate(value)
        _put(ws, row, _D, label, box=True)
        _put(
            ws,
            row,
            _G,
            value,
            fill=_INPUT_FILL,
            box=True,
            number_format="yyyy-mm-dd" if attr.startswith("period_") else None,
        )

    # 2 (a) aggregated goods with routes; (b) production processes with included goods.
    _put(ws, _HEADER_ROW, _H, "(a) ", bold=True)
    _put(ws, _HEADER_ROW, _I, GOODS_HEADER, bold=True, fill=_HEAD_FILL, box=True)
    for n in range(1, 7):
        _put(ws, _HEADER_ROW, _I + n, f"Route {n}", bold=True, fill=_HEAD_FILL, box=True)
    goods = list(_get(summary, "goods", ()) or ())
    for i in range(10):
        row = _FIRST_ROW + i
        good = goods[i] if i < len(goods) else None
        _put(ws, row, _H, _get(good, "id", "") if good is not None else f"G{i + 1}", box=True)
        if good is not None:
            _put(ws, row, _I, _get(good, "category"), box=True)
            for n, route in enumerate(tuple(_get(good, "routes", ()) or ())[:6], start=1):
                _put(ws, row, _I + n, route, box=True)
    _put(ws, _HEADER_ROW, _Q, "(b) ", bold=True)
    _put(ws, _HEADER_ROW, _R, PROCESS_HEADER, bold=True, fill=_HEAD_FILL, box=True)
    _put(ws, _HEADER_ROW, _S, PROCESS_CATEGORY_HEADER, bold=True, fill=_HEAD_FILL, box=True)
    for n in range(1, 7):
        _put(ws, _HEADER_ROW, _S + n, n, bold=True, fill=_HEAD_FILL, box=True)
    processes = list(_get(summary, "processes", ()) or ())
    for i in range(10):
        row = _FIRST_ROW + i
        process = processes[i] if i < len(processes) else None
        _put(ws, row, _Q, _get(process, "id", "") if process is not None else f"P{i + 1}", box=True)
        if process is not None:
            _put(ws, row, _R, _get(process, "name"), box=True)
            _put(ws, row, _S, _get(process, "category"), box=True)
            for n, category in enumerate(tuple(_get(process, "included_categories", ()) or ())[:6], start=1):
                _put(ws, row, _S + n, category, box=True)

    # 3 Emissions by monitoring methodology (label, unit below, value below that) and totals.
    for i, (label, attr) in enumerate(METHODOLOGY_LABELS):
        col = _AA + 2 * i
        _put(ws, _HEADER_ROW, col, label, bold=True, fill=_HEAD_FILL, box=True, wrap=True)
        ws.merge_cells(start_row=_HEADER_ROW, start_column=col, end_row=_HEADER_ROW, end_column=col + 1)
        _put(ws, _HEADER_ROW + 1, col, _UNIT, box=True)
        ws.merge_cells(
            start_row=_HEADER_ROW + 1, start_column=col, end_row=_HEADER_ROW + 1, end_column=col + 1
        )
        _put(ws, _HEADER_ROW + 2, col, _get(summary, attr, None), box=True, number_format="#,##0.00")
        ws.merge_cells(
            start_row=_HEADER_ROW + 2, start_column=col, end_row=_HEADER_ROW + 2, end_column=col + 1
        )
    for i, (label, attr) in enumerate(TOTAL_LABELS):
        row = 15 + i
        _put(ws, row, _AA, label, bold=True)
        _put(ws, row, _AI - 1, _UNIT)
        _put(ws, row, _AI, _get(summary, attr, None), box=True, number_format="#,##0.00")
    for label, attr in FURTHER_INFO_LABELS[:3]:
        row = {"data_quality": 19, "default_values_justification": 20, "quality_assurance": 21}[attr]
        _put(ws, row, _AA, label, bold=True)
        _put(ws, row, _AD, _get(summary, attr), box=True, wrap=True)
    # 4 Further information.
    for row, (label, attr) in zip((12, 13), FURTHER_INFO_LABELS[3:], strict=True):
        _put(ws, row, _AL, label, bold=True)
        _put(ws, row, _AM, _get(summary, attr), box=True, wrap=True)
        ws.merge_cells(start_row=row, start_column=_AM, end_row=row, end_column=_AM + 14)


def _product_columns() -> list[tuple[int, Any]]:
    """(column number, ProductColumn) in v2.1.1 order; unit columns follow their value column."""
    result = []
    col = _D
    for spec in PRODUCT_COLUMNS:
        result.append((col, spec))
        col += 2 if spec.unit_attr else 1
    return result


def _write_products(ws, products: Iterable[Any]) -> None:
    _put(ws, 23, _C, 2, bold=True)
    _put(ws, 23, _D, SECTION_2, bold=True)
    columns = _product_columns()
    for col, spec in columns:
        _put(ws, _PRODUCT_HEADER_ROW, col, spec.label, bold=True, fill=_HEAD_FILL, box=True, wrap=True)
        if spec.unit_attr:
            ws.merge_cells(
                start_row=_PRODUCT_HEADER_ROW,
                start_column=col,
                end_row=_PRODUCT_HEADER_ROW,
                end_column=col + 1,
            )
    items = list(products)
    for i in range(max(_TEMPLATE_PRODUCT_ROWS, len(items))):
        row = _FIRST_PRODUCT_ROW + i
        _put(ws, row, _C, i + 1)
        if i >= len(items):
            continue
        product = items[i]
        for col, spec in columns:
            value = _get(product, spec.attr, None if spec.kind == NUMBER else "")
            number_format = None
            if spec.kind == NUMBER:
                number_format = "0.00000" if spec.attr in _SEE_ATTRS else "General"
            _put(ws, row, col, value, box=True, number_format=number_format)
            if spec.unit_attr:
                _put(ws, row, col + 1, _get(product, spec.unit_attr), box=True)


def export_summary(source: Any, target: str | os.PathLike[str] | IO[bytes] | None = None) -> bytes:
    """Write ``Summary_Communication`` (template v2.1.1 layout) and return the ``.xlsx`` bytes.

    ``source`` is a :class:`~emissions.template.model.ParsedTemplate`, a
    :class:`~emissions.template.model.SummaryCommunication`, or any object with the same
    attributes (e.g. built by the portal from a submitted emissions report); missing attributes
    are left empty. ``target`` (a path or binary file object), when given, receives the bytes too.
    """
    summary = _summary_of(source)
    workbook = Workbook()
    ws = workbook.active
    ws.title = SUMMARY_SHEET
    _put(ws, 2, 2, SUMMARY_TITLE)
    ws.cell(row=2, column=2).font = _TITLE
    ws.merge_cells("B2:F2")
    _put(ws, 5, _D, SUMMARY_INTRO, wrap=True)
    ws.merge_cells("D5:M5")
    ws.row_dimensions[5].height = 45
    _write_section_1(ws, summary)
    _write_products(ws, _get(summary, "products", ()) or ())
    ws.row_dimensions[_PRODUCT_HEADER_ROW].height = 60
    widths = {"A": 4.7, "B": 1.7, "C": 3.7, "D": 28, "E": 22, "F": 12.7, "G": 40, "H": 30, "I": 12.7}
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    for col in range(10, _AM + 16):
        ws.column_dimensions[get_column_letter(col)].width = 14
    ws.freeze_panes = None
    workbook.properties.title = SUMMARY_TITLE
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if target is not None:
        if isinstance(target, str | os.PathLike):
            with open(target, "wb") as handle:
                handle.write(data)
        else:
            target.write(data)
    return data
