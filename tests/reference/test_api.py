"""Read-only reference API: authentication required (session or API key), any organisation may read."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cbam_portal.accounts.api_keys import generate_api_key
from cbam_portal.accounts.models import ApiKey
from cbam_portal.accounts.policy import Role
from cbam_portal.reference.models import Dataset, DatasetKind

pytestmark = pytest.mark.django_db

LIST_ENDPOINTS = [
    "reference-dataset-list",
    "reference-cn-good-list",
    "reference-default-value-list",
    "reference-benchmark-list",
    "reference-country-list",
    "reference-cbam-factor-list",
    "reference-cscf-list",
    "reference-certificate-price-list",
]


def url(name, **kwargs):
    return reverse(f"api:{name}", kwargs=kwargs or None)


@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_anonymous_callers_are_refused(reference_data, name):
    assert APIClient().get(url(name)).status_code in (401, 403)


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_every_signed_in_persona_reads_reference_data(
    reference_data, api_clients, who, name, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = api_clients[who].get(url(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["reference-cn-good-list", "reference-country-list"])
def test_writes_are_not_allowed(reference_data, api_clients, name):
    assert api_clients["owner"].post(url(name), {}).status_code == 405


def test_an_api_key_reads_reference_data(reference_data, personas):
    raw, prefix, key_hash = generate_api_key()
    ApiKey.objects.create(
        organisation=personas.organisation, name="ci", prefix=prefix, key_hash=key_hash, role=Role.VIEWER
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.get(url("reference-cn-good-detail", cn8="7208100090"))
    assert response.status_code == 200
    assert response.json()["cn8"] == "72081000"


def test_cn_good_by_code_reports_coverage_and_annex_ii(reference_data, api_clients):
    body = api_clients["viewer"].get(url("reference-cn-good-detail", cn8="72081000")).json()
    assert body["annex_ii_direct_only"] is True and body["sector"] == "iron_steel"
    assert body["functional_unit"] == "t" and body["cn8_display"] == "7208 10 00"
    sinter = api_clients["viewer"].get(url("reference-cn-good-detail", cn8="26011200")).json()
    assert sinter["annex_ii_direct_only"] is False


def test_a_code_outside_annex_i_is_404_with_the_reason(reference_data, api_clients):
    response = api_clients["viewer"].get(url("reference-cn-good-detail", cn8="01012100"))
    assert response.status_code == 404
    assert "not covered by CBAM" in response.json()["detail"]


def test_cn_goods_filter_by_sector_and_code(reference_data, api_clients):
    body = api_clients["viewer"].get(url("reference-cn-good-list"), {"sector": "cement"}).json()
    assert body["count"] == 6
    body = api_clients["viewer"].get(url("reference-cn-good-list"), {"code": "2716 00 00"}).json()
    assert [g["functional_unit"] for g in body["results"]] == ["MWh"]


def test_a_malformed_code_filter_is_a_400_naming_the_parameter(reference_data, api_clients):
    response = api_clients["viewer"].get(url("reference-default-value-list"), {"cn": "72O8"})
    assert response.status_code == 400
    assert "cn" in response.json()


def test_default_values_filter_by_cn_and_country(reference_data, api_clients):
    body = (
        api_clients["viewer"].get(url("reference-default-value-list"), {"cn": "72081000", "country": "cn"}).json()
    )
    assert body["count"] == 1
    (row,) = body["results"]
    assert (row["cn_code"], row["total"], row["total_2026"], row["route"]) == (
        "7208",
        "3.187000",
        "3.506000",
        "C",
    )
    assert row["indirect"] is None and row["indirect_applicable"] is False


def test_default_values_lookup_says_which_country_was_used(reference_data, api_clients):
    body = (
        api_clients["viewer"]
        .get(url("reference-default-value-lookup"), {"cn": "72081000", "country": "NO"})
        .json()
    )
    assert body["used_fallback"] is True and body["country_used"] == "ZZ"
    assert "Other countries and territories" in body["reason"]
    body = (
        api_clients["viewer"]
        .get(url("reference-default-value-lookup"), {"cn": "7208100090", "country": "CN"})
        .json()
    )
    assert body["used_fallback"] is False and body["matched_code"] == "7208"
    assert body["rows"][0]["total"] == "3.187000"


def test_default_values_lookup_validates_its_parameters(reference_data, api_clients):
    response = api_clients["viewer"].get(url("reference-default-value-lookup"), {"cn": "7208"})
    assert response.status_code == 400
    assert set(response.json()) == {"country"}


def test_benchmarks_filter_by_cn_and_column(reference_data, api_clients):
    body = api_clients["viewer"].get(url("reference-benchmark-list"), {"cn": "72081000", "column": "B"}).json()
    assert {(b["route"], b["value"]) for b in body["results"]} == {
        ("C", "1.370000"),
        ("D", "0.481000"),
        ("E", "0.072000"),
    }


def test_an_older_dataset_can_be_pinned_and_an_unknown_one_is_404(reference_data, api_clients):
    current = Dataset.objects.get(kind=DatasetKind.BENCHMARKS, is_current=True)
    body = (
        api_clients["viewer"]
        .get(url("reference-benchmark-list"), {"cn": "72081000", "dataset": current.pk})
        .json()
    )
    assert body["count"] == 4
    other_kind = Dataset.objects.get(kind=DatasetKind.CN_GOODS, is_current=True)
    response = api_clients["viewer"].get(url("reference-benchmark-list"), {"dataset": other_kind.pk})
    assert response.status_code == 404


def test_countries_and_datasets_endpoints(reference_data, api_clients):
    body = api_clients["viewer"].get(url("reference-country-list"), {"cbam_excluded": "true"}).json()
    assert {c["iso2"] for c in body["results"]} == {"CH", "IS", "LI", "NO", "XC", "XL"}
    assert (
        api_clients["viewer"].get(url("reference-country-detail", iso2="tr")).json()["default_values_name"]
        == "Türkiye"
    )
    body = api_clients["viewer"].get(url("reference-dataset-list"), {"is_current": "true"}).json()
    assert body["count"] == len(DatasetKind.values)


def test_openapi_schema_has_no_warnings_for_reference_endpoints():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "/api/v1/reference/default-values/lookup/" in schema["paths"]
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    relevant = [
        m
        for m in messages
        if "reference" in m.lower()
        # The API-key authenticator's schema extension belongs to the accounts app.
        and "could not resolve authenticator" not in m
    ]
    assert relevant == []
