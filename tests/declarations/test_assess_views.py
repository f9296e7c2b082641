"""/declarations/assess/: public page, usable without an organisation or a sign-in."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import login
from tests.factories import UserFactory
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

EXAMPLE_8 = {"cn": "7208 10 00", "country": "CN", "mass": "100", "year": "2026", "quarter": "1"}
EXAMPLE_9 = {
    "cn": "76011010",
    "country": "CN",
    "mass": "1000",
    "year": "2026",
    "quarter": "2",
    "see_direct": "1.555",
    "route": "K",
}


@pytest.fixture
def url():
    return reverse("declarations:assess")


@pytest.fixture
def clients(personas):
    return {
        "anonymous": Client(),
        "no_organisation": login(UserFactory()),
        "owner": login(personas.owner, personas.organisation),
        "viewer": login(personas.viewer, personas.organisation),
        "outsider": login(personas.outsider, personas.other_organisation),
    }


PERSONAS = ["anonymous", "no_organisation", "owner", "viewer", "outsider"]


def test_the_page_lives_under_declarations(url):
    assert url == "/declarations/assess/"


@pytest.mark.parametrize("who", PERSONAS)
def test_every_visitor_sees_the_form(reference_data, clients, who, url, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(12):
        response = clients[who].get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="cn"' in html and "e.g. 7208 10 00" in html
    assert '<option value="CN">China (CN)</option>' in html
    assert 'hx-post="/declarations/assess/"' in html


@pytest.mark.parametrize("who", PERSONAS)
def test_every_visitor_gets_example_8(reference_data, clients, who, url, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(25):
        response = clients[who].post(url, EXAMPLE_8)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="certificates">217.025' in html
    assert 'data-testid="cost">16355.00' in html
    assert 'data-testid="see-used">3.506' in html
    assert "default value of China, with the 2026 mark-up" in html
    assert "Column B, route C" in html
    # The "why" panel: rules, inputs and dataset versions.
    assert 'data-testid="why"' in html
    assert "[IR2620] Annex Eq. 6" in html
    assert "Implementing Regulation (EU) 2025/2621 Annex I" in html


def test_example_9_on_the_page(reference_data, clients, url):  # noqa: F811
    html = clients["anonymous"].post(url, EXAMPLE_9).content.decode()
    assert 'data-testid="certificates">167.575' in html
    assert 'data-testid="cost">12615.05' in html
    assert "Column A, route K" in html


def test_the_floor_is_explained(reference_data, clients, url):  # noqa: F811
    html = clients["anonymous"].post(url, {**EXAMPLE_9, "see_direct": "1.30"}).content.decode()
    assert 'data-testid="certificates">0' in html
    assert "does not offset other goods" in html


def test_htmx_gets_only_the_form_and_the_result_panel(reference_data, clients, url):  # noqa: F811
    response = clients["owner"].post(url, EXAMPLE_8, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="row g-4" id="assess-body">')
    assert "217.025" in html and "<html" not in html


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"cn": "7208100"}, "has 7"),
        ({"cn": "01011000"}, "not a CBAM good"),
        ({"mass": "0"}, "greater than zero"),
        ({"mass": "-3"}, "greater than zero"),
        ({"year": "2025"}, "before the definitive period"),
        ({"country": "XX"}, "Select a valid choice"),
        ({"carbon_price_paid": "10"}, "actual emissions data"),
        ({"cn": "25232900"}, "tonnes of clinker contained"),
        ({"cn": "25231000"}, "B (White clinker)"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(reference_data, clients, url, change, text):  # noqa: F811
    response = clients["anonymous"].post(url, {**EXAMPLE_8, **change})
    assert response.status_code == 400
    html = response.content.decode()
    assert text in html
    assert "is-invalid" in html
    assert 'data-testid="certificates"' not in html


def test_bad_input_through_htmx_still_swaps(reference_data, clients, url):  # noqa: F811
    response = clients["anonymous"].post(url, {**EXAMPLE_8, "mass": "0"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Net mass (t): Net mass must be greater than zero." in html
    assert "is-invalid" in html and "<html" not in html


def test_an_excluded_country_is_out_of_scope(reference_data, clients, url):  # noqa: F811
    response = clients["viewer"].post(url, {**EXAMPLE_8, "country": "NO"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="out-of-scope"' in html and "Norway is outside CBAM" in html


def test_no_published_price_shows_no_cost(reference_data, clients, url):  # noqa: F811
    html = clients["anonymous"].post(url, {**EXAMPLE_8, "quarter": "3"}).content.decode()
    assert 'data-testid="cost">—' in html
    assert "No certificate price is published for 2026 Q3" in html


def test_put_is_not_allowed(clients, url):
    assert clients["anonymous"].put(url).status_code == 405
