"""Countries of origin: ISO 3166 names, the names used in the Commission's tables, Annex III.

Pure Python (pycountry, no Django) so the loaders and the calculation engine share one mapping.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry

from .codes import OTHER_COUNTRIES, OTHER_COUNTRIES_NAME


class UnknownCountryError(ValueError):
    pass


# Names used in the IR 2025/2621 tables (and by opencbam) that ISO 3166 spells differently.
ALIASES: dict[str, str] = {
    "Türkiye": "TR",
    "Turkey": "TR",
    "Myanmar/Burma": "MM",
    "Myanmar_Burma": "MM",
    "Burma": "MM",
    "Russia": "RU",
    "South Korea": "KR",
    "Korea, Republic of": "KR",
    "North Korea": "KP",
    "Taiwan": "TW",
    "Iran": "IR",
    "Syria": "SY",
    "Laos": "LA",
    "Brunei": "BN",
    "Congo": "CG",
    "Republic of the Congo": "CG",
    "Democratic Republic of the Congo": "CD",
    "DR Congo": "CD",
    "Côte d'Ivoire": "CI",
    "Cote d'Ivoire": "CI",
    "Ivory Coast": "CI",
    "Curaçao": "CW",
    "Curacao": "CW",
    "Hong Kong": "HK",
    "Vietnam": "VN",
    "Viet Nam": "VN",
    "Bolivia": "BO",
    "Moldova": "MD",
    "Tanzania": "TZ",
    "Venezuela": "VE",
    "United States": "US",
    "United States of America": "US",
    "United Kingdom": "GB",
    "Kosovo": "XK",
    "Palestine": "PS",
    "Cape Verde": "CV",
    "Micronesia": "FM",
    "Macau": "MO",
    "Macao": "MO",
    "Swaziland": "SZ",
    "Eswatini": "SZ",
    "North Macedonia": "MK",
    "Czech Republic": "CZ",
    "Czechia": "CZ",
    "Vatican": "VA",
}

# Regulation (EU) 2023/956 Annex III point 1: third countries and territories outside CBAM.
ANNEX_III_COUNTRIES: dict[str, str] = {
    "IS": "Annex III point 1 (Reg 2023/956): Iceland",
    "LI": "Annex III point 1 (Reg 2023/956): Liechtenstein",
    "NO": "Annex III point 1 (Reg 2023/956): Norway",
    "CH": "Annex III point 1 (Reg 2023/956): Switzerland",
}


@dataclass(frozen=True)
class Territory:
    name: str
    part_of: str  # ISO code of the state the territory belongs to
    code: str | None  # its own customs code where one exists


ANNEX_III_TERRITORIES: tuple[Territory, ...] = (
    Territory("Büsingen", "DE", None),
    Territory("Heligoland", "DE", None),
    Territory("Livigno", "IT", None),
    Territory("Ceuta", "ES", "XC"),
    Territory("Melilla", "ES", "XL"),
)

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return " ".join(folded.replace("_", " ").replace("’", "'").split())


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(_key(value), country.alpha_2)
    for alias, code in ALIASES.items():
        index[_key(alias)] = code
    index[_key(OTHER_COUNTRIES_NAME)] = OTHER_COUNTRIES
    index[_key("_Other Countries and Territories")] = OTHER_COUNTRIES
    return index


def country_code_for(name: str) -> str:
    """ISO alpha-2 code for a country name as published in the Commission's tables.

    Sheet names are cut at 31 characters by Excel ("Democratic Republic of the Cong"), so a
    name that is a unique prefix of a known one also matches. Unknown names raise: a silently
    unmapped country would send its goods to the wrong default values.
    """
    key = _key(name.strip().lstrip("_"))
    index = _index()
    if key in index:
        return index[key]
    if len(key) >= 25:
        matches = {code for known, code in index.items() if known.startswith(key)}
        if len(matches) == 1:
            return matches.pop()
    raise UnknownCountryError(f"Unknown country name “{name}”: add it to reference.countries.ALIASES.")


def country_name(iso2: str) -> str:
    if iso2 == OTHER_COUNTRIES:
        return OTHER_COUNTRIES_NAME
    country = pycountry.countries.get(alpha_2=iso2)
    if country is None:
        raise UnknownCountryError(f"Unknown country code “{iso2}”.")
    return getattr(country, "common_name", None) or country.name
