"""`manage.py assess`: worked examples 8 and 9 of CBAM.md through the command, with the opencbam data."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from cbam_portal.reference.models import Dataset
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db


def assess(*args: str) -> str:
    out = io.StringIO()
    call_command("assess", *args, stdout=out)
    return out.getvalue()


def assess_json(*args: str) -> dict:
    return json.loads(assess(*args, "--json"))


EXAMPLE_8 = ("--cn", "7208 10 00", "--country", "CN", "--mass", "100", "--year", "2026", "--quarter", "1")
EXAMPLE_9 = (
    "--cn",
    "76011010",
    "--country",
    "CN",
    "--mass",
    "1000",
    "--year",
    "2026",
    "--quarter",
    "2",
    "--see-direct",
    "1.555",
    "--route",
    "K",
)


def test_example_8_default_values_give_the_corrected_china_figures(reference_data):  # noqa: F811
    result = assess_json(*EXAMPLE_8)
    # opencbam carries the corrected China 7208 default 3.187, published 2026 value 3.506.
    assert result["source"] == "default"
    assert result["route"] == "C"
    assert Decimal(result["see_used"]) == Decimal("3.506")
    assert Decimal(result["embedded_emissions"]) == Decimal("350.6")
    assert result["benchmark_column"] == "B" and result["benchmark_route"] == "C"
    assert Decimal(result["benchmark"]) == Decimal("1.370")
    assert Decimal(result["sefa"]) == Decimal("1.33575")
    assert Decimal(result["free_allocation_adjustment"]) == Decimal("133.575")
    assert Decimal(result["certificates_due"]) == Decimal("217.025")  # 350.6 − 133.575
    assert Decimal(result["certificate_price_eur"]) == Decimal("75.36")
    assert result["cost_eur"] == "16355.00"  # 217.025 × 75.36 = 16,355.004
    assert result["used_other_countries"] is False


def test_the_json_output_pins_the_dataset_versions_and_carries_the_trace(reference_data):  # noqa: F811
    result = assess_json(*EXAMPLE_8)
    current = {d.kind: d.pk for d in Dataset.objects.filter(is_current=True)}
    for kind in ("cn_goods", "default_values", "benchmarks", "cbam_factor", "cscf", "certificate_prices"):
        assert result["datasets"][kind]["id"] == current[kind]
    rules = " ".join(step["rule"] for step in result["trace"])
    assert "[IR2620] Annex Eq. 6" in rules and "Art 6(2)(c)" in rules
    assert all(isinstance(step["result"], str) for step in result["trace"])


def test_example_8_text_output_names_the_source_and_the_working(reference_data):  # noqa: F811
    text = assess(*EXAMPLE_8)
    assert "default value of China, with the 2026 mark-up" in text
    assert "217.025" in text and "16355.00" in text
    assert "Column B, route C" in text
    assert "Why:" in text and "Reference data:" in text


def test_example_9_actual_values_use_the_column_a_benchmark_of_the_route(reference_data):  # noqa: F811
    result = assess_json(*EXAMPLE_9)
    assert result["source"] == "actual"
    assert result["benchmark_column"] == "A" and result["benchmark_route"] == "K"
    assert Decimal(result["benchmark"]) == Decimal("1.423")
    assert Decimal(result["sefa"]) == Decimal("1.387425")
    assert Decimal(result["certificates_due"]) == Decimal("167.575")
    assert Decimal(result["certificate_price_eur"]) == Decimal("75.28")
    assert result["cost_eur"] == "12615.05"


def test_a_negative_balance_is_floored_at_zero(reference_data):  # noqa: F811
    args = list(EXAMPLE_9)
    args[args.index("1.555")] = "1.30"
    result = assess_json(*args)
    assert Decimal(result["net_emissions"]) == Decimal("-87.425")
    assert Decimal(result["certificates_due"]) == 0
    assert result["cost_eur"] == "0.00"


def test_indirect_emissions_do_not_count_for_an_annex_ii_good(reference_data):  # noqa: F811
    result = assess_json(*EXAMPLE_9, "--see-indirect", "0.5")
    assert Decimal(result["see_used"]) == Decimal("1.555")


def test_carbon_price_paid_reduces_certificates_with_actual_data(reference_data):  # noqa: F811
    result = assess_json(*EXAMPLE_9, "--carbon-price-paid", "7.528")
    # 7.528 EUR/t × 1000 t = 7,528 EUR = 100 certificates at 75.28.
    assert Decimal(result["carbon_price_deduction"]) == Decimal(100)
    assert Decimal(result["certificates_due"]) == Decimal("67.575")


def test_carbon_price_paid_is_refused_with_default_values(reference_data):  # noqa: F811
    with pytest.raises(
        CommandError, match=r"--carbon-price-paid: .*only be deducted with actual emissions data"
    ):
        assess(*EXAMPLE_8, "--carbon-price-paid", "10")


def test_a_given_price_replaces_the_published_one(reference_data):  # noqa: F811
    result = assess_json(*EXAMPLE_8, "--price", "80")
    assert result["cost_eur"] == "17362.00"
    assert "price given" in result["price_source"]


def test_no_published_price_gives_no_cost_and_says_so(reference_data):  # noqa: F811
    args = list(EXAMPLE_8)
    args[args.index("--quarter") + 1] = "3"
    result = assess_json(*args)
    assert result["cost_eur"] is None
    assert "No certificate price is published for 2026 Q3" in result["price_source"]
    assert Decimal(result["certificates_due"]) == Decimal("217.025")


def test_a_country_without_values_uses_other_countries_and_territories(reference_data):  # noqa: F811
    result = assess_json("--cn", "72081000", "--country", "FJ", "--mass", "10", "--year", "2026")
    assert result["used_other_countries"] is True
    assert result["country_used"] == "ZZ"
    assert "Other countries and territories (Fiji has no value)" in result["source_detail"]
    assert Decimal(result["see_used"]) == Decimal("4.454")


def test_cement_needs_the_clinker_contained(reference_data):  # noqa: F811
    args = ("--cn", "2523 29 00", "--country", "CN", "--mass", "10", "--year", "2026")
    with pytest.raises(CommandError, match=r"--functional-unit-mass: .*tonnes of clinker contained"):
        assess(*args)
    result = assess_json(*args, "--functional-unit-mass", "8")
    assert result["functional_unit"] == "t clinker"
    assert Decimal(result["quantity"]) == 8
    assert Decimal(result["embedded_emissions"]) == Decimal("12.496")  # 8 × 1.562


def test_nitrogen_fertilisers_need_the_nitrogen_contained(reference_data):  # noqa: F811
    with pytest.raises(CommandError, match=r"kg of nitrogen contained"):
        assess("--cn", "31021010", "--country", "CN", "--mass", "10", "--year", "2026")


def test_nitrogen_content_is_declared_but_emissions_follow_the_net_mass(reference_data):  # noqa: F811
    # Default values and benchmarks of fertilisers are per tonne of product ([IR2621] Annex I;
    # [IR2620] urea Column B 0.902 = ammonia content x ammonia benchmark).
    result = assess_json(
        "--cn",
        "31021090",
        "--country",
        "CN",
        "--mass",
        "10",
        "--year",
        "2026",
        "--functional-unit-mass",
        "4600",
    )
    assert result["functional_unit"] == "kg N"
    assert Decimal(result["quantity"]) == 10
    assert Decimal(result["embedded_emissions"]) == 10 * Decimal(result["see_used"])
    assert Decimal(result["free_allocation_adjustment"]) == 10 * Decimal(result["sefa"])
    step = next(s for s in result["trace"] if "nitrogen" in s["description"])
    assert step["inputs"]["nitrogen contained (kg N)"] == "4600"


def test_clinker_needs_a_route_where_grey_and_white_values_exist(reference_data):  # noqa: F811
    args = ("--cn", "25231000", "--country", "CN", "--mass", "10", "--year", "2026")
    with pytest.raises(CommandError) as exc:
        assess(*args)
    message = str(exc.value)
    assert message.startswith("--route:")
    assert "A (Grey clinker)" in message and "B (White clinker)" in message
    grey = assess_json(*args, "--route", "A")
    assert grey["variant"] == "Grey clinker"
    assert Decimal(grey["see_used"]) == Decimal("1.529")
    assert Decimal(grey["benchmark"]) == Decimal("0.666")
    white = assess_json(*args, "--route", "white clinker")
    assert white["route"] == "B" and Decimal(white["benchmark"]) == Decimal("0.859")


def test_actual_data_need_a_route_where_column_a_has_several(reference_data):  # noqa: F811
    args = [a for a in EXAMPLE_9 if a not in ("--route", "K")]
    with pytest.raises(CommandError, match=r"--route: .*choose one of K, L"):
        assess(*args)


def test_an_annex_iii_country_is_out_of_scope(reference_data):  # noqa: F811
    text = assess("--cn", "72081000", "--country", "NO", "--mass", "10", "--year", "2026")
    assert "Norway is outside CBAM (Annex III" in text
    result = assess_json("--cn", "72081000", "--country", "CH", "--mass", "10", "--year", "2026")
    assert result["in_scope"] is False and "certificates_due" not in result


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        (("--cn", "01011000"), "--cn", "not a CBAM good"),
        (("--cn", "7208100"), "--cn", "has 7"),
        (("--cn", "ABCD1000"), "--cn", "only digits"),
        (("--mass", "0"), "--mass", "greater than zero"),
        (("--mass", "-5"), "--mass", "greater than zero"),
        (("--country", "XX"), "--country", "not a known"),
        (("--year", "2025"), "--year", "before the definitive period"),
        (
            ("--functional-unit-mass", "5"),
            "--functional-unit-mass",
            "leave the functional-unit quantity empty",
        ),
        (("--see-indirect", "0.1"), "--see-direct", "together with"),
    ],
)
def test_bad_input_is_refused_naming_the_option(reference_data, args, field, message):  # noqa: F811
    base = {"--cn": "72081000", "--country": "CN", "--mass": "100", "--year": "2026"}
    options = dict(base)
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for pair in options.items() for x in pair]
    with pytest.raises(CommandError, match=message) as exc:
        assess(*flat)
    assert str(exc.value).startswith(f"{field}:")


def test_bad_input_exits_with_a_non_zero_code(reference_data, capsys):  # noqa: F811
    argv = ["manage.py", "assess", "--cn", "7208100", "--country", "CN", "--mass", "1", "--year", "2026"]
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(argv).execute()
    assert exc.value.code != 0
    assert "has 7" in capsys.readouterr().err
