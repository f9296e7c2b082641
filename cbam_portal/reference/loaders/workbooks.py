"""Reads the Commission's own workbooks `default_values.xlsx` (IR 2025/2621 Annex I) and
`benchmarks.xlsx` (IR 2025/2620 Annex), so an administrator can load a newer publication.

The layout is checked cell by cell and every error names the sheet and cell. Markers the
Commission uses in value cells are read as published: "–" (also "-" and "_") = no country
value, use "Other countries and territories"; "N/A" in the indirect column = Annex II good;
"see below" = a heading whose values are on the following, more detailed rows (not stored).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import InvalidOperation
from pathlib import Path

from ..codes import digits_only
from ..countries import UnknownCountryError, country_code_for
from ..models import DatasetKind
from . import ParsedDataset, ReferenceDataError, sha256_bytes, to_decimal
from .opencbam import assign_variants, check_unique_variants

MAX_WORKBOOK_BYTES = 50 * 1024 * 1024

DV_HEADERS = (
    "Product CN Code",
    "Description",
    "Default Value (direct emissions)",
    "Default Value (indirect emissions)",
    "Default Value (total emissions)",
    "2026 Default Value (including mark-up)",
    "2027 Default Value (including mark-up)",
    "2028 and onwards Default Value (including mark-up)",
    "Underlying production route determining CBAM BM",
)
DV_VALUE_FIELDS = ("direct", "indirect", "total", "total_2026", "total_2027", "total_2028_onwards")
BM_SHEET = "Benchmarks"
BM_HEADERS = (
    "CN code",
    "CN Description",
    "Column A BMg [tCO2e/t]",
    "Column A Production route indicator",
    "Column B BMg [tCO2e/t]",
    "Column B Production route indicator",
)

DASHES = {"–", "-", "_", "—"}
SEE_BELOW = "see below"
SPREADSHEET_ERRORS = {"#VALUE!", "#REF!", "#N/A", "#DIV/0!", "#NAME?"}
ROUTE_RE = re.compile(r"^\([A-Z0-9]\)(?:\s*/?\s*\([A-Z0-9]\))*$")
PRODUCTION_YEARS = {"1": "2026-2027", "2": "2028-2030"}


def _sheet_list(workbook) -> str:
    names = workbook.sheetnames
    return ", ".join(names[:8]) + (f", … ({len(names)} sheets)" if len(names) > 8 else "")


def _col(index: int) -> str:
    return chr(ord("A") + index)


def _norm(text: object) -> str:
    return " ".join(str(text or "").replace("\xa0", " ").split())


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.replace("\xa0", " ").strip())


def _is_not_applicable(value: str) -> bool:
    # Published spellings include "N/A", "N.A.", "N/a" and "N/(A".
    return re.sub(r"[^a-z]", "", value.lower()) == "na"


def open_workbook(path: Path | str):
    """Open an .xlsx read-only, turning every kind of broken file into one clear error."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReferenceDataError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    if size > MAX_WORKBOOK_BYTES:
        raise ReferenceDataError(f"{name}: {size} bytes is larger than the {MAX_WORKBOOK_BYTES} allowed")
    if not zipfile.is_zipfile(path):
        raise ReferenceDataError(
            f"{name}: not an Excel workbook (.xlsx); the file is truncated, corrupt or of another type"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
        if bad is not None:
            raise ReferenceDataError(f"{name}: the workbook is corrupt (member {bad} fails its checksum)")
        data = path.read_bytes()
        workbook = load_workbook(path, read_only=True, data_only=True)
    except ReferenceDataError:
        raise
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ReferenceDataError(f"{name}: not a readable Excel workbook ({exc})") from exc
    return workbook, sha256_bytes(data)


def _rows(sheet):
    try:
        yield from sheet.iter_rows(values_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ReferenceDataError(f"sheet '{sheet.title}': cannot be read ({exc})") from exc


def _cell(row: tuple, index: int):
    return row[index] if index < len(row) else None


def _check_headers(sheet_name: str, row_number: int, row: tuple, expected: tuple[str, ...]) -> list[str]:
    errors = []
    for i, header in enumerate(expected):
        found = _cell(row, i)
        if _norm(found).lower() != _norm(header).lower():
            errors.append(
                f"sheet '{sheet_name}', cell {_col(i)}{row_number}: expected header '{header}', found '{_norm(found)}'"
            )
    return errors


def _version(workbook, sheet_names: tuple[str, ...]) -> str:
    """The last entry of the 'Version History' sheet, e.g. 'v1 (2026-02-04)'."""
    lookup = {name.lower(): name for name in workbook.sheetnames}
    for wanted in sheet_names:
        if wanted.lower() in lookup:
            sheet = workbook[lookup[wanted.lower()]]
            version = None
            for number, row in enumerate(_rows(sheet), start=1):
                if number < 3 or _blank(_cell(row, 0)):
                    continue
                when = _cell(row, 1)
                when = when.date().isoformat() if isinstance(when, dt.datetime) else _norm(when)
                version = f"v{_norm(_cell(row, 0))} ({when})" if when else f"v{_norm(_cell(row, 0))}"
            if version is None:
                raise ReferenceDataError(
                    f"sheet '{sheet.title}', cell A3: expected a version number, found none"
                )
            return version
    raise ReferenceDataError(f"sheet '{sheet_names[0]}' is missing (found: {_sheet_list(workbook)})")


def _route(sheet_name: str, ref: str, value, errors: list[str]) -> tuple[str, str]:
    """A route indicator cell as (route, production years): '(C)' -> ('C', ''), '(C)/(F)' ->
    ('C/F', ''), '(F)(1)' -> ('F', '2026-2027'), '(2)' -> ('', '2028-2030') ([IR2620] Annex 5.3)."""
    if _blank(value):
        return "", ""
    text = _norm(value)
    if _is_not_applicable(text):
        return "", ""
    if not ROUTE_RE.match(text):
        errors.append(
            f"sheet '{sheet_name}', cell {ref}: expected a route indicator such as '(C)', found '{text}'"
        )
        return "", ""
    tokens = re.findall(r"\(([A-Z0-9])\)", text)
    letters = [t for t in tokens if t.isalpha()]
    digits = [t for t in tokens if t.isdigit()]
    if len(digits) > 1 or any(d not in PRODUCTION_YEARS for d in digits):
        errors.append(f"sheet '{sheet_name}', cell {ref}: unknown production-year marker in '{text}'")
        return "", ""
    return "/".join(letters), PRODUCTION_YEARS[digits[0]] if digits else ""


def parse_default_values_workbook(path: Path | str) -> ParsedDataset:
    """IR 2025/2621 Annex I as the Commission's workbook: one sheet per country (A1 = country),
    row 2 = headers, then sector headings and rows keyed by CN code (4, 6 or 8 digits)."""
    path = Path(path)
    workbook, sha256 = open_workbook(path)
    try:
        version = _version(workbook, ("Version History",))
        parsed = ParsedDataset(
            kind=DatasetKind.DEFAULT_VALUES,
            legal_act="Implementing Regulation (EU) 2025/2621 Annex I",
            version=version,
            source=f"European Commission workbook {path.name} ({version})",
            sha256=sha256,
            notes=(
                "Commission workbook of default values; not legally binding, only the Official Journal "
                "text is. Values rounded to 6 decimal places."
            ),
        )
        errors: list[str] = []
        countries_seen: dict[str, str] = {}
        for sheet_name in workbook.sheetnames:
            if sheet_name.lower() in ("overview", "version history"):
                continue
            errors += _parse_country_sheet(workbook[sheet_name], parsed, countries_seen)
            if len(errors) > 200:
                break
        if not errors and "ZZ" not in countries_seen.values():
            errors.append("no sheet for 'Other Countries and Territories' (the fallback for every country)")
        assign_variants(parsed.rows)
        errors += check_unique_variants(parsed.rows, lambda r: f"sheet '{r.pop('_sheet', '')}'")
        for row in parsed.rows:
            row.pop("_sheet", None)
        if errors:
            raise ReferenceDataError(errors)
        if not parsed.rows:
            raise ReferenceDataError(f"{path.name}: no default values found")
        return parsed
    finally:
        workbook.close()


def _parse_country_sheet(sheet, parsed: ParsedDataset, countries_seen: dict[str, str]) -> list[str]:
    name = sheet.title
    errors: list[str] = []
    rows = _rows(sheet)
    first = next(rows, ())
    country_name = _norm(_cell(first, 0))
    try:
        sheet_code = country_code_for(name)
    except UnknownCountryError:
        return [f"sheet '{name}': the sheet name is not a known country (cell A1 says '{country_name}')"]
    try:
        code = country_code_for(country_name)
    except UnknownCountryError:
        return [f"sheet '{name}', cell A1: expected the country name, found '{country_name}'"]
    if code != sheet_code:
        return [f"sheet '{name}', cell A1: expected the country of the sheet, found '{country_name}'"]
    if code in countries_seen:
        return [f"sheet '{name}': country {country_name} already read from sheet '{countries_seen[code]}'"]
    countries_seen[name] = code
    header = next(rows, ())
    errors += _check_headers(name, 2, header, DV_HEADERS)
    if errors:
        return errors
    sector = ""
    for number, row in enumerate(rows, start=3):
        cells = [_cell(row, i) for i in range(9)]
        if all(_blank(c) for c in cells):
            continue
        code_cell, description = cells[0], cells[1]
        if isinstance(code_cell, str) and not re.fullmatch(r"[\d\s.]+", code_cell.strip()):
            if _blank(description):
                sector = _norm(code_cell)  # a sector heading: "Cement", "Iron and steel", ...
                continue
            errors.append(f"sheet '{name}', cell A{number}: expected a CN code, found '{_norm(code_cell)}'")
            continue
        if _blank(code_cell):
            errors.append(f"sheet '{name}', cell A{number}: expected a CN code, found an empty cell")
            continue
        cn_code = digits_only(code_cell)
        if len(cn_code) not in (4, 6, 8) or isinstance(code_cell, float):
            errors.append(
                f"sheet '{name}', cell A{number}: expected a CN code of 4, 6 or 8 digits, found '{_norm(code_cell)}'"
            )
            continue
        values = cells[2:8]
        if any(isinstance(v, str) and _norm(v).lower() == SEE_BELOW for v in values):
            parsed.skipped += 1  # a heading; its values are on the rows below
            continue
        row_out = {
            "_sheet": name,
            "country_code": code,
            "country_name": country_name,
            "cn_code": cn_code,
            "description": _norm(description),
            "sector": sector,
            "variant": "",
            "route": _route(name, f"I{number}", cells[8], errors)[0],
            "indirect_applicable": True,
        }
        for i, (field, value) in enumerate(zip(DV_VALUE_FIELDS, values, strict=True)):
            ref = f"{_col(i + 2)}{number}"
            row_out[field] = None
            if _blank(value) or (isinstance(value, str) and _norm(value) in DASHES):
                continue
            if field == "indirect" and isinstance(value, str) and _is_not_applicable(value):
                row_out["indirect_applicable"] = False
                continue
            if isinstance(value, str) and _norm(value) in SPREADSHEET_ERRORS:
                errors.append(f"sheet '{name}', cell {ref}: the workbook holds the error '{_norm(value)}'")
                continue
            try:
                row_out[field] = to_decimal(value)
            except (InvalidOperation, ValueError):
                errors.append(f"sheet '{name}', cell {ref}: expected a number, found '{_norm(value)}'")
        parsed.rows.append(row_out)
    return errors


def parse_benchmarks_workbook(path: Path | str) -> ParsedDataset:
    """IR 2025/2620 Annex as the Commission's workbook: sheet 'Benchmarks', row 1 = headers; a CN
    code row may be followed by rows with an empty CN cell that add further routes for it."""
    path = Path(path)
    workbook, sha256 = open_workbook(path)
    try:
        version = _version(workbook, ("Version history",))
        if BM_SHEET not in workbook.sheetnames:
            raise ReferenceDataError(f"sheet '{BM_SHEET}' is missing (found: {_sheet_list(workbook)})")
        parsed = ParsedDataset(
            kind=DatasetKind.BENCHMARKS,
            legal_act="Implementing Regulation (EU) 2025/2620 Annex",
            version=version,
            source=f"European Commission workbook {path.name} ({version})",
            sha256=sha256,
            notes="Commission workbook of CBAM benchmarks; not legally binding, only the Official Journal text is.",
        )
        errors = _parse_benchmark_sheet(workbook[BM_SHEET], parsed)
        if errors:
            raise ReferenceDataError(errors)
        if not parsed.rows:
            raise ReferenceDataError(f"{path.name}: no benchmarks found")
        return parsed
    finally:
        workbook.close()


def _parse_benchmark_sheet(sheet, parsed: ParsedDataset) -> list[str]:
    name = sheet.title
    rows = _rows(sheet)
    errors = _check_headers(name, 1, next(rows, ()), BM_HEADERS)
    if errors:
        return errors
    sector, current_cn, description = "", None, ""
    for number, row in enumerate(rows, start=2):
        cells = [_cell(row, i) for i in range(6)]
        if all(_blank(c) for c in cells):
            continue
        code_cell = cells[0]
        if isinstance(code_cell, str) and not re.fullmatch(r"[\d\s]+", code_cell.strip()):
            if all(_blank(c) for c in cells[1:]):
                sector, current_cn = _norm(code_cell), None
                continue
            errors.append(f"sheet '{name}', cell A{number}: expected a CN code, found '{_norm(code_cell)}'")
            continue
        if not _blank(code_cell):
            cn = digits_only(code_cell)
            if len(cn) != 8 or isinstance(code_cell, float):
                errors.append(
                    f"sheet '{name}', cell A{number}: expected an 8-digit CN code, found '{_norm(code_cell)}'"
                )
                current_cn = None
                continue
            current_cn, description = cn, _norm(cells[1])
        elif current_cn is None:
            errors.append(f"sheet '{name}', cell A{number}: expected a CN code, found an empty cell")
            continue
        for column, value_index in (("A", 2), ("B", 4)):
            value, marker = cells[value_index], cells[value_index + 1]
            ref = f"{_col(value_index)}{number}"
            if _blank(value):
                continue
            try:
                number_value = to_decimal(value)
            except (InvalidOperation, ValueError):
                errors.append(f"sheet '{name}', cell {ref}: expected a number, found '{_norm(value)}'")
                continue
            route, years = _route(name, f"{_col(value_index + 1)}{number}", marker, errors)
            parsed.rows.append(
                {
                    "cn_code": current_cn,
                    "description": description,
                    "sector": sector,
                    "column": column,
                    "route": route,
                    "production_years": years,
                    "value": number_value,
                }
            )
    return errors
