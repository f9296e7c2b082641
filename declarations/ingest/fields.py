"""The portal's fields of an import line, and how file columns are matched to them."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    required: bool
    aliases: tuple[str, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("mrn", "Customs declaration (MRN)", True, ("mrn", "declaration", "customs declaration", "movement reference number", "declaration reference")),
    Field("line_no", "Line number", True, ("line", "line no", "line number", "item", "item number", "goods item", "position")),
    Field("released_on", "Date of release", True, ("date", "release date", "date of release", "acceptance date", "released on")),
    Field("cn_code", "CN code (8 digits, or TARIC 10)", True, ("cn", "cn code", "cn8", "taric", "taric code", "commodity code", "hs code", "tariff code")),
    Field("origin_country", "Country of origin", True, ("origin", "country of origin", "origin country", "coo")),
    Field("production_country", "Country of production", False, ("production country", "country of production")),
    Field("net_mass_tonnes", "Net mass (tonnes)", False, ("net mass", "net mass t", "net mass tonnes", "mass", "net weight", "quantity t", "tonnes")),
    Field("quantity_mwh", "Electricity (MWh)", False, ("mwh", "quantity mwh", "electricity mwh")),
    Field("supplementary_quantity", "Supplementary unit quantity", False, ("supplementary unit", "supplementary quantity", "supplementary units")),
    Field("functional_unit_quantity", "Functional-unit quantity (clinker t, kg N)", False, ("functional unit", "functional unit quantity", "clinker", "nitrogen", "kg n")),
    Field("procedure", "Customs procedure", False, ("procedure", "customs procedure", "procedure code", "cpc")),
    Field("supplier", "Supplier", False, ("supplier", "supplier name", "consignor", "exporter")),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)
REQUIRED_FIELDS = tuple(f.key for f in FIELDS if f.required)

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_header(text: str) -> str:
    return _NON_WORD.sub(" ", (text or "").lower()).strip()


def suggest_mapping(columns: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """{field: column}: the saved mapping where its columns exist in the file, else a column whose
    name matches the field's key, label or an alias."""
    present = set(columns)
    by_norm = {normalise_header(c): c for c in columns}
    mapping: dict[str, str] = {}
    for field in FIELDS:
        chosen = (saved or {}).get(field.key)
        if chosen and chosen in present:
            mapping[field.key] = chosen
            continue
        for candidate in (field.key, field.label, *field.aliases):
            column = by_norm.get(normalise_header(candidate))
            if column is not None:
                mapping[field.key] = column
                break
    return mapping
