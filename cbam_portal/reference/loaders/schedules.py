"""Small tables kept as data files with their sources: CBAM factor, CSCF, certificate prices."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..models import DatasetKind
from . import ParsedDataset, ReferenceDataError, sha256_bytes

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

FILES = {
    DatasetKind.CBAM_FACTOR: DATA_DIR / "cbam_factor.json",
    DatasetKind.CSCF: DATA_DIR / "cscf.json",
    DatasetKind.CERTIFICATE_PRICES: DATA_DIR / "certificate_prices.json",
}


def _load(path: Path) -> tuple[bytes, dict]:
    try:
        data = path.read_bytes()
        return data, json.loads(data)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferenceDataError(f"{path.name}: cannot be read ({exc})") from exc


def _header(kind: str, path: Path, data: bytes, payload: dict) -> ParsedDataset:
    missing = [k for k in ("legal_act", "version", "source") if not payload.get(k)]
    if missing:
        raise ReferenceDataError(f"{path.name}: missing {', '.join(missing)}")
    return ParsedDataset(
        kind=kind,
        legal_act=payload["legal_act"],
        version=payload["version"],
        source=payload["source"],
        sha256=sha256_bytes(data),
        provisional=bool(payload.get("provisional")),
        notes=payload.get("notes", ""),
    )


def _decimal(raw, where: str, errors: list[str], *, low=Decimal(0), high=Decimal(1)) -> Decimal | None:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        errors.append(f"{where}: expected a number, found {raw!r}")
        return None
    if not value.is_finite() or value < low or (high is not None and value > high):
        errors.append(f"{where}: {raw!r} is outside {low}–{high}")
        return None
    return value


def _yearly(kind: str, value_field: str, path: Path | None = None) -> ParsedDataset:
    path = path or FILES[kind]
    data, payload = _load(path)
    parsed = _header(kind, path, data, payload)
    errors: list[str] = []
    for year, raw in sorted((payload.get("values") or {}).items()):
        where = f"{path.name}, values[{year!r}]"
        if not (year.isdigit() and 2023 <= int(year) <= 2100):
            errors.append(f"{where}: expected a year")
            continue
        value = _decimal(raw, where, errors)
        if value is not None:
            parsed.rows.append({"year": int(year), value_field: value})
    if not parsed.rows and not errors:
        errors.append(f"{path.name}: no values")
    if errors:
        raise ReferenceDataError(errors)
    return parsed


def parse_cbam_factor(path: Path | None = None) -> ParsedDataset:
    """CBAM factor schedule 2026–2034, Directive 2003/87/EC Art 10a(1a)."""
    return _yearly(DatasetKind.CBAM_FACTOR, "factor", path)


def parse_cscf(path: Path | None = None) -> ParsedDataset:
    """Cross-sectoral correction factor per year (Implementing Decision (EU) 2026/1862, provisional)."""
    return _yearly(DatasetKind.CSCF, "value", path)


def _date(raw, where: str, errors: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        errors.append(f"{where}: expected a date YYYY-MM-DD, found {raw!r}")
        return None


def parse_certificate_prices(path: Path | None = None) -> ParsedDataset:
    """Published CBAM certificate prices (Art 21 Reg 2023/956 as amended by Reg 2025/2083)."""
    path = path or FILES[DatasetKind.CERTIFICATE_PRICES]
    data, payload = _load(path)
    parsed = _header(DatasetKind.CERTIFICATE_PRICES, path, data, payload)
    errors: list[str] = []
    for i, rec in enumerate(payload.get("prices") or [], start=1):
        where = f"{path.name}, prices[{i}]"
        start = _date(rec.get("period_start"), f"{where}.period_start", errors)
        end = _date(rec.get("period_end"), f"{where}.period_end", errors)
        published = (
            _date(rec["published_on"], f"{where}.published_on", errors) if rec.get("published_on") else None
        )
        price = _decimal(rec.get("price_eur"), f"{where}.price_eur", errors, high=None)
        if start and end and end < start:
            errors.append(f"{where}: period_end is before period_start")
        if None in (start, end, price):
            continue
        provisional = bool(rec.get("provisional"))
        parsed.provisional = parsed.provisional or provisional
        parsed.rows.append(
            {
                "period_start": start,
                "period_end": end,
                "price_eur": price.quantize(Decimal("0.01")),
                "source": rec.get("source", ""),
                "provisional": provisional,
                "published_on": published,
            }
        )
    if errors:
        raise ReferenceDataError(errors)
    return parsed


PARSERS = {
    DatasetKind.CBAM_FACTOR: parse_cbam_factor,
    DatasetKind.CSCF: parse_cscf,
    DatasetKind.CERTIFICATE_PRICES: parse_certificate_prices,
}


#: Columns of a certificate-price CSV file (``provisional`` optional: yes/no, true/false, 1/0).
PRICE_CSV_COLUMNS = ("period_start", "period_end", "price_eur", "source", "published_on")
_PRICE_LEGAL_ACT = (
    "Regulation (EU) 2023/956 Art 21(1)–(2) as amended by Regulation (EU) 2025/2083 (weekly price from 2027)"
)
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


def _price_row_key(row: dict) -> tuple:
    return (row["period_start"], row["period_end"], row["price_eur"], row["provisional"])


def parse_certificate_prices_csv(path: Path | str, *, keep: Iterable[dict] = ()) -> ParsedDataset:
    """Certificate prices of a CSV file (period_start, period_end, price_eur, source, published_on
    and optionally provisional), added to the prices already in force (``keep``: dicts with the
    same keys, e.g. the 2026 quarterly prices) to make the next certificate-price dataset.

    From 2027 the price is the weekly average of the EU ETS auction clearing prices, published
    for each calendar week ([R956] Art 21(1)–(2) as amended by [OMN]). A row of the file for a
    period already in force replaces it (a correction); a period that overlaps another one is
    refused. Every error names the row and the column; nothing is loaded when one is found.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{path.name}: cannot be read ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in PRICE_CSV_COLUMNS if c not in header]
    if missing:
        raise ReferenceDataError(
            f"{path.name}: missing column(s) {', '.join(missing)} (expected {', '.join(PRICE_CSV_COLUMNS)})"
        )
    errors: list[str] = []
    new_rows: list[dict] = []
    for line, raw in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"{path.name}, row {line}"
        start = _date(rec["period_start"], f"{where}, period_start", errors)
        end = _date(rec["period_end"], f"{where}, period_end", errors)
        published = (
            _date(rec["published_on"], f"{where}, published_on", errors) if rec["published_on"] else None
        )
        price = _decimal(rec["price_eur"], f"{where}, price_eur", errors, high=None)
        flag = rec.get("provisional", "").lower()
        if flag not in _TRUE | _FALSE:
            errors.append(f"{where}, provisional: expected yes or no, found {rec.get('provisional')!r}")
        if price is not None and price == 0:
            errors.append(f"{where}, price_eur: a certificate price is greater than zero")
            price = None
        if start and end and end < start:
            errors.append(f"{where}, period_end: {end} is before period_start {start}")
            continue
        if None in (start, end, price):
            continue
        new_rows.append(
            {
                "period_start": start,
                "period_end": end,
                "price_eur": price.quantize(Decimal("0.01")),
                "source": rec["source"][:300] or path.name,
                "provisional": flag in _TRUE,
                "published_on": published,
                "_where": where,
            }
        )
    if not new_rows and not errors:
        errors.append(f"{path.name}: no prices")
    replaced = {r["period_start"] for r in new_rows}
    rows = [dict(r, _where="the prices in force") for r in keep if r["period_start"] not in replaced]
    rows += new_rows
    rows.sort(key=lambda r: (r["period_start"], r["period_end"]))
    for before, after in itertools.pairwise(rows):
        if after["period_start"] <= before["period_end"]:
            errors.append(
                f"{after['_where']}: period {after['period_start']}–{after['period_end']} overlaps "
                f"{before['period_start']}–{before['period_end']} ({before['_where']})"
            )
    if errors:
        raise ReferenceDataError(errors)
    for row in rows:
        row.pop("_where")
    canonical = json.dumps(
        [[str(v) for v in _price_row_key(r)] + [r["source"], str(r["published_on"])] for r in rows]
    ).encode()
    last = max(r["period_end"] for r in new_rows)
    return ParsedDataset(
        kind=DatasetKind.CERTIFICATE_PRICES,
        legal_act=_PRICE_LEGAL_ACT,
        version=f"to {last.isoformat()}",
        source=f"{path.name} ({len(new_rows)} prices) with the prices in force before",
        sha256=sha256_bytes(canonical),
        rows=rows,
        provisional=any(r["provisional"] for r in rows),
        notes=(
            "For goods imported in 2026 the price is the quarterly average of EU ETS auction clearing prices "
            "(Art 21(1a)); from 2027 it is the weekly average, applying from its publication to the next one."
        ),
    )
