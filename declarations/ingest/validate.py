"""Validation of one customs line at a time, fast enough to stream a million rows.

Everything the check needs from the database is passed in as plain sets and dicts
(`ReferenceSets`), and repeated cell values (dates, CN codes, countries, procedures) are
validated once and cached. Rules:

- MRN: 18 characters, 2 digits (year), 2 letters (country), 14 letters or digits (UCC-DA Annex B).
- CN code: 8 digits, or a 10-digit TARIC code kept as is and reduced to its CN8 ([R956] Art 25(2)
  as amended by [OMN] Art 1(21)). A well-formed code not listed in Annex I is accepted and marked
  out of scope; a code of a chapter the Combined Nomenclature does not have is refused.
- Origin: a known country; EU member states and Annex III countries ([R956] Annex III) are out of
  scope. The country of production is kept when it differs ([QA] 7.21–7.22).
- Date of release: from 1 January 2026 (start of the definitive period, [R956] Art 36(2)(b) as
  amended) up to today.
- Quantities: positive, at most 6 decimals. Electricity (2716 00 00) in MWh, everything else as
  net mass in tonnes ([IR2547] Art 4).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import compress, repeat
from operator import is_

from .fields import FIELDS

DEFINITIVE_PERIOD_START = dt.date(2026, 1, 1)
ELECTRICITY_CN = "27160000"
MAX_EXPONENT = -6  # 6 decimal places
MAX_ADJUSTED = 13  # 20 digits in all, 6 after the point

# Chapters of the Combined Nomenclature (01–97; chapter 77 is reserved).
CN_CHAPTERS = frozenset(f"{n:02d}" for n in range(1, 98) if n != 77)

_MRN = re.compile(r"[0-9]{2}[A-Z]{2}[A-Z0-9]{14}")
_DIGITS_SPACES = re.compile(r"[\s.]+")
_PLAIN_QUANTITY = re.compile(r"(?:0|[1-9][0-9]{0,13})(?:\.[0-9]{1,6})?")

PROCEDURES = {
    # portal values
    "free_circulation": "free_circulation",
    "inward_processing": "inward_processing",
    "returned_goods": "returned_goods",
    "outward_processing": "outward_processing",
    "end_use": "end_use",
    # words
    "release for free circulation": "free_circulation",
    "free circulation": "free_circulation",
    "inward processing": "inward_processing",
    "returned goods": "returned_goods",
    "outward processing": "outward_processing",
    "end use": "end_use",
    "end-use": "end_use",
    # first two digits of the customs procedure code (UCC-DA Annex B, data element 1/10)
    "40": "free_circulation",
    "42": "free_circulation",
    "43": "free_circulation",
    "45": "free_circulation",
    "44": "end_use",
    "46": "outward_processing",
    "48": "outward_processing",
    "51": "inward_processing",
    "61": "returned_goods",
    "63": "returned_goods",
    "68": "returned_goods",
}

REASON_NOT_ANNEX_I = "CN code not in Annex I of Regulation (EU) 2023/956"
REASON_EU_ORIGIN = "Origin in the EU"
REASON_ANNEX_III = "Origin in an Annex III country (Regulation (EU) 2023/956 Annex III)"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str


@dataclass(frozen=True)
class ReferenceSets:
    """What the validator needs from the reference data and the organisation, as plain values."""

    cn_units: dict[str, str]  # Annex I cn8 -> functional unit
    countries: dict[str, tuple[bool, bool]]  # iso2 -> (is_eu, cbam_excluded)
    suppliers: dict[str, int] = field(default_factory=dict)  # casefolded name -> id
    today: dt.date = field(default_factory=dt.date.today)


# (row_no, mrn, line_no, released_on ISO, cn8, taric, origin, production, net_mass_t, mwh,
#  supplementary, functional, procedure, supplier_id, in_scope, reason)
ValidatedRow = tuple

OUTPUT_COLUMNS = (
    "row_no",
    "mrn",
    "line_no",
    "released_on",
    "cn_code",
    "taric_code",
    "origin_country",
    "production_country",
    "net_mass_tonnes",
    "quantity_mwh",
    "supplementary_quantity",
    "functional_unit_quantity",
    "procedure",
    "supplier_id",
    "in_scope",
    "out_of_scope_reason",
)


def parse_quantity(raw: str) -> tuple[str | None, str]:
    """(canonical decimal text, '') or (None, message). A lone decimal comma is accepted."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text:
        if "." in text or text.count(",") > 1:
            return None, "Write the number without thousands separators, e.g. 1234.5."
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, "Not a number."
    if not value.is_finite():
        return None, "Not a number."
    if value <= 0:
        return None, "Must be greater than zero."
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < MAX_EXPONENT:
        value = value.normalize()
        if value.as_tuple().exponent < MAX_EXPONENT:
            return None, "At most 6 decimal places."
    if value.adjusted() > MAX_ADJUSTED:
        return None, "Too large."
    return format(value, "f"), ""


def parse_date(raw: str) -> dt.date | None:
    text = raw.strip()
    try:
        if len(text) >= 10 and text[4] == "-":
            return dt.date.fromisoformat(text[:10])
        for fmt in ("%d.%m.%Y", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    except ValueError:
        return None
    return None


class RowValidator:
    """Validates rows of one file against `refs`, with the columns chosen in `mapping`."""

    def __init__(self, *, columns: list[str], mapping: dict[str, str], refs: ReferenceSets):
        self.refs = refs
        self.columns = columns
        self.width = len(columns)
        index = {name: i for i, name in enumerate(columns)}
        self.index = {key: index[col] for key, col in mapping.items() if col in index}
        self.column_of = {key: mapping[key] for key in self.index}
        # Cell position of each field in FIELDS order; an unmapped field reads the empty cell
        # appended after the last column.
        self.positions = tuple(self.index.get(f.key, self.width) for f in FIELDS)
        self._dates: dict[str, tuple[str | None, str]] = {}
        self._codes: dict[str, tuple] = {}
        self._countries: dict[str, tuple] = {}
        self._procedures: dict[str, str | None] = {}

    # -- cached cell checks -------------------------------------------------------------

    def _date(self, raw: str) -> tuple[str | None, str]:
        cached = self._dates.get(raw)
        if cached is None:
            day = parse_date(raw)
            if not raw.strip():
                cached = (None, "Required.")
            elif day is None:
                cached = (None, "Not a date: use YYYY-MM-DD (or DD.MM.YYYY).")
            elif day < DEFINITIVE_PERIOD_START:
                cached = (None, "Before 1 January 2026: only imports of the definitive period are recorded here.")
            elif day > self.refs.today:
                cached = (None, "In the future.")
            else:
                cached = (day.isoformat(), "")
            self._dates[raw] = cached
        return cached

    def _code(self, raw: str) -> tuple:
        """(cn8, taric, in_annex_i, error)."""
        cached = self._codes.get(raw)
        if cached is None:
            code = _DIGITS_SPACES.sub("", raw)
            if not code:
                cached = (None, "", False, "Required.")
            elif not (code.isdigit() and code.isascii()) or len(code) not in (8, 10):
                cached = (None, "", False, "A CN code has 8 digits (or 10 for a TARIC code).")
            elif code[:2] not in CN_CHAPTERS:
                cached = (None, "", False, f"Unknown CN code: there is no chapter {code[:2]}.")
            else:
                cached = (code[:8], code if len(code) == 10 else "", code[:8] in self.refs.cn_units, "")
            self._codes[raw] = cached
        return cached

    def _country(self, raw: str) -> tuple:
        """(iso2, is_eu, excluded, error)."""
        cached = self._countries.get(raw)
        if cached is None:
            code = raw.strip().upper()
            info = self.refs.countries.get(code)
            if not code:
                cached = (None, False, False, "Required.")
            elif info is None:
                cached = (None, False, False, "Unknown country code: use the ISO 3166 two-letter code.")
            else:
                cached = (code, info[0], info[1], "")
            self._countries[raw] = cached
        return cached

    def _procedure(self, raw: str) -> str | None:
        if raw in self._procedures:
            return self._procedures[raw]
        text = raw.strip().lower()
        value = PROCEDURES.get(text) if text else "free_circulation"
        if value is None and len(text) >= 2 and text[:2].isdigit():
            value = PROCEDURES.get(text[:2])
        self._procedures[raw] = value
        return value

    # -- one row ----------------------------------------------------------------------------

    def validate(self, row_no: int, cells: list[str]) -> tuple[ValidatedRow | None, list[RowError]]:
        errors: list[RowError] = []
        width = self.width
        ncells = len(cells)
        if ncells == width:
            cells.append("")  # unmapped fields point at this empty cell
        elif ncells < width:
            cells = cells + [""] * (width + 1 - ncells)
        else:
            if any(c.strip() for c in cells[width:]):
                errors.append(
                    RowError(
                        row_no, "", "", f"The row has {ncells} cells but the header has {width}: check separators and quoting."
                    )
                )
            cells = cells[:width] + [""]
        i = self.positions
        column_of = self.column_of

        def err(key: str, value: str, message: str) -> None:
            errors.append(RowError(row_no, column_of.get(key, key), value, message))

        raw = cells[i[0]]
        mrn = raw.strip().upper()
        if not _MRN.fullmatch(mrn):
            err("mrn", raw, "Required." if not mrn else "An MRN has 18 characters: 2 digits, 2 letters, then 14 letters or digits.")

        raw = cells[i[1]].strip()
        line_no = 0
        if raw.isdigit() and raw.isascii() and 1 <= int(raw) <= 99999:
            line_no = int(raw)
        else:
            err("line_no", raw, "Required." if not raw else "A whole number from 1 to 99999.")

        raw = cells[i[2]]
        released, message = self._date(raw)
        if message:
            err("released_on", raw, message)

        raw = cells[i[3]]
        cn8, taric, in_annex, message = self._code(raw)
        if message:
            err("cn_code", raw, message)

        raw = cells[i[4]]
        origin, is_eu, excluded, message = self._country(raw)
        if message:
            err("origin_country", raw, message)

        production = ""
        raw = cells[i[5]]
        if raw:
            code, _eu, _ex, message = self._country(raw)
            if message and raw.strip():
                err("production_country", raw, message)
            elif code != origin and code:
                production = code

        quantities: list[str | None] = []
        for position, key in ((i[6], "net_mass_tonnes"), (i[7], "quantity_mwh"), (i[8], "supplementary_quantity"), (i[9], "functional_unit_quantity")):
            raw = cells[position]
            if not raw:
                quantities.append(None)
                continue
            if _PLAIN_QUANTITY.fullmatch(raw) and raw.strip("0.") != "":
                quantities.append(raw)
                continue
            if not raw.strip():
                quantities.append(None)
                continue
            value, message = parse_quantity(raw)
            if message:
                err(key, raw, message)
            quantities.append(value)
        if cn8 == ELECTRICITY_CN:
            if not cells[i[7]].strip():
                err("quantity_mwh", "", "Required for electricity (2716 00 00): the quantity in MWh.")
        elif cn8 is not None and not cells[i[6]].strip():
            err("net_mass_tonnes", "", "Required: the net mass in tonnes.")

        raw = cells[i[10]]
        procedure = self._procedure(raw)
        if procedure is None:
            err("procedure", raw, "Unknown customs procedure: use a procedure code (40, 51, 61…) or its name.")

        supplier_id = None
        raw = cells[i[11]]
        if raw:
            raw = raw.strip()
            supplier_id = self.refs.suppliers.get(raw.casefold())
            if supplier_id is None and raw:
                err("supplier", raw, "Unknown supplier: add it to the organisation's suppliers first.")

        if errors:
            return None, errors

        if not in_annex:
            in_scope, reason = False, REASON_NOT_ANNEX_I
        elif is_eu:
            in_scope, reason = False, REASON_EU_ORIGIN
        elif excluded:
            in_scope, reason = False, REASON_ANNEX_III
        else:
            in_scope, reason = True, ""
        return (
            row_no,
            mrn,
            line_no,
            released,
            cn8,
            taric,
            origin,
            production,
            quantities[0],
            quantities[1],
            quantities[2],
            quantities[3],
            procedure,
            supplier_id,
            in_scope,
            reason,
        ), []


def validate_one(values: dict[str, str], refs: ReferenceSets) -> tuple[ValidatedRow | None, list[RowError]]:
    """Validate one line given as {field: text} (the single-entry form and API)."""
    keys = [f.key for f in FIELDS]
    validator = RowValidator(columns=keys, mapping={k: k for k in keys}, refs=refs)
    return validator.validate(1, [str(values.get(k) or "") for k in keys])


#: The columns of a COPY line, in order; the writer appends its own (the organisation and upload,
#: or the row number). Lines are in PostgreSQL's CSV format with a tab as separator: an empty
#: field is NULL (the quantities, the supplier), and the text columns are named in FORCE_NOT_NULL
#: so that an empty one stays ''.
LINE_COLUMNS = (
    "mrn",
    "line_no",
    "net_mass_tonnes",
    "quantity_mwh",
    "supplementary_quantity",
    "functional_unit_quantity",
    "released_on",
    "cn_code",
    "taric_code",
    "origin_country",
    "production_country",
    "procedure",
    "supplier_id",
    "in_scope",
    "out_of_scope_reason",
)
TEXT_COLUMNS = ("mrn", "cn_code", "taric_code", "origin_country", "production_country", "procedure", "out_of_scope_reason")


def copy_line(r: ValidatedRow, suffix: str | None = None) -> str:
    """A validated row as a COPY line (LINE_COLUMNS, then `suffix`, else a tab and the row number;
    no line end). Validation leaves no tab, newline, quote or backslash in any value, so nothing
    needs quoting."""
    return (
        f"{r[1]}\t{r[2]}\t{r[8] or ''}\t{r[9] or ''}\t{r[10] or ''}\t{r[11] or ''}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t"
        f"{r[12]}\t{r[13] or ''}\t{'t' if r[14] else 'f'}\t{r[15]}{f'\t{r[0]}' if suffix is None else suffix}"
    )


class FastLines:
    """The common case at full speed: a row whose every cell is already known to be valid (dates,
    codes, countries and procedures are checked once per distinct value) becomes its COPY line
    directly. Any row it is not sure about returns None and goes through `RowValidator.validate`,
    which gives the same answer for valid rows and names every problem of the others."""

    def __init__(self, validator: RowValidator, suffix: str | None = None):
        self.v = validator
        self.suffix = suffix  # written instead of the row number when given
        self.out_of_scope = 0
        self.dates: dict[str, str] = {}
        self.codes: dict[str, tuple[str, str, bool]] = {}
        self.countries: dict[str, tuple[str, bool, bool]] = {}
        self.procedures: dict[str, str] = {}

    def _date(self, raw: str) -> str | None:
        value, message = self.v._date(raw)
        if message:
            return None
        self.dates[raw] = value
        return value

    def _code(self, raw: str):
        cn8, taric, in_annex, message = self.v._code(raw)
        if message:
            return None
        self.codes[raw] = found = (f"{cn8}\t{taric}", cn8, in_annex)
        return found

    def _country(self, raw: str):
        code, is_eu, excluded, message = self.v._country(raw)
        if message:
            return None
        self.countries[raw] = found = (code, is_eu, excluded)
        return found

    def _procedure(self, raw: str):
        value = self.v._procedure(raw)
        if value is not None:
            self.procedures[raw] = value
        return value

    def __call__(self, row_no: int, cells: list[str]) -> str | None:
        v = self.v
        if len(cells) != v.width:
            return None
        cells.append("")
        i = v.positions
        mrn = cells[i[0]]
        if not _MRN.fullmatch(mrn):
            return None
        line = cells[i[1]]
        if not (line.isascii() and line.isdigit() and line[0] != "0" and len(line) < 6):
            return None
        raw = cells[i[2]]
        released = self.dates.get(raw) or self._date(raw)
        if released is None:
            return None
        raw = cells[i[3]]
        code = self.codes.get(raw) or self._code(raw)
        if code is None:
            return None
        raw = cells[i[4]]
        origin = self.countries.get(raw) or self._country(raw)
        if origin is None:
            return None
        raw = cells[i[5]]
        if raw:
            production = self.countries.get(raw) or self._country(raw)
            if production is None:
                return None
            production = "" if production[0] == origin[0] else production[0]
        else:
            production = ""
        quantities = []
        for position in (i[6], i[7], i[8], i[9]):
            raw = cells[position]
            if not raw or (_PLAIN_QUANTITY.fullmatch(raw) and raw.strip("0.") != ""):
                quantities.append(raw)
            else:
                return None
        if code[1] == ELECTRICITY_CN:
            if not quantities[1]:
                return None
        elif not quantities[0]:
            return None
        raw = cells[i[10]]
        procedure = self.procedures.get(raw) or self._procedure(raw)
        if procedure is None:
            return None
        raw = cells[i[11]]
        supplier = ""
        if raw:
            found = v.refs.suppliers.get(raw.strip().casefold())
            if found is None:
                return None
            supplier = found
        if not code[2]:
            scope = f"f\t{REASON_NOT_ANNEX_I}"
        elif origin[1]:
            scope = f"f\t{REASON_EU_ORIGIN}"
        elif origin[2]:
            scope = f"f\t{REASON_ANNEX_III}"
        else:
            scope = "t\t"
        if scope[0] == "f":
            self.out_of_scope += 1
        return (
            f"{mrn}\t{line}\t{quantities[0]}\t{quantities[1]}\t{quantities[2]}\t{quantities[3]}\t{released}\t{code[0]}\t"
            f"{origin[0]}\t{production}\t{procedure}\t{supplier}\t{scope}{f'\t{row_no}' if self.suffix is None else self.suffix}"
        )


_QUANTITY = r"(?:[1-9][0-9]{0,13}(?:\.[0-9]{1,6})?|0\.(?=[0-9]{0,5}[1-9])[0-9]{1,6})"
# Checks of a whole column of a block, its cells joined with (and followed by) newlines.
_MRN_COLUMN = re.compile(r"(?:[0-9]{2}[A-Z]{2}[A-Z0-9]{14}\n)*")
_LINE_COLUMN = re.compile(r"(?:[1-9][0-9]{0,4}\n)*")
_QUANTITY_COLUMN = re.compile(rf"(?:{_QUANTITY}\n)*")
_OPTIONAL_QUANTITY_COLUMN = re.compile(rf"(?:(?:{_QUANTITY})?\n)*")
MAX_COMBINATIONS = 200_000


class BlockLines:
    """A block of unquoted CSV lines turned into COPY text at once, with no Python code run per row:
    the rows are split and their cells picked with C-level maps, the cells copied as they are
    (MRN, line number, quantities) are checked together with one regular expression, and the
    others (date, CN code, countries, procedure, supplier) are looked up as one combination whose
    COPY text is worked out the first time it is seen (with the checks of `FastLines`).

    Returns None for a block it is not sure about (a blank line, a cell count that differs, a
    value that is not plain, an unknown combination, electricity, which is checked against its
    MWh): its rows then take `FastLines` and `RowValidator.validate` one by one."""

    def __init__(self, validator: RowValidator, delimiter: str, suffix: str):
        self.fast = FastLines(validator, suffix)
        self.v = validator
        self.delimiter = delimiter
        self.suffix = suffix
        self.width = validator.width
        # FIELDS order; None for an unmapped field (an empty cell on every row).
        self.positions = tuple(p if p < validator.width else None for p in validator.positions)
        # The looked-up cells (date, CN code, origin, production country, procedure, supplier)
        # that are mapped; a combination is keyed by them joined with the delimiter, which no
        # cell of a split line holds (a string key hashes and compares much faster than a tuple).
        looked_up = tuple(self.positions[i] for i in (2, 3, 4, 5, 10, 11))
        self.key_slots = tuple(n for n, position in enumerate(looked_up) if position is not None)
        self.key_positions = tuple(looked_up[n] for n in self.key_slots)
        self.combinations: dict[str, str | bool] = {}
        self.out_of_scope = 0

    def _combination(self, key: str) -> str | bool:
        values = ["", "", "", "", "", ""]
        for slot, value in zip(self.key_slots, key.split(self.delimiter), strict=True):
            values[slot] = value
        date, code, origin, production, procedure, supplier = values
        fast = self.fast
        released = fast.dates.get(date) or fast._date(date)
        cn = fast.codes.get(code) or fast._code(code)
        country = fast.countries.get(origin) or fast._country(origin)
        procedure = fast.procedures.get(procedure) or fast._procedure(procedure)
        if released is None or cn is None or country is None or procedure is None or cn[1] == ELECTRICITY_CN:
            return False
        made_in = ""
        if production:
            found = fast.countries.get(production) or fast._country(production)
            if found is None:
                return False
            made_in = "" if found[0] == country[0] else found[0]
        supplier_id = ""
        if supplier:
            supplier_id = self.v.refs.suppliers.get(supplier.strip().casefold())
            if supplier_id is None:
                return False
        if not cn[2]:
            scope = f"f\t{REASON_NOT_ANNEX_I}"
        elif country[1]:
            scope = f"f\t{REASON_EU_ORIGIN}"
        elif country[2]:
            scope = f"f\t{REASON_ANNEX_III}"
        else:
            scope = "t\t"
        return f"{released}\t{cn[0]}\t{country[0]}\t{made_in}\t{procedure}\t{supplier_id}\t{scope}{self.suffix}\n"

    def __call__(self, lines: list[str]) -> str | None:
        """The COPY text of `lines` (one line per row, each ending in a newline), or None."""
        d, width = self.delimiter, self.width
        count = len(lines)
        if set(map(str.count, lines, repeat(d))) != {width - 1}:
            return None  # a blank line, or a row with more or fewer cells
        # Every cell of the block in one list; the cells of column i are cells[i::width].
        cells = d.join(lines).split(d)
        empty = [""] * count

        def column(position: int | None) -> list[str]:
            return empty if position is None else cells[position::width]

        mrn, line_no, mass, mwh, supplementary, functional = map(column, (self.positions[i] for i in (0, 1, 6, 7, 8, 9)))
        looked_up = [cells[position::width] for position in self.key_positions]
        keys = list(map(d.join, zip(*looked_up, strict=True))) if len(looked_up) > 1 else (looked_up[0] if looked_up else empty)
        combinations = self.combinations
        texts = list(map(combinations.get, keys))
        if None in texts:
            if len(combinations) > MAX_COMBINATIONS:
                combinations.clear()
            for index in compress(range(count), map(is_, texts, repeat(None))):
                key = keys[index]
                found = combinations.get(key)
                if found is None:
                    found = combinations[key] = self._combination(key)
                texts[index] = found
        if False in texts:
            return None
        if not (
            _MRN_COLUMN.fullmatch("\n".join(mrn) + "\n")
            and _LINE_COLUMN.fullmatch("\n".join(line_no) + "\n")
            and _QUANTITY_COLUMN.fullmatch("\n".join(mass) + "\n")
            and all(_OPTIONAL_QUANTITY_COLUMN.fullmatch("\n".join(q) + "\n") for q in (mwh, supplementary, functional) if q is not empty)
        ):
            return None
        text = "".join(map("\t".join, zip(mrn, line_no, mass, mwh, supplementary, functional, texts, strict=True)))
        # "f" between tabs is only ever the in-scope column (no other column holds a lone "f").
        self.out_of_scope += text.count("\tf\t")
        return text
