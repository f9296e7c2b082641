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
class Block:
    """Consecutive records of a file. `lines`: records of a CSV stretch without quotes, one per
    line (line ends dropped, blank lines kept as ''), the first numbered `first_row`, to be split
    on the delimiter; else `rows`: (row number, cells) as read."""

    first_row: int = 0
    lines: list[str] | None = None
    rows: list[tuple[int, list[str]]] | None = None


@dataclass
class Table:
    columns: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (spreadsheet row number, cells)
    encoding: str = ""
    delimiter: str = ""
    notices: list[str] = field(default_factory=list)
    #: The same records in blocks (read either `rows` or `blocks`, not both).
    blocks: Iterator[Block] | None = None


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


ROWS_PER_BLOCK = 8192


def _csv_blocks(text: io.TextIOWrapper, delimiter: str) -> Iterator[Block]:
    """The records after the header, in blocks. As long as the text holds no quote, lone carriage
    return or NUL, every line is one record and is handed over as is (splitting it on the
    delimiter gives what the csv module gives); from the first chunk that holds one on, the csv
    module reads the rest."""
    row_no = 1
    carry = ""
    try:
        while chunk := text.read(CHUNK):
            raw = carry + chunk
            held = "\r" if raw[-1] == "\r" else ""  # may be the first half of a line end
            chunk = raw[: len(raw) - len(held)]
            if "\r" in chunk:
                chunk = chunk.replace("\r\n", "\n")
            if '"' in chunk or "\r" in chunk or "\0" in chunk:
                yield from _csv_module_blocks(csv.reader(_text_lines(raw, text), delimiter=delimiter), row_no)
                return
            lines = chunk.split("\n")
            carry = lines.pop() + held
            if lines:
                yield Block(first_row=row_no + 1, lines=lines)
                row_no += len(lines)
        if "\r" in carry:
            yield from _csv_module_blocks(csv.reader(io.StringIO(carry, newline=""), delimiter=delimiter), row_no)
        elif carry:
            yield Block(first_row=row_no + 1, lines=[carry])
    finally:
        text.detach()


def _text_lines(first: str, text: io.TextIOWrapper) -> Iterator[str]:
    """The lines (with their ends) of `first` followed by the rest of `text`."""
    carry = first
    while chunk := text.read(CHUNK):
        lines = io.StringIO(carry + chunk, newline="").readlines()
        # An unfinished last line, or one ending in "\r" that may be half of "\r\n", waits for more.
        carry = lines.pop() if lines[-1][-1] not in "\n" else ""
        yield from lines
    yield from io.StringIO(carry, newline="")


def _csv_module_blocks(reader, row_no: int) -> Iterator[Block]:
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            row_no += 1
            if cells:
                rows.append((row_no, cells))
                if len(rows) >= ROWS_PER_BLOCK:
                    yield Block(rows=rows)
                    rows = []
    except csv.Error as exc:
        if rows:
            yield Block(rows=rows)
        raise FileProblem(f"Row {row_no + 1} cannot be read as CSV: {exc}.") from exc
    if rows:
        yield Block(rows=rows)


def block_rows(blocks: Iterator[Block], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every non-blank record of `blocks`."""
    try:
        for block in blocks:
            if block.lines is None:
                yield from block.rows
                continue
            for row_no, line in enumerate(block.lines, start=block.first_row):
                if line:
                    yield row_no, line.split(delimiter)
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()


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
    blocks = _csv_blocks(text, delimiter)
    return Table(
        columns=columns,
        rows=block_rows(blocks, delimiter),
        encoding=encoding,
        delimiter=delimiter,
        notices=notices,
        blocks=blocks,
    )


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
