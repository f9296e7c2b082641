"""Reference pages are public: anonymous visitors and every persona read the same pages."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from cbam_portal.reference.models import CbamFactor, Dataset, DatasetKind
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(personas):
    return {
        "anonymous": Client(),
        "owner": login(personas.owner, personas.organisation),
        "viewer": login(personas.viewer, personas.organisation),
        "outsider": login(personas.outsider, personas.other_organisation),
    }


PERSONAS = ["anonymous", "owner", "viewer", "outsider"]


@pytest.mark.parametrize("who", PERSONAS)
def test_index_shows_datasets_in_force_and_the_small_tables(reference_data, clients, who):
    response = clients[who].get(reverse("reference:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Implementing Regulation (EU) 2025/2621 Annex I" in html
    assert Dataset.objects.get(kind=DatasetKind.DEFAULT_VALUES, is_current=True).sha256[:12] in html
    assert "provisional" in html  # CSCF and Q2 price
    assert '<td class="num">0.975</td>' in html
    assert '<td class="num">75.36</td>' in html and '<td class="num">75.28</td>' in html


def test_index_query_count_is_bounded(reference_data, clients, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert clients["owner"].get(reverse("reference:index")).status_code == 200


def test_dataset_versions_page_lists_every_version(reference_data, clients, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = clients["anonymous"].get(reverse("reference:dataset_list"))
    assert response.status_code == 200
    assert response.content.decode().count("badge text-bg-success") == len(DatasetKind.values)


@pytest.mark.parametrize("who", PERSONAS)
def test_looking_up_a_covered_code_goes_to_its_page(reference_data, clients, who):
    response = clients[who].get(reverse("reference:cn_lookup"), {"code": "7208 10 00 90"})
    assert response.status_code == 302
    assert response["Location"] == reverse("reference:cn_detail", kwargs={"code": "72081000"})


def test_looking_up_a_live_horse_says_not_covered(reference_data, clients):
    response = clients["anonymous"].get(reverse("reference:cn_lookup"), {"code": "01012100"})
    assert response.status_code == 200
    assert "0101 21 00 is not covered by CBAM (Annex I)." in response.content.decode()


@pytest.mark.parametrize(
    ("code", "message"),
    [("72O8", "contains only digits"), ("7208100", "has 8 digits (or 10 for a TARIC code)")],
)
def test_malformed_codes_get_an_error_next_to_the_field(reference_data, clients, code, message):
    response = clients["viewer"].get(reverse("reference:cn_lookup"), {"code": code})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "is-invalid" in html


@pytest.mark.parametrize("who", PERSONAS)
def test_cn_detail_shows_coverage_values_and_benchmarks(
    reference_data, clients, who, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = clients[who].get(reverse("reference:cn_detail", kwargs={"code": "72081000"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Covered by CBAM (Annex I)" in html
    assert "Yes: only direct emissions count" in html
    assert "Iron or steel products" in html
    assert '<td class="num">3.187</td>' in html  # China, keyed 7208
    assert '<td class="num">3.506</td>' in html  # 2026, incl. mark-up
    assert '<td class="num">1.370</td>' in html  # Column B route C
    assert "Other Countries and Territories" in html


def test_cn_detail_of_a_cement_good_shows_clinker_unit_and_indirect(reference_data, clients):
    response = clients["anonymous"].get(reverse("reference:cn_detail", kwargs={"code": "25231000"}))
    html = response.content.decode()
    assert "t clinker" in html
    assert "No: direct and indirect emissions count." in html
    assert "Grey clinker" in html and "White clinker" in html
    assert 'data-testid="precursor-defaults-table"' in html
    assert '<td class="num">1.440</td>' in html  # grey clinker, highest default as a precursor


def test_cn_detail_filters_by_country_keeping_the_fallback_row(reference_data, clients):
    response = clients["anonymous"].get(
        reverse("reference:cn_detail", kwargs={"code": "72081000"}), {"country": "cn"}
    )
    assert response.status_code == 200
    rows = response.context["by_country"]
    assert [r.country_code for r in rows] == ["CN", "ZZ"]


def test_cn_detail_with_a_taric_code_redirects_to_the_cn8_page(reference_data, clients):
    response = clients["anonymous"].get(reverse("reference:cn_detail", kwargs={"code": "7208100090"}))
    assert response.status_code == 302 and response["Location"].endswith("/reference/cn/72081000/")


def test_cn_detail_of_an_uncovered_code_is_404(reference_data, clients):
    assert (
        clients["owner"].get(reverse("reference:cn_detail", kwargs={"code": "01012100"})).status_code == 404
    )
    assert clients["owner"].get(reverse("reference:cn_detail", kwargs={"code": "72O8"})).status_code == 404


def test_default_values_export_as_csv(reference_data, clients):
    url = reverse("reference:cn_default_values_csv", kwargs={"code": "72081000"})
    response = clients["viewer"].get(url, {"country": "CN"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["country_code"] for r in rows] == ["CN", "ZZ"]
    china = rows[0]
    assert china["total_tco2e"] == "3.187000" and china["total_2026_incl_markup"] == "3.506000"
    assert china["indirect_tco2e"] == "N/A" and china["route"] == "C" and china["cn_code_keyed"] == "7208"


@pytest.mark.parametrize("who", PERSONAS)
def test_countries_page_lists_annex_iii_exclusions(
    reference_data, clients, who, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = clients[who].get(reverse("reference:country_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Annex III point 1 (Reg 2023/956): Switzerland" in html
    assert "Büsingen is outside CBAM" in html
    assert "Melilla" in html and "XL" in html


def test_index_reflects_a_factor_edited_in_the_admin(reference_data, clients):
    CbamFactor.objects.filter(year=2034).update(factor="0.01")
    assert (
        '<td class="num">0.01</td>' in clients["anonymous"].get(reverse("reference:index")).content.decode()
    )


def test_refnum_shows_stored_precision_but_at_least_the_annex_decimals():
    from decimal import Decimal

    from cbam_portal.reference.templatetags.reference_format import refnum

    assert refnum(Decimal("3.187000")) == "3.187"
    assert refnum(Decimal("3.186893")) == "3.186893"
    assert refnum(Decimal("0.870000")) == "0.870"
    assert refnum(Decimal("1.000000"), 1) == "1.0"
    assert refnum(None) == "–"
