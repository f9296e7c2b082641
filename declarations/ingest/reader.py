"""Open a customs extract as a header and a stream of rows of text cells.

CSV: the encoding is UTF-8 (with or without a byte-order mark), else Windows-1252 with a notice;
the delimiter is the one of `;`, `,` or tab found most often in the header line. XLSX: the first
sheet, cells as text (dates as ISO dates); formulas are never evaluated, their cached values read.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

DELIMITERS = (";", ",", "\t")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab"}
CHUNK = 1 << 20


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, delimiter, header)."""


@dataclass
class Table:
    columns: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (spreadsheet row number, cells)
    encoding: str = ""
    delimiter: str = ""
    notices: list[str] = field(default_factory=list)


def detect_encoding(handle: BinaryIO) -> tuple[str, list[str]]:
    """'utf-8-sig' when the whole file decodes as UTF-8, else 'cp1252' (with a notice)."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := handle.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")("strict")
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise FileProblem(
                "The file is neither UTF-8 nor Windows-1252 text; save it as CSV (UTF-8) and upload it again."
            ) from exc
        finally:
            handle.seek(0)
        return "cp1252", ["The file is not UTF-8; it was read as Windows-1252 (Western European). Check accented names."]
    handle.seek(0)
    return "utf-8-sig", []


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] == 0:
        raise FileProblem(
            "No column separator found in the header line: separate columns with semicolons, commas or tabs."
        )
    return best


def _csv_table(handle: BinaryIO) -> Table:
    encoding, notices = detect_encoding(handle)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    header_line = ""
    while not header_line.strip():
        header_line = text.readline()
        if header_line == "":
            raise FileProblem("The file is empty: it needs a header line and at least one row.")
    delimiter = detect_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    columns = [c.strip() for c in header]
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        row_no = 1
        try:
            for cells in reader:
                row_no += 1
                if cells:
                    yield row_no, cells
        except csv.Error as exc:
            raise FileProblem(f"Row {row_no + 1} cannot be read as CSV: {exc}.") from exc
        finally:
            text.detach()

    return Table(columns=columns, rows=rows(), encoding=encoding, delimiter=delimiter, notices=notices)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)))
    return str(value).strip()


def _xlsx_table(handle: BinaryIO) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileProblem("The file is not a readable Excel workbook (.xlsx).") from exc
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = None
    header_row = 0
    for row_no, raw in enumerate(values, start=1):
        if raw and any(v not in (None, "") for v in raw):
            header = [_cell_text(v) for v in raw]
            header_row = row_no
            break
    if header is None:
        workbook.close()
        raise FileProblem("The first sheet is empty: it needs a header row and at least one row.")
    while header and header[-1] == "":
        header.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for row_no, raw in enumerate(values, start=header_row + 1):
                cells = [_cell_text(v) for v in raw]
                if any(cells):
                    yield row_no, cells
        finally:
            workbook.close()

    return Table(columns=header, rows=rows(), notices=[])


def open_table(handle: BinaryIO, file_format: str) -> Table:
    """The header and rows of `handle` (a seekable binary file) read as `file_format` ('csv'/'xlsx')."""
    if file_format == "xlsx":
        return _xlsx_table(handle)
    return _csv_table(handle)


def sniff_format(file_name: str, head: bytes) -> str:
    """'xlsx' for a zip container (or an .xlsx name), else 'csv'."""
    if head[:4] == b"PK\x03\x04" or file_name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"
