"""Carbon price claims: pages and API for owner, preparer, viewer and outsider."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cbam_portal.core.actor import Actor
from declarations.models import CarbonPriceClaim
from declarations.services import carbon_prices as claims
from declarations.services import declarations as services
from tests.conftest import login
from tests.declarations.test_carbon_price_claims_services import claim_fields, evidence
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

READ_STATUS = {"owner": 200, "viewer": 200, "outsider": 404}


@pytest.fixture
def clients(clients, personas):
    """The three personas, and a preparer."""
    return {**clients, "preparer": login(personas.preparer, personas.organisation)}


@pytest.fixture
def declaration(reference_data, personas):  # noqa: F811
    example_9(personas.organisation)  # actual data (aluminium)
    add_line(personas.organisation)  # default values (steel)
    return services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )


def actual_group(declaration):
    return declaration.groups.get(cn_code="76011010")


def default_group(declaration):
    return declaration.groups.get(cn_code="72081000")


def form_data(**overrides) -> dict:
    data = {k: ("" if v is None else str(v)) for k, v in claim_fields().items()}
    data.update(overrides)
    data["evidence"] = evidence()
    return data


def recorded_claim(declaration, personas):
    return claims.carbon_price_claim_create(
        actor=Actor(user=personas.preparer),
        declaration=declaration,
        group_id=actual_group(declaration).pk,
        evidence=evidence(),
        **claim_fields(),
    )


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_group_claim_page(clients, who, declaration):
    url = reverse("declarations:carbon_price_group", args=[declaration.pk, actual_group(declaration).pk])
    response = clients[who].get(url)
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        html = response.content.decode()
        assert "Carbon price paid abroad" in html
        assert ("Record the claim" in html) is (who == "owner")


@pytest.mark.parametrize(
    ("who", "status"), [("preparer", 302), ("owner", 302), ("viewer", 403), ("outsider", 404)]
)
def test_recording_a_claim_by_page(clients, who, status, declaration):
    url = reverse("declarations:carbon_price_group", args=[declaration.pk, actual_group(declaration).pk])
    response = clients[who].post(url, form_data())
    assert response.status_code == status
    assert CarbonPriceClaim.objects.exists() is (status == 302)
    if status == 302:
        assert actual_group(declaration).carbon_price_deduction > 0


def test_the_page_refuses_a_claim_on_a_default_group_with_a_clear_error(clients, declaration):
    url = reverse("declarations:carbon_price_group", args=[declaration.pk, default_group(declaration).pk])
    html = clients["owner"].get(url).content.decode()
    assert 'data-testid="claim-refused"' in html and "Record the claim" not in html
    response = clients["owner"].post(url, form_data())
    assert response.status_code == 400
    assert "uses default values" in response.content.decode()
    assert not CarbonPriceClaim.objects.exists()


def test_the_page_names_bad_fields(clients, declaration):
    url = reverse("declarations:carbon_price_group", args=[declaration.pk, actual_group(declaration).pk])
    response = clients["owner"].post(
        url, form_data(currency="CNY", currency_per_eur="", coverage="share", share_covered="")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html and "Give the share of the embedded emissions covered" in html
    assert not CarbonPriceClaim.objects.exists()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_claim_list_page(clients, who, declaration, personas, django_assert_max_num_queries):
    recorded_claim(declaration, personas)
    with django_assert_max_num_queries(10):
        response = clients[who].get(reverse("declarations:carbon_price_claims", args=[declaration.pk]))
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        html = response.content.decode()
        assert html.count('data-testid="claim"') == 1 and "China national ETS" in html
        assert ("Withdraw" in html) is (who == "owner")


@pytest.mark.parametrize(("who", "status"), [("owner", 302), ("viewer", 403), ("outsider", 404)])
def test_withdrawing_a_claim_by_page(clients, who, status, declaration, personas):
    claim = recorded_claim(declaration, personas)
    url = reverse("declarations:carbon_price_claim_withdraw", args=[declaration.pk, claim.pk])
    assert clients[who].post(url, {"reason": "Wrong rate"}).status_code == status
    claim.refresh_from_db()
    assert (claim.withdrawn_at is not None) is (status == 302)


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_evidence_is_served_only_through_the_permission_checked_view(clients, who, declaration, personas):
    claim = recorded_claim(declaration, personas)
    url = reverse("declarations:carbon_price_claim_evidence", args=[declaration.pk, claim.pk])
    response = clients[who].get(url)
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert 'filename="certificate.pdf"' in response["Content-Disposition"]


def api_payload(group_id, **overrides) -> dict:
    data = form_data(**overrides)
    data["group"] = group_id
    return data


@pytest.mark.parametrize(("who", "status"), [("owner", 201), ("viewer", 403), ("outsider", 404)])
def test_recording_a_claim_by_api(api_clients, who, status, declaration):
    response = api_clients[who].post(
        f"/api/v1/declarations/{declaration.pk}/carbon-price-claims/",
        api_payload(actual_group(declaration).pk),
        format="multipart",
    )
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert body["is_active"] and body["currency"] == "CNY" and body["has_evidence"]
        assert actual_group(declaration).carbon_price_deduction > 0


def test_the_api_refuses_a_claim_on_a_default_group_by_field(api_clients, declaration):
    response = api_clients["owner"].post(
        f"/api/v1/declarations/{declaration.pk}/carbon-price-claims/",
        api_payload(default_group(declaration).pk),
        format="multipart",
    )
    assert response.status_code == 400
    assert "default values" in response.json()["group"][0]


def test_a_filed_declaration_cannot_get_new_claims_by_api(api_clients, declaration, personas):
    group_id = actual_group(declaration).pk
    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    services.declaration_approve(actor=Actor(user=personas.reviewer), declaration=declaration)
    services.declaration_file(actor=Actor(user=personas.reviewer), declaration=declaration)
    response = api_clients["owner"].post(
        f"/api/v1/declarations/{declaration.pk}/carbon-price-claims/",
        api_payload(group_id),
        format="multipart",
    )
    assert response.status_code == 400
    assert "filed" in response.json()["non_field_errors"][0]
    assert not CarbonPriceClaim.objects.exists()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_lists_claims(api_clients, who, declaration, personas, django_assert_max_num_queries):
    recorded_claim(declaration, personas)
    with django_assert_max_num_queries(10):
        response = api_clients[who].get(f"/api/v1/declarations/{declaration.pk}/carbon-price-claims/")
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        (claim,) = response.json()["results"]
        assert claim["price_per_t_co2e"] == "60.000000" and claim["share_covered"] == "0.500000"


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("viewer", 403), ("outsider", 404)])
def test_withdrawing_a_claim_by_api(api_clients, who, status, declaration, personas):
    claim = recorded_claim(declaration, personas)
    response = api_clients[who].post(
        f"/api/v1/declarations/{declaration.pk}/carbon-price-claims/{claim.pk}/withdraw/",
        {"reason": "duplicate"},
    )
    assert response.status_code == status
    claim.refresh_from_db()
    assert (claim.withdrawn_at is not None) is (status == 200)


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_serves_the_evidence(api_clients, who, declaration, personas):
    claim = recorded_claim(declaration, personas)
    response = api_clients[who].get(
        f"/api/v1/declarations/{declaration.pk}/carbon-price-claims/{claim.pk}/evidence/"
    )
    assert response.status_code == READ_STATUS[who]
