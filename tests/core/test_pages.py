"""Home page, dashboard and the navigation bar."""

import pytest
from django.urls import reverse

from cbam_portal.core.models import JobStatus
from cbam_portal.core.navigation import _ITEMS, register_nav_item
from tests.conftest import login
from tests.factories import MembershipFactory, RepresentationFactory

from .factories import AuditEventFactory, JobFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_gets_the_product_landing_page(client):
    response = client.get(reverse("core:home"))

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Operators outside the EU", "Importers and customs representatives", "Compliance officers"):
        assert text in html
    assert reverse("account_login") in html
    assert reverse("account_signup") in html
    assert reverse("reference:index") in html
    assert "coming soon" not in html.lower()


def test_signed_in_user_is_taken_from_home_to_the_dashboard(personas):
    response = login(personas.viewer, personas.organisation).get(reverse("core:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")


def test_dashboard_shows_the_organisation_role_links_and_recent_activity_to_an_admin(personas, test_job_kinds):
    JobFactory(organisation=personas.organisation, kind="test.ok", status=JobStatus.RUNNING)
    AuditEventFactory(organisation=personas.organisation, verb="organisation.updated")
    JobFactory(organisation=personas.other_organisation, kind="test.crash")
    AuditEventFactory(organisation=personas.other_organisation, verb="secret.verb")

    response = login(personas.owner, personas.organisation).get(reverse("core:dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    org = personas.organisation
    assert org.name in html and org.eori in html and "Declarant (importer)" in html
    assert "Administrator" in html
    for name in ("reference:index", "core:job_list", "core:audit_list", "accounts:organisation_detail", "api-docs"):
        assert reverse(name) in html
    assert "Test OK" in html and "Running" in html
    assert "organisation.updated" in html
    assert "Test crash" not in html and "secret.verb" not in html
    assert "coming soon" not in html.lower()


def test_dashboard_for_a_viewer_leaves_out_the_audit_log(personas):
    AuditEventFactory(organisation=personas.organisation, verb="organisation.updated")

    response = login(personas.viewer, personas.organisation).get(reverse("core:dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Viewer" in html
    assert reverse("core:audit_list") not in html
    assert "organisation.updated" not in html


def test_dashboard_of_a_representative_acting_for_an_importer_names_both(personas):
    representation = RepresentationFactory(importer=personas.organisation)
    agent = MembershipFactory(organisation=representation.representative).user

    response = login(agent, personas.organisation).get(reverse("core:dashboard"))

    assert response.status_code == 200
    assert f"(through {representation.representative.name})" in response.content.decode()


def test_dashboard_without_an_organisation_sends_the_user_to_create_one(user):
    response = login(user).get(reverse("core:dashboard"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_create")


def test_dashboard_uses_a_bounded_number_of_queries(personas, test_job_kinds, django_assert_max_num_queries):
    for _ in range(10):
        JobFactory(organisation=personas.organisation, created_by=personas.owner)
        AuditEventFactory(organisation=personas.organisation, actor=personas.owner)
    client = login(personas.owner, personas.organisation)
    client.get(reverse("core:dashboard"))

    with django_assert_max_num_queries(9):
        client.get(reverse("core:dashboard"))


def test_navbar_offers_the_audit_log_only_to_those_who_may_read_it(personas):
    audit_url = f'href="{reverse("core:audit_list")}"'

    owner_html = login(personas.owner, personas.organisation).get(reverse("core:job_list")).content.decode()
    viewer_html = login(personas.viewer, personas.organisation).get(reverse("core:job_list")).content.decode()

    assert audit_url in owner_html
    assert audit_url not in viewer_html
    assert 'aria-current="page" href="/jobs/"' in owner_html
    assert reverse("accounts:organisation_switch") in viewer_html
    assert personas.organisation.name in viewer_html
    assert reverse("account_logout") in viewer_html


def test_navbar_lists_the_organisations_to_switch_to(personas):
    MembershipFactory(user=personas.owner, organisation=personas.other_organisation)

    html = login(personas.owner, personas.organisation).get(reverse("core:dashboard")).content.decode()

    assert f'name="organisation" value="{personas.other_organisation.pk}"' in html
    assert f'name="organisation" value="{personas.organisation.pk}"' in html


def test_navbar_shows_registered_entries_for_the_right_kind_and_capability(personas):
    try:
        register_nav_item("Import lines", "core:job_list", kinds=("declarant",), active=("never:*",), order=1)
        declarant_html = login(personas.viewer, personas.organisation).get(reverse("core:dashboard")).content.decode()
        register_nav_item("Import lines", "core:job_list", kinds=("operator",))
        other_html = login(personas.viewer, personas.organisation).get(reverse("core:dashboard")).content.decode()
        register_nav_item("Broken", "nowhere:missing")
        broken = login(personas.viewer, personas.organisation).get(reverse("core:dashboard"))
    finally:
        _ITEMS.pop("core:job_list", None)
        _ITEMS.pop("nowhere:missing", None)

    assert "Import lines" in declarant_html
    assert "Import lines" not in other_html
    assert broken.status_code == 200 and "Broken" not in broken.content.decode()


def test_anonymous_navbar_offers_sign_in_and_sign_up(client):
    html = client.get(reverse("core:home")).content.decode()

    assert reverse("account_login") in html and reverse("account_signup") in html
    assert reverse("core:job_list") not in html


def test_outsiders_dashboard_shows_only_their_own_organisation(personas, test_job_kinds):
    JobFactory(organisation=personas.organisation, kind="test.crash")
    AuditEventFactory(organisation=personas.organisation, verb="secret.verb")

    response = login(personas.outsider, personas.other_organisation).get(reverse("core:dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    assert personas.other_organisation.name in html
    assert personas.organisation.name not in html
    assert "Test crash" not in html and "secret.verb" not in html
