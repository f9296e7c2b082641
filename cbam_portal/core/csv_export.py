"""CSV files that are safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return may be run as a formula by
spreadsheet software (CSV injection); such cells are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """The cell text for `value`, neutralised when a spreadsheet could read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class SafeCsvWriter:
    """Writes rows of safe cells into a UTF-8 buffer (with a byte-order mark, for Excel)."""

    def __init__(self, header: Iterable[Any]):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self.writerow(header)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_safe(cell) for cell in row])

    def getvalue(self) -> bytes:
        return ("\ufeff" + self._buffer.getvalue()).encode("utf-8")
