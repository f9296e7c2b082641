"""/api/v1/declarations/: the annual declaration over the API, for owner, viewer and outsider."""

from __future__ import annotations

import pytest

from cbam_portal.core.actor import Actor
from declarations.models import Declaration, DeclarationStatus
from declarations.services import declarations as services
from tests.conftest import api_login
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

URL = "/api/v1/declarations/"
READ = {"owner": 200, "viewer": 200, "outsider": 404}
WRITE = {"owner": 200, "viewer": 403, "outsider": 404}


@pytest.fixture
def declaration(reference_data, personas):  # noqa: F811
    example_9(personas.organisation)
    add_line(personas.organisation)
    return services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_listing_declarations(api_clients, who, declaration, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = api_clients[who].get(URL)
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [r["id"] for r in rows] == ([] if who == "outsider" else [declaration.pk])


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_reading_a_declaration_and_its_groups(api_clients, who, declaration, django_assert_max_num_queries):
    assert api_clients[who].get(f"{URL}{declaration.pk}/").status_code == READ[who]
    # A draft's traces are derived for all its groups at once: lines, reports, claims, reference data.
    with django_assert_max_num_queries(20):
        response = api_clients[who].get(f"{URL}{declaration.pk}/groups/")
    assert response.status_code == READ[who]
    if who != "outsider":
        aluminium = next(g for g in response.json() if g["cn_code"] == "76011010")
        assert aluminium["source"] == "actual" and aluminium["column"] == "A"
        assert aluminium["certificates"] == "167.575000"
        assert any("[IR2620] Annex Eq. 2–3" in step["rule"] for step in aluminium["trace"])


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_creating_a_declaration(api_clients, who, reference_data, personas):  # noqa: F811
    response = api_clients[who].post(URL, {"year": 2026}, format="json")
    assert response.status_code == {"owner": 201, "viewer": 403, "outsider": 201}[who]


def test_a_bad_year_names_the_field(api_clients, reference_data):  # noqa: F811
    response = api_clients["owner"].post(URL, {"year": 2025}, format="json")
    assert response.status_code == 400 and "year" in response.json()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_overriding_a_group(api_clients, who, declaration):
    group = declaration.groups.get(cn_code="76011010")
    response = api_clients[who].post(
        f"{URL}{declaration.pk}/override/",
        {"group": group.pk, "source": "default", "reason": "Dispute"},
        format="json",
    )
    assert response.status_code == WRITE[who]
    if who == "owner":
        assert response.json()["effective_source"] == "default"


def test_an_override_without_justification_is_a_field_error(api_clients, declaration):
    group = declaration.groups.get(cn_code="76011010")
    response = api_clients["owner"].post(
        f"{URL}{declaration.pk}/override/", {"group": group.pk, "source": "default"}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_workflow(api_clients, who, declaration, personas):
    client = api_clients[who]
    response = client.post(f"{URL}{declaration.pk}/submit/")
    assert response.status_code == WRITE[who]
    if who != "owner":
        for name in ("approve", "file", "amend", "recompute"):
            assert client.post(f"{URL}{declaration.pk}/{name}/").status_code == WRITE[who], name
        declaration.refresh_from_db()
        assert declaration.status == DeclarationStatus.DRAFT
        return
    assert response.json()["status"] == "in_review"
    refused = client.post(f"{URL}{declaration.pk}/approve/")
    assert refused.status_code == 400 and "Four eyes" in str(refused.json())
    reviewer = api_login(personas.reviewer, personas.organisation)
    assert reviewer.post(f"{URL}{declaration.pk}/approve/").json()["status"] == "approved"
    assert client.post(f"{URL}{declaration.pk}/file/").json()["status"] == "filed"
    response = client.post(f"{URL}{declaration.pk}/amend/")
    assert response.status_code == 201 and response.json()["version"] == 2
    assert Declaration.objects.get(pk=declaration.pk).status == DeclarationStatus.AMENDED


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_comments(api_clients, who, declaration):
    response = api_clients[who].post(f"{URL}{declaration.pk}/comments/", {"text": "Check"}, format="json")
    assert response.status_code == {"owner": 201, "viewer": 403, "outsider": 404}[who]
    response = api_clients[who].get(f"{URL}{declaration.pk}/comments/")
    assert response.status_code == READ[who]
    if who != "outsider":
        assert len(response.json()) == (1 if who == "owner" else 0)


def test_a_reviewer_returns_it_to_draft(declaration, personas):
    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    reviewer = api_login(personas.reviewer, personas.organisation)
    response = reviewer.post(f"{URL}{declaration.pk}/return/", {"reason": "Check Q2"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "draft"
