"""Problems found in a communication template, collected and raised together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

__all__ = ["Problem", "TemplateError", "cell_name"]


def cell_name(sheet: str, row: int | None, column: int | None) -> str:
    """``Sheet!L21`` for a cell, ``Sheet`` when no cell applies."""
    if row is None or column is None:
        return sheet
    return f"{sheet}!{get_column_letter(column)}{row}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the uploaded file, located as precisely as the file allows.

    ``sheet`` is empty for problems with the file itself (size, type, encryption); ``field``
    names the template field (e.g. "CN Codes", "DirEm*") so that a form or API can show it.
    """

    message: str
    sheet: str = ""
    row: int | None = None
    column: int | None = None
    field: str = ""

    @classmethod
    def at(cls, ref: str, message: str, field: str = "") -> Problem:
        """A problem at ``ref`` ("Sheet!L21", or just a sheet name)."""
        sheet, _, coordinate = ref.rpartition("!")
        if not sheet:
            return cls(message=message, sheet=ref, field=field)
        try:
            letters, row = coordinate_from_string(coordinate)
        except ValueError:
            return cls(message=message, sheet=sheet, field=field)
        return cls(
            message=message, sheet=sheet, row=row, column=column_index_from_string(letters), field=field
        )

    @property
    def cell(self) -> str:
        """Excel-style location, e.g. ``D_Processes!L21``; the sheet alone, or "" for the file."""
        if not self.sheet:
            return ""
        return cell_name(self.sheet, self.row, self.column)

    def __str__(self) -> str:
        where = self.cell or "file"
        label = f" ({self.field})" if self.field else ""
        return f"{where}{label}: {self.message}"


class TemplateError(ValueError):
    """The file cannot be used; ``problems`` lists every problem found, each with its location."""

    def __init__(self, problems: Iterable[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.problems)
        head = (
            "The communication template has 1 problem"
            if count == 1
            else (f"The communication template has {count} problems")
        )
        return head + ":\n" + "\n".join(f"- {p}" for p in self.problems)
