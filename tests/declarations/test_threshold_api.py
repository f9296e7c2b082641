"""API ``GET /api/v1/threshold/``: the 50-tonne position per year, read by every member."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import api_login
from tests.factories import MembershipFactory, OperatorFactory

from .test_threshold_support import import_reference, line, reference  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference")]


def url(**params):
    base = reverse("api:threshold")
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_owner_reads_example_10_as_exempt_with_a_warning(personas, api_clients):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-04-01", cn="25231000", mass="15")

    response = api_clients["owner"].get(url(year=2026))

    assert response.status_code == 200, response.json()
    [year] = response.json()
    assert year["year"] == 2026
    assert year["status"] == "warning"
    assert year["exempt"] is True and year["near_threshold"] is True
    assert year["cumulative_mass_t"] == "45.000000"
    assert year["threshold_t"] == "50.000000"
    assert year["warning_at_t"] == "45.000000"
    assert year["crossed_on"] is None
    assert {s["sector"]: s["net_mass_t"] for s in year["sectors"]} == {"iron_steel": "30.000000", "cement": "15.000000"}
    assert year["trace"][0]["rule"].startswith("Reg (EU) 2023/956 Art 2a")


def test_viewer_reads_the_crossing_date_when_6_more_tonnes_arrive(personas, api_clients):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-04-01", cn="25231000", mass="15")
    line(org, on="2026-09-10", cn="76011010", mass="6")

    [year] = api_clients["viewer"].get(url(year=2026)).json()

    assert year["status"] == "exceeded" and year["exempt"] is False
    assert year["cumulative_mass_t"] == "51.000000"
    assert year["crossed_on"] == "2026-09-10"


def test_hydrogen_is_reported_as_never_exempt_and_not_counted(personas, api_clients):
    line(personas.organisation, cn="28041000", mass="3")

    [year] = api_clients["owner"].get(url(year=2026)).json()

    assert year["has_electricity_or_hydrogen"] is True
    assert year["cumulative_mass_t"] == "0.000000"
    assert year["sectors"][0]["counts_towards_threshold"] is False


def test_out_of_scope_lines_are_excluded_and_returned_goods_counted(personas, api_clients):
    org = personas.organisation
    line(org, mass="20", procedure="returned_goods")
    line(org, mass="40", origin="NO", in_scope=False, reason="Origin in an Annex III country")

    [year] = api_clients["owner"].get(url(year=2026)).json()

    assert year["cumulative_mass_t"] == "20.000000"
    assert year["lines_counted"] == 1 and year["lines_excluded"] == 1
    assert year["excluded_mass_t"] == "40.000000"


def test_without_a_year_every_year_with_imports_is_listed_newest_first(personas, api_clients):
    line(personas.organisation, on="2026-05-01", mass="4")
    line(personas.organisation, on="2027-05-01", mass="7")

    years = api_clients["owner"].get(url()).json()

    assert [y["year"] for y in years] == [2027, 2026]


def test_a_bad_year_is_rejected_with_the_field_named(api_clients):
    response = api_clients["owner"].get(url(year="abc"))

    assert response.status_code == 400
    assert "year" in response.json()


def test_outsider_gets_only_their_own_organisations_figures(personas, api_clients):
    line(personas.organisation, mass="30")

    [year] = api_clients["outsider"].get(url(year=2026)).json()

    assert year["cumulative_mass_t"] == "0.000000"
    assert year["lines_counted"] == 0


def test_outsider_naming_another_organisation_gets_404(personas, api_clients):
    response = api_clients["outsider"].get(url(year=2026), HTTP_X_ORGANISATION=str(personas.organisation.pk))

    assert response.status_code == 404


def test_an_operator_organisation_gets_404():
    operator = OperatorFactory()
    user = MembershipFactory(organisation=operator).user

    assert api_login(user, operator).get(url()).status_code == 404


def test_anonymous_callers_are_refused():
    from rest_framework.test import APIClient

    assert APIClient().get(url()).status_code in (401, 403)


def test_the_endpoint_needs_a_constant_number_of_queries(personas, api_clients, django_assert_max_num_queries):
    org = personas.organisation
    line(org, mass="1")
    api_clients["viewer"].get(url())
    with django_assert_max_num_queries(10) as few:
        api_clients["viewer"].get(url())
    for i in range(40):
        line(org, on=f"202{6 + i % 3}-03-{i % 28 + 1:02d}", cn=["72081000", "25231000", "28041000"][i % 3], mass="2")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_clients["viewer"].get(url())
    assert response.status_code == 200 and len(response.json()) == 3
