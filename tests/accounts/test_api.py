import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cbam_portal.accounts.models import ApiKey, Invitation, Membership, Representation
from cbam_portal.accounts.policy import Role
from tests.conftest import api_login
from tests.factories import MembershipFactory, RepresentationFactory

from .factories import ApiKeyFactory, InvitationFactory

pytestmark = pytest.mark.django_db

ORG = reverse("api:organisation-current")
MEMBERS = reverse("api:member-list")
INVITATIONS = reverse("api:invitation-list")
KEYS = reverse("api:api-key-list")
REPRESENTATIONS = reverse("api:representation-list")


def key_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.full_key}")
    return client


def member_of(personas, user) -> Membership:
    return Membership.objects.get(user=user, organisation=personas.organisation)


# --- API key authentication ----------------------------------------------------------------


def test_api_key_authenticates_and_acts_for_its_organisation(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation, role=Role.VIEWER)
    response = key_client(api_key).get(ORG)
    assert response.status_code == 200
    assert response.json()["id"] == personas.organisation.pk
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_bearer_scheme_is_accepted_too(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.full_key}")
    assert client.get(ORG).status_code == 200


def test_revoked_api_key_is_rejected(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation, revoked_at=timezone.now())
    response = key_client(api_key).get(ORG)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize("raw", ["cbam_nothex_abc", "not-a-key", "cbam_0123abcd_short"])
def test_malformed_api_key_is_401(db, raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = client.get(ORG)
    assert response.status_code == 401
    assert response.json()["detail"] == "Malformed API key."


def test_wrong_secret_is_401(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key cbam_{api_key.prefix}_{'x' * 43}")
    assert client.get(ORG).status_code == 401


def test_unauthenticated_requests_are_rejected(db):
    assert APIClient().get(MEMBERS).status_code in (401, 403)


def test_api_key_of_another_organisation_only_ever_sees_its_own(personas):
    other_key = ApiKeyFactory(organisation=personas.other_organisation, role=Role.PREPARER)
    own_key = ApiKeyFactory(organisation=personas.organisation)
    client = key_client(other_key)
    assert client.get(ORG).json()["id"] == personas.other_organisation.pk
    emails = {m["email"] for m in client.get(MEMBERS).json()["results"]}
    assert emails == {personas.outsider.email}
    # Naming the other organisation changes nothing for a key.
    response = client.get(MEMBERS, HTTP_X_ORGANISATION=str(personas.organisation.pk))
    assert {m["email"] for m in response.json()["results"]} == {personas.outsider.email}
    assert (
        client.get(reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk])).status_code
        == 404
    )
    assert client.get(reverse("api:api-key-detail", args=[own_key.pk])).status_code == 404
    assert client.post(reverse("api:api-key-revoke", args=[own_key.pk])).status_code in (403, 404)
    own_key.refresh_from_db()
    assert own_key.revoked_at is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.PREPARER])
def test_api_keys_cannot_administer_the_organisation(personas, role):
    api_key = ApiKeyFactory(organisation=personas.organisation, role=role)
    client = key_client(api_key)
    assert client.patch(ORG, {"name": "Hacked"}).status_code == 403
    assert client.post(INVITATIONS, {"email": "x@example.test", "role": "admin"}).status_code == 403
    assert client.post(KEYS, {"name": "more", "role": "preparer"}).status_code == 403
    assert (
        client.delete(
            reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk])
        ).status_code
        == 403
    )
    assert not Invitation.objects.exists()
    assert ApiKey.objects.count() == 1


def test_viewer_role_key_cannot_write(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation, role=Role.VIEWER)
    client = key_client(api_key)
    assert client.get(MEMBERS).status_code == 200
    response = client.patch(
        reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk]), {"role": "admin"}
    )
    assert response.status_code == 403
    assert member_of(personas, personas.viewer).role == Role.VIEWER


# --- organisation --------------------------------------------------------------------------


def test_members_read_the_current_organisation(personas):
    for user in (personas.owner, personas.viewer):
        response = api_login(user, personas.organisation).get(ORG)
        assert response.status_code == 200
        assert response.json()["eori"] == personas.organisation.eori


def test_owner_patches_the_organisation_and_eori_is_normalised(personas):
    response = api_login(personas.owner, personas.organisation).patch(
        ORG, {"name": "New", "eori": "de 777"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["eori"] == "DE777"
    personas.organisation.refresh_from_db()
    assert personas.organisation.name == "New"


@pytest.mark.parametrize("eori", ["DE", "D1234", "DE1234567890123456"])
def test_patch_with_a_bad_eori_is_400_with_the_field_path(personas, eori):
    response = api_login(personas.owner, personas.organisation).patch(ORG, {"eori": eori}, format="json")
    assert response.status_code == 400
    assert "not a valid EORI" in response.json()["eori"][0]


def test_patch_with_a_duplicate_eori_names_it(personas):
    eori = personas.other_organisation.eori
    response = api_login(personas.owner, personas.organisation).patch(ORG, {"eori": eori}, format="json")
    assert response.status_code == 400
    assert response.json() == {"eori": [f"An organisation with EORI {eori} already exists."]}


def test_kind_is_read_only_in_the_api(personas):
    response = api_login(personas.owner, personas.organisation).patch(
        ORG, {"kind": "operator"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["kind"] == "declarant"


def test_viewer_cannot_patch_the_organisation(personas):
    response = api_login(personas.viewer, personas.organisation).patch(ORG, {"name": "Nope"}, format="json")
    assert response.status_code == 403


def test_outsider_naming_another_organisation_gets_404(personas):
    client = api_login(personas.outsider, personas.other_organisation)
    assert client.get(ORG, HTTP_X_ORGANISATION=str(personas.organisation.pk)).status_code == 404
    assert client.get(MEMBERS, HTTP_X_ORGANISATION=str(personas.organisation.pk)).status_code == 404
    assert client.get(ORG).json()["id"] == personas.other_organisation.pk


# --- members -------------------------------------------------------------------------------


def test_members_list_for_owner_and_viewer(personas):
    for user in (personas.owner, personas.viewer):
        response = api_login(user, personas.organisation).get(MEMBERS)
        assert response.status_code == 200
        assert {m["email"] for m in response.json()["results"]} == {
            personas.owner.email,
            personas.viewer.email,
            personas.preparer.email,
            personas.reviewer.email,
        }


def test_members_list_query_count_is_constant(personas, django_assert_max_num_queries):
    client = api_login(personas.owner, personas.organisation)
    client.get(MEMBERS)
    with django_assert_max_num_queries(10) as ctx:
        client.get(MEMBERS)
    for _ in range(15):
        MembershipFactory(organisation=personas.organisation, role=Role.VIEWER)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        response = client.get(MEMBERS)
    assert response.json()["count"] == 19


def test_owner_changes_a_role_through_the_api(personas):
    url = reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk])
    response = api_login(personas.owner, personas.organisation).patch(
        url, {"role": "preparer"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "preparer"


def test_role_change_validates_the_role(personas):
    url = reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk])
    response = api_login(personas.owner, personas.organisation).patch(url, {"role": "god"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()


def test_last_admin_removal_is_refused_with_a_message(personas):
    client = api_login(personas.owner, personas.organisation)
    url = reverse("api:member-detail", args=[member_of(personas, personas.owner).pk])
    response = client.delete(url)
    assert response.status_code == 400
    assert "last administrator" in response.json()["non_field_errors"][0]
    response = client.patch(url, {"role": "viewer"}, format="json")
    assert response.status_code == 400
    assert "last administrator" in response.json()["role"][0]


def test_viewer_cannot_change_roles_or_remove_others_but_can_leave(personas):
    client = api_login(personas.viewer, personas.organisation)
    owner_url = reverse("api:member-detail", args=[member_of(personas, personas.owner).pk])
    assert client.patch(owner_url, {"role": "viewer"}, format="json").status_code == 403
    assert client.delete(owner_url).status_code == 403
    own_url = reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk])
    assert client.delete(own_url).status_code == 204
    assert not Membership.objects.filter(user=personas.viewer).exists()


def test_owner_removes_a_member_through_the_api(personas):
    url = reverse("api:member-detail", args=[member_of(personas, personas.preparer).pk])
    assert api_login(personas.owner, personas.organisation).delete(url).status_code == 204
    assert not Membership.objects.filter(user=personas.preparer).exists()


def test_outsider_gets_404_for_another_organisations_member(personas):
    url = reverse("api:member-detail", args=[member_of(personas, personas.viewer).pk])
    client = api_login(personas.outsider, personas.other_organisation)
    assert client.get(url).status_code == 404
    assert client.patch(url, {"role": "admin"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404


# --- invitations ---------------------------------------------------------------------------


def test_owner_creates_an_invitation_and_gets_the_link_once(personas, django_capture_on_commit_callbacks):
    client = api_login(personas.owner, personas.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITATIONS, {"email": "api@example.test", "role": "reviewer"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert "/organisations/invitations/" in body["accept_url"]
    assert len(mail.outbox) == 1
    listed = client.get(INVITATIONS).json()["results"]
    assert [i["email"] for i in listed] == ["api@example.test"]
    assert "accept_url" not in listed[0]


def test_invitation_create_errors_have_field_paths(personas):
    client = api_login(personas.owner, personas.organisation)
    response = client.post(INVITATIONS, {"email": "not-an-email", "role": "boss"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "role"}
    response = client.post(INVITATIONS, {"email": personas.viewer.email, "role": "viewer"}, format="json")
    assert response.status_code == 400
    assert "already a member" in response.json()["email"][0]


def test_viewer_lists_but_cannot_create_or_revoke_invitations(personas):
    invitation = InvitationFactory(organisation=personas.organisation)
    client = api_login(personas.viewer, personas.organisation)
    assert client.get(INVITATIONS).status_code == 200
    assert (
        client.post(INVITATIONS, {"email": "x@example.test", "role": "viewer"}, format="json").status_code
        == 403
    )
    assert client.delete(reverse("api:invitation-detail", args=[invitation.pk])).status_code == 403
    assert client.post(reverse("api:invitation-revoke", args=[invitation.pk])).status_code == 403


def test_owner_revokes_invitations_via_delete_or_post(personas):
    first = InvitationFactory(organisation=personas.organisation)
    second = InvitationFactory(organisation=personas.organisation)
    client = api_login(personas.owner, personas.organisation)
    assert client.delete(reverse("api:invitation-detail", args=[first.pk])).status_code == 204
    response = client.post(reverse("api:invitation-revoke", args=[second.pk]))
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert Invitation.objects.filter(revoked_at__isnull=False).count() == 2


def test_outsider_cannot_see_or_revoke_invitations(personas):
    invitation = InvitationFactory(organisation=personas.organisation)
    client = api_login(personas.outsider, personas.other_organisation)
    assert client.get(INVITATIONS).json()["results"] == []
    assert client.delete(reverse("api:invitation-detail", args=[invitation.pk])).status_code == 404


# --- API keys ------------------------------------------------------------------------------


def test_owner_creates_a_key_through_the_api_and_it_works(personas):
    client = api_login(personas.owner, personas.organisation)
    response = client.post(KEYS, {"name": "ERP", "role": "viewer"}, format="json")
    assert response.status_code == 201
    key = response.json()["key"]
    assert key.startswith("cbam_")
    listed = client.get(KEYS).json()["results"]
    assert "key" not in listed[0]
    assert listed[0]["created_by"] == personas.owner.email
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert fresh.get(ORG).json()["id"] == personas.organisation.pk


def test_api_key_role_is_limited(personas):
    response = api_login(personas.owner, personas.organisation).post(
        KEYS, {"name": "K", "role": "admin"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.json()


def test_owner_revokes_keys_and_they_stop_working(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    client = api_login(personas.owner, personas.organisation)
    response = client.post(reverse("api:api-key-revoke", args=[api_key.pk]))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert key_client(api_key).get(ORG).status_code == 401
    other = ApiKeyFactory(organisation=personas.organisation)
    assert client.delete(reverse("api:api-key-detail", args=[other.pk])).status_code == 204


def test_viewer_lists_keys_but_cannot_create_or_revoke(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    client = api_login(personas.viewer, personas.organisation)
    assert client.get(KEYS).status_code == 200
    assert client.post(KEYS, {"name": "K", "role": "viewer"}, format="json").status_code == 403
    assert client.delete(reverse("api:api-key-detail", args=[api_key.pk])).status_code == 403


def test_outsider_cannot_revoke_another_organisations_key(personas):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    client = api_login(personas.outsider, personas.other_organisation)
    assert client.post(reverse("api:api-key-revoke", args=[api_key.pk])).status_code == 404
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


# --- representations -----------------------------------------------------------------------


def test_representative_admin_manages_importers_through_the_api(representative_personas):
    org = representative_personas["organisation"]
    client = api_login(representative_personas["owner"], org)
    response = client.post(REPRESENTATIONS, {"name": "Imp", "eori": "it 123", "country": "IT"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["importer"]["eori"] == "IT123"
    listed = client.get(REPRESENTATIONS).json()["results"]
    assert [r["importer"]["name"] for r in listed] == ["Imp"]
    assert client.delete(reverse("api:representation-detail", args=[listed[0]["id"]])).status_code == 204
    assert not Representation.objects.exists()


def test_representation_create_reports_bad_eori_by_field(representative_personas):
    client = api_login(representative_personas["owner"], representative_personas["organisation"])
    response = client.post(REPRESENTATIONS, {"name": "Imp", "eori": "I", "country": "IT"}, format="json")
    assert response.status_code == 400
    assert "eori" in response.json()
    response = client.post(REPRESENTATIONS, {"name": "Imp", "eori": "IT1", "country": "ZZ"}, format="json")
    assert response.status_code == 400
    assert "country" in response.json()


def test_representative_viewer_reads_but_cannot_add_importers(representative_personas):
    org = representative_personas["organisation"]
    representation = RepresentationFactory(representative=org)
    client = api_login(representative_personas["viewer"], org)
    assert client.get(REPRESENTATIONS).json()["count"] == 1
    assert (
        client.post(REPRESENTATIONS, {"name": "X", "eori": "IT9", "country": "IT"}, format="json").status_code
        == 403
    )
    assert client.delete(reverse("api:representation-detail", args=[representation.pk])).status_code == 403


def test_outsider_cannot_remove_another_representatives_importer_via_api(representative_personas):
    representation = RepresentationFactory(representative=representative_personas["organisation"])
    outsider = representative_personas["outsider"]
    client = api_login(outsider, outsider.memberships.get().organisation)
    assert client.get(REPRESENTATIONS).json()["count"] == 0
    assert client.delete(reverse("api:representation-detail", args=[representation.pk])).status_code == 404


def test_representations_do_not_exist_for_declarants(personas):
    assert api_login(personas.owner, personas.organisation).get(REPRESENTATIONS).status_code == 404


def test_openapi_schema_includes_the_accounts_endpoints(personas):
    response = api_login(personas.owner, personas.organisation).get(
        reverse("api-schema"), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    paths = (
        response.json()["paths"]
        if response["Content-Type"].startswith("application/json")
        else response.content.decode()
    )
    for path in (
        "/api/v1/members/",
        "/api/v1/invitations/",
        "/api/v1/api-keys/",
        "/api/v1/organisations/current/",
    ):
        assert path in paths
