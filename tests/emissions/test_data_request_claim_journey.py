"""Claiming a data request from the e-mailed link: a supplier not on the portal signs up, creates
its operator organisation, claims the request into its inbox and answers by sharing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.accounts.policy import Role
from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.models import Supplier
from declarations.services import requests as request_services
from emissions.models import DataRequest, DataRequestStatus, SharingGrant
from emissions.services import data_requests as claim_services
from tests.conftest import api_login, login
from tests.declarations.test_suppliers_support import (  # noqa: F401
    import_reference,
    in_days,
    make_installation,
    make_supplier,
)
from tests.factories import MembershipFactory, OperatorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]

PASSWORD = "a-long-Passphrase-42"
LINK_RE = re.compile(r"http://[^\s]+/emissions/data-requests/link/([0-9a-f]+)/")


def _link_path(token: str) -> str:
    return reverse("emissions:data_request_link", args=[token])


def _send_to_new_supplier(personas, email="sales@newsteel.example"):
    supplier = make_supplier(personas.organisation, name="New Steel", email=email)
    [data_request] = request_services.data_request_send(
        actor=Actor(user=personas.owner),
        organisation=personas.organisation,
        suppliers=[supplier],
        cn_codes="72081000",
        year=2026,
        due_date=in_days(30),
    )
    return supplier, data_request, claim_services.link_token(data_request)


def _operator_admin(name="New Steel Works"):
    operator = OperatorFactory(name=name)
    user = MembershipFactory(organisation=operator, role=Role.ADMIN).user
    return operator, user


def test_a_supplier_signs_up_creates_an_operator_claims_answers_and_the_declarant_sees_it_all(
    personas, django_capture_on_commit_callbacks
):
    declarant = login(personas.owner, personas.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        declarant.post(
            reverse("declarations:supplier_create"),
            {"name": "New Steel", "country": "TR", "email": "sales@newsteel.example"},
        )
        supplier = Supplier.objects.get(name="New Steel")
        response = declarant.post(
            reverse("declarations:data_request_create"),
            {
                "suppliers": [supplier.pk],
                "cn_codes": "72081000",
                "year": 2026,
                "due_date": in_days(30).isoformat(),
            },
        )
    assert response.status_code == 302
    [email] = mail.outbox
    token = LINK_RE.search(email.body).group(1)
    link = _link_path(token)

    # The supplier opens the link before having an account: it is recorded as opened.
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200
    assert f"{reverse('account_signup')}?next={link}" in page.content.decode()
    data_request = DataRequest.objects.get()
    assert data_request.status == DataRequestStatus.OPENED

    # Sign up from the link, come back, learn to create an operator organisation first.
    signed_up = browser.post(
        f"{reverse('account_signup')}?next={link}",
        {"email": "ops@newsteel.example", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert signed_up["Location"] == link
    assert b"Create your operator organisation" in browser.get(link).content
    browser.post(
        reverse("accounts:organisation_create"),
        {"kind": "operator", "name": "New Steel Works", "country": "TR"},
    )
    operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR, name="New Steel Works")
    assert b"Claim the request" in browser.get(link).content

    claimed = browser.post(link, {"organisation": operator.pk})
    assert claimed["Location"] == reverse("emissions:data_request_detail", args=[data_request.pk])
    inbox = browser.get(reverse("emissions:data_request_list"))
    assert (
        f'href="{reverse("emissions:data_request_detail", args=[data_request.pk])}"'.encode() in inbox.content
    )

    installation = make_installation(operator, name="Rolling mill")
    answered = browser.post(
        reverse("emissions:data_request_answer", args=[data_request.pk]), {"installation": installation.pk}
    )
    assert answered.status_code == 302
    data_request.refresh_from_db()
    supplier.refresh_from_db()
    assert data_request.status == DataRequestStatus.ANSWERED and data_request.operator_id == operator.pk
    assert supplier.operator_org_id == operator.pk
    assert SharingGrant.objects.filter(installation=installation, declarant=personas.organisation).exists()

    detail = declarant.get(reverse("declarations:supplier_detail", args=[supplier.pk])).content.decode()
    assert "claimed by New Steel Works" in detail
    assert list(data_request.events.values_list("kind", flat=True)) == [
        "sent",
        "opened",
        "claimed",
        "answered",
    ]
    csv_body = declarant.get(
        reverse("declarations:supplier_evidence_csv", args=[supplier.pk])
    ).content.decode()
    for kind in ("sent", "opened", "claimed", "answered"):
        assert f",{kind}," in csv_body
    assert AuditEvent.objects.filter(verb="data_request.claimed", organisation=personas.organisation).exists()
    assert AuditEvent.objects.filter(
        verb="supplier.linked_by_claim", organisation=personas.organisation
    ).exists()


def test_opening_the_link_twice_records_opened_once(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    Client().get(_link_path(token))
    Client().get(_link_path(token))
    assert list(data_request.events.values_list("kind", flat=True)) == ["sent", "opened"]


def test_a_used_link_is_refused_to_another_operator_without_naming_the_claimant(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    first, first_user = _operator_admin("First Claimant Ltd")
    second, second_user = _operator_admin("Second Operator")
    assert login(first_user, first).post(_link_path(token), {"organisation": first.pk}).status_code == 302

    other = login(second_user, second)
    page = other.get(_link_path(token))
    assert page.status_code == 409
    assert b"already been used" in page.content and b"First Claimant" not in page.content
    refused = other.post(_link_path(token), {"organisation": second.pk})
    assert refused.status_code == 409
    data_request.refresh_from_db()
    assert data_request.operator_id == first.pk
    # The claimant itself is simply taken to the request.
    again = login(first_user, first).get(_link_path(token))
    assert again["Location"] == reverse("emissions:data_request_detail", args=[data_request.pk])


def test_an_expired_or_unknown_link_gives_a_clear_page_and_cannot_be_claimed(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    DataRequest.objects.filter(pk=data_request.pk).update(
        token_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    operator, user = _operator_admin()
    client = login(user, operator)
    expired = client.get(_link_path(token))
    assert expired.status_code == 410 and b"This link has expired" in expired.content
    assert client.post(_link_path(token), {"organisation": operator.pk}).status_code == 410
    with pytest.raises(Exception, match="expired"):
        claim_services.data_request_claim(actor=Actor(user=user), token=token, operator=operator)
    unknown = client.get(_link_path("0" * 64))
    assert unknown.status_code == 404 and b"This link is not valid" in unknown.content
    assert Client().get(_link_path("nope")).status_code == 404
    data_request.refresh_from_db()
    assert data_request.operator_id is None and data_request.claimed_at is None


def test_a_declarant_user_opening_the_link_is_told_an_operator_organisation_is_needed(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    client = login(personas.outsider, personas.other_organisation)
    page = client.get(_link_path(token))
    assert page.status_code == 200
    assert b"not operators" in page.content and b"Create an operator organisation" in page.content
    refused = client.post(_link_path(token), {"organisation": personas.other_organisation.pk})
    assert refused.status_code == 403
    data_request.refresh_from_db()
    assert data_request.operator_id is None


def test_a_read_only_operator_member_cannot_claim_and_anonymous_posts_claim_nothing(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    operator, _admin = _operator_admin()
    viewer = MembershipFactory(organisation=operator, role=Role.VIEWER).user
    client = login(viewer, operator)
    assert b"does not allow claiming" in client.get(_link_path(token)).content
    assert client.post(_link_path(token), {"organisation": operator.pk}).status_code == 403
    assert Client().post(_link_path(token), {"organisation": operator.pk}).status_code == 302
    data_request.refresh_from_db()
    assert data_request.operator_id is None


def test_a_member_cannot_claim_for_an_operator_organisation_it_does_not_belong_to(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    mine, user = _operator_admin("Mine")
    foreign, _other = _operator_admin("Foreign")
    response = login(user, mine).post(_link_path(token), {"organisation": foreign.pk})
    assert response.status_code == 400
    data_request.refresh_from_db()
    assert data_request.operator_id is None


def test_the_claimed_request_is_hidden_from_other_operators_inboxes(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    operator, user = _operator_admin()
    claim_services.data_request_claim(actor=Actor(user=user), token=token, operator=operator)
    other, other_user = _operator_admin("Other")
    client = login(other_user, other)
    assert client.get(reverse("emissions:data_request_detail", args=[data_request.pk])).status_code == 404
    assert b"New Steel" not in client.get(reverse("emissions:data_request_list")).content


def test_claiming_routes_the_suppliers_other_open_requests_to_the_operator(personas):
    supplier, first, token = _send_to_new_supplier(personas)
    [second] = request_services.data_request_send(
        actor=Actor(user=personas.owner),
        organisation=personas.organisation,
        suppliers=[supplier],
        cn_codes="72081000",
        year=2027,
        due_date=in_days(40),
    )
    operator, user = _operator_admin()
    claim_services.data_request_claim(actor=Actor(user=user), token=token, operator=operator)
    second.refresh_from_db()
    assert second.operator_id == operator.pk
    assert second.events.filter(kind="claimed").exists()


def test_a_cancelled_request_cannot_be_claimed(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    request_services.data_request_cancel(
        actor=Actor(user=personas.owner), data_request=data_request, reason="Wrong"
    )
    operator, user = _operator_admin()
    page = login(user, operator).get(_link_path(token))
    assert page.status_code == 410 and b"cancelled" in page.content


# --- API ---------------------------------------------------------------------------------------


CLAIM = "/api/v1/data-requests/claim/"


def test_the_api_claims_a_request_once_and_refuses_reuse_and_bad_tokens(personas):
    _supplier, data_request, token = _send_to_new_supplier(personas)
    operator, user = _operator_admin()
    viewer = MembershipFactory(organisation=operator, role=Role.VIEWER).user
    assert api_login(viewer, operator).post(CLAIM, {"token": token}, format="json").status_code == 403
    assert (
        api_login(personas.owner, personas.organisation)
        .post(CLAIM, {"token": token}, format="json")
        .status_code
        == 404
    )
    bad = api_login(user, operator).post(CLAIM, {"token": "x" * 20}, format="json")
    assert bad.status_code == 400 and "token" in bad.json()

    response = api_login(user, operator).post(CLAIM, {"token": token}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == data_request.pk and body["claimed_at"]
    assert [e["kind"] for e in body["events"]] == ["sent", "opened", "claimed"]

    other, other_user = _operator_admin("Other")
    reused = api_login(other_user, other).post(CLAIM, {"token": token}, format="json")
    assert reused.status_code == 400 and "already been used" in reused.json()["token"][0]
    assert api_login(other_user, other).get(f"/api/v1/data-requests/{data_request.pk}/").status_code == 404
