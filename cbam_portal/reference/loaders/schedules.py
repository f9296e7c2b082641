"""Small tables kept as data files with their sources: CBAM factor, CSCF, certificate prices."""

from __future__ import annotations

import datetime as dt
import json
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
