"""Problems found in a transitional CBAM quarterly report (QReport) and the error that carries them.

Every problem names the element it concerns by an XPath-like location such as
``/QReport/ImportedGood[2]/GoodsEmissions[1]/Installation/Address/Latitude``: elements that the
schema allows to repeat always carry their 1-based position among same-named siblings, single
elements never do, so one location means the same element in every message. Problems about the
document as a whole (size, DOCTYPE, syntax) use ``/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DOCUMENT", "REPEATABLE_ELEMENTS", "Problem", "QReportError"]

#: Location used for problems that concern the whole document.
DOCUMENT = "/"

#: Elements with ``maxOccurs > 1`` somewhere in the QReport schema v17.03: their position is
#: always part of a location, even when only one is present.
REPEATABLE_ELEMENTS = frozenset(
    {
        "ImportedGood",
        "ImportedQuantity",
        "MeasureProcedureImported",
        "InwardProcessingInfo",
        "SupportingDocuments",
        "GoodsEmissions",
        "ContactDetails",
        "ProdMethodQualifyingParams",
        "DirectQualifyingParameters",
        "IndirectQualifyingParameters",
        "CarbonPriceDue",
        "ProductsCovered",
        "RemarksEmissions",
    }
)

#: How many problems the error message lists before summarising the rest.
MESSAGE_PROBLEMS = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a report: where (element location, and line/column when known) and what."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f" (line {self.line}" + (f", column {self.column})" if self.column is not None else ")")
        return f"{where}: {self.message}"


class QReportError(ValueError):
    """A quarterly report could not be read; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:MESSAGE_PROBLEMS])
        more = len(self.problems) - MESSAGE_PROBLEMS
        if more > 0:
            shown += f"; and {more} more"
        count = len(self.problems)
        super().__init__(
            f"The quarterly report cannot be read ({count} problem{'s' * (count != 1)}): {shown}"
        )
