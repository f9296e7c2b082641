from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cbam_portal.accounts import services
from cbam_portal.accounts.access import access_for
from cbam_portal.accounts.api_keys import parse_api_key, secret_matches
from cbam_portal.accounts.models import Invitation, Membership, Organisation, OrganisationKind, Representation
from cbam_portal.accounts.policy import Role
from cbam_portal.core.models import AuditEvent
from tests.factories import MembershipFactory, OrganisationFactory, RepresentativeFactory, UserFactory

from .factories import ApiKeyFactory, InvitationFactory

pytestmark = pytest.mark.django_db


def error_text(exc_info) -> str:
    return " ".join(exc_info.value.messages)


# --- organisation_create -------------------------------------------------------------------


def test_organisation_create_makes_the_actor_admin_and_audits(user, actor_of):
    org = services.organisation_create(
        actor=actor_of(user),
        kind=OrganisationKind.DECLARANT,
        name=" Acme Import GmbH ",
        country="de",
        eori="de 1234 5678 9012",
    )
    assert org.name == "Acme Import GmbH"
    assert org.country == "DE"
    assert org.eori == "DE123456789012"
    assert Membership.objects.get(user=user, organisation=org).role == Role.ADMIN
    event = AuditEvent.objects.get(verb="organisation.created", organisation=org)
    assert event.actor == user
    assert event.after["eori"] == "DE123456789012"


@pytest.mark.parametrize("eori", ["DE", "D1234", "DE1234567890123456", "DE-123", "12345678"])
def test_organisation_create_rejects_a_malformed_eori(user, actor_of, eori):
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_create(
            actor=actor_of(user), kind="declarant", name="X", country="DE", eori=eori
        )
    assert "eori" in exc_info.value.message_dict
    assert "not a valid EORI" in error_text(exc_info)
    assert not Organisation.objects.exists()


def test_organisation_create_accepts_seventeen_characters_but_not_eighteen(user, actor_of):
    org = services.organisation_create(
        actor=actor_of(user), kind="declarant", name="X", country="DE", eori="DE123456789012345"
    )
    assert len(org.eori) == 17
    with pytest.raises(ValidationError):
        services.organisation_create(
            actor=actor_of(user), kind="declarant", name="Y", country="DE", eori="DE1234567890123456"
        )


@pytest.mark.parametrize("kind", [OrganisationKind.DECLARANT, OrganisationKind.REPRESENTATIVE])
def test_eori_is_required_for_eu_declarants_and_representatives(user, actor_of, kind):
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_create(actor=actor_of(user), kind=kind, name="X", country="NL")
    assert "EORI number is required" in exc_info.value.message_dict["eori"][0]


def test_operators_need_no_eori(user, actor_of):
    org = services.organisation_create(
        actor=actor_of(user), kind="operator", name="Steel Works", country="TR"
    )
    assert org.eori == ""


def test_duplicate_eori_is_refused_with_a_clear_message(user, actor_of):
    OrganisationFactory(eori="DE999")
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_create(
            actor=actor_of(user), kind="declarant", name="X", country="DE", eori="de999"
        )
    assert exc_info.value.message_dict["eori"] == ["An organisation with EORI DE999 already exists."]
    assert not Membership.objects.filter(user=user).exists()


def test_unknown_country_is_refused(user, actor_of):
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_create(actor=actor_of(user), kind="operator", name="X", country="XX")
    assert "country" in exc_info.value.message_dict


def test_organisation_update_records_before_and_after(personas, actor_of):
    org = personas.organisation
    old_name = org.name
    services.organisation_update(
        actor=actor_of(personas.owner), organisation=org, name="Renamed", address="Street 1"
    )
    org.refresh_from_db()
    assert org.name == "Renamed"
    event = AuditEvent.objects.get(verb="organisation.updated")
    assert event.before == {"name": old_name, "address": ""}
    assert event.after == {"name": "Renamed", "address": "Street 1"}


def test_organisation_update_refuses_another_organisations_eori(personas, actor_of):
    other_eori = personas.other_organisation.eori
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_update(
            actor=actor_of(personas.owner), organisation=personas.organisation, eori=other_eori
        )
    assert f"An organisation with EORI {other_eori} already exists." in exc_info.value.message_dict["eori"]


def test_organisation_update_cannot_change_the_kind(personas, actor_of):
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_update(
            actor=actor_of(personas.owner), organisation=personas.organisation, kind="operator"
        )
    assert "kind" in exc_info.value.message_dict


# --- invitations ---------------------------------------------------------------------------


def test_invitation_create_stores_only_the_hash_and_emails_the_link_on_commit(
    personas, actor_of, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invitation_create(
            actor=actor_of(personas.owner),
            organisation=personas.organisation,
            email="New.Person@Example.test",
            role=Role.PREPARER,
        )
    assert invitation.email == "new.person@example.test"
    assert invitation.token_hash == services.hash_invitation_token(token)
    assert token not in invitation.token_hash
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.test"]
    assert f"/organisations/invitations/{token}/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(verb="invitation.created", organisation=personas.organisation).exists()


def test_invitation_email_is_not_sent_when_the_transaction_rolls_back(
    personas, actor_of, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.invitation_create(
            actor=actor_of(personas.owner),
            organisation=personas.organisation,
            email="a@example.test",
            role="viewer",
        )
        raise RuntimeError
    assert callbacks == []
    assert mail.outbox == []


def test_invitation_of_an_existing_member_is_refused(personas, actor_of):
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_create(
            actor=actor_of(personas.owner),
            organisation=personas.organisation,
            email=personas.viewer.email.upper(),
            role="viewer",
        )
    assert "already a member" in exc_info.value.message_dict["email"][0]


def test_second_pending_invitation_for_the_same_email_is_refused(personas, actor_of):
    InvitationFactory(organisation=personas.organisation, email="twice@example.test")
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_create(
            actor=actor_of(personas.owner),
            organisation=personas.organisation,
            email="twice@example.test",
            role="viewer",
        )
    assert "pending invitation" in exc_info.value.message_dict["email"][0]


def test_an_expired_invitation_does_not_block_a_new_one(personas, actor_of):
    InvitationFactory(
        organisation=personas.organisation,
        email="again@example.test",
        expires_at=timezone.now() - timedelta(days=1),
    )
    invitation, _ = services.invitation_create(
        actor=actor_of(personas.owner),
        organisation=personas.organisation,
        email="again@example.test",
        role="viewer",
    )
    assert invitation.status == "pending"


def test_invitation_with_unknown_role_is_refused(personas, actor_of):
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_create(
            actor=actor_of(personas.owner),
            organisation=personas.organisation,
            email="x@example.test",
            role="boss",
        )
    assert "role" in exc_info.value.message_dict


def test_invitation_accept_creates_the_membership_once(personas, actor_of):
    invitee = UserFactory(email="invitee@example.test")
    invitation = InvitationFactory(
        organisation=personas.organisation, email="invitee@example.test", role=Role.REVIEWER
    )
    membership = services.invitation_accept(actor=actor_of(invitee), token=invitation.token)
    assert membership.role == Role.REVIEWER
    assert access_for(invitee, personas.organisation.pk).role == Role.REVIEWER
    invitation.refresh_from_db()
    assert invitation.accepted_by == invitee
    assert invitation.status == "accepted"
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_accept(actor=actor_of(invitee), token=invitation.token)
    assert "already been used" in error_text(exc_info)


def test_invitation_accept_explains_an_unknown_token(user, actor_of):
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_accept(actor=actor_of(user), token="nope")
    assert "not valid" in error_text(exc_info)


def test_invitation_accept_explains_an_expired_invitation(personas, actor_of):
    invitee = UserFactory()
    invitation = InvitationFactory(
        organisation=personas.organisation,
        email=invitee.email,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_accept(actor=actor_of(invitee), token=invitation.token)
    assert "expired" in error_text(exc_info)
    assert not Membership.objects.filter(user=invitee).exists()


def test_invitation_accept_explains_a_revoked_invitation(personas, actor_of):
    invitee = UserFactory()
    invitation = InvitationFactory(organisation=personas.organisation, email=invitee.email)
    services.invitation_revoke(actor=actor_of(personas.owner), invitation=invitation)
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_accept(actor=actor_of(invitee), token=invitation.token)
    assert "revoked" in error_text(exc_info)


def test_invitation_accept_refuses_a_different_email_and_says_so(personas, actor_of):
    invitation = InvitationFactory(organisation=personas.organisation, email="someone@example.test")
    wrong = UserFactory(email="other@example.test")
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_accept(actor=actor_of(wrong), token=invitation.token)
    assert "sent to someone@example.test" in error_text(exc_info)
    assert "signed in as other@example.test" in error_text(exc_info)


def test_invitation_accept_refuses_a_duplicate_membership(personas, actor_of):
    invitation = InvitationFactory(organisation=personas.organisation, email=personas.viewer.email)
    with pytest.raises(ValidationError) as exc_info:
        services.invitation_accept(actor=actor_of(personas.viewer), token=invitation.token)
    assert "already a member" in error_text(exc_info)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_duplicate_membership_is_also_refused_by_the_database(personas):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=personas.viewer, organisation=personas.organisation, role=Role.ADMIN)


def test_an_accepted_invitation_cannot_be_revoked(personas, actor_of):
    invitee = UserFactory()
    invitation = InvitationFactory(organisation=personas.organisation, email=invitee.email)
    services.invitation_accept(actor=actor_of(invitee), token=invitation.token)
    with pytest.raises(ValidationError):
        services.invitation_revoke(actor=actor_of(personas.owner), invitation=invitation)


# --- memberships ---------------------------------------------------------------------------


def test_the_last_admin_cannot_be_demoted(personas, actor_of):
    membership = Membership.objects.get(user=personas.owner, organisation=personas.organisation)
    with pytest.raises(ValidationError) as exc_info:
        services.membership_change_role(
            actor=actor_of(personas.owner), membership=membership, role=Role.VIEWER
        )
    assert "last administrator" in exc_info.value.message_dict["role"][0]
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_the_last_admin_cannot_be_removed_or_leave(personas, actor_of):
    membership = Membership.objects.get(user=personas.owner, organisation=personas.organisation)
    with pytest.raises(ValidationError) as exc_info:
        services.membership_remove(actor=actor_of(personas.owner), membership=membership)
    assert "last administrator" in error_text(exc_info)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_can_be_demoted_when_another_admin_remains(personas, actor_of):
    second = MembershipFactory(organisation=personas.organisation, role=Role.ADMIN)
    owner_membership = Membership.objects.get(user=personas.owner, organisation=personas.organisation)
    services.membership_change_role(
        actor=actor_of(personas.owner), membership=owner_membership, role=Role.VIEWER
    )
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.VIEWER
    event = AuditEvent.objects.get(verb="membership.role_changed")
    assert (event.before, event.after) == ({"role": "admin"}, {"role": "viewer"})
    assert second.role == Role.ADMIN


def test_a_member_can_leave(personas, actor_of):
    membership = Membership.objects.get(user=personas.viewer, organisation=personas.organisation)
    services.membership_remove(actor=actor_of(personas.viewer), membership=membership)
    assert access_for(personas.viewer, personas.organisation.pk) is None
    assert AuditEvent.objects.filter(verb="membership.removed", organisation=personas.organisation).exists()


# --- representations -----------------------------------------------------------------------


def test_representation_create_makes_an_importer_the_representative_acts_for(actor_of):
    representative = RepresentativeFactory()
    admin = MembershipFactory(organisation=representative, role=Role.ADMIN).user
    importer = services.representation_create(
        actor=actor_of(admin),
        representative=representative,
        name="Importer SA",
        eori="fr 123456789",
        country="FR",
    )
    assert importer.kind == OrganisationKind.DECLARANT
    assert importer.eori == "FR123456789"
    assert Representation.objects.filter(representative=representative, importer=importer).exists()
    access = access_for(admin, importer.pk)
    assert access.via == representative
    assert not access.can("manage_members")


def test_representation_create_refuses_a_taken_eori(actor_of):
    representative = RepresentativeFactory()
    admin = MembershipFactory(organisation=representative, role=Role.ADMIN).user
    existing = OrganisationFactory()
    with pytest.raises(ValidationError) as exc_info:
        services.representation_create(
            actor=actor_of(admin), representative=representative, name="Dup", eori=existing.eori, country="DE"
        )
    assert "already exists" in exc_info.value.message_dict["eori"][0]
    assert not Representation.objects.exists()


def test_only_representatives_can_represent(personas, actor_of):
    with pytest.raises(ValidationError):
        services.representation_create(
            actor=actor_of(personas.owner),
            representative=personas.organisation,
            name="X",
            eori="DE55",
            country="DE",
        )


def test_representation_remove_ends_access_but_keeps_the_importer(actor_of):
    representative = RepresentativeFactory()
    admin = MembershipFactory(organisation=representative, role=Role.ADMIN).user
    importer = services.representation_create(
        actor=actor_of(admin),
        representative=representative,
        name="Importer",
        eori="BE0123456789",
        country="BE",
    )
    representation = Representation.objects.get(importer=importer)
    services.representation_remove(actor=actor_of(admin), representation=representation)
    assert access_for(admin, importer.pk) is None
    assert Organisation.objects.filter(pk=importer.pk).exists()


# --- API keys ------------------------------------------------------------------------------


def test_api_key_create_returns_the_full_key_once_and_stores_its_hash(personas, actor_of):
    api_key, full_key = services.api_key_create(
        actor=actor_of(personas.owner), organisation=personas.organisation, name="ERP", role=Role.VIEWER
    )
    prefix, secret = parse_api_key(full_key)
    assert prefix == api_key.prefix
    assert secret_matches(secret, api_key.key_hash)
    assert secret not in api_key.key_hash
    event = AuditEvent.objects.get(verb="api_key.created")
    assert secret not in str(event.after)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REVIEWER, "root"])
def test_api_keys_are_only_preparer_or_viewer(personas, actor_of, role):
    with pytest.raises(ValidationError) as exc_info:
        services.api_key_create(
            actor=actor_of(personas.owner), organisation=personas.organisation, name="K", role=role
        )
    assert "role" in exc_info.value.message_dict


def test_api_key_revoke_sets_revoked_at_once(personas, actor_of):
    api_key = ApiKeyFactory(organisation=personas.organisation)
    services.api_key_revoke(actor=actor_of(personas.owner), api_key=api_key)
    services.api_key_revoke(actor=actor_of(personas.owner), api_key=api_key)
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert AuditEvent.objects.filter(verb="api_key.revoked").count() == 1


def test_invitation_model_status_follows_the_dates(personas):
    invitation = InvitationFactory(organisation=personas.organisation)
    assert invitation.status == "pending"
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    invitation.refresh_from_db()
    assert invitation.status == "expired"
