"""The loader of the Commission's workbooks, against the real copies and against broken ones."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import Workbook

from cbam_portal.core.actor import Actor
from cbam_portal.reference import selectors, services
from cbam_portal.reference.loaders import ReferenceDataError
from cbam_portal.reference.loaders.workbooks import (
    BM_HEADERS,
    DV_HEADERS,
    parse_benchmarks_workbook,
    parse_default_values_workbook,
)
from cbam_portal.reference.models import Benchmark, Dataset, DatasetKind, DefaultValue
from tests.conftest import require_shared_data

WORKBOOKS = "commission-workbooks"


@pytest.fixture(scope="module")
def dv_parsed():
    return parse_default_values_workbook(require_shared_data(WORKBOOKS, "default_values.xlsx"))


@pytest.fixture(scope="module")
def bm_parsed():
    return parse_benchmarks_workbook(require_shared_data(WORKBOOKS, "benchmarks.xlsx"))


def _dv(parsed, country, cn, variant=""):
    (row,) = [
        r
        for r in parsed.rows
        if r["country_code"] == country and r["cn_code"] == cn and r["variant"] == variant
    ]
    return row


# ------------------------------------------------------------------ real workbooks


def test_default_values_workbook_has_every_row_of_the_flattened_csv(dv_parsed):
    flat = require_shared_data("cbam_default_values_IR2025-2621_v20260204.csv")
    with flat.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    value_columns = [c for c in rows[0] if c.startswith("dv_")]
    headings = [r for r in rows if any(r[c] == "see below" for c in value_columns)]
    # The flattening kept Tunisia's "Fertilisers" sector heading as a row without a CN code.
    sector_headings = [r for r in rows if not r["cn_code"]]
    assert (len(rows), len(headings), len(sector_headings)) == (12533, 874, 1)
    assert len(dv_parsed.rows) == len(rows) - len(headings) - len(sector_headings) == 11658
    assert dv_parsed.skipped == len(headings) == 874
    assert len({r["country_code"] for r in dv_parsed.rows}) == 120
    assert dv_parsed.version == "v1 (2026-02-04)"


def test_albania_grey_clinker_values_from_the_workbook(dv_parsed):
    grey = _dv(dv_parsed, "AL", "25231000", "Grey clinker")
    assert (grey["total"], grey["total_2026"], grey["total_2027"], grey["total_2028_onwards"]) == (
        Decimal("0.870"),
        Decimal("0.957"),
        Decimal("1.044"),
        Decimal("1.131"),
    )
    assert grey["route"] == "A"


def test_china_urea_gets_the_one_percent_fertiliser_mark_up(dv_parsed):
    urea = _dv(dv_parsed, "CN", "31021019")
    assert urea["total"] == Decimal("2.85")
    assert urea["total_2026"] == urea["total_2028_onwards"] == Decimal("2.8785")


def test_china_7208_keeps_six_decimals_and_is_an_annex_ii_row(dv_parsed):
    row = _dv(dv_parsed, "CN", "7208")
    assert row["total"] == Decimal("3.186893")
    assert row["total_2026"] == Decimal("3.505582")
    assert row["indirect"] is None and row["indirect_applicable"] is False
    assert row["route"] == "C"


def test_dash_cells_become_missing_values_and_mixed_routes_are_kept(dv_parsed):
    white = _dv(dv_parsed, "AL", "25231000", "White clinker")
    assert white["total"] is None and white["direct"] is None
    assert _dv(dv_parsed, "DZ", "7227")["route"] == "C/F"
    assert _dv(dv_parsed, "GQ", "28041000")["indirect_applicable"] is False  # spelt "N.A."


def test_benchmarks_workbook_matches_the_flattened_csv(bm_parsed):
    flat = require_shared_data("cbam_benchmarks_IR2025-2620.csv")
    with flat.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expected = sum(bool(r["colA_BM_tCO2e_per_t"]) + bool(r["colB_BM_tCO2e_per_t"]) for r in rows)
    assert len(bm_parsed.rows) == expected == 2465
    assert len({r["cn_code"] for r in bm_parsed.rows}) == 570
    assert bm_parsed.version == "v1 (2025-02-06)"


def test_benchmark_7208_10_00_column_b_route_c_is_1_370(bm_parsed):
    rows = [r for r in bm_parsed.rows if r["cn_code"] == "72081000"]
    by_key = {(r["column"], r["route"]): r["value"] for r in rows}
    assert by_key[("B", "C")] == Decimal("1.370")
    assert by_key[("B", "D")] == Decimal("0.481")
    assert by_key[("A", "")] == Decimal("0.044")


def test_benchmark_year_markers_become_production_years(bm_parsed):
    aluminous = [r for r in bm_parsed.rows if r["cn_code"] == "25233000" and r["column"] == "A"]
    assert {(r["production_years"], r["value"]) for r in aluminous} == {
        ("2026-2027", Decimal("0.717")),
        ("2028-2030", Decimal("0.686")),
    }


@pytest.mark.django_db
def test_loading_the_workbooks_makes_them_current_and_keeps_the_opencbam_version(dv_parsed, bm_parsed):
    from tests.reference.conftest import parsed_builtin

    builtin = {p.kind: p for p in parsed_builtin()}
    old = services.dataset_load(parsed=builtin[DatasetKind.DEFAULT_VALUES], actor=Actor.system()).dataset

    new = services.dataset_load(parsed=dv_parsed, actor=Actor.system())
    bm = services.dataset_load(parsed=bm_parsed, actor=Actor.system())

    assert new.status == "loaded" and bm.status == "loaded"
    assert DefaultValue.objects.filter(dataset=new.dataset).count() == 11658
    assert Benchmark.objects.filter(dataset=bm.dataset).count() == 2465
    assert selectors.dataset_get(DatasetKind.DEFAULT_VALUES).pk == new.dataset.pk
    match = selectors.default_values_for("72081000", "CN")
    assert match.rows[0].total == Decimal("3.186893") and match.dataset.pk == new.dataset.pk
    old.refresh_from_db()
    assert not old.is_current and DefaultValue.objects.filter(dataset=old).count() == 11391
    assert services.dataset_load(parsed=dv_parsed, actor=Actor.system()).status == "unchanged"


# ------------------------------------------------------------------ broken workbooks


def _default_values_workbook(path, *, mutate=None):
    wb = Workbook()
    overview = wb.active
    overview.title = "Overview"
    history = wb.create_sheet("Version History")
    history.append(["Version History"])
    history.append(["Version", "Date", "Version Notes"])
    history.append([2, dt.datetime(2026, 9, 1), "Corrected values"])
    for name in ("China", "_Other Countries and Territorie"):
        ws = wb.create_sheet(name)
        ws.append(["Other Countries and Territories" if name.startswith("_") else name])
        ws.append([h.replace(" (", "\n(") for h in DV_HEADERS])
        ws.append(
            ["Iron and steel", None, None, None, None, "10% mark-up", "20% mark-up", "30% mark-up", None]
        )
        ws.append(
            [
                "7208",
                "Flat-rolled",
                3.186892655,
                "N/A",
                3.186892655,
                3.5055819205,
                3.824271186,
                4.1429604515,
                "(C)",
            ]
        )
        ws.append(["2523 10 00", "Grey clinker", 0.87, 0, 0.87, 0.957, 1.044, 1.131, "(A)"])
        ws.append(["2523 10 00", "White clinker", "–", "–", "–", "–", "–", "–", None])
        ws.append(
            [
                3102,
                "Nitrogenous",
                "see below",
                "see below",
                "see below",
                "see below",
                "see below",
                "see below",
                None,
            ]
        )
        ws.append(["3102 10 19", "Urea", 2.7, 0.14, 2.85, 2.8785, 2.8785, 2.8785, "\xa0"])
    if mutate:
        mutate(wb)
    wb.save(path)
    return path


def _benchmarks_workbook(path, *, mutate=None):
    wb = Workbook()
    wb.active.title = "Overview"
    history = wb.create_sheet("Version history")
    history.append(["Version History"])
    history.append(["Version", "Date", "Version Notes"])
    history.append([2, dt.datetime(2026, 12, 1), "Benchmarks for 2027"])
    ws = wb.create_sheet("Benchmarks")
    ws.append(list(BM_HEADERS))
    ws.append(["Iron & Steel", None, None, None, None, None])
    ws.append([72081000, "Flat-rolled", 0.044, None, 1.37, "(C)"])
    ws.append([None, None, None, None, 0.481, "(D)"])
    ws.append([25233000, "Aluminous cement", 0.717, "(1)", 0.717, "(1)"])
    ws.append([None, None, 0.686, "(2)", 0.686, "(2)"])
    if mutate:
        mutate(wb)
    wb.save(path)
    return path


def test_a_generated_workbook_in_the_expected_layout_loads(tmp_path):
    parsed = parse_default_values_workbook(_default_values_workbook(tmp_path / "default_values.xlsx"))
    assert parsed.version == "v2 (2026-09-01)"
    assert len(parsed.rows) == 8 and parsed.skipped == 2
    bm = parse_benchmarks_workbook(_benchmarks_workbook(tmp_path / "benchmarks.xlsx"))
    assert len(bm.rows) == 7


def test_a_wrong_header_is_rejected_naming_sheet_and_cell(tmp_path):
    def rename_header(wb):
        wb["China"]["A2"] = "Foo"

    path = _default_values_workbook(tmp_path / "dv.xlsx", mutate=rename_header)
    with pytest.raises(ReferenceDataError) as exc:
        parse_default_values_workbook(path)
    assert "sheet 'China', cell A2: expected header 'Product CN Code', found 'Foo'" in str(exc.value)


def test_a_wrong_benchmark_header_is_rejected(tmp_path):
    def rename_header(wb):
        wb["Benchmarks"]["A1"] = "Foo"

    path = _benchmarks_workbook(tmp_path / "bm.xlsx", mutate=rename_header)
    with pytest.raises(
        ReferenceDataError, match="sheet 'Benchmarks', cell A1: expected header 'CN code', found 'Foo'"
    ):
        parse_benchmarks_workbook(path)


def test_a_renamed_country_sheet_is_rejected(tmp_path):
    def rename(wb):
        wb["China"].title = "Chine"

    path = _default_values_workbook(tmp_path / "dv.xlsx", mutate=rename)
    with pytest.raises(ReferenceDataError, match="sheet 'Chine': the sheet name is not a known country"):
        parse_default_values_workbook(path)


def test_a_renamed_benchmarks_sheet_is_rejected(tmp_path):
    def rename(wb):
        wb["Benchmarks"].title = "BM"

    path = _benchmarks_workbook(tmp_path / "bm.xlsx", mutate=rename)
    with pytest.raises(ReferenceDataError, match="sheet 'Benchmarks' is missing"):
        parse_benchmarks_workbook(path)


def test_a_truncated_workbook_gets_a_clear_error(tmp_path):
    good = _default_values_workbook(tmp_path / "good.xlsx")
    truncated = tmp_path / "default_values.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ReferenceDataError, match="default_values.xlsx: not an Excel workbook"):
        parse_default_values_workbook(truncated)


def test_a_file_of_another_type_gets_a_clear_error(tmp_path):
    path = tmp_path / "benchmarks.xlsx"
    path.write_text("CN code;Column A\n72081000;0.044\n")
    with pytest.raises(ReferenceDataError, match="benchmarks.xlsx: not an Excel workbook"):
        parse_benchmarks_workbook(path)


def test_a_missing_file_gets_a_clear_error(tmp_path):
    with pytest.raises(ReferenceDataError, match="nope.xlsx: cannot be read"):
        parse_default_values_workbook(tmp_path / "nope.xlsx")


def test_text_where_a_number_should_be_is_rejected_naming_the_cell(tmp_path):
    def put_text(wb):
        wb["China"]["F4"] = "abc"

    path = _default_values_workbook(tmp_path / "dv.xlsx", mutate=put_text)
    with pytest.raises(ReferenceDataError, match="sheet 'China', cell F4: expected a number, found 'abc'"):
        parse_default_values_workbook(path)


def test_text_in_a_benchmark_value_is_rejected_naming_the_cell(tmp_path):
    def put_text(wb):
        wb["Benchmarks"]["E3"] = "1,37"

    path = _benchmarks_workbook(tmp_path / "bm.xlsx", mutate=put_text)
    with pytest.raises(
        ReferenceDataError, match="sheet 'Benchmarks', cell E3: expected a number, found '1,37'"
    ):
        parse_benchmarks_workbook(path)


def test_a_bad_cn_code_is_rejected_naming_the_cell(tmp_path):
    def bad_code(wb):
        wb["China"]["A5"] = "2523 10 0"

    path = _default_values_workbook(tmp_path / "dv.xlsx", mutate=bad_code)
    with pytest.raises(
        ReferenceDataError, match="sheet 'China', cell A5: expected a CN code of 4, 6 or 8 digits"
    ):
        parse_default_values_workbook(path)


def test_a_workbook_without_the_fallback_sheet_is_rejected(tmp_path):
    def drop_other(wb):
        del wb["_Other Countries and Territorie"]

    path = _default_values_workbook(tmp_path / "dv.xlsx", mutate=drop_other)
    with pytest.raises(ReferenceDataError, match="no sheet for 'Other Countries and Territories'"):
        parse_default_values_workbook(path)


@pytest.mark.django_db
def test_a_broken_workbook_writes_nothing(tmp_path):
    from django.core.management import CommandError, call_command

    def put_text(wb):
        wb["_Other Countries and Territorie"]["C4"] = "n/a?"

    path = _default_values_workbook(tmp_path / "dv.xlsx", mutate=put_text)
    with pytest.raises(
        CommandError, match="sheet '_Other Countries and Territorie', cell C4: expected a number"
    ):
        call_command("load_reference_data", "--default-values-xlsx", str(path))
    assert not Dataset.objects.exists() and not DefaultValue.objects.exists()
