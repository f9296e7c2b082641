"""Safe, fast reader of the Commission's CBAM communication template (v2.x ``.xlsx``).

Reads the cached values of ``Summary_Communication`` (what importers receive, [IR2547] Art 10
and Annex IV 1.2) and, where present, the input sheets ``A_InstData``, ``D_Processes`` and
``E_PurchPrec``. Blocks are found by their label text, not by fixed coordinates, so that the
small layout shifts between template versions (e.g. v2.1 -> v2.1.1) still parse; labels that
must exist are checked. Every problem found is collected and raised together as a
:class:`~emissions.template.errors.TemplateError` naming sheet and cell.

Safety: the size is checked before parsing; encrypted (OLE2) files, non-ZIP files, truncated
archives and ZIP bombs are refused; XML parts declaring a DTD/entities are refused before
openpyxl sees them (and openpyxl, with defusedxml installed, refuses them too). Workbooks are
opened in read-only mode with cached formula values; formulas are never evaluated.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from .errors import Problem, TemplateError
from .layout import (
    FURTHER_INFO_LABELS,
    GOODS_HEADER,
    INST_SHEET,
    INSTALLATION_LABELS,
    METHODOLOGY_LABELS,
    NUMBER,
    PRECURSOR_SHEET,
    PROCESS_CATEGORY_HEADER,
    PROCESS_HEADER,
    PROCESS_SHEET,
    PRODUCT_COLUMNS,
    REQUIRED_PRODUCT_ATTRS,
    SUMMARY_SHEET,
    TOTAL_LABELS,
    VERSIONS_SHEET,
    ProductColumn,
)
from .model import (
    CellMap,
    GoodsCategory,
    InstallationData,
    InstallationSummary,
    ParsedTemplate,
    PrecursorUse,
    ProcessData,
    ProcessDefinition,
    ProcessSummary,
    ProductRow,
    PurchasedPrecursorData,
    PurchasedPrecursorDefinition,
    RouteAmount,
    SummaryCommunication,
    Verifier,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SEE_PLAUSIBLE_MAX",
    "read_template",
    "sector_of_cn",
]

#: Upload limit. The Commission's template is about 1.3 MB; 10 MB leaves room for filled ones.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Refuse archives that would inflate beyond this (the template inflates to about 25 MB).
MAX_UNCOMPRESSED_BYTES = 250 * 1024 * 1024
#: How much of each XML part is searched for a DTD before parsing (a DTD sits in the prolog).
_PROLOG_SCAN_BYTES = 64 * 1024

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

#: Plausibility bounds on SEE (tCO2e per tonne, or per MWh for electricity), by sector.
#: Deliberately generous — several times the highest default value of IR 2025/2621 Annex I
#: (e.g. grey clinker/cement ~1, BF/BOF steel products ~3–4, ferro-alloys in complex steel
#: goods ~8, primary aluminium products ~20 incl. indirect, ammonia ~3, hydrogen by SMR ~12) —
#: so that they only catch unit mistakes (kg instead of t, totals instead of specific values).
SEE_PLAUSIBLE_MAX: dict[str, Decimal] = {
    "cement": Decimal(5),
    "iron_steel": Decimal(30),
    "aluminium": Decimal(40),
    "fertilisers": Decimal(20),
    "hydrogen": Decimal(40),
    "electricity": Decimal(5),
    "other": Decimal(100),
}

#: CN prefixes of the Annex I sectors ([R956] Annex I), most specific first.
_SECTOR_PREFIXES: tuple[tuple[str, str], ...] = (
    ("280410", "hydrogen"),
    ("2716", "electricity"),
    ("2507", "cement"),
    ("2523", "cement"),
    ("2601", "iron_steel"),
    ("72", "iron_steel"),
    ("73", "iron_steel"),
    ("76", "aluminium"),
    ("2808", "fertilisers"),
    ("2814", "fertilisers"),
    ("283421", "fertilisers"),
    ("3102", "fertilisers"),
    ("3105", "fertilisers"),
)

_CN_RE = re.compile(r"^\d{8}$")
_PROCESS_BLOCK_RE = re.compile(r"^production process (\d+):$")
_PRECURSOR_BLOCK_RE = re.compile(r"^purchased precursor (\d+):$")
_COORD_RE = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*°?\s*([NSEWnsew])?$")


def sector_of_cn(cn_code: str) -> str:
    """The Annex I sector of an 8-digit CN code ([R956] Annex I), or "other"."""
    for prefix, sector in _SECTOR_PREFIXES:
        if cn_code.startswith(prefix):
            return sector
    return "other"


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


# ------------------------------------------------------------------------------------------
# Cell access
# ------------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(
        self,
        message: str,
        sheet: str = "",
        row: int | None = None,
        column: int | None = None,
        field: str = "",
    ) -> None:
        self.items.append(Problem(message=message, sheet=sheet, row=row, column=column, field=field))


class _Grid:
    """The cached values of one sheet, with a label index (normalised text -> positions)."""

    def __init__(self, name: str, rows: Iterable[tuple[Any, ...]], problems: _Problems) -> None:
        self.name = name
        self.problems = problems
        self.cells: dict[tuple[int, int], Any] = {}
        self.labels: dict[str, list[tuple[int, int]]] = {}
        self.rows: dict[int, list[int]] = {}
        self.max_row = 0
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                self.cells[(r, c)] = value
                self.rows.setdefault(r, []).append(c)
                self.max_row = r
                if isinstance(value, str):
                    self.labels.setdefault(_norm(value), []).append((r, c))

    def get(self, row: int, col: int) -> Any:
        return self.cells.get((row, col))

    def ref(self, row: int, col: int) -> str:
        return Problem("", self.name, row, col).cell

    def find(
        self, label: str, *, start: int = 1, end: int | None = None, max_col: int | None = None
    ) -> list[tuple[int, int]]:
        """Positions of cells whose text equals ``label`` (whitespace/case-insensitive)."""
        hits = self.labels.get(_norm(label), [])
        return [
            (r, c)
            for r, c in hits
            if r >= start and (end is None or r < end) and (max_col is None or c < max_col)
        ]

    def find_first(self, label: str, **kwargs: Any) -> tuple[int, int] | None:
        hits = self.find(label, **kwargs)
        return hits[0] if hits else None

    def right_of(self, row: int, col: int, max_col: int | None = None) -> tuple[int, Any] | None:
        """The first non-empty cell right of (row, col), before ``max_col``."""
        candidates = [c for c in self.rows.get(row, ()) if c > col and (max_col is None or c < max_col)]
        if not candidates:
            return None
        c = min(candidates)
        return c, self.cells[(row, c)]

    # -- typed reads, recording problems -------------------------------------------------

    def text(self, row: int, col: int) -> str:
        value = self.get(row, col)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime):
            return value.date().isoformat()
        return str(value).strip()

    def number(self, row: int, col: int, field: str, *, non_negative: bool = True) -> Decimal | None:
        """A numeric cell as ``Decimal`` (None when empty); text, booleans and dates are problems."""
        value = self.get(row, col)
        if value is None:
            return None
        result: Decimal | None = None
        if isinstance(value, (bool, datetime | date)):
            result = None
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, float):
            result = Decimal(repr(value))  # shortest round-trip form: no binary noise
        elif isinstance(value, str):
            try:
                result = Decimal(value.strip())
            except InvalidOperation:
                result = None
        if result is None or not result.is_finite():
            self.problems.add(f"expected a number, found “{value}”.", self.name, row, col, field)
            return None
        if non_negative and result < 0:
            self.problems.add(f"must not be negative (found {result}).", self.name, row, col, field)
        return result

    def date(self, row: int, col: int, field: str) -> date | None:
        value = self.get(row, col)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
            return from_excel(value).date()  # an Excel serial date without a date format
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        self.problems.add(f"expected a date, found “{value}”.", self.name, row, col, field)
        return None

    def coordinate(self, row: int, col: int, field: str, limit: int) -> Decimal | None:
        """Latitude (limit 90) or longitude (limit 180) in decimal degrees; "16.69°", "16.69 S"."""
        value = self.get(row, col)
        if value is None:
            return None
        result: Decimal | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        elif isinstance(value, str):
            match = _COORD_RE.match(value.strip())
            if match:
                result = Decimal(match.group(1).replace(",", "."))
                if match.group(2) and match.group(2).upper() in "SW":
                    result = -abs(result)
        if result is None:
            self.problems.add(
                f"expected coordinates in decimal degrees (e.g. 16.691128), found “{value}”.",
                self.name,
                row,
                col,
                field,
            )
            return None
        if not -limit <= result <= limit:
            self.problems.add(
                f"coordinate {result} is out of range (−{limit} to {limit} degrees).",
                self.name,
                row,
                col,
                field,
            )
        return result


def _marker_column(grid: _Grid) -> int | None:
    """Column where the template's hidden helper area starts (header "Marker")."""
    hit = grid.find_first("Marker", end=12)
    return hit[1] if hit else None


# ------------------------------------------------------------------------------------------
# Summary_Communication
# ------------------------------------------------------------------------------------------

_PRODUCT_BY_LABEL = {_norm(col.label): col for col in PRODUCT_COLUMNS}


def _product_column(label: str) -> ProductColumn | None:
    key = _norm(label)
    if key in _PRODUCT_BY_LABEL:
        return _PRODUCT_BY_LABEL[key]
    if key.startswith("product name"):
        return _PRODUCT_BY_LABEL[_norm(PRODUCT_COLUMNS[4].label)]
    return None


def _parse_summary(grid: _Grid, problems: _Problems) -> SummaryCommunication:
    sheet = grid.name
    header = grid.find_first("SEE (direct)")
    if header is None:
        problems.add(
            "the product table header (“SEE (direct)”) was not found. Is this the Commission "
            "communication template, saved by Excel (or another program that stores calculated "
            "values)?",
            sheet,
            field="SEE (direct)",
        )
        products: tuple[ProductRow, ...] = ()
        header_row = grid.max_row + 1
    else:
        header_row = header[0]
        products = _parse_products(grid, header_row, problems)

    installation = _parse_installation_block(grid, header_row, problems)
    goods, processes = _parse_process_overview(grid, header_row)
    extra: dict[str, Any] = {}
    for label, attr in METHODOLOGY_LABELS:
        hit = grid.find_first(label, end=header_row)
        if hit:
            extra[attr] = grid.number(hit[0] + 2, hit[1], label, non_negative=True)
    for label, attr in TOTAL_LABELS:
        hit = grid.find_first(label, end=header_row)
        if hit:
            found = _first_number_right(grid, *hit)
            if found is not None:
                extra[attr] = grid.number(hit[0], found, label)
    for label, attr in FURTHER_INFO_LABELS:
        hit = grid.find_first(label, end=header_row)
        if hit:
            right = grid.right_of(*hit)
            if right is not None and right[0] - hit[1] <= 14:
                extra[attr] = grid.text(hit[0], right[0])
    return SummaryCommunication(
        installation=installation, goods=goods, processes=processes, products=products, **extra
    )


def _first_number_right(grid: _Grid, row: int, col: int) -> int | None:
    for c in grid.rows.get(row, ()):
        if c <= col:
            continue
        value = grid.get(row, c)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return c
    return None


def _parse_installation_block(grid: _Grid, end_row: int, problems: _Problems) -> InstallationSummary:
    sheet = grid.name
    parameter = grid.find_first("Parameter", end=end_row)
    value_col: int | None = None
    if parameter is not None:
        value_hit = [c for r, c in grid.find("Value", end=end_row) if r == parameter[0]]
        value_col = value_hit[0] if value_hit else None
    values: dict[str, Any] = {}
    used: dict[str, int] = {}
    for label, attr in INSTALLATION_LABELS:
        hits = grid.find(label, end=end_row)
        nth = used.get(label, 0)
        used[label] = nth + 1
        if nth >= len(hits):
            if attr != "country_code" or not hits:
                problems.add(
                    f"expected label “{label}” not found in the installation details.", sheet, field=label
                )
            continue
        row, col = hits[nth]
        vcol = value_col if value_col is not None else col + 3
        if attr in ("latitude", "longitude"):
            values[attr] = grid.coordinate(row, vcol, label, 90 if attr == "latitude" else 180)
        elif attr in ("period_start", "period_end"):
            values[attr] = grid.date(row, vcol, label)
        else:
            values[attr] = grid.text(row, vcol)
    # The template repeats the label "Country:" for the city and the ISO code: tell them apart.
    city, code = values.get("city", ""), values.get("country_code", "")
    if len(city) == 2 and city.isupper() and not (len(code) == 2 and code.isupper()):
        values["city"], values["country_code"] = code, city
    return InstallationSummary(**values)


def _parse_process_overview(
    grid: _Grid, end_row: int
) -> tuple[tuple[GoodsCategory, ...], tuple[ProcessSummary, ...]]:
    goods: list[GoodsCategory] = []
    hit = grid.find_first(GOODS_HEADER, end=end_row)
    if hit:
        row, col = hit
        route_cols = [c for n in range(1, 7) for r, c in grid.find(f"Route {n}", end=end_row) if r == row]
        for r in range(row + 1, min(row + 11, end_row)):
            category = grid.text(r, col)
            if category:
                routes = tuple(t for t in (grid.text(r, c) for c in route_cols) if t)
                goods.append(GoodsCategory(id=grid.text(r, col - 1), category=category, routes=routes))
    processes: list[ProcessSummary] = []
    hit = grid.find_first(PROCESS_HEADER, end=end_row)
    if hit:
        row, col = hit
        cat_hits = [c for r, c in grid.find(PROCESS_CATEGORY_HEADER, end=end_row) if r == row and c > col]
        cat_col = cat_hits[0] if cat_hits else col + 1
        included_cols = [c for c in range(cat_col + 1, cat_col + 7)]
        for r in range(row + 1, min(row + 11, end_row)):
            name = grid.text(r, col)
            if name:
                included = tuple(t for t in (grid.text(r, c) for c in included_cols) if t)
                processes.append(
                    ProcessSummary(
                        id=grid.text(r, col - 1),
                        name=name,
                        category=grid.text(r, cat_col),
                        included_categories=included,
                    )
                )
    return tuple(goods), tuple(processes)


def _parse_products(grid: _Grid, header_row: int, problems: _Problems) -> tuple[ProductRow, ...]:
    sheet = grid.name
    columns: dict[str, tuple[int, Any]] = {}
    for c in grid.rows.get(header_row, ()):
        value = grid.cells[(header_row, c)]
        if isinstance(value, str):
            spec = _product_column(value)
            if spec is not None and spec.attr not in columns:
                columns[spec.attr] = (c, spec)
    for attr in REQUIRED_PRODUCT_ATTRS:
        if attr not in columns:
            label = next(col.label for col in PRODUCT_COLUMNS if col.attr == attr)
            problems.add(
                f"expected column “{label}” not found in the product table header (row {header_row}).",
                sheet,
                header_row,
                None,
                label,
            )
    if any(attr not in columns for attr in REQUIRED_PRODUCT_ATTRS):
        return ()
    key_cols = [
        columns[a][0] for a in ("process_name", "cn_code", "product_name", "see_direct") if a in columns
    ]
    rows = sorted({r for (r, c) in grid.cells if r > header_row and c in key_cols})
    products: list[ProductRow] = []
    for r in rows:
        values: dict[str, Any] = {}
        cells: dict[str, str] = {}
        for attr, (c, spec) in columns.items():
            cells[attr] = grid.ref(r, c)
            if spec.kind == NUMBER:
                values[attr] = grid.number(r, c, spec.label)
            else:
                values[attr] = grid.text(r, c)
            if spec.unit_attr:
                values[spec.unit_attr] = grid.text(r, c + 1)
        # "2523 29 00" and "2523.29.00" are written forms of the same 8-digit code.
        values["cn_code"] = re.sub(r"[\s.]", "", values.get("cn_code", ""))
        products.append(ProductRow(row=r, cells=CellMap(cells), **values))
    return tuple(products)


# ------------------------------------------------------------------------------------------
# A_InstData
# ------------------------------------------------------------------------------------------

_INST_FIELDS: tuple[tuple[str, str], ...] = (
    ("Name of the installation (optional):", "name"),
    ("Name of the installation (English name):", "name_english"),
    ("Street, Number:", "street"),
    ("Economic activity:", "economic_activity"),
    ("Post code:", "post_code"),
    ("P.O. Box:", "po_box"),
    ("City:", "city"),
    ("Country:", "country"),
    ("UNLOCODE:", "unlocode"),
    ("Name of authorized representative:", "authorised_representative"),
    ("Email:", "email"),
    ("Telephone:", "telephone"),
)
_VERIFIER_FIELDS: tuple[tuple[str, str], ...] = (
    ("Company Name:", "company_name"),
    ("Street, Number:", "street"),
    ("City:", "city"),
    ("Postcode/ZIP:", "post_code"),
    ("Country:", "country"),
    ("Name:", "representative_name"),
    ("Email address:", "email"),
    ("Telephone number:", "telephone"),
    ("Fax:", "fax"),
    ("Accreditation Member State:", "accreditation_member_state"),
    ("Name of the national accreditation body:", "accreditation_body"),
    ("Registration number issued by the Accreditation body:", "registration_number"),
)


def _section_rows(grid: _Grid, helper: int | None) -> dict[str, int]:
    """Start rows of the numbered sections of ``A_InstData``, found by their titles."""
    starts: dict[str, int] = {}
    for key, title in (
        ("period", "Reporting period"),
        ("installation", "About the installation"),
        ("goods", "Aggregated goods categories and relevant production processes"),
        ("precursors", "Purchased precursors"),
    ):
        hit = grid.find_first(title, start=6, max_col=helper)
        if hit:
            starts[key] = hit[0]
    for (r, c), value in grid.cells.items():
        if (
            isinstance(value, str)
            and _norm(value).startswith("verifier of the report")
            and (helper is None or c < helper)
        ):
            starts.setdefault("verifier", r)
    return starts


def _parse_inst_data(grid: _Grid, problems: _Problems) -> InstallationData:
    sheet = grid.name
    helper = _marker_column(grid)
    sections = _section_rows(grid, helper)
    bounds = sorted(sections.values()) + [grid.max_row + 1]

    def section(key: str) -> tuple[int, int]:
        if key not in sections:
            return (0, 0)
        start = sections[key]
        return start, next(b for b in bounds if b > start)

    if "installation" not in sections:
        problems.add("section “About the installation” not found.", sheet, field="About the installation")
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}

    def value_of(label: str, start: int, end: int) -> tuple[int, int] | None:
        hit = grid.find_first(label, start=start, end=end, max_col=helper)
        if hit is None:
            return None
        right = grid.right_of(hit[0], hit[1], max_col=helper)
        if right is None or (isinstance(right[1], str) and right[1].rstrip().endswith(":")):
            return None  # empty: the next cell is already the following label
        return hit[0], right[0]

    p_start, p_end = section("period")
    for label, attr in (("Start:", "period_start"), ("End:", "period_end")):
        pos = value_of(label, p_start, p_end) if p_end else None
        if pos:
            values[attr] = grid.date(pos[0], pos[1], f"Reporting period {label[:-1].lower()}")
            cells[attr] = grid.ref(*pos)

    i_start, i_end = section("installation")
    if i_end:
        for label, attr in _INST_FIELDS:
            pos = value_of(label, i_start, i_end)
            if pos:
                values[attr] = grid.text(*pos)
                cells[attr] = grid.ref(*pos)
                if attr == "country" and helper is not None:
                    code = next(
                        (
                            grid.text(pos[0], c)
                            for c in grid.rows.get(pos[0], ())
                            if c >= helper and re.fullmatch(r"[A-Z]{2}", grid.text(pos[0], c))
                        ),
                        "",
                    )
                    values["country_code"] = code
        for label, attr, limit in (
            ("Coordinates of the main emission source (latitude):", "latitude", 90),
            ("Coordinates of the main emission source (longitude):", "longitude", 180),
        ):
            pos = value_of(label, i_start, i_end)
            if pos:
                values[attr] = grid.coordinate(pos[0], pos[1], label, limit)
                cells[attr] = grid.ref(*pos)

    v_start, v_end = section("verifier")
    verifier: dict[str, str] = {}
    if v_end:
        for label, attr in _VERIFIER_FIELDS:
            pos = value_of(label, v_start, v_end)
            if pos:
                verifier[attr] = grid.text(*pos)

    g_start, g_end = section("goods")
    goods: list[GoodsCategory] = []
    processes: list[ProcessDefinition] = []
    if g_end:
        id_rows = [hit for hit in grid.find("ID", start=g_start, end=g_end, max_col=helper)]
        if id_rows:
            goods = _inst_goods(grid, id_rows[0], g_end, helper)
        if len(id_rows) > 1:
            processes = _inst_processes(grid, id_rows[1], g_end, helper)

    pp_start, pp_end = section("precursors")
    precursors: list[PurchasedPrecursorDefinition] = []
    if pp_end:
        hit = grid.find_first("ID", start=pp_start, end=pp_end, max_col=helper)
        if hit:
            precursors = _inst_precursors(grid, hit, pp_end, helper)

    return InstallationData(
        verifier=Verifier(**verifier),
        goods=tuple(goods),
        processes=tuple(processes),
        purchased_precursors=tuple(precursors),
        cells=CellMap(cells),
        **values,
    )


def _header_cols(grid: _Grid, row: int, helper: int | None) -> dict[str, int]:
    return {
        _norm(grid.cells[(row, c)]): c
        for c in reversed(grid.rows.get(row, ()))
        if isinstance(grid.cells[(row, c)], str) and (helper is None or c < helper)
    }


def _inst_goods(grid: _Grid, id_hit: tuple[int, int], end: int, helper: int | None) -> list[GoodsCategory]:
    row, id_col = id_hit
    cols = _header_cols(grid, row, helper)
    cat_col = cols.get(_norm(PROCESS_CATEGORY_HEADER), id_col + 1)
    route_cols = [cols[f"route {n}"] for n in range(1, 7) if f"route {n}" in cols]
    result = []
    for r in range(row + 1, end):
        gid = grid.text(r, id_col)
        if not re.fullmatch(r"G\d+", gid):
            if result or r > row + 2:
                break
            continue
        category = grid.text(r, cat_col)
        if category:
            routes = tuple(t for t in (grid.text(r, c) for c in route_cols) if t)
            result.append(GoodsCategory(id=gid, category=category, routes=routes))
    return result


def _inst_processes(
    grid: _Grid, id_hit: tuple[int, int], end: int, helper: int | None
) -> list[ProcessDefinition]:
    row, id_col = id_hit
    cols = _header_cols(grid, row, helper)
    cat_col = cols.get(_norm(PROCESS_CATEGORY_HEADER), id_col + 1)
    name_col = cols.get("name", id_col + 8)
    inc_col = cols.get(_norm("Included goods categories listed under (a)"), cat_col + 1)
    result = []
    for r in range(row + 1, end):
        pid = grid.text(r, id_col)
        if not re.fullmatch(r"P\d+", pid):
            continue
        category = grid.text(r, cat_col)
        if category:
            included = tuple(t for t in (grid.text(r, c) for c in range(inc_col, name_col)) if t)
            name = grid.text(r, name_col) or f"{pid} - {category}"
            result.append(
                ProcessDefinition(id=pid, category=category, name=name, included_categories=included)
            )
    return result


def _inst_precursors(
    grid: _Grid, id_hit: tuple[int, int], end: int, helper: int | None
) -> list[PurchasedPrecursorDefinition]:
    row, id_col = id_hit
    cols = _header_cols(grid, row, helper)
    cat_col = cols.get(_norm("Production process"), id_col + 1)
    country_col = cols.get(_norm("Country code"), cat_col + 1)
    name_col = cols.get("name", id_col + 8)
    route_cols = [cols[f"route {n}"] for n in range(1, 7) if f"route {n}" in cols]
    result = []
    for r in range(row + 1, end):
        pid = grid.text(r, id_col)
        if not re.fullmatch(r"PP\d+", pid):
            continue
        category = grid.text(r, cat_col)
        if category:
            routes = tuple(t for t in (grid.text(r, c) for c in route_cols) if t)
            result.append(
                PurchasedPrecursorDefinition(
                    id=pid,
                    category=category,
                    name=grid.text(r, name_col) or f"{pid} - {category}",
                    country_code=grid.text(r, country_col),
                    routes=routes,
                )
            )
    return result


# ------------------------------------------------------------------------------------------
# D_Processes and E_PurchPrec: repeated blocks
# ------------------------------------------------------------------------------------------


def _blocks(grid: _Grid, pattern: re.Pattern[str], helper: int | None) -> list[tuple[int, int, int, int]]:
    """(number, header row, header column, end row) of every block whose title matches."""
    heads = []
    for key, positions in grid.labels.items():
        match = pattern.match(key)
        if match:
            for r, c in positions:
                if helper is None or c < helper:
                    heads.append((r, c, int(match.group(1))))
    heads.sort()
    return [
        (n, r, c, heads[i + 1][0] if i + 1 < len(heads) else grid.max_row + 1)
        for i, (r, c, n) in enumerate(heads)
    ]


class _Block:
    """Label lookups inside one block of rows of a sheet."""

    def __init__(
        self, grid: _Grid, title: str, start: int, end: int, helper: int | None, problems: _Problems
    ) -> None:
        self.grid, self.title, self.start, self.end, self.helper = grid, title, start, end, helper
        self.problems = problems
        self.cells: dict[str, str] = {}

    def row_of(self, label: str, *, after: int | None = None, required: bool = False) -> int | None:
        hit = self.grid.find_first(label, start=after or self.start, end=self.end, max_col=self.helper)
        if hit is None:
            if required:
                self.problems.add(
                    f"expected label “{label}” not found in the block “{self.title}”.",
                    self.grid.name,
                    self.start,
                    None,
                    label,
                )
            return None
        return hit[0]

    def number(self, row: int | None, col: int | None, attr: str, label: str) -> Decimal | None:
        if row is None or col is None:
            return None
        self.cells[attr] = self.grid.ref(row, col)
        return self.grid.number(row, col, f"{self.title}: {label}")

    def text(self, row: int | None, col: int | None, attr: str) -> str:
        if row is None or col is None:
            return ""
        self.cells[attr] = self.grid.ref(row, col)
        return self.grid.text(row, col)

    def listed_amounts(
        self, first: int, stop: int, name_col: int, amount_col: int, label: str
    ) -> list[tuple[str, Decimal, int]]:
        """(name, amount, row) for the rows of a sub-table with a name and an amount."""
        result = []
        for r in range(first, stop):
            name = self.grid.text(r, name_col)
            if not name or _norm(name) == "n.a.":
                continue
            amount = self.grid.number(r, amount_col, f"{self.title}: {label} ({name})")
            if amount is not None:
                result.append((name, amount, r))
        return result


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _parse_processes(
    grid: _Grid, problems: _Problems, ids_by_name: dict[str, str]
) -> tuple[ProcessData, ...]:
    helper = _marker_column(grid)
    result: list[ProcessData] = []
    for number, head_row, head_col, end in _blocks(grid, _PROCESS_BLOCK_RE, helper):
        right = grid.right_of(head_row, head_col, max_col=helper)
        name = str(right[1]).strip() if right else ""
        if not name:
            continue  # unused block of the template
        good_cell = grid.right_of(head_row, right[0], max_col=helper) if right else None
        good = str(good_cell[1]).strip() if good_cell else ""
        title = f"Production process {number} “{name}”"
        block = _Block(grid, title, head_row, end, helper, problems)
        result.append(_parse_process_block(block, number, name, good, ids_by_name))
    return tuple(result)


def _parse_process_block(
    block: _Block, number: int, name: str, good: str, ids_by_name: dict[str, str]
) -> ProcessData:
    grid = block.grid
    total_label = "Total production within installation (= denominator for SEE calculation):"
    a_row = block.row_of("Total production levels:", required=True)
    total_row = block.row_of(total_label, required=True)
    amounts_hit = grid.find_first("Amounts", start=a_row or block.start, end=block.end, max_col=block.helper)
    vcol = amounts_hit[1] if amounts_hit else None
    route_hit = grid.find_first(
        "Production route", start=a_row or block.start, end=block.end, max_col=block.helper
    )
    exported_hit = grid.find_first("Exported", start=block.start, end=block.end, max_col=block.helper)
    ecol = exported_hit[1] if exported_hit else (vcol + 1 if vcol else None)
    values: dict[str, Any] = {}

    routes: list[RouteAmount] = []
    if a_row and total_row and vcol and route_hit:
        for route, amount, r in block.listed_amounts(a_row + 1, total_row, route_hit[1], vcol, "production"):
            block.cells[f"route:{route}"] = grid.ref(r, vcol)
            routes.append(RouteAmount(route, amount))
    activity_level = sum((r.amount for r in routes), Decimal(0))
    if not routes and total_row and vcol:
        activity_level = block.number(total_row, vcol, "activity_level", "total production") or Decimal(0)
    if total_row and vcol:
        block.cells["activity_level"] = grid.ref(total_row, vcol)
        if activity_level == 0:
            block.problems.add(
                "activity level (total production) is zero; SEE is emissions divided by the activity "
                "level ([IR2547] Annex III A.3, Eq. 58).",
                grid.name,
                total_row,
                vcol,
                f"{block.title}: total production",
            )

    values["produced_for_market"] = block.number(
        block.row_of("Produced for the market"), vcol, "produced_for_market", "produced for the market"
    )
    consumed_row = block.row_of("Consumed in other 'production processes' within the installation:")
    non_cbam_row = block.row_of("Consumed for non-CBAM goods within the installation:")
    uses: list[PrecursorUse] = []
    if consumed_row and vcol:
        label_col = grid.find_first(
            "Consumed in other 'production processes' within the installation:",
            start=consumed_row,
            end=consumed_row + 1,
        )[1]
        stop = non_cbam_row or min(consumed_row + 11, block.end)
        for consumer, amount, r in block.listed_amounts(
            consumed_row + 1, stop, label_col, vcol, "consumed in"
        ):
            block.cells[f"consumed_in:{consumer}"] = grid.ref(r, vcol)
            uses.append(PrecursorUse(consumer, amount))
    values["consumed_in_processes"] = tuple(uses)
    values["consumed_for_non_cbam"] = block.number(
        non_cbam_row, vcol, "consumed_for_non_cbam", "non-CBAM goods"
    )

    select_row = block.row_of("Please select which elements are applicable")
    if select_row:
        heads = _header_cols(grid, select_row - 1, block.helper)
        for label, attr in (
            ("measurable heat", "heat_relevant"),
            ("waste gases", "waste_gas_relevant"),
            ("indirect emissions", "indirect_relevant"),
        ):
            if label in heads:
                values[attr] = _flag(grid.get(select_row, heads[label]))

    values["direct_emissions_tco2e"] = block.number(
        block.row_of("Directly attributable emissions (DirEm*)", required=True),
        vcol,
        "direct_emissions_tco2e",
        "DirEm*",
    )
    heat_row = block.row_of("Amount of net measurable heat")
    heat_ef_row = block.row_of("Emissions factor", after=heat_row) if heat_row else None
    values["heat_imported_tj"] = block.number(heat_row, vcol, "heat_imported_tj", "heat imported")
    values["heat_exported_tj"] = block.number(heat_row, ecol, "heat_exported_tj", "heat exported")
    values["heat_imported_ef_tco2_per_tj"] = block.number(
        heat_ef_row, vcol, "heat_imported_ef", "heat EF imported"
    )
    values["heat_exported_ef_tco2_per_tj"] = block.number(
        heat_ef_row, ecol, "heat_exported_ef", "heat EF exported"
    )
    wg_row = block.row_of("Amount of waste gas")
    wg_ef_row = block.row_of("Emission factor", after=wg_row) if wg_row else None
    values["waste_gas_imported_tj"] = block.number(
        wg_row, vcol, "waste_gas_imported_tj", "waste gas imported"
    )
    values["waste_gas_exported_tj"] = block.number(
        wg_row, ecol, "waste_gas_exported_tj", "waste gas exported"
    )
    values["waste_gas_imported_ef_tco2_per_tj"] = block.number(
        wg_ef_row, vcol, "waste_gas_imported_ef", "waste gas EF"
    )
    values["waste_gas_exported_ef_tco2_per_tj"] = block.number(
        wg_ef_row, ecol, "waste_gas_exported_ef", "waste gas EF"
    )
    el_row = block.row_of("Electricity consumption", required=True)
    el_ef_row = block.row_of("Emission factor of the electricity", after=el_row) if el_row else None
    values["electricity_consumed_mwh"] = block.number(
        el_row, vcol, "electricity_consumed_mwh", "electricity consumption"
    )
    values["electricity_ef_tco2_per_mwh"] = block.number(
        el_ef_row, vcol, "electricity_ef", "electricity emission factor"
    )
    values["electricity_ef_source"] = block.text(
        block.row_of("Source of the emission factor", after=el_row), vcol, "electricity_ef_source"
    )
    exp_row = block.row_of("Amounts exported")
    exp_ef_row = block.row_of("Emission factor of the electricity", after=exp_row) if exp_row else None
    values["electricity_exported_mwh"] = block.number(
        exp_row, vcol, "electricity_exported_mwh", "electricity exported"
    )
    values["electricity_exported_ef_tco2_per_mwh"] = block.number(
        exp_ef_row, vcol, "electricity_exported_ef", "exported electricity EF"
    )
    return ProcessData(
        index=number,
        id=ids_by_name.get(name, f"P{number}"),
        name=name,
        aggregated_good=good,
        activity_level=activity_level,
        production_by_route=tuple(routes),
        cells=CellMap(dict(block.cells)),
        **values,
    )


def _parse_precursors(
    grid: _Grid, problems: _Problems, ids_by_name: dict[str, str]
) -> tuple[PurchasedPrecursorData, ...]:
    helper = _marker_column(grid)
    result: list[PurchasedPrecursorData] = []
    for number, head_row, head_col, end in _blocks(grid, _PRECURSOR_BLOCK_RE, helper):
        right = grid.right_of(head_row, head_col, max_col=helper)
        name = str(right[1]).strip() if right else ""
        if not name:
            continue
        good_cell = grid.right_of(head_row, right[0], max_col=helper) if right else None
        good = str(good_cell[1]).strip() if good_cell else ""
        block = _Block(grid, f"Purchased precursor {number} “{name}”", head_row, end, helper, problems)
        result.append(_parse_precursor_block(block, number, name, good, ids_by_name))
    return tuple(result)


def _parse_precursor_block(
    block: _Block, number: int, name: str, good: str, ids_by_name: dict[str, str]
) -> PurchasedPrecursorData:
    grid = block.grid
    a_row = block.row_of("Total purchased levels:", required=True)
    total_row = block.row_of("Total purchase for possible consumption within installation:")
    amounts_hit = grid.find_first("Amounts", start=a_row or block.start, end=block.end, max_col=block.helper)
    vcol = amounts_hit[1] if amounts_hit else None
    route_hit = grid.find_first(
        "Production route", start=a_row or block.start, end=block.end, max_col=block.helper
    )
    source_hit = grid.find_first("Source", start=block.start, end=block.end, max_col=block.helper)
    scol = source_hit[1] if source_hit else (vcol + 1 if vcol else None)
    values: dict[str, Any] = {}
    routes: list[RouteAmount] = []
    if a_row and total_row and vcol and route_hit:
        for route, amount, _ in block.listed_amounts(a_row + 1, total_row, route_hit[1], vcol, "purchased"):
            routes.append(RouteAmount(route, amount))
    values["total_purchased"] = (
        sum((r.amount for r in routes), Decimal(0))
        if routes
        else block.number(total_row, vcol, "total_purchased", "total purchased")
    )
    used_label = "Consumed in 'production processes' within the installation:"
    used_row = block.row_of(used_label, required=True)
    other_row = block.row_of("Consumed for other purposes, e.g. sold or used for non-CBAM goods:")
    uses: list[PrecursorUse] = []
    if used_row and vcol:
        label_col = grid.find_first(used_label, start=used_row, end=used_row + 1)[1]
        stop = other_row or min(used_row + 12, block.end)
        for process, amount, r in block.listed_amounts(used_row + 1, stop, label_col, vcol, "consumed in"):
            block.cells[f"consumed_in:{process}"] = grid.ref(r, vcol)
            uses.append(PrecursorUse(process, amount))
    values["consumption"] = tuple(uses)
    values["other_use"] = block.number(other_row, vcol, "other_use", "other purposes")

    see_row = block.row_of("Specific embedded direct emissions (SEE (direct))", required=True)
    el_row = block.row_of("Specific electricity consumption (for SEE (indirect))")
    ef_row = block.row_of("Electricity emission factor (for SEE (indirect))")
    ind_row = block.row_of("Specific embedded indirect emissions (SEE (indirect))")
    values["see_direct"] = block.number(see_row, vcol, "see_direct", "SEE (direct)")
    values["see_direct_source"] = block.text(see_row, scol, "see_direct_source")
    values["electricity_mwh_per_t"] = block.number(
        el_row, vcol, "electricity_mwh_per_t", "specific electricity consumption"
    )
    values["electricity_source"] = block.text(el_row, scol, "electricity_source")
    values["electricity_ef_tco2_per_mwh"] = block.number(
        ef_row, vcol, "electricity_ef", "electricity emission factor"
    )
    values["electricity_ef_source"] = block.text(ef_row, scol, "electricity_ef_source")
    values["see_indirect"] = block.number(ind_row, vcol, "see_indirect", "SEE (indirect)")
    just_row = block.row_of("Justification for use of default values (if relevant):", after=see_row)
    if just_row:
        label_col = grid.find_first(
            "Justification for use of default values (if relevant):", start=just_row, end=just_row + 1
        )[1]
        right = grid.right_of(just_row, label_col, max_col=block.helper)
        values["default_values_justification"] = grid.text(just_row, right[0]) if right else ""
    return PurchasedPrecursorData(
        index=number,
        id=ids_by_name.get(name, f"PP{number}"),
        name=name,
        aggregated_good=good,
        purchased_by_route=tuple(routes),
        cells=CellMap(dict(block.cells)),
        **values,
    )


def _template_version(grid: _Grid) -> str:
    hit = grid.find_first("Version")
    if hit is None:
        return ""
    versions = [grid.text(r, c) for (r, c) in sorted(grid.cells) if c == hit[1] and r > hit[0]]
    versions = [v for v in versions if re.fullmatch(r"\d+(\.\d+)*", v)]
    return versions[-1] if versions else ""


# ------------------------------------------------------------------------------------------
# Checks across the parsed data
# ------------------------------------------------------------------------------------------


def _check_products(
    summary: SummaryCommunication, problems: _Problems, annex_i_cn_codes: set[str] | frozenset[str] | None
) -> None:
    """CN codes of Annex I ([R956] Annex I, 8 digits) and plausible, present SEE values."""
    for product in summary.products:
        cn_ref = product.cells.get("cn_code", SUMMARY_SHEET)
        code = product.cn_code
        if not _CN_RE.match(code):
            problems.items.append(Problem.at(cn_ref, f"CN code “{code}” is not 8 digits.", "CN Codes"))
        elif annex_i_cn_codes is not None and code not in annex_i_cn_codes:
            problems.items.append(
                Problem.at(
                    cn_ref,
                    f"CN code {code} is not a good listed in Annex I of Regulation (EU) 2023/956.",
                    "CN Codes",
                )
            )
        sector = sector_of_cn(code)
        bound = SEE_PLAUSIBLE_MAX[sector]
        for attr, label in (
            ("see_direct", "SEE (direct)"),
            ("see_indirect", "SEE (indirect)"),
            ("see_total", "SEE (total)"),
        ):
            value = getattr(product, attr)
            ref = product.cells.get(attr, SUMMARY_SHEET)
            if value is None and attr == "see_direct":
                problems.items.append(Problem.at(ref, "SEE (direct) is missing.", label))
            elif value is not None and value > bound:
                problems.items.append(
                    Problem.at(
                        ref,
                        f"{value} is above the plausible maximum of {bound} tCO2e per unit for "
                        f"{sector.replace('_', ' ')} goods; check the unit (t, not kg) and that a specific "
                        "value (per tonne), not a total, was entered.",
                        label,
                    )
                )


# ------------------------------------------------------------------------------------------
# File handling
# ------------------------------------------------------------------------------------------


def _read_bytes(source: Any, max_bytes: int) -> tuple[bytes, str]:
    too_big = (
        f"The file is larger than the limit of {max_bytes:,} bytes; the Commission template is about 1.3 MB."
    )
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = ""
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = path.name
        try:
            if path.stat().st_size > max_bytes:
                raise TemplateError(Problem(too_big, field="file"))
            data = path.read_bytes()
        except OSError as exc:
            raise TemplateError(
                Problem(f"The file cannot be read: {exc.strerror or exc}.", field="file")
            ) from None
    else:
        stream: IO[bytes] = source
        name = str(getattr(source, "name", "") or "")
        size = getattr(source, "size", None)
        if isinstance(size, int) and size > max_bytes:
            raise TemplateError(Problem(too_big, field="file"))
        if hasattr(stream, "seek"):
            with contextlib.suppress(OSError, ValueError):
                stream.seek(0)
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TemplateError(Problem(too_big, field="file"))
    return data, os.path.basename(name)


def _open_archive(data: bytes) -> zipfile.ZipFile:
    head = data[:8]
    if head.startswith(_OLE2_MAGIC[:4]):
        raise TemplateError(
            Problem(
                "The file is a password-protected (encrypted) workbook or an old-format .xls file "
                "(OLE2 compound document). Remove the password and save it as an Excel workbook (.xlsx).",
                field="file",
            )
        )
    if head.startswith(b"%PDF"):
        raise TemplateError(Problem("The file is a PDF, not an Excel workbook (.xlsx).", field="file"))
    if not head.startswith(_ZIP_MAGICS):
        raise TemplateError(
            Problem(
                "The file is not an Excel workbook (.xlsx): it is not a ZIP archive (a CSV, text or other "
                "file renamed to .xlsx?).",
                field="file",
            )
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as exc:
        raise TemplateError(
            Problem(
                f"The file is a corrupt or truncated ZIP archive and cannot be opened as a workbook ({exc}).",
                field="file",
            )
        ) from None
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise TemplateError(
            Problem("The file is a ZIP archive but not an Excel workbook (no xl/workbook.xml).", field="file")
        )
    if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
        raise TemplateError(
            Problem(
                f"The workbook would unpack to more than {MAX_UNCOMPRESSED_BYTES:,} bytes; refused.",
                field="file",
            )
        )
    return archive


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map of archive part name -> sheet name (best effort, parsed with defusedxml)."""
    try:
        workbook = safe_fromstring(archive.read("xl/workbook.xml"))
        rels = safe_fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # noqa: BLE001 - best effort only, used to word an error message
        return {}
    r_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    result = {}
    for sheet in workbook.iter():
        if sheet.tag.endswith("}sheet") and sheet.get(r_ns) in targets:
            target = targets[sheet.get(r_ns)].lstrip("/")
            part = target if target.startswith("xl/") else f"xl/{target}"
            result[part] = sheet.get("name", "")
    return result


def _refuse_dtds(archive: zipfile.ZipFile) -> None:
    """Refuse any XML part with a DTD (entity-expansion "billion laughs", external entities)."""
    problems = []
    sheet_names: dict[str, str] | None = None
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with archive.open(info) as part:
                prolog = part.read(_PROLOG_SCAN_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise TemplateError(
                Problem(
                    f"The workbook is corrupt: part {info.filename} cannot be read ({exc}).", field="file"
                )
            ) from None
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            if sheet_names is None and info.filename != "xl/workbook.xml":
                sheet_names = _sheet_parts(archive)
            sheet = (sheet_names or {}).get(info.filename, "")
            problems.append(
                Problem(
                    f"unsafe XML in part {info.filename}: document type / entity declarations are not "
                    "allowed in a workbook (possible XML bomb); the file was refused.",
                    sheet=sheet,
                    field="file",
                )
            )
    if problems:
        raise TemplateError(problems)


def _load_grids(data: bytes, problems: _Problems) -> tuple[dict[str, _Grid], tuple[str, ...]]:
    wanted = (SUMMARY_SHEET, INST_SHEET, PROCESS_SHEET, PRECURSOR_SHEET, VERSIONS_SHEET)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except DefusedXmlException as exc:
        raise TemplateError(
            Problem(f"unsafe XML in the workbook was refused ({exc}).", field="file")
        ) from None
    except ValueError as exc:
        if isinstance(exc.__cause__, DefusedXmlException):
            raise TemplateError(
                Problem(f"unsafe XML in the workbook was refused ({exc.__cause__}).", field="file")
            ) from None
        raise TemplateError(Problem(f"The workbook cannot be opened: {exc}.", field="file")) from None
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        ParseError,
        EOFError,
        TypeError,
        OSError,
    ) as exc:
        raise TemplateError(Problem(f"The workbook cannot be opened: {exc}.", field="file")) from None
    try:
        sheet_names = tuple(workbook.sheetnames)
        if SUMMARY_SHEET not in sheet_names:
            raise TemplateError(
                Problem(
                    f"sheet '{SUMMARY_SHEET}' not found; sheets present: {', '.join(sheet_names) or '(none)'}.",
                    sheet=SUMMARY_SHEET,
                    field="sheet",
                )
            )
        grids = {}
        for name in wanted:
            if name in sheet_names:
                worksheet = workbook[name]
                worksheet.reset_dimensions()  # do not trust the stored dimension
                grids[name] = _Grid(name, worksheet.iter_rows(values_only=True), problems)
        return grids, sheet_names
    except DefusedXmlException as exc:
        raise TemplateError(
            Problem(f"unsafe XML in the workbook was refused ({exc}).", field="file")
        ) from None
    except (zipfile.BadZipFile, zlib.error, ParseError, EOFError) as exc:
        raise TemplateError(
            Problem(f"The workbook is corrupt and cannot be read: {exc}.", field="file")
        ) from None
    finally:
        workbook.close()


def read_template(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    annex_i_cn_codes: set[str] | frozenset[str] | None = None,
) -> ParsedTemplate:
    """Parse a filled communication template into a :class:`ParsedTemplate`.

    ``source`` is a path, the file's bytes, or a binary file object (e.g. an uploaded file).
    ``annex_i_cn_codes``, when given, is the set of 8-digit CN codes of Annex I of Regulation
    (EU) 2023/956 (the reference list); product CN codes outside it are problems.
    Raises :class:`TemplateError` listing every problem found (sheet, cell, message).
    """
    data, name = _read_bytes(source, max_bytes)
    archive = _open_archive(data)
    with archive:
        _refuse_dtds(archive)
    problems = _Problems()
    grids, sheet_names = _load_grids(data, problems)

    summary = _parse_summary(grids[SUMMARY_SHEET], problems)
    _check_products(summary, problems, annex_i_cn_codes)

    installation = _parse_inst_data(grids[INST_SHEET], problems) if INST_SHEET in grids else None
    process_ids = {p.name: p.id for p in installation.processes} if installation else {}
    for item in summary.processes:
        process_ids.setdefault(item.name, item.id)
    processes = (
        _parse_processes(grids[PROCESS_SHEET], problems, process_ids) if PROCESS_SHEET in grids else ()
    )
    precursor_ids = {p.name: p.id for p in installation.purchased_precursors} if installation else {}
    precursors = (
        _parse_precursors(grids[PRECURSOR_SHEET], problems, precursor_ids) if PRECURSOR_SHEET in grids else ()
    )
    if problems.items:
        raise TemplateError(problems.items)
    return ParsedTemplate(
        summary=summary,
        source_name=name,
        template_version=_template_version(grids[VERSIONS_SHEET]) if VERSIONS_SHEET in grids else "",
        installation=installation,
        processes=processes,
        purchased_precursors=precursors,
        sheet_names=sheet_names,
    )
