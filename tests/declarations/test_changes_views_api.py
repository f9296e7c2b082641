"""What changed: the panel on the declaration page, the history pages and the API, for three personas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cbam_portal.core.actor import Actor
from declarations.models import ImportLine
from declarations.services import declarations as services
from tests.declarations.test_declaration_services import add_line
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

READ_STATUS = {"owner": 200, "viewer": 200, "outsider": 404}


@pytest.fixture
def declaration(reference_data, personas):  # noqa: F811
    """A draft whose last recalculation moved one line from 100 t to 150 t."""
    line = add_line(personas.organisation, mass="100")
    actor = Actor(user=personas.preparer)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    ImportLine.objects.filter(pk=line.pk).update(net_mass_tonnes=Decimal("150"))
    services.declaration_compute(actor=actor, declaration=declaration, trigger="lines")
    return declaration


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_declaration_page_shows_what_changed_in_the_last_recalculation(
    clients, who, declaration, django_assert_max_num_queries
):
    with django_assert_max_num_queries(16):
        response = clients[who].get(reverse("declarations:declaration_detail", args=[declaration.pk]))
    assert response.status_code == READ_STATUS[who]
    if who == "outsider":
        return
    html = response.content.decode()
    assert "What changed in the last recalculation" in html
    assert "Import lines changed" in html and "1 group changed" in html
    assert 'data-testid="change-changed"' in html and "+50" in html  # quantity 100 -> 150


def test_the_panel_says_nothing_changed_after_an_identical_recalculation(clients, declaration, personas):
    services.declaration_compute(actor=Actor(user=personas.owner), declaration=declaration)
    html = (
        clients["owner"]
        .get(reverse("declarations:declaration_detail", args=[declaration.pk]))
        .content.decode()
    )
    assert 'data-testid="no-change"' in html and "Nothing changed" in html


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_history_lists_past_recalculations(
    clients, who, declaration, personas, django_assert_max_num_queries
):
    for day in (2, 3, 4):  # three more recalculations that each add a group
        add_line(personas.organisation, day=dt.date(2026, 4 + day, 1))
        services.declaration_compute(actor=Actor(user=personas.owner), declaration=declaration)
    with django_assert_max_num_queries(12):
        response = clients[who].get(reverse("declarations:declaration_changes", args=[declaration.pk]))
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        html = response.content.decode()
        assert html.count('data-testid="change-row"') == 5
        assert "Declaration drafted" in html and "Import lines changed" in html


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_one_recalculation_page(clients, who, declaration):
    change = declaration.changes.order_by("-at", "-pk").first()
    response = clients[who].get(reverse("declarations:declaration_change", args=[declaration.pk, change.pk]))
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        assert "7208 10 00 · CN · Q1" in response.content.decode()


def test_a_change_of_another_declaration_is_not_found(clients, declaration, personas):
    other = services.declaration_create(
        actor=Actor(user=personas.owner), organisation=personas.organisation, year=2027
    )
    change = other.changes.get()
    url = reverse("declarations:declaration_change", args=[declaration.pk, change.pk])
    assert clients["owner"].get(url).status_code == 404


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_lists_the_change_sets(api_clients, who, declaration, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = api_clients[who].get(f"/api/v1/declarations/{declaration.pk}/changes/")
    assert response.status_code == READ_STATUS[who]
    if who == "outsider":
        return
    results = response.json()["results"]
    assert [r["trigger"] for r in results] == ["lines", "created"]
    entry = results[0]["differences"]["groups"][0]
    assert entry["fields"]["mass_tonnes"] == {"before": "100", "after": "150", "delta": "50"}


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_gives_the_last_change_set(api_clients, who, declaration):
    response = api_clients[who].get(f"/api/v1/declarations/{declaration.pk}/changes/latest/")
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        data = response.json()
        assert data["trigger"] == "lines" and data["changed"] is True and data["groups_changed"] == 1
        assert Decimal(data["certificates_after"]) > Decimal(data["certificates_before"])


def test_the_api_refuses_writes_to_change_sets(api_clients, declaration):
    response = api_clients["owner"].post(f"/api/v1/declarations/{declaration.pk}/changes/", {})
    assert response.status_code == 405
