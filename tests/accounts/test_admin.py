import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cbam_portal.accounts.models import Invitation
from tests.conftest import login
from tests.factories import MembershipFactory, UserFactory

from .factories import ApiKeyFactory, InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    superuser = get_user_model().objects.create_superuser(
        email="root@example.test", password="x-very-secret-1"
    )
    return login(superuser)


@pytest.mark.parametrize(
    "model", ["user", "organisation", "membership", "invitation", "apikey", "representation"]
)
def test_admin_changelists_render(admin_client, model):
    MembershipFactory()
    InvitationFactory()
    ApiKeyFactory()
    assert admin_client.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200


def test_admin_adds_a_user_by_email(admin_client):
    assert admin_client.get(reverse("admin:accounts_user_add")).status_code == 200
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "staff@example.test",
            "full_name": "Staff",
            "usable_password": "true",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert get_user_model().objects.get(email="staff@example.test").check_password("a-long-Passphrase-42")


def test_admin_user_change_page_renders(admin_client):
    user = MembershipFactory().user
    assert admin_client.get(reverse("admin:accounts_user_change", args=[user.pk])).status_code == 200


def test_token_and_key_hashes_are_read_only_in_admin(admin_client):
    invitation = InvitationFactory()
    api_key = ApiKeyFactory()
    html = admin_client.get(
        reverse("admin:accounts_invitation_change", args=[invitation.pk])
    ).content.decode()
    assert 'name="token_hash"' not in html
    assert invitation.token_hash in html
    html = admin_client.get(reverse("admin:accounts_apikey_change", args=[api_key.pk])).content.decode()
    assert 'name="key_hash"' not in html
    assert admin_client.get(reverse("admin:accounts_invitation_add")).status_code == 403
    assert Invitation.objects.count() == 1


def test_non_staff_cannot_open_the_admin(db):
    response = login(UserFactory()).get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302
