"""CSV files that are safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return may be run as a formula by
spreadsheet software (CSV injection); such cells are prefixed with a single quote. A plain number
(`-30,125`, `+1.5e3` is not one) cannot run anything and is left as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A signed number with decimal point or comma and digit grouping, nothing else.
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.,]*\Z")


def csv_safe(value: Any) -> str:
    """The cell text for `value`, neutralised when a spreadsheet could read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class SafeCsvWriter:
    """Writes rows of safe cells into a UTF-8 buffer (with a byte-order mark, for Excel)."""

    def __init__(self, header: Iterable[Any]):
        self._buffer = io.StringIO()
        self._taken = False
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self.writerow(header)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_safe(cell) for cell in row])

    def getvalue(self) -> bytes:
        return ("\ufeff" + self._buffer.getvalue()).encode("utf-8")

    def take(self) -> bytes:
        """What was written since the last ``take`` (the byte-order mark first), then forgotten:
        a large file is handed on piece by piece instead of held whole."""
        text = self._buffer.getvalue()
        if not self._taken:
            text = "\ufeff" + text
            self._taken = True
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")
