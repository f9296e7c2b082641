"""/declarations/annual/: pages of the annual declaration, for owner, viewer and outsider."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cbam_portal.core.actor import Actor
from declarations.models import Declaration, DeclarationStatus
from declarations.services import declarations as services
from tests.conftest import login
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def declaration(reference_data, personas):  # noqa: F811
    example_9(personas.organisation)
    add_line(personas.organisation)
    return services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )


READ_STATUS = {"owner": 200, "viewer": 200, "outsider": 404}
WRITE_STATUS = {"owner": 302, "viewer": 403, "outsider": 404}


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_list_shows_only_the_organisations_declarations(
    clients, who, declaration, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = clients[who].get(reverse("declarations:declaration_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (f'href="/declarations/annual/{declaration.pk}/"' in html) is (who != "outsider")
    assert ("Draft a declaration" in html) is (who == "owner" or who == "outsider")


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_declaration_page(clients, who, declaration, django_assert_max_num_queries):
    url = reverse("declarations:declaration_detail", args=[declaration.pk])
    with django_assert_max_num_queries(15):
        response = clients[who].get(url)
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        html = response.content.decode()
        assert 'data-testid="certificates" title="167.575">167.575' in html
        assert 'data-testid="cost">12,615.05' in html
        assert ("Submit for review" in html) is (who == "owner")


def test_the_declaration_page_query_count_does_not_grow_with_groups(
    clients, declaration, personas, django_assert_max_num_queries
):
    import datetime as dt

    for month in (4, 7, 10):
        add_line(personas.organisation, day=dt.date(2026, month, 2))
    services.declaration_compute(actor=Actor(user=personas.owner), declaration=declaration)
    assert declaration.groups.count() == 5
    with django_assert_max_num_queries(15):
        assert (
            clients["owner"]
            .get(reverse("declarations:declaration_detail", args=[declaration.pk]))
            .status_code
            == 200
        )


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_why_page_of_a_group(clients, who, declaration):
    group = declaration.groups.get(cn_code="76011010")
    response = clients[who].get(reverse("declarations:declaration_group", args=[declaration.pk, group.pk]))
    assert response.status_code == READ_STATUS[who]
    if who != "outsider":
        html = response.content.decode()
        assert "[IR2620] Annex Eq. 2–3" in html and "Column A" in html
        assert 'data-testid="why"' in html


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_drafting_a_declaration(clients, who, reference_data, personas):  # noqa: F811
    response = clients[who].post(reverse("declarations:declaration_create"), {"year": "2026"})
    expected = {"owner": 302, "viewer": 403, "outsider": 302}[who]
    assert response.status_code == expected
    org = personas.other_organisation if who == "outsider" else personas.organisation
    assert Declaration.objects.filter(organisation=org).count() == (0 if who == "viewer" else 1)


def test_a_second_draft_for_the_year_is_refused_next_to_the_field(clients, declaration):
    response = clients["owner"].post(reverse("declarations:declaration_create"), {"year": "2026"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_overriding_the_source(clients, who, declaration):
    group = declaration.groups.get(cn_code="76011010")
    url = reverse("declarations:declaration_group_override", args=[declaration.pk, group.pk])
    response = clients[who].post(url, {"source": "default", "reason": "Verification pending"})
    assert response.status_code == WRITE_STATUS[who]
    group = declaration.groups.get(cn_code="76011010")
    assert group.effective_source == ("default" if who == "owner" else "actual")


def test_an_override_without_justification_is_refused_next_to_the_field(clients, declaration):
    group = declaration.groups.get(cn_code="76011010")
    url = reverse("declarations:declaration_group_override", args=[declaration.pk, group.pk])
    response = clients["owner"].post(url, {"source": "default", "reason": ""})
    assert response.status_code == 400
    assert "A justification is required" in response.content.decode()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_submit_approve_and_file(clients, who, declaration, personas):
    client = clients[who]
    response = client.post(reverse("declarations:declaration_submit", args=[declaration.pk]))
    assert response.status_code == WRITE_STATUS[who]
    if who != "owner":
        declaration.refresh_from_db()
        assert declaration.status == DeclarationStatus.DRAFT
        return
    # The owner submitted it: four eyes refuse the owner's approval.
    client.post(reverse("declarations:declaration_approve", args=[declaration.pk]))
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.IN_REVIEW
    reviewer = login(personas.reviewer, personas.organisation)
    assert (
        reviewer.post(reverse("declarations:declaration_approve", args=[declaration.pk])).status_code == 302
    )
    assert client.post(reverse("declarations:declaration_file", args=[declaration.pk])).status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.FILED and declaration.snapshot
    response = client.post(reverse("declarations:declaration_amend", args=[declaration.pk]))
    amendment = Declaration.objects.get(supersedes=declaration)
    assert response.url == reverse("declarations:declaration_detail", args=[amendment.pk])


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_others_cannot_approve_file_amend_or_return(clients, who, declaration, personas):
    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    for name in ("declaration_approve", "declaration_return", "declaration_file", "declaration_amend"):
        response = clients[who].post(reverse(f"declarations:{name}", args=[declaration.pk]), {"reason": "x"})
        assert response.status_code == WRITE_STATUS[who], name
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.IN_REVIEW


def test_a_reviewer_returns_it_with_a_reason(declaration, personas):
    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    reviewer = login(personas.reviewer, personas.organisation)
    reviewer.post(reverse("declarations:declaration_return", args=[declaration.pk]), {"reason": "Check Q2"})
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.DRAFT
    assert declaration.comments.get().text == "Check Q2"


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_comments(clients, who, declaration):
    response = clients[who].post(
        reverse("declarations:declaration_comment", args=[declaration.pk]), {"text": "Hi"}
    )
    assert response.status_code == WRITE_STATUS[who]
    assert declaration.comments.count() == (1 if who == "owner" else 0)


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_recalculation_is_started_in_the_background(clients, who, declaration):
    response = clients[who].post(reverse("declarations:declaration_recompute", args=[declaration.pk]))
    assert response.status_code == WRITE_STATUS[who]


def test_a_group_of_a_quarter_without_a_published_price_says_so_instead_of_a_zero_cost(reference_data, personas):  # noqa: F811
    import datetime as dt

    add_line(personas.organisation, day=dt.date(2026, 8, 3))  # Q3 2026: no price loaded
    declaration = services.declaration_create(actor=Actor(user=personas.owner), organisation=personas.organisation, year=2026)
    response = login(personas.viewer, personas.organisation).get(
        reverse("declarations:declaration_detail", args=[declaration.pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "no price yet" in body
    assert "without 1 group whose period has no published price yet" in body
