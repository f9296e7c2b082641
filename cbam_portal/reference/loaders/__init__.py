"""Parsers that turn a publication into rows, without touching the database.

Each parser returns a `ParsedDataset`; `services.dataset_load` writes it in one transaction.
Parsers validate the whole input first, so a bad file never leaves half a dataset behind.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

VALUE_PLACES = Decimal("0.000001")


class ReferenceDataError(ValueError):
    """Input that is not in the expected layout or has a value that cannot be read.

    `errors` lists every problem found, each naming where it is (sheet and cell, or record).
    """

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        shown = self.errors[:20]
        more = len(self.errors) - len(shown)
        message = "; ".join(shown) + (f"; … and {more} more" if more > 0 else "")
        super().__init__(message)


@dataclass
class ParsedDataset:
    kind: str
    legal_act: str
    version: str
    source: str
    sha256: str
    rows: list[dict] = field(default_factory=list)
    provisional: bool = False
    notes: str = ""
    skipped: int = 0  # rows read but not stored (e.g. "see below" headings)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_decimal(value: object) -> Decimal:
    """A published number as a Decimal with 6 places; floats go through repr so 0.957000…01 is 0.957."""
    if isinstance(value, bool):
        raise InvalidOperation(value)
    if isinstance(value, float):
        value = repr(value)
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise InvalidOperation(value)
    return number.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)
