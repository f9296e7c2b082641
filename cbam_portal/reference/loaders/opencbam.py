"""Reads the Official Journal tables shipped as JSON in the `opencbam` package (Apache-2.0).

Only its data files are used (read with importlib.resources); our own code does every
calculation. The attribution travels with each dataset in `source` and `notes`.
"""

from __future__ import annotations

import json
from decimal import InvalidOperation
from importlib import metadata, resources

from ..codes import annex_ii_direct_only, digits_only, functional_unit
from ..countries import UnknownCountryError, country_code_for
from ..models import DatasetKind
from . import ParsedDataset, ReferenceDataError, sha256_bytes, to_decimal

PACKAGE = "opencbam.engine.data"
ATTRIBUTION = (
    "Data from the opencbam package (https://github.com/ia-climateops/opencbam-core), "
    "© IA Climate Ops, Apache License 2.0. Only its data files are used; transcribed from the "
    "Official Journal and not legally binding."
)

FILES = {
    DatasetKind.CN_GOODS: "cbam_goods_cn.json",
    DatasetKind.DEFAULT_VALUES: "default_values_2621.json",
    DatasetKind.PRECURSOR_DEFAULTS: "annex_iv_precursor_defaults_2621.json",
    DatasetKind.BENCHMARKS: "benchmarks_2620.json",
}

LEGAL_ACTS = {
    DatasetKind.CN_GOODS: "Regulation (EU) 2023/956 Annex I",
    DatasetKind.DEFAULT_VALUES: "Implementing Regulation (EU) 2025/2621 Annex I",
    DatasetKind.PRECURSOR_DEFAULTS: "Implementing Regulation (EU) 2025/2621",
    DatasetKind.BENCHMARKS: "Implementing Regulation (EU) 2025/2620 Annex",
}

SECTORS = {
    "cement": "cement",
    "electricity": "electricity",
    "fertilisers": "fertilisers",
    "fertilizers": "fertilisers",
    "iron_steel": "iron_steel",
    "iron and steel": "iron_steel",
    "iron & steel": "iron_steel",
    "aluminium": "aluminium",
    "hydrogen": "hydrogen",
    "chemicals": "hydrogen",
}

DASH = "DASH"
NOT_APPLICABLE = "NA"
PRODUCTION_YEARS = {None: "", "1": "2026-2027", "2": "2028-2030"}


def package_version() -> str:
    try:
        return metadata.version("opencbam")
    except metadata.PackageNotFoundError:  # pragma: no cover - dependency of the project
        return "unknown"


def read_file(name: str) -> bytes:
    return resources.files(PACKAGE).joinpath(name).read_bytes()


def _dataset(kind: str, data: bytes, source_note: str = "") -> ParsedDataset:
    name = FILES[kind]
    return ParsedDataset(
        kind=kind,
        legal_act=LEGAL_ACTS[kind],
        version=f"opencbam {package_version()}",
        source=f"opencbam {package_version()}: {PACKAGE}/{name}",
        sha256=sha256_bytes(data),
        notes=(source_note + "\n" if source_note else "") + ATTRIBUTION,
    )


def _number(record: dict, key: str, where: str, errors: list[str], *, allow_na: bool = False):
    raw = record.get(key)
    if raw is None or raw == DASH:
        return None
    if allow_na and raw == NOT_APPLICABLE:
        return None
    try:
        return to_decimal(raw)
    except (InvalidOperation, ValueError):
        errors.append(f"{where}, field {key!r}: expected a number, found {raw!r}")
        return None


def _json(data: bytes, name: str):
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferenceDataError(f"{name}: not valid JSON ({exc})") from exc


def _sector(raw: str | None, where: str, errors: list[str]) -> str:
    sector = SECTORS.get((raw or "").strip().lower())
    if sector is None:
        errors.append(f"{where}: unknown sector {raw!r}")
        return ""
    return sector


def parse_cn_goods(data: bytes | None = None) -> ParsedDataset:
    """Annex I CN list: sector, aggregated category, Annex II flag and functional unit per CN code."""
    data = data if data is not None else read_file(FILES[DatasetKind.CN_GOODS])
    payload = _json(data, FILES[DatasetKind.CN_GOODS])
    parsed = _dataset(DatasetKind.CN_GOODS, data, payload.get("_source", ""))
    errors: list[str] = []
    seen: set[str] = set()
    for i, good in enumerate(payload.get("goods", []), start=1):
        where = f"goods[{i}]"
        cn8 = digits_only(good.get("cn", ""))
        if len(cn8) != 8:
            errors.append(f"{where}: expected an 8-digit CN code, found {good.get('cn')!r}")
            continue
        if cn8 in seen:
            errors.append(f"{where}: CN code {cn8} listed twice")
            continue
        seen.add(cn8)
        sector = _sector(good.get("sector"), where, errors)
        parsed.rows.append(
            {
                "cn8": cn8,
                "description": good.get("description", ""),
                "sector": sector,
                "aggregated_category": good.get("category", ""),
                "annex_ii_direct_only": annex_ii_direct_only(cn8, sector),
                "functional_unit": functional_unit(cn8, sector),
                "ghg": good.get("ghg", ""),
            }
        )
    if errors:
        raise ReferenceDataError(errors)
    return parsed


def assign_variants(rows: list[dict]) -> None:
    """Where a country lists one CN code several times (grey and white clinker, hydraulic cements),
    the description tells the rows apart: it becomes the variant."""
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["country_code"], row["cn_code"])
        counts[key] = counts.get(key, 0) + 1
    for row in rows:
        if counts[(row["country_code"], row["cn_code"])] > 1:
            row["variant"] = row["description"][:60]


def check_unique_variants(rows: list[dict], where_of) -> list[str]:
    errors = []
    seen = set()
    for row in rows:
        key = (row["country_code"], row["cn_code"], row["variant"])
        if key in seen:
            errors.append(
                f"{where_of(row)}: CN code {row['cn_code']} ({row['variant'] or 'no variant'}) listed twice"
            )
        seen.add(key)
    return errors


def parse_default_values(data: bytes | None = None) -> ParsedDataset:
    """IR 2025/2621 Annex I: default values per country and keyed CN code (4, 6 or 8 digits)."""
    data = data if data is not None else read_file(FILES[DatasetKind.DEFAULT_VALUES])
    records = _json(data, FILES[DatasetKind.DEFAULT_VALUES])
    parsed = _dataset(DatasetKind.DEFAULT_VALUES, data)
    errors: list[str] = []
    for i, rec in enumerate(records, start=1):
        where = f"record {i} ({rec.get('country')}, {rec.get('cn_code')})"
        try:
            country_code = country_code_for(rec.get("country") or "")
        except UnknownCountryError as exc:
            errors.append(f"{where}: {exc}")
            continue
        cn_code = digits_only(rec.get("cn_code", ""))
        if len(cn_code) not in (4, 6, 8):
            errors.append(f"{where}: expected a CN code of 4, 6 or 8 digits")
            continue
        parsed.rows.append(
            {
                "country_code": country_code,
                "country_name": rec["country"],
                "cn_code": cn_code,
                "description": rec.get("description") or "",
                "sector": rec.get("sector") or "",
                "variant": "",
                "route": (rec.get("route") or "").strip(),
                "direct": _number(rec, "direct", where, errors),
                "indirect": _number(rec, "indirect", where, errors, allow_na=True),
                "indirect_applicable": rec.get("indirect") != NOT_APPLICABLE,
                "total": _number(rec, "total", where, errors),
                "total_2026": _number(rec, "markup_2026", where, errors),
                "total_2027": _number(rec, "markup_2027", where, errors),
                "total_2028_onwards": _number(rec, "markup_2028", where, errors),
            }
        )
    assign_variants(parsed.rows)
    errors += check_unique_variants(parsed.rows, lambda r: f"{r['country_name']}")
    if errors:
        raise ReferenceDataError(errors)
    return parsed


def parse_precursor_defaults(data: bytes | None = None) -> ParsedDataset:
    data = data if data is not None else read_file(FILES[DatasetKind.PRECURSOR_DEFAULTS])
    records = _json(data, FILES[DatasetKind.PRECURSOR_DEFAULTS])
    parsed = _dataset(DatasetKind.PRECURSOR_DEFAULTS, data)
    errors: list[str] = []
    for i, rec in enumerate(records, start=1):
        where = f"record {i} ({rec.get('cn_code')})"
        cn_code = digits_only(rec.get("cn_code", ""))
        if len(cn_code) not in (4, 6, 8):
            errors.append(f"{where}: expected a CN code of 4, 6 or 8 digits")
            continue
        parsed.rows.append(
            {
                "cn_code": cn_code,
                "description": rec.get("description") or "",
                "sector": rec.get("sector") or "",
                "route": (rec.get("route") or "").strip(),
                "highest": _number(rec, "highest", where, errors),
                "total_2026": _number(rec, "markup_2026", where, errors),
                "total_2027": _number(rec, "markup_2027", where, errors),
                "total_2028_onwards": _number(rec, "markup_2028", where, errors),
            }
        )
    if errors:
        raise ReferenceDataError(errors)
    return parsed


def parse_benchmarks(data: bytes | None = None) -> ParsedDataset:
    """IR 2025/2620 Annex: Column A (actual data) and Column B (default values) benchmarks.

    The year markers (1) and (2) select the benchmark for production years 2026–2027 and
    2028–2030 ([IR2620] Annex 5.3)."""
    data = data if data is not None else read_file(FILES[DatasetKind.BENCHMARKS])
    records = _json(data, FILES[DatasetKind.BENCHMARKS])
    parsed = _dataset(DatasetKind.BENCHMARKS, data)
    errors: list[str] = []
    for i, rec in enumerate(records, start=1):
        where = f"record {i} ({rec.get('cn_code')})"
        cn_code = digits_only(rec.get("cn_code", ""))
        if len(cn_code) != 8:
            errors.append(f"{where}: expected an 8-digit CN code")
            continue
        for column, key in (("A", "column_a"), ("B", "column_b")):
            for j, entry in enumerate(rec.get(key) or [], start=1):
                entry_where = f"{where}, {key}[{j}]"
                value = _number(entry, "value", entry_where, errors)
                if value is None:
                    continue
                year = entry.get("year")
                if year not in PRODUCTION_YEARS:
                    errors.append(f"{entry_where}: unknown production-year marker {year!r}")
                    continue
                parsed.rows.append(
                    {
                        "cn_code": cn_code,
                        "description": rec.get("description") or "",
                        "sector": rec.get("sector") or "",
                        "column": column,
                        "route": (entry.get("route") or "").strip(),
                        "production_years": PRODUCTION_YEARS[year],
                        "value": value,
                    }
                )
    if errors:
        raise ReferenceDataError(errors)
    return parsed


PARSERS = {
    DatasetKind.CN_GOODS: parse_cn_goods,
    DatasetKind.DEFAULT_VALUES: parse_default_values,
    DatasetKind.PRECURSOR_DEFAULTS: parse_precursor_defaults,
    DatasetKind.BENCHMARKS: parse_benchmarks,
}
