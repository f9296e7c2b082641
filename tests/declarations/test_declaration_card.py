"""The dashboard card of the declaration due next: status, certificates, cost, the share of
embedded emissions from suppliers' actual data and the days left, for owner, viewer and outsider."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cbam_portal.core.actor import Actor
from declarations.models import EmissionsSource
from declarations.selectors.declarations import declaration_overview
from declarations.services import declarations as services
from emissions.see import quantise
from tests.conftest import login
from tests.declarations.test_declaration_services import add_line, example_9
from tests.factories import MembershipFactory, RepresentationFactory, RepresentativeFactory
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

URL = reverse("declarations:declaration_card")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def declaration(reference_data, personas):  # noqa: F811
    """2026: example 9 (Omani aluminium, actual data) and 100 t of Chinese coil (default values)."""
    example_9(personas.organisation)
    add_line(personas.organisation)
    return services.declaration_create(actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026)


def expected_actual_percent(declaration) -> str:
    groups = list(declaration.groups.all())
    actual = sum(g.embedded_t_co2e for g in groups if g.source == EmissionsSource.ACTUAL)
    return f"{quantise(actual * 100 / sum(g.embedded_t_co2e for g in groups), 0)} %"


@time_machine.travel("2026-12-07 12:00:00Z")
@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_card_shows_the_organisations_own_declaration(clients, who, declaration, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = clients[who].get(URL, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Declaration 2026" in html
    assert "File and surrender by 30 September 2027: 297 days left." in html
    if who == "outsider":  # their own organisation has drafted nothing
        assert 'data-testid="card-no-declaration"' in html
        assert "card-certificates" not in html and "167.575" not in html
        assert "Draft it" in html
        return
    assert f'href="/declarations/annual/{declaration.pk}/"' in html
    assert f'data-testid="card-certificates" title="{declaration.certificates.normalize():f}"' in html
    assert f"{declaration.certificates:.3f}" in html
    assert f"{quantise(declaration.cost_eur, 2):,.2f}" in html
    assert expected_actual_percent(declaration) + " of embedded emissions" in html
    assert "1 of 2 goods groups" in html
    assert "Draft it" not in html


@time_machine.travel("2026-12-07 12:00:00Z")
def test_the_share_follows_the_source_the_declarant_chose(clients, declaration, personas):
    actual = declaration.groups.get(source=EmissionsSource.ACTUAL)
    services.declaration_group_override(
        actor=Actor(user=personas.owner),
        declaration=declaration,
        group_id=actual.pk,
        source=EmissionsSource.DEFAULT,
        reason="The operator's report is being corrected.",
    )

    html = clients["owner"].get(URL, headers=HTMX).content.decode()

    assert "0 % of embedded emissions" in html
    assert "0 of 2 goods groups" in html


def test_the_latest_version_is_shown_and_a_filed_one_says_when_it_was_filed(declaration, personas):
    from declarations.models import Declaration

    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    services.declaration_approve(actor=Actor(user=personas.reviewer), declaration=declaration)
    services.declaration_file(actor=Actor(user=personas.owner), declaration=declaration)
    declaration.refresh_from_db()

    with time_machine.travel(dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)):
        html = login(personas.viewer, personas.organisation).get(URL, headers=HTMX).content.decode()
    assert "Filed" in html and "version 1" in html
    assert f"Filed on {declaration.filed_at:%Y-%m-%d}; certificates are to be surrendered by 30 September 2027." in html
    assert "days left" not in html

    amended = services.declaration_amend(actor=Actor(user=personas.owner), declaration=declaration)
    assert Declaration.objects.filter(organisation=personas.organisation, year=2026).count() == 2
    with time_machine.travel(dt.datetime(2027, 9, 20, 12, tzinfo=dt.UTC)):
        html = login(personas.viewer, personas.organisation).get(URL, headers=HTMX).content.decode()
    assert "version 2" in html and f'href="/declarations/annual/{amended.pk}/"' in html
    # Ten days before the deadline the line is shown as urgent.
    assert 'text-danger fw-semibold" data-testid="card-deadline">File and surrender by 30 September 2027: 10 days left.' in html


def test_after_the_deadline_the_card_moves_on_to_the_next_year(declaration, personas):
    with time_machine.travel(dt.datetime(2027, 10, 1, 12, tzinfo=dt.UTC)):  # signed in that day
        html = login(personas.owner, personas.organisation).get(URL, headers=HTMX).content.decode()

    assert "Declaration 2027" in html
    assert "No declaration for 2027 has been drafted yet." in html
    assert "File and surrender by 30 September 2028: 365 days left." in html


@time_machine.travel("2026-12-07 12:00:00Z")
def test_a_representative_acting_for_an_importer_sees_that_importers_declaration(declaration, personas):
    rep = RepresentativeFactory()
    RepresentationFactory(representative=rep, importer=personas.organisation)
    agent = MembershipFactory(organisation=rep, role="preparer").user

    html = login(agent, personas.organisation).get(URL, headers=HTMX).content.decode()

    assert f'href="/declarations/annual/{declaration.pk}/"' in html


def test_operators_and_anonymous_visitors_get_no_card(operator_personas):
    assert login(operator_personas.owner, operator_personas.organisation).get(URL).status_code == 404
    from django.test import Client

    assert Client().get(URL).status_code == 302


def test_the_dashboard_loads_the_card_for_declarants_only(personas, operator_personas):
    declarant = login(personas.viewer, personas.organisation).get(reverse("core:dashboard")).content.decode()
    operator = login(operator_personas.owner, operator_personas.organisation).get(reverse("core:dashboard")).content.decode()

    assert f'hx-get="{URL}"' in declarant
    assert f'hx-get="{URL}"' not in operator


@pytest.mark.parametrize(
    ("today", "year"),
    [("2026-01-01", 2026), ("2026-12-07", 2026), ("2027-09-30", 2026), ("2027-10-01", 2027), ("2031-02-28", 2030)],
)
def test_the_overview_picks_the_year_due_next(personas, today, year):
    from cbam_portal.accounts.access import Access

    access = Access(organisation=personas.organisation, role="viewer")
    overview = declaration_overview(access, dt.date.fromisoformat(today))

    assert overview.year == year
    assert overview.due_on == dt.date(year + 1, 9, 30)
    assert overview.days_left == (overview.due_on - dt.date.fromisoformat(today)).days
    assert overview.declaration is None and overview.actual_share_percent is None


# --- The same through the API: GET /api/v1/declarations/due/ ------------------------------------

API_URL = reverse("api:declaration-due")


@time_machine.travel("2026-12-07 12:00:00Z")
@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_gives_the_same_figures_to_each_organisation(who, declaration, api_clients):
    response = api_clients[who].get(API_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2026 and body["due_on"] == "2027-09-30" and body["days_left"] == 297
    if who == "outsider":
        assert body["declaration"] is None and body["groups"] == 0 and body["actual_share_percent"] is None
        return
    assert body["declaration"]["id"] == declaration.pk
    assert body["declaration"]["certificates"] == f"{declaration.certificates:.6f}"
    assert body["groups"] == 2 and body["actual_groups"] == 1 and body["unpriced_groups"] == 0
    actual = declaration.groups.get(source=EmissionsSource.ACTUAL).embedded_t_co2e
    assert body["actual_t_co2e"] == f"{actual:.6f}"
    assert body["embedded_t_co2e"] == f"{declaration.embedded_t_co2e:.6f}"
    assert body["actual_share_percent"] == f"{quantise(actual * 100 / declaration.embedded_t_co2e, 2)}"


def test_the_api_refuses_operators_and_anonymous_callers(operator_personas):
    from rest_framework.test import APIClient

    from tests.conftest import api_login

    assert api_login(operator_personas.owner, operator_personas.organisation).get(API_URL).status_code == 404
    assert APIClient().get(API_URL).status_code == 401


# --- A customs representative's card: every importer it acts for ---------------------------------

REP_URL = reverse("declarations:represented_declarations_card")


@pytest.fixture
def agency(personas):
    """A representative acting for the personas' importer (with a 2026 draft) and for a second
    importer that has drafted nothing; its admin and viewer, and a rival agency's admin."""
    from tests.factories import OrganisationFactory

    rep = RepresentativeFactory(name="Delta Customs BV")
    second = OrganisationFactory(name="Nordic Alloys AB")
    for importer in (personas.organisation, second):
        RepresentationFactory(representative=rep, importer=importer)
    rival = RepresentativeFactory(name="Rival Customs BV")
    return {
        "rep": rep,
        "second": second,
        "owner": login(MembershipFactory(organisation=rep, role="admin").user, rep),
        "viewer": login(MembershipFactory(organisation=rep, role="viewer").user, rep),
        "outsider": login(MembershipFactory(organisation=rival, role="admin").user, rival),
    }


@time_machine.travel("2026-12-07 12:00:00Z")
@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_a_representative_sees_the_declaration_of_every_importer_it_acts_for(who, agency, declaration, personas):
    response = agency[who].get(REP_URL, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    if who == "outsider":  # a rival agency acts for nobody here
        assert 'data-testid="no-importers"' in html
        assert personas.organisation.name not in html and "167.575" not in html
        return
    assert "Declarations 2026 of the importers you act for: due by 30 September 2027" in html
    ours = html.split(f'data-testid="importer-{personas.organisation.pk}"')[1].split("</tr>")[0]
    assert "Draft" in ours and f"{declaration.certificates:.3f}" in ours
    assert f"{quantise(declaration.cost_eur, 2):,.2f}" in ours and expected_actual_percent(declaration) in ours
    assert f'name="next" value="/declarations/annual/{declaration.pk}/"' in ours
    second = html.split(f'data-testid="importer-{agency["second"].pk}"')[1].split("</tr>")[0]
    assert "not drafted yet" in second and 'name="next" value="/declarations/annual/"' in second
    # The button says what the representative's role lets it do there.
    assert (">Draft<" in second) is (who == "owner") and (">Open<" in second) is (who == "viewer")
    assert "297 days left to file and surrender." in html


@time_machine.travel("2026-12-07 12:00:00Z")
def test_the_representatives_card_needs_the_same_queries_for_more_importers(agency, declaration, django_assert_max_num_queries):
    from tests.factories import OrganisationFactory

    agency["owner"].get(REP_URL)  # warm the session
    with django_assert_max_num_queries(20) as few:
        agency["owner"].get(REP_URL)
    for n in range(3):
        importer = OrganisationFactory(name=f"Importer {n}")
        RepresentationFactory(representative=agency["rep"], importer=importer)
        add_line(importer)
        services.declaration_create(actor=Actor.system(), organisation=importer, year=2026)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = agency["owner"].get(REP_URL).content.decode()
    assert html.count('data-testid="status"') == 4


def test_opening_an_importer_from_the_card_switches_to_it(agency, declaration, personas):
    response = agency["viewer"].post(
        reverse("accounts:organisation_switch"),
        {"organisation": personas.organisation.pk, "next": f"/declarations/annual/{declaration.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/declarations/annual/{declaration.pk}/"
    page = agency["viewer"].get(response["Location"])
    assert page.status_code == 200 and "CBAM declaration 2026, version 1" in page.content.decode()


def test_only_representatives_have_the_card(clients, agency):
    assert clients["owner"].get(REP_URL).status_code == 404  # a declarant
    from django.test import Client

    assert Client().get(REP_URL).status_code == 302
    dashboard = agency["owner"].get(reverse("core:dashboard")).content.decode()
    assert f'hx-get="{REP_URL}"' in dashboard and f'hx-get="{URL}"' not in dashboard


@time_machine.travel("2026-12-07 12:00:00Z")
@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_lists_the_represented_importers_declarations(who, agency, declaration, personas):
    from tests.conftest import api_login

    members = {"owner": "admin", "viewer": "viewer"}
    if who == "outsider":
        rival = RepresentativeFactory(name="Rival Customs BV")
        client = api_login(MembershipFactory(organisation=rival, role="admin").user, rival)
    else:
        client = api_login(MembershipFactory(organisation=agency["rep"], role=members[who]).user, agency["rep"])

    response = client.get(reverse("api:represented-declarations"))

    assert response.status_code == 200
    body = response.json()
    if who == "outsider":
        assert body == []
        return
    by_importer = {row["importer"]["id"]: row for row in body}
    assert set(by_importer) == {personas.organisation.pk, agency["second"].pk}
    ours = by_importer[personas.organisation.pk]
    assert ours["declaration"]["id"] == declaration.pk and ours["actual_groups"] == 1
    assert ours["due_on"] == "2027-09-30" and ours["days_left"] == 297
    assert by_importer[agency["second"].pk]["declaration"] is None
    assert {ours["open_requests"], ours["overdue_requests"], ours["answered_requests"]} == {0}


def test_the_represented_declarations_api_is_for_representatives_only(api_clients):
    assert api_clients["owner"].get(reverse("api:represented-declarations")).status_code == 404


# --- The year's data requests to suppliers on both cards ------------------------------------------


def data_request(declarant, *, due: str, status: str = "sent", year: int = 2026):
    from emissions.models import DataRequest

    return DataRequest.objects.create(
        declarant=declarant,
        supplier_name="Hebei Jinghua Steel Co., Ltd.",
        cn_codes=["72081000"],
        year=year,
        period_start=dt.date(year, 1, 1),
        period_end=dt.date(year, 12, 31),
        due_date=dt.date.fromisoformat(due),
        status=status,
    )


@time_machine.travel("2026-12-07 12:00:00Z")
def test_both_cards_count_the_years_requests_waiting_overdue_and_answered(declaration, personas, agency):
    org = personas.organisation
    data_request(org, due="2026-12-29")  # waiting
    data_request(org, due="2026-11-30", status="opened")  # waiting and overdue
    data_request(org, due="2026-11-30", status="answered")  # answered, not overdue
    data_request(org, due="2026-11-30", status="cancelled")  # neither
    data_request(org, due="2027-01-15", year=2027)  # another year
    data_request(personas.other_organisation, due="2026-11-30")  # another importer

    html = login(personas.viewer, org).get(URL, headers=HTMX).content.decode()
    requests = html.split('data-testid="card-requests">')[1].split("</dd>")[0]
    assert 'href="/declarations/supplier-requests/?status=overdue">2 waiting</a>' in requests
    assert "1 overdue" in requests and "1 answered" in requests

    body = login(personas.viewer, org).get(reverse("api:declaration-due")).json()
    assert (body["open_requests"], body["overdue_requests"], body["answered_requests"]) == (2, 1, 1)

    html = agency["viewer"].get(REP_URL, headers=HTMX).content.decode()
    ours = html.split(f'data-testid="importer-{org.pk}"')[1].split("</tr>")[0]
    assert "2 waiting" in ours and "1 overdue" in ours and "1 answered" in ours
    assert "supplier-requests" not in ours  # the representative's own list would not be the importer's
    second = html.split(f'data-testid="importer-{agency["second"].pk}"')[1].split("</tr>")[0]
    assert "none sent" in second


@time_machine.travel("2026-12-07 12:00:00Z")
def test_a_declaration_with_goods_that_could_not_be_calculated_says_so(reference_data, personas, agency):  # noqa: F811
    add_line(personas.organisation, country="ZZ")
    declaration = services.declaration_create(actor=Actor(user=personas.owner), organisation=personas.organisation, year=2026)
    assert declaration.computation_error

    html = login(personas.viewer, personas.organisation).get(URL, headers=HTMX).content.decode()
    assert "Some goods could not be calculated: open the declaration to see which." in html
    rep = agency["viewer"].get(REP_URL, headers=HTMX).content.decode()
    assert "some goods not calculated" in rep.split(f'data-testid="importer-{personas.organisation.pk}"')[1].split("</tr>")[0]


@time_machine.travel("2026-12-07 12:00:00Z")
def test_a_computed_declaration_shows_no_error(clients, declaration):
    assert 'data-testid="card-error"' not in clients["owner"].get(URL, headers=HTMX).content.decode()


@time_machine.travel("2026-12-07 12:00:00Z")
def test_organisation_api_keys_read_the_same_figures(declaration, personas, agency):
    from rest_framework.test import APIClient

    from cbam_portal.accounts.api_keys import generate_api_key
    from cbam_portal.accounts.models import ApiKey
    from cbam_portal.accounts.policy import Role

    def key_client(organisation):
        raw, prefix, key_hash = generate_api_key()
        ApiKey.objects.create(organisation=organisation, name="erp", prefix=prefix, key_hash=key_hash, role=Role.VIEWER)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        return client

    importer = key_client(personas.organisation).get(reverse("api:declaration-due")).json()
    assert importer["declaration"]["id"] == declaration.pk and importer["days_left"] == 297
    rows = key_client(agency["rep"]).get(reverse("api:represented-declarations")).json()
    assert {row["importer"]["id"] for row in rows} == {personas.organisation.pk, agency["second"].pk}
