"""CN-code rules that need no database: parsing, Annex II, functional units, prefix matching.

Pure Python (no Django import) so the calculation engine can use it directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Country code used for the "Other countries and territories" rows of IR 2025/2621 Annex I.
#: ZZ is an ISO 3166 user-assigned code, so it never collides with a real country.
OTHER_COUNTRIES = "ZZ"
OTHER_COUNTRIES_NAME = "Other countries and territories"

_SPACES = re.compile(r"\s+")


class CnCodeError(ValueError):
    """A code that is not an 8-digit CN code or a 10-digit TARIC code."""


@dataclass(frozen=True)
class ParsedCode:
    cn8: str
    taric10: str | None  # the full code when a 10-digit TARIC code was given

    @property
    def display(self) -> str:
        return format_cn(self.cn8)


def parse_cn(raw: str) -> ParsedCode:
    """Parse an 8-digit CN code or a 10-digit TARIC code (spaces allowed, e.g. "7208 10 00 90").

    The CBAM declaration is made per 8-digit CN code ([R956] Art 25(2) as amended by
    Reg 2025/2083 Art 1(21)); a TARIC code is reduced to its first 8 digits.
    """
    code = _SPACES.sub("", raw or "")
    if not code:
        raise CnCodeError("Enter a CN code.")
    if not code.isdigit() or not code.isascii():
        raise CnCodeError(f"A CN code contains only digits; “{raw.strip()}” does not.")
    if len(code) not in (8, 10):
        raise CnCodeError(
            f"A CN code has 8 digits (or 10 for a TARIC code); “{raw.strip()}” has {len(code)}."
        )
    return ParsedCode(cn8=code[:8], taric10=code if len(code) == 10 else None)


def format_cn(code: str) -> str:
    """'72081000' -> '7208 10 00'; shorter keyed codes ('7208', '721922') group the same way."""
    digits = code.replace(" ", "")
    parts = [digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)]
    return " ".join(p for p in parts if p)


def digits_only(code: object) -> str:
    """A keyed CN code as published (int, '7208 10 00', '721922') reduced to its digits."""
    return re.sub(r"\D", "", str(code))


# Annex II of Reg 2023/956 as amended by Reg 2025/2083 Art 1(29): goods for which only direct
# emissions count. Iron and steel except 2601 12 00 (agglomerated iron ores), aluminium,
# hydrogen and electricity.
ANNEX_II_SECTORS = frozenset({"iron_steel", "aluminium", "hydrogen", "electricity"})
ANNEX_II_EXCEPTIONS = frozenset({"26011200"})


def annex_ii_direct_only(cn8: str, sector: str) -> bool:
    """True when only direct embedded emissions count ([R956] Art 7(1), Annex II; [OMN] Art 1(29))."""
    return sector in ANNEX_II_SECTORS and cn8 not in ANNEX_II_EXCEPTIONS


UNIT_TONNES = "t"
UNIT_MWH = "MWh"
UNIT_CLINKER = "t clinker"
UNIT_KG_N = "kg N"

_CLINKER_PREFIXES = ("252310", "252321", "252329", "252390")
_NITROGEN_PREFIXES = ("2808", "2814", "3102", "3105")


def functional_unit(cn8: str, sector: str) -> str:
    """Functional unit of a good, IR 2025/2547 Art 4: electricity in MWh; cement (2523 10, 21, 29, 90)
    in tonnes of clinker contained; nitrogen fertilisers (2808, 2814, 3102, 3105) in kg of nitrogen;
    otherwise tonnes of goods."""
    if sector == "electricity" or cn8.startswith("2716"):
        return UNIT_MWH
    if cn8.startswith(_CLINKER_PREFIXES):
        return UNIT_CLINKER
    if cn8.startswith(_NITROGEN_PREFIXES):
        return UNIT_KG_N
    return UNIT_TONNES


def prefixes(cn8: str) -> list[str]:
    """Keys under which IR 2025/2621 may list a CN code: 8, 6 and 4 digits, longest first."""
    return [cn8[:n] for n in (8, 6, 4)]


def longest_prefix[T](cn8: str, keyed: Iterable[tuple[str, T]]) -> tuple[str | None, list[T]]:
    """Among (keyed_code, item) pairs, the items whose keyed code is the longest prefix of `cn8`.

    Annex I of IR 2025/2621 keys rows at 4, 6 or 8 digits; the most specific one applies.
    Several items can share the key (variants such as grey and white clinker).
    """
    best: str | None = None
    found: list[T] = []
    for key, item in keyed:
        if not cn8.startswith(key):
            continue
        if best is None or len(key) > len(best):
            best, found = key, [item]
        elif key == best:
            found.append(item)
    return best, found
