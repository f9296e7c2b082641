"""Sign-up, sign-in, password reset and TOTP two-factor through django-allauth, in portal templates."""

import re
import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-42"


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client: Client, email: str, password: str = DEFAULT_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_sign_up_creates_a_user_and_signs_them_in():
    client = Client()
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="form-control' in html
    assert "vendor/bootstrap/bootstrap.min.css" in html
    response = client.post(
        reverse("account_signup"),
        {"email": "New.User@Example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email__iexact="new.user@example.test")
    assert client.session["_auth_user_id"] == str(user.pk)
    # No organisation yet: the dashboard sends the new user to create one.
    assert client.get(reverse("core:dashboard"))["Location"] == reverse("accounts:organisation_create")


def test_sign_up_errors_are_shown_next_to_the_fields():
    response = Client().post(
        reverse("account_signup"), {"email": "bad", "password1": "short", "password2": "other"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "is-invalid" in html
    assert "invalid-feedback" in html
    assert not get_user_model().objects.exists()


def test_sign_in_with_email_and_password():
    user = UserFactory()
    client = Client()
    page = client.get(reverse("account_login"))
    assert 'class="card' in page.content.decode()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_with_a_wrong_password_fails_with_a_message():
    user = UserFactory()
    client = Client()
    response = sign_in(client, user.email, "wrong-password-123")
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_working_link():
    user = UserFactory()
    client = Client()
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert sign_in(Client(), user.email, PASSWORD).status_code == 302


def test_enabling_totp_requires_a_valid_code_and_then_sign_in_asks_for_it():
    with time_machine.travel(time.time(), tick=False) as traveller:
        _enable_totp_and_sign_in(traveller)


def _enable_totp_and_sign_in(traveller):
    user = UserFactory()
    client = Client()
    assert sign_in(client, user.email).status_code == 302
    activate = reverse("mfa_activate_totp")
    # Security-sensitive pages ask for the password again first, in the portal layout.
    response = client.get(activate)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert "form-control" in client.get(response["Location"]).content.decode()
    response = client.post(response["Location"], {"password": DEFAULT_PASSWORD})
    assert response["Location"] == activate
    page = client.get(activate)
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert 'class="img-fluid' in page.content.decode()

    wrong = client.post(activate, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    response = client.post(activate, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    fresh = Client()
    response = sign_in(fresh, user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in fresh.session
    page = fresh.get(reverse("mfa_authenticate"))
    assert page.status_code == 200
    assert "form-control" in page.content.decode()
    wrong = fresh.post(reverse("mfa_authenticate"), {"code": "12345"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in fresh.session
    # A code is single use: sign in with the next period's code.
    traveller.shift(30)
    response = fresh.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert fresh.session["_auth_user_id"] == str(user.pk)


def test_mfa_and_account_pages_use_the_portal_layout():
    user = UserFactory()
    client = Client()
    sign_in(client, user.email)
    for name in ("mfa_index", "account_change_password", "account_email"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert 'data-testid="account-tabs"' in html, name
        assert "navbar" in html, name
