from decimal import Decimal

import pytest

from cbam_portal.reference import selectors
from cbam_portal.reference.codes import (
    OTHER_COUNTRIES,
    CnCodeError,
    annex_ii_direct_only,
    format_cn,
    functional_unit,
    longest_prefix,
    parse_cn,
)
from cbam_portal.reference.countries import UnknownCountryError, country_code_for

# ------------------------------------------------------------------ pure rules


@pytest.mark.parametrize(
    ("raw", "cn8", "taric"),
    [
        ("72081000", "72081000", None),
        ("7208 10 00", "72081000", None),
        ("7208100090", "72081000", "7208100090"),
        (" 7208 10 00 90 ", "72081000", "7208100090"),
    ],
)
def test_parse_cn_accepts_cn8_and_taric10_with_spaces(raw, cn8, taric):
    parsed = parse_cn(raw)
    assert (parsed.cn8, parsed.taric10) == (cn8, taric)


@pytest.mark.parametrize(
    ("raw", "message"),
    [("72O81000", "only digits"), ("7208100", "has 7"), ("720810009", "has 9"), ("", "Enter a CN code")],
)
def test_parse_cn_rejects_malformed_codes_with_a_reason(raw, message):
    with pytest.raises(CnCodeError, match=message):
        parse_cn(raw)


@pytest.mark.parametrize(
    ("cn8", "sector", "expected"),
    [
        ("72081000", "iron_steel", True),
        ("26011200", "iron_steel", False),
        ("25231000", "cement", False),
        ("27160000", "electricity", True),
        ("76011010", "aluminium", True),
        ("28041000", "hydrogen", True),
        ("31021019", "fertilisers", False),
    ],
)
def test_annex_ii_direct_only_follows_the_omnibus_list(cn8, sector, expected):
    assert annex_ii_direct_only(cn8, sector) is expected


@pytest.mark.parametrize(
    ("cn8", "sector", "unit"),
    [
        ("27160000", "electricity", "MWh"),
        ("25231000", "cement", "t clinker"),
        ("25239000", "cement", "t clinker"),
        ("25233000", "cement", "t"),
        ("31021019", "fertilisers", "kg N"),
        ("28080000", "fertilisers", "kg N"),
        ("72081000", "iron_steel", "t"),
    ],
)
def test_functional_unit_per_ir_2025_2547_art_4(cn8, sector, unit):
    assert functional_unit(cn8, sector) == unit


def test_longest_prefix_prefers_the_most_specific_key_and_keeps_variants():
    rows = [("7208", "four"), ("720810", "six"), ("25231000", "grey"), ("25231000", "white")]
    assert longest_prefix("72081000", rows) == ("720810", ["six"])
    assert longest_prefix("72085100", rows) == ("7208", ["four"])
    assert longest_prefix("25231000", rows) == ("25231000", ["grey", "white"])
    assert longest_prefix("01012100", rows) == (None, [])


def test_format_cn_groups_keyed_codes():
    assert format_cn("72081000") == "7208 10 00"
    assert format_cn("721922") == "7219 22"
    assert format_cn("7208") == "7208"


def test_country_names_of_the_tables_map_to_iso_codes():
    assert country_code_for("Türkiye") == "TR"
    assert country_code_for("Myanmar_Burma") == "MM"
    assert country_code_for("Democratic Republic of the Cong") == "CD"
    assert country_code_for("Congo") == "CG"
    assert country_code_for("_Other Countries and Territorie") == OTHER_COUNTRIES
    with pytest.raises(UnknownCountryError):
        country_code_for("Atlantis")


# ------------------------------------------------------------------ database selectors


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "annex_ii"),
    [
        ("7208 10 00", True),
        ("2601 12 00", False),
        ("2523 10 00", False),
        ("2716 00 00", True),
        ("7601 10 10", True),
    ],
)
def test_cn_lookup_reports_annex_ii_flags(reference_data, code, annex_ii):
    result = selectors.cn_lookup(code)
    assert result.covered
    assert result.good.annex_ii_direct_only is annex_ii


@pytest.mark.django_db
def test_cn_lookup_accepts_a_taric_code(reference_data):
    result = selectors.cn_lookup("7208 10 00 90")
    assert result.covered and result.code.taric10 == "7208100090"
    assert result.good.sector == "iron_steel"
    assert result.good.aggregated_category == "Iron or steel products"
    assert result.good.functional_unit == "t"


@pytest.mark.django_db
def test_cn_lookup_of_a_live_horse_is_not_covered(reference_data):
    result = selectors.cn_lookup("01012100")
    assert not result.covered and result.good is None


@pytest.mark.django_db
def test_default_values_use_the_longest_keyed_prefix_for_the_country(reference_data):
    match = selectors.default_values_for("72081000", "CN")
    assert not match.used_fallback
    assert match.matched_code == "7208"
    assert match.rows[0].total == Decimal("3.187")
    assert match.rows[0].total_2026 == Decimal("3.506")


@pytest.mark.django_db
def test_default_values_fall_back_to_other_countries_for_an_unlisted_country(reference_data):
    match = selectors.default_values_for("72081000", "NO")
    assert match.used_fallback and match.country_used == OTHER_COUNTRIES
    assert "Other countries and territories applies" in match.reason
    assert match.rows and match.rows[0].country_code == OTHER_COUNTRIES


@pytest.mark.django_db
def test_a_dash_value_falls_back_to_other_countries_for_that_variant(reference_data):
    match = selectors.default_values_for("25231000", "AL", variant="White clinker")
    assert match.used_fallback
    assert "(“–”)" in match.reason
    assert [r.variant for r in match.rows] == ["White clinker"]
    grey = selectors.default_values_for("25231000", "AL", variant="grey clinker")
    assert not grey.used_fallback and grey.rows[0].total_2026 == Decimal("0.957")


@pytest.mark.django_db
def test_benchmarks_for_7208_10_00_list_both_columns_with_routes(reference_data):
    rows = selectors.benchmarks_for("72081000")
    assert {(b.column, b.route, b.value) for b in rows} == {
        ("A", "", Decimal("0.044")),
        ("B", "C", Decimal("1.370")),
        ("B", "D", Decimal("0.481")),
        ("B", "E", Decimal("0.072")),
    }


@pytest.mark.django_db
def test_default_values_by_country_lists_one_entry_per_country_with_other_last(reference_data):
    entries = selectors.default_values_by_country("72081000")
    assert entries[-1].country_code == OTHER_COUNTRIES
    codes = [e.country_code for e in entries]
    assert len(codes) == len(set(codes))
    china = next(e for e in entries if e.country_code == "CN")
    assert china.matched_code == "7208"


@pytest.mark.django_db
def test_certificate_price_on_a_day_of_the_first_quarter(reference_data):
    import datetime as dt

    assert selectors.certificate_price_on(dt.date(2026, 2, 15)).price_eur == Decimal("75.36")
    assert selectors.certificate_price_on(dt.date(2026, 10, 1)) is None


@pytest.mark.parametrize("module", ["codes.py", "countries.py"])
def test_the_pure_rule_modules_do_not_import_django(module):
    import ast
    from pathlib import Path

    import cbam_portal.reference as package

    tree = ast.parse((Path(package.__file__).parent / module).read_text())
    imported = [
        name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
    ]
    assert not [name for name in imported if name.startswith("django")]


@pytest.mark.django_db
def test_a_dataset_of_another_kind_is_refused(reference_data):
    cn_goods = selectors.dataset_get("cn_goods")
    with pytest.raises(selectors.DatasetMissing, match="is not a"):
        selectors.benchmarks_for("72081000", dataset=cn_goods)
    with pytest.raises(selectors.DatasetMissing, match=f"No CBAM benchmarks .* dataset #{cn_goods.pk}"):
        selectors.benchmarks_for("72081000", dataset_id=cn_goods.pk)
