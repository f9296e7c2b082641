"""The 50-tonne threshold page and its dashboard card, with the three personas."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import login
from tests.factories import MembershipFactory, OperatorFactory, RepresentationFactory, RepresentativeFactory

from .test_threshold_support import import_reference, line, reference  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference")]


def test_owner_sees_example_10_exempt_with_a_90_percent_warning(personas, clients):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-04-01", cn="25231000", mass="15")

    response = clients["owner"].get(reverse("declarations:threshold"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "45.000 t of 50 t" in html
    assert "above 90 %" in html
    assert 'aria-valuenow="90"' in html
    assert "Iron and steel" in html and "Cement" in html


def test_viewer_sees_the_crossing_date_once_the_threshold_is_exceeded(personas, clients):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-04-01", cn="25231000", mass="15")
    line(org, on="2026-09-10", cn="76011010", mass="6")

    response = clients["viewer"].get(reverse("declarations:threshold"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Threshold exceeded" in html
    assert "The 50 t threshold was crossed on 2026-09-10." in html
    assert "All CBAM goods imported in 2026 are in scope" in html


def test_hydrogen_lines_are_flagged_as_never_exempt(personas, clients):
    line(personas.organisation, cn="28041000", mass="2")

    html = clients["owner"].get(reverse("declarations:threshold")).content.decode()

    assert "Electricity or hydrogen: never exempt" in html
    assert "No — never exempt" in html
    assert "Other goods exempt" in html


def test_outsider_sees_only_their_own_organisations_figures(personas, clients):
    line(personas.organisation, mass="47.5")
    line(personas.other_organisation, mass="3.25")

    html = clients["outsider"].get(reverse("declarations:threshold")).content.decode()

    assert "3.250 t of 50 t" in html
    assert "47.500" not in html


def test_the_year_filter_shows_one_year_and_a_bad_year_is_named(personas, clients):
    line(personas.organisation, on="2026-05-01", mass="4")
    line(personas.organisation, on="2027-05-01", mass="7")
    url = reverse("declarations:threshold")

    html = clients["owner"].get(url, {"year": "2027"}).content.decode()
    assert "7.000 t of 50 t" in html and "4.000 t of 50 t" not in html

    bad = clients["owner"].get(url, {"year": "1999"})
    assert bad.status_code == 400
    assert "is-invalid" in bad.content.decode()


def test_operators_have_no_threshold_page(personas):
    operator = OperatorFactory()
    user = MembershipFactory(organisation=operator).user
    client = login(user, operator)

    assert client.get(reverse("declarations:threshold")).status_code == 404
    assert client.get(reverse("declarations:threshold_card")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in():
    from django.test import Client

    response = Client().get(reverse("declarations:threshold"))

    assert response.status_code == 302


def test_a_representative_acting_for_an_importer_sees_that_importers_figures(personas):
    rep = RepresentativeFactory()
    RepresentationFactory(representative=rep, importer=personas.organisation)
    agent = MembershipFactory(organisation=rep, role="preparer").user
    line(personas.organisation, mass="12.5")

    html = login(agent, personas.organisation).get(reverse("declarations:threshold")).content.decode()

    assert "12.500 t of 50 t" in html


def test_the_page_needs_a_constant_number_of_queries(personas, clients, django_assert_max_num_queries):
    org = personas.organisation
    url = reverse("declarations:threshold")
    for i in range(3):
        line(org, on=f"2026-01-{i + 1:02d}", mass="1")
    clients["viewer"].get(url)  # warm the session and caches
    with django_assert_max_num_queries(12) as few:
        clients["viewer"].get(url)
    for i in range(40):
        line(org, on=f"202{6 + i % 3}-02-{i % 28 + 1:02d}", cn=["72081000", "25231000", "28041000"][i % 3], mass="2")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = clients["viewer"].get(url)
    assert response.status_code == 200


@time_machine.travel("2026-10-01 12:00:00Z")
def test_the_dashboard_card_shows_the_current_year_for_every_member(personas, clients):
    line(personas.organisation, on="2026-03-01", mass="51")
    url = reverse("declarations:threshold_card")

    for persona in ("owner", "viewer"):
        response = clients[persona].get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "50 t threshold 2026" in html
        assert "Crossed on 2026-03-01" in html

    outsider = clients["outsider"].get(url).content.decode()
    assert "Threshold exceeded" not in outsider and "0.000 t of 50 t" in outsider


def test_out_of_scope_lines_are_shown_as_not_counted(personas, clients):
    line(personas.organisation, mass="10", procedure="returned_goods")
    line(personas.organisation, mass="40", origin="NO", in_scope=False, reason="Origin in an Annex III country")

    html = clients["owner"].get(reverse("declarations:threshold")).content.decode()

    assert "10.000 t of 50 t" in html
    assert "1 line out of scope (40.000 t) is not counted" in html
