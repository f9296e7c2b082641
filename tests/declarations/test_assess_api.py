"""POST /api/v1/assess/: public (anonymous and every persona), same engine and messages as the command."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import api_login
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

URL = "/api/v1/assess/"
EXAMPLE_8 = {"cn": "7208 10 00", "country": "CN", "mass": "100", "year": 2026, "quarter": 1}
EXAMPLE_9 = {
    "cn": "76011010",
    "country": "CN",
    "mass": "1000",
    "year": 2026,
    "quarter": 2,
    "see_direct": "1.555",
    "route": "K",
}


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clients(personas):
    return {
        "anonymous": APIClient(),
        "owner": api_login(personas.owner, personas.organisation),
        "viewer": api_login(personas.viewer, personas.organisation),
        "outsider": api_login(personas.outsider, personas.other_organisation),
    }


def test_the_endpoint_is_mounted_in_the_api_namespace():
    assert reverse("api:assess") == URL


@pytest.mark.parametrize("who", ["anonymous", "owner", "viewer", "outsider"])
def test_every_caller_gets_example_8(reference_data, clients, who, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(20):
        response = clients[who].post(URL, EXAMPLE_8, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == "default"
    assert body["see_used"] == "3.506"
    assert body["benchmark_column"] == "B" and body["benchmark"] == "1.37"
    assert Decimal(body["certificates_due"]) == Decimal("217.025")
    assert body["cost_eur"] == "16355.00"
    assert body["datasets"]["default_values"]["version"]


def test_example_9_through_the_api(reference_data, clients):  # noqa: F811
    body = clients["anonymous"].post(URL, EXAMPLE_9, format="json").json()
    assert body["source"] == "actual" and body["benchmark_column"] == "A"
    assert Decimal(body["sefa"]) == Decimal("1.387425")
    assert Decimal(body["certificates_due"]) == Decimal("167.575")
    assert body["cost_eur"] == "12615.05"


def test_example_9_floor_through_the_api(reference_data, clients):  # noqa: F811
    body = clients["owner"].post(URL, {**EXAMPLE_9, "see_direct": "1.30"}, format="json").json()
    assert Decimal(body["certificates_due"]) == 0


def test_the_page_does_not_save_anything(reference_data, clients):  # noqa: F811
    from cbam_portal.core.models import AuditEvent

    before = AuditEvent.objects.count()
    clients["owner"].post(URL, EXAMPLE_8, format="json")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"cn": "7208100"}, "cn", "has 7"),
        ({"cn": "01011000"}, "cn", "not a CBAM good"),
        ({"mass": "0"}, "mass", "greater than zero"),
        ({"mass": "-1"}, "mass", "greater than zero"),
        ({"mass": "lots"}, "mass", "valid number"),
        ({"country": "XX"}, "country", "not a known"),
        ({"year": 2025}, "year", "before the definitive period"),
        ({"quarter": 5}, "quarter", "less than or equal to 4"),
        ({"carbon_price_paid": "10"}, "carbon_price_paid", "actual emissions data"),
        ({"cn": "25232900"}, "functional_unit_mass", "clinker contained"),
        ({"cn": "25231000"}, "route", "A (Grey clinker)"),
    ],
)
def test_bad_input_is_a_400_with_the_field_name(reference_data, clients, change, field, text):  # noqa: F811
    response = clients["anonymous"].post(URL, {**EXAMPLE_8, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert text in body[field][0]


def test_missing_fields_are_named(reference_data, clients):  # noqa: F811
    response = clients["anonymous"].post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"cn", "country", "mass", "year"} <= set(response.json())


def test_an_excluded_country_is_reported_out_of_scope(reference_data, clients):  # noqa: F811
    response = clients["viewer"].post(URL, {**EXAMPLE_8, "country": "CH"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["in_scope"] is False
    assert "Switzerland is outside CBAM" in body["message"]


def test_get_is_not_allowed(reference_data, clients):  # noqa: F811
    assert clients["anonymous"].get(URL).status_code == 405


def test_anonymous_callers_are_throttled(reference_data, settings):  # noqa: F811
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "2/min"}
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = rates
    try:
        client = APIClient()
        codes = [client.post(URL, EXAMPLE_8, format="json").status_code for _ in range(3)]
    finally:
        AnonRateThrottle.THROTTLE_RATES = original
    assert codes == [200, 200, 429]
