"""The operators → installations → goods summary used to pre-fill suppliers from a report."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from declarations.qreport import parse_qreport, suppliers_from_qreport
from tests.conftest import require_shared_data


@pytest.fixture
def sample() -> str:
    return require_shared_data("cbam_transitional_sample_quarterly_report.xml").read_text(encoding="utf-8")


def good_block(xml: str) -> str:
    return re.search(r"<ImportedGood>.*</ImportedGood>", xml, re.S).group(0)


def with_second_good(xml: str, edit=lambda block: block) -> str:
    second = edit(good_block(xml).replace("<ItemNumber>1</ItemNumber>", "<ItemNumber>2</ItemNumber>"))
    return xml.replace("</QReport>", second + "\n</QReport>")


def summary_of(xml: str):
    return suppliers_from_qreport(parse_qreport(xml.encode()))


def test_the_sample_yields_one_operator_with_two_installations_and_their_see(sample):
    summary = summary_of(sample)

    (operator,) = summary.operators
    assert (operator.operator_id, operator.name) == ("OP04-0001", "TR Steel Operator LTD")
    assert operator.address.city == "Istanbul"
    assert operator.contacts[0].email == "OP04-0001@cbam.com"
    assert [(i.installation_id, i.name) for i in operator.installations] == [
        ("IN03", "Augusta Steel INC"),
        ("IN01", "Bursa steel factory INC"),
    ]
    augusta, bursa = operator.installations
    assert augusta.address.latitude == Decimal("41.0091982")
    (augusta_good,) = augusta.goods
    assert (augusta_good.cn8, augusta_good.origin_country, augusta_good.production_country) == (
        "76090000",
        "TR",
        "TR",
    )
    assert (augusta_good.year, augusta_good.reporting_period) == (20229, "Q4")
    assert (augusta_good.see_direct, augusta_good.see_indirect) == (Decimal("23.5"), Decimal("1"))
    assert (augusta_good.direct_determination_type, augusta_good.indirect_determination_type) == ("01", "02")
    assert augusta_good.sources == ("/QReport/ImportedGood[1]/GoodsEmissions[1]",)
    (bursa_good,) = bursa.goods
    assert (bursa_good.see_direct, bursa_good.see_indirect) == (Decimal("15"), Decimal("79.5"))
    assert (bursa_good.direct_determination_type, bursa_good.indirect_determination_type) == ("01", "01")
    assert summary.unattributed == ()


def test_the_same_installation_and_values_reported_twice_are_merged_keeping_both_sources(sample):
    summary = summary_of(with_second_good(sample))

    (operator,) = summary.operators
    assert len(operator.installations) == 2
    (augusta_good,) = operator.installations[0].goods
    assert augusta_good.sources == (
        "/QReport/ImportedGood[1]/GoodsEmissions[1]",
        "/QReport/ImportedGood[2]/GoodsEmissions[1]",
    )


def test_different_see_for_the_same_installation_and_cn_is_kept_apart(sample):
    summary = summary_of(
        with_second_good(
            sample,
            lambda block: block.replace(
                "<SpecificEmbeddedEmissions>23.5<", "<SpecificEmbeddedEmissions>24<", 1
            ),
        )
    )

    goods = summary.operators[0].installations[0].goods
    assert [g.see_direct for g in goods] == [Decimal("23.5"), Decimal("24")]


def test_a_second_operator_is_listed_after_the_first(sample):
    summary = summary_of(
        with_second_good(sample, lambda block: block.replace("OP04-0001</OperatorId>", "OP99</OperatorId>"))
    )

    assert [o.operator_id for o in summary.operators] == ["OP04-0001", "OP99"]
    assert [i.installation_id for i in summary.operators[1].installations] == ["IN03", "IN01"]


def test_emissions_without_an_operator_are_listed_as_unattributed(sample):
    xml = re.sub(r"<InstallationOperator>.*?</InstallationOperator>", "", sample, count=1, flags=re.S)

    summary = summary_of(xml)

    assert [i.installation_id for i in summary.operators[0].installations] == ["IN01"]
    (orphan,) = summary.unattributed
    assert orphan.sources == ("/QReport/ImportedGood[1]/GoodsEmissions[1]",)
    assert orphan.see_direct == Decimal("23.5")


def test_emissions_without_indirect_data_have_no_indirect_see(sample):
    xml = re.sub(r"<IndirectEmissions>.*?</IndirectEmissions>", "", sample, count=1, flags=re.S)

    good = summary_of(xml).operators[0].installations[0].goods[0]

    assert (good.see_indirect, good.indirect_determination_type) == (None, None)
