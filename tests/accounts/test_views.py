from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cbam_portal.accounts.middleware import SESSION_KEY
from cbam_portal.accounts.models import ApiKey, Invitation, Membership, Organisation, Representation
from cbam_portal.accounts.policy import Role
from tests.conftest import login
from tests.factories import MembershipFactory, RepresentationFactory, UserFactory

from .factories import ApiKeyFactory, InvitationFactory

pytestmark = pytest.mark.django_db

DETAIL = reverse("accounts:organisation_detail")


def member_of(personas, user) -> Membership:
    return Membership.objects.get(user=user, organisation=personas.organisation)


# --- create organisation -------------------------------------------------------------------


def test_anonymous_users_are_sent_to_sign_in_to_create_an_organisation(db):
    response = Client().get(reverse("accounts:organisation_create"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_new_user_creates_an_organisation_and_it_becomes_active(user):
    client = login(user)
    page = client.get(reverse("accounts:organisation_create"))
    assert page.status_code == 200
    assert 'name="eori"' in page.content.decode()
    assert '<option value="DE">Germany (DE)</option>' in page.content.decode()
    response = client.post(
        reverse("accounts:organisation_create"),
        {
            "kind": "declarant",
            "name": "Acme",
            "country": "DE",
            "eori": "de 123 456 789",
            "address": "Street 1",
        },
    )
    assert response.status_code == 302
    org = Organisation.objects.get(name="Acme")
    assert org.eori == "DE123456789"
    assert client.session[SESSION_KEY] == org.pk
    assert client.get(DETAIL).context["organisation"] == org


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/emissions/data-requests/link/abc/", "/emissions/data-requests/link/abc/"),
        ("https://evil.example/steal", None),  # another host: back to the organisation page
    ],
)
def test_creating_an_organisation_returns_to_a_safe_next_page(user, next_url, expected):
    client = login(user)
    page = client.get(reverse("accounts:organisation_create") + f"?kind=operator&next={next_url}")
    html = page.content.decode()
    assert '<option value="operator" selected>' in html
    if expected:
        assert f'name="next" value="{expected}"' in html
    response = client.post(
        reverse("accounts:organisation_create"),
        {"kind": "operator", "name": "Shandong Steel", "country": "CN", "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == (expected or reverse("accounts:organisation_detail"))


@pytest.mark.parametrize(
    ("eori", "message"),
    [
        ("DE", "not a valid EORI"),
        ("D1234", "not a valid EORI"),
        ("DE1234567890123456", "not a valid EORI"),
        ("", "EORI number is required"),
    ],
)
def test_organisation_form_shows_eori_errors_next_to_the_field(user, eori, message):
    response = login(user).post(
        reverse("accounts:organisation_create"),
        {"kind": "declarant", "name": "Acme", "country": "DE", "eori": eori},
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["eori"])
    assert not Organisation.objects.filter(name="Acme").exists()


def test_organisation_form_names_a_duplicate_eori(personas, user):
    eori = personas.organisation.eori
    response = login(user).post(
        reverse("accounts:organisation_create"),
        {"kind": "declarant", "name": "Copy", "country": "DE", "eori": eori.lower()},
    )
    assert response.context["form"].errors["eori"] == [f"An organisation with EORI {eori} already exists."]


# --- switch --------------------------------------------------------------------------------


def test_switching_to_an_own_organisation_sets_it_active(personas):
    second = MembershipFactory(user=personas.owner, role=Role.VIEWER).organisation
    client = login(personas.owner, personas.organisation)
    response = client.post(reverse("accounts:organisation_switch"), {"organisation": second.pk})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == second.pk


def test_switching_to_a_represented_importer_is_allowed():
    representation = RepresentationFactory()
    user = MembershipFactory(organisation=representation.representative, role=Role.PREPARER).user
    client = login(user, representation.representative)
    client.post(reverse("accounts:organisation_switch"), {"organisation": representation.importer.pk})
    assert client.session[SESSION_KEY] == representation.importer.pk


def test_switching_to_someone_elses_organisation_is_404(personas):
    client = login(personas.outsider, personas.other_organisation)
    response = client.post(
        reverse("accounts:organisation_switch"), {"organisation": personas.organisation.pk}
    )
    assert response.status_code == 404
    assert client.session[SESSION_KEY] == personas.other_organisation.pk


def test_switch_rejects_get_and_garbage(personas):
    client = login(personas.owner, personas.organisation)
    assert client.get(reverse("accounts:organisation_switch")).status_code == 405
    assert client.post(reverse("accounts:organisation_switch"), {"organisation": "abc"}).status_code == 404


def test_switch_only_follows_local_next_urls(personas):
    client = login(personas.owner, personas.organisation)
    response = client.post(
        reverse("accounts:organisation_switch"),
        {"organisation": personas.organisation.pk, "next": "https://evil.test/"},
    )
    assert response["Location"] == reverse("core:dashboard")


# --- settings page -------------------------------------------------------------------------


def test_owner_sees_the_settings_page_with_admin_forms(personas):
    InvitationFactory(organisation=personas.organisation, email="pending@example.test")
    response = login(personas.owner, personas.organisation).get(DETAIL)
    html = response.content.decode()
    assert response.status_code == 200
    assert personas.viewer.email in html
    assert "pending@example.test" in html
    assert reverse("accounts:membership_change_role", args=[member_of(personas, personas.viewer).pk]) in html
    assert reverse("accounts:invitation_create") in html
    assert reverse("accounts:organisation_update") in html


def test_viewer_sees_a_read_only_settings_page(personas):
    InvitationFactory(organisation=personas.organisation, email="pending@example.test")
    response = login(personas.viewer, personas.organisation).get(DETAIL)
    html = response.content.decode()
    assert response.status_code == 200
    assert personas.owner.email in html
    assert "pending@example.test" in html
    assert "/role/" not in html
    assert reverse("accounts:invitation_create") not in html
    assert "/revoke/" not in html
    assert reverse("accounts:organisation_update") not in html
    assert reverse("accounts:membership_remove", args=[member_of(personas, personas.owner).pk]) not in html


def test_outsider_only_ever_sees_their_own_organisation(personas):
    response = login(personas.outsider, personas.other_organisation).get(DETAIL)
    html = response.content.decode()
    assert personas.other_organisation.name in html
    assert personas.owner.email not in html


def test_user_without_organisation_is_sent_to_create_one(user):
    response = login(user).get(DETAIL)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_create")


def test_settings_page_query_count_does_not_grow_with_members(personas, django_assert_max_num_queries):
    client = login(personas.owner, personas.organisation)
    client.get(DETAIL)
    with django_assert_max_num_queries(14) as ctx:
        client.get(DETAIL)
    baseline = len(ctx.captured_queries)
    for _ in range(10):
        MembershipFactory(organisation=personas.organisation, role=Role.PREPARER)
        InvitationFactory(organisation=personas.organisation)
    with django_assert_max_num_queries(baseline):
        response = client.get(DETAIL)
    assert len(response.context["members"]) == 14


# --- edit organisation ---------------------------------------------------------------------


def test_owner_edits_the_organisation(personas):
    client = login(personas.owner, personas.organisation)
    assert client.get(reverse("accounts:organisation_update")).status_code == 200
    response = client.post(
        reverse("accounts:organisation_update"),
        {
            "kind": "operator",
            "name": "New name",
            "country": "AT",
            "eori": "at 12345",
            "registration_number": "",
            "address": "",
        },
    )
    assert response.status_code == 302
    personas.organisation.refresh_from_db()
    assert (personas.organisation.name, personas.organisation.country, personas.organisation.eori) == (
        "New name",
        "AT",
        "AT12345",
    )
    assert personas.organisation.kind == "declarant"


def test_organisation_edit_shows_duplicate_eori_errors(personas):
    response = login(personas.owner, personas.organisation).post(
        reverse("accounts:organisation_update"),
        {"name": "X", "country": "DE", "eori": personas.other_organisation.eori},
    )
    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["eori"][0]


@pytest.mark.parametrize("persona", ["viewer", "preparer", "reviewer"])
def test_non_admins_cannot_edit_the_organisation(personas, persona):
    client = login(getattr(personas, persona), personas.organisation)
    assert client.get(reverse("accounts:organisation_update")).status_code == 403
    assert (
        client.post(reverse("accounts:organisation_update"), {"name": "Hacked", "country": "DE"}).status_code
        == 403
    )
    personas.organisation.refresh_from_db()
    assert personas.organisation.name != "Hacked"


# --- members -------------------------------------------------------------------------------


def test_owner_changes_a_members_role(personas):
    membership = member_of(personas, personas.viewer)
    response = login(personas.owner, personas.organisation).post(
        reverse("accounts:membership_change_role", args=[membership.pk]), {"role": "reviewer"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


def test_viewer_cannot_change_roles(personas):
    membership = member_of(personas, personas.viewer)
    response = login(personas.viewer, personas.organisation).post(
        reverse("accounts:membership_change_role", args=[membership.pk]), {"role": "admin"}
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_outsider_cannot_touch_another_organisations_members(personas):
    membership = member_of(personas, personas.viewer)
    client = login(personas.outsider, personas.other_organisation)
    assert (
        client.post(
            reverse("accounts:membership_change_role", args=[membership.pk]), {"role": "admin"}
        ).status_code
        == 404
    )
    assert client.post(reverse("accounts:membership_remove", args=[membership.pk])).status_code == 404
    assert Membership.objects.filter(pk=membership.pk, role=Role.VIEWER).exists()


def test_last_admin_demotion_shows_a_clear_error(personas):
    membership = member_of(personas, personas.owner)
    client = login(personas.owner, personas.organisation)
    response = client.post(
        reverse("accounts:membership_change_role", args=[membership.pk]), {"role": "viewer"}, follow=True
    )
    assert "last administrator" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_last_admin_cannot_leave(personas):
    membership = member_of(personas, personas.owner)
    response = login(personas.owner, personas.organisation).post(
        reverse("accounts:membership_remove", args=[membership.pk]), follow=True
    )
    assert "last administrator" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_owner_removes_a_member(personas):
    membership = member_of(personas, personas.preparer)
    response = login(personas.owner, personas.organisation).post(
        reverse("accounts:membership_remove", args=[membership.pk])
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_viewer_cannot_remove_others_but_can_leave(personas):
    client = login(personas.viewer, personas.organisation)
    owner_membership = member_of(personas, personas.owner)
    assert client.post(reverse("accounts:membership_remove", args=[owner_membership.pk])).status_code == 403
    own = member_of(personas, personas.viewer)
    response = client.post(reverse("accounts:membership_remove", args=[own.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=own.pk).exists()


# --- invitations ---------------------------------------------------------------------------


def test_owner_invites_by_email(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(personas.owner, personas.organisation).post(
            reverse("accounts:invitation_create"), {"email": "new@example.test", "role": "preparer"}
        )
    assert response.status_code == 302
    assert Invitation.objects.filter(organisation=personas.organisation, email="new@example.test").exists()
    assert len(mail.outbox) == 1
    assert "/organisations/invitations/" in mail.outbox[0].body


def test_inviting_a_member_shows_the_error_next_to_the_email(personas):
    response = login(personas.owner, personas.organisation).post(
        reverse("accounts:invitation_create"), {"email": personas.viewer.email, "role": "viewer"}
    )
    assert response.status_code == 400
    assert "already a member" in response.context["invite_form"].errors["email"][0]


def test_viewer_cannot_invite(personas):
    response = login(personas.viewer, personas.organisation).post(
        reverse("accounts:invitation_create"), {"email": "x@example.test", "role": "admin"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_owner_revokes_an_invitation_and_others_cannot(personas):
    invitation = InvitationFactory(organisation=personas.organisation)
    url = reverse("accounts:invitation_revoke", args=[invitation.pk])
    assert login(personas.viewer, personas.organisation).post(url).status_code == 403
    assert login(personas.outsider, personas.other_organisation).post(url).status_code == 404
    assert login(personas.owner, personas.organisation).post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


# --- accepting -----------------------------------------------------------------------------


def test_anonymous_invitee_is_prompted_to_sign_in_or_up_and_comes_back(personas):
    invitation = InvitationFactory(organisation=personas.organisation)
    url = reverse("accounts:invitation_accept", args=[invitation.token])
    response = Client().get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{reverse('account_login')}?next={url}" in html
    assert f"{reverse('account_signup')}?next=" in html


def test_invitee_signs_up_from_the_link_and_accepts(personas):
    invitation = InvitationFactory(
        organisation=personas.organisation, email="fresh@example.test", role=Role.REVIEWER
    )
    url = reverse("accounts:invitation_accept", args=[invitation.token])
    client = Client()
    response = client.post(
        f"{reverse('account_signup')}?next={url}",
        {
            "email": "fresh@example.test",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="fresh@example.test")
    assert (membership.organisation, membership.role) == (personas.organisation, Role.REVIEWER)
    assert client.session[SESSION_KEY] == personas.organisation.pk


def test_accepting_a_used_invitation_says_so(personas):
    invitee = UserFactory()
    invitation = InvitationFactory(
        organisation=personas.organisation, email=invitee.email, accepted_at=timezone.now()
    )
    response = login(invitee).post(reverse("accounts:invitation_accept", args=[invitation.token]))
    assert response.status_code == 400
    assert "already been used" in response.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()


def test_accepting_an_expired_invitation_says_so(personas):
    invitee = UserFactory()
    invitation = InvitationFactory(
        organisation=personas.organisation, email=invitee.email, expires_at=timezone.now() - timedelta(days=1)
    )
    client = login(invitee)
    assert (
        "expired"
        in client.get(reverse("accounts:invitation_accept", args=[invitation.token])).content.decode()
    )
    response = client.post(reverse("accounts:invitation_accept", args=[invitation.token]))
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_accepting_with_another_email_names_both_addresses(personas):
    invitation = InvitationFactory(organisation=personas.organisation, email="invited@example.test")
    response = login(personas.outsider).post(reverse("accounts:invitation_accept", args=[invitation.token]))
    assert response.status_code == 400
    assert "invited@example.test" in response.content.decode()
    assert personas.outsider.email in response.content.decode()


def test_unknown_invitation_token_is_404(db):
    assert Client().get(reverse("accounts:invitation_accept", args=["does-not-exist"])).status_code == 404


# --- represented importers -----------------------------------------------------------------


def test_representative_admin_adds_and_removes_an_importer(representative_personas):
    org = representative_personas["organisation"]
    client = login(representative_personas["owner"], org)
    page = client.get(DETAIL).content.decode()
    assert reverse("accounts:representation_create") in page
    response = client.post(
        reverse("accounts:representation_create"), {"name": "Importer SA", "eori": "fr123", "country": "FR"}
    )
    assert response.status_code == 302
    representation = Representation.objects.get(representative=org)
    assert representation.importer.eori == "FR123"
    assert "Importer SA" in client.get(DETAIL).content.decode()
    response = client.post(reverse("accounts:representation_remove", args=[representation.pk]))
    assert response.status_code == 302
    assert not Representation.objects.filter(pk=representation.pk).exists()


def test_adding_an_importer_with_a_bad_eori_shows_the_error(representative_personas):
    client = login(representative_personas["owner"], representative_personas["organisation"])
    response = client.post(
        reverse("accounts:representation_create"), {"name": "X", "eori": "F", "country": "FR"}
    )
    assert response.status_code == 400
    assert "not a valid EORI" in response.context["representation_form"].errors["eori"][0]
    assert not Representation.objects.exists()


def test_representative_viewer_sees_importers_read_only(representative_personas):
    org = representative_personas["organisation"]
    representation = RepresentationFactory(representative=org)
    client = login(representative_personas["viewer"], org)
    html = client.get(DETAIL).content.decode()
    assert representation.importer.name in html
    assert reverse("accounts:representation_create") not in html
    assert (
        client.post(
            reverse("accounts:representation_create"), {"name": "X", "eori": "FR1", "country": "FR"}
        ).status_code
        == 403
    )
    assert client.post(reverse("accounts:representation_remove", args=[representation.pk])).status_code == 403


def test_outsider_cannot_remove_another_representatives_importer(representative_personas):
    representation = RepresentationFactory(representative=representative_personas["organisation"])
    outsider = representative_personas["outsider"]
    client = login(outsider, outsider.memberships.get().organisation)
    assert client.post(reverse("accounts:representation_remove", args=[representation.pk])).status_code == 404
    assert Representation.objects.filter(pk=representation.pk).exists()


def test_declarants_have_no_importer_pages(personas):
    client = login(personas.owner, personas.organisation)
    assert (
        client.post(
            reverse("accounts:representation_create"), {"name": "X", "eori": "FR1", "country": "FR"}
        ).status_code
        == 404
    )


# --- API keys ------------------------------------------------------------------------------


def test_owner_creates_an_api_key_and_sees_it_once(personas):
    client = login(personas.owner, personas.organisation)
    response = client.post(reverse("accounts:api_key_create"), {"name": "ERP", "role": "viewer"})
    assert response.status_code == 200
    full_key = response.context["new_key"]["key"]
    html = response.content.decode()
    assert full_key in html
    assert "shown only once" in html
    api_key = ApiKey.objects.get(organisation=personas.organisation)
    assert full_key.startswith(f"cbam_{api_key.prefix}_")
    again = client.get(reverse("accounts:api_key_list")).content.decode()
    assert full_key not in again
    assert f"cbam_{api_key.prefix}_" in again


def test_api_key_form_refuses_an_admin_role(personas):
    response = login(personas.owner, personas.organisation).post(
        reverse("accounts:api_key_create"), {"name": "K", "role": "admin"}
    )
    assert response.status_code == 400
    assert "role" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_viewer_lists_api_keys_read_only_and_cannot_create_or_revoke(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    client = login(personas.viewer, personas.organisation)
    html = client.get(reverse("accounts:api_key_list")).content.decode()
    assert api_key.prefix in html
    assert reverse("accounts:api_key_create") not in html
    assert client.post(reverse("accounts:api_key_create"), {"name": "K", "role": "viewer"}).status_code == 403
    assert client.post(reverse("accounts:api_key_revoke", args=[api_key.pk])).status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_owner_revokes_an_api_key_but_outsider_gets_404(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    url = reverse("accounts:api_key_revoke", args=[api_key.pk])
    assert login(personas.outsider, personas.other_organisation).post(url).status_code == 404
    assert login(personas.owner, personas.organisation).post(url).status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_outsider_does_not_see_another_organisations_keys(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    html = (
        login(personas.outsider, personas.other_organisation)
        .get(reverse("accounts:api_key_list"))
        .content.decode()
    )
    assert api_key.prefix not in html


def test_api_key_page_query_count_is_constant(personas, django_assert_max_num_queries):
    client = login(personas.owner, personas.organisation)
    ApiKeyFactory(organisation=personas.organisation, created_by=personas.owner)
    with django_assert_max_num_queries(12) as ctx:
        client.get(reverse("accounts:api_key_list"))
    for _ in range(10):
        ApiKeyFactory(organisation=personas.organisation, created_by=UserFactory())
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get(reverse("accounts:api_key_list"))


def test_representative_member_acting_for_an_importer_sees_it_read_only():
    representation = RepresentationFactory()
    admin = MembershipFactory(organisation=representation.representative, role=Role.ADMIN).user
    client = login(admin, representation.importer)
    response = client.get(DETAIL)
    html = response.content.decode()
    assert response.status_code == 200
    assert representation.importer.name in html
    assert f"through {representation.representative.name}" in html
    assert reverse("accounts:invitation_create") not in html
    assert client.get(reverse("accounts:organisation_update")).status_code == 403
    assert client.post(reverse("accounts:api_key_create"), {"name": "K", "role": "viewer"}).status_code == 403
