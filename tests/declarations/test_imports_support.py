"""Fixtures and file builders shared by the import-lines tests (no tests here)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cbam_portal.reference.models import CnGood, Country, Dataset, DatasetKind

HEADER = ["MRN", "Item", "Release date", "CN code", "Origin", "Production country", "Net mass (t)", "MWh", "Procedure"]

CN_GOODS = [
    ("72081000", "iron_steel", "t"),
    ("72085120", "iron_steel", "t"),
    ("76011010", "aluminium", "t"),
    ("25231000", "cement", "t clinker"),
    ("27160000", "electricity", "MWh"),
]
COUNTRIES = [
    ("CN", "China", False, False),
    ("TR", "Türkiye", False, False),
    ("IN", "India", False, False),
    ("NO", "Norway", False, True),
    ("DE", "Germany", True, False),
    ("US", "United States", False, False),
]


@pytest.fixture
def import_reference(db):
    """A small Annex I list and country table (current datasets)."""
    dataset = Dataset.objects.create(
        kind=DatasetKind.CN_GOODS, legal_act="test", version="1", source="tests", sha256="0" * 64, is_current=True
    )
    CnGood.objects.bulk_create(
        CnGood(dataset=dataset, cn8=cn8, sector=sector, aggregated_category=sector, functional_unit=unit)
        for cn8, sector, unit in CN_GOODS
    )
    Country.objects.bulk_create(
        Country(iso2=iso2, name=name, is_eu=is_eu, cbam_excluded=excluded) for iso2, name, is_eu, excluded in COUNTRIES
    )
    return dataset


def mrn(n: int) -> str:
    return f"26DE{n:014d}"


def yesterday() -> str:
    return (dt.date.today() - dt.timedelta(days=1)).isoformat()


def good_row(n: int, **overrides) -> list[str]:
    row = {
        "MRN": mrn(n),
        "Item": "1",
        "Release date": "2026-03-15",
        "CN code": "7208 10 00",
        "Origin": "CN",
        "Production country": "",
        "Net mass (t)": "12.5",
        "MWh": "",
        "Procedure": "40 00",
    }
    row.update(overrides)
    return [row[h] for h in HEADER]


def csv_bytes(rows: list[list[str]], *, header=HEADER, delimiter=";", encoding="utf-8-sig") -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list], *, header=HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload_file(content: bytes, name: str = "extract.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")
