"""Cancelling a data request, and the reminder schedule (per request and organisation default)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.models import DataRequestDefaults
from declarations.services import requests as request_services
from emissions.models import DataRequest, DataRequestStatus
from emissions.services.sharing import data_request_answer
from tests.conftest import login

from .test_suppliers_support import (  # noqa: F401
    actor_fixture,
    import_reference,
    in_days,
    make_installation,
    make_supplier,
    operator_fixture,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]

REQUESTS = "/api/v1/supplier-requests/"


def send(personas, actor, suppliers=None, **overrides):
    values = {"cn_codes": "72081000", "year": 2026, "due_date": in_days(14)}
    suppliers = suppliers or [make_supplier(personas.organisation)]
    return request_services.data_request_send(
        actor=actor, organisation=personas.organisation, suppliers=suppliers, **{**values, **overrides}
    )


def kinds(data_request):
    return list(data_request.events.values_list("kind", flat=True))


# --- cancel: service ---------------------------------------------------------------------------


def test_cancelling_records_the_reason_stops_reminders_and_is_audited(
    personas, actor, django_capture_on_commit_callbacks
):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        [data_request] = send(personas, actor, due_date=dt.date(2026, 11, 12))
        with django_capture_on_commit_callbacks(execute=True):
            request_services.data_request_cancel(
                actor=actor, data_request=data_request, reason="Ordered elsewhere", notify_supplier=True
            )
        traveller.move_to(dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 0
    data_request.refresh_from_db()
    assert (
        data_request.status == DataRequestStatus.CANCELLED
        and data_request.cancel_reason == "Ordered elsewhere"
    )
    assert kinds(data_request) == ["sent", "cancelled"]
    assert "Ordered elsewhere" in data_request.events.get(kind="cancelled").note
    assert (
        AuditEvent.objects.filter(verb="data_request.cancelled", organisation=personas.organisation).count()
        == 1
    )
    [cancel_mail] = [m for m in mail.outbox if "withdrawn" in m.subject]
    assert "Ordered elsewhere" in cancel_mail.body and cancel_mail.to == ["sales@anatolia.example"]


def test_cancelling_without_e_mail_sends_nothing_and_needs_a_reason(
    personas, actor, django_capture_on_commit_callbacks
):
    [data_request] = send(personas, actor)
    with pytest.raises(ValidationError) as exc:
        request_services.data_request_cancel(actor=actor, data_request=data_request, reason="  ")
    assert "reason" in exc.value.message_dict
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_services.data_request_cancel(actor=actor, data_request=data_request, reason="Duplicate")
    assert mail.outbox == []


def test_a_cancelled_request_cannot_be_answered_or_cancelled_again(personas, actor, operator):
    [data_request] = send(personas, actor, [make_supplier(personas.organisation, operator_org=operator)])
    request_services.data_request_cancel(actor=actor, data_request=data_request, reason="Duplicate")
    with pytest.raises(ValidationError, match="cancelled and can no longer be answered"):
        data_request_answer(
            actor=Actor.system(), request=data_request, installation=make_installation(operator)
        )
    with pytest.raises(ValidationError, match="can no longer be cancelled"):
        request_services.data_request_cancel(actor=actor, data_request=data_request, reason="Again")


# --- cancel: pages -----------------------------------------------------------------------------


def test_the_owner_cancels_from_the_page_and_the_operator_inbox_shows_it_cancelled(
    personas, clients, actor, operator
):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    [data_request] = send(personas, actor, [supplier])
    url = reverse("declarations:data_request_cancel", args=[data_request.pk])
    assert clients["owner"].get(url).status_code == 200
    assert clients["viewer"].get(url).status_code == 403
    assert clients["viewer"].post(url, {"reason": "x"}).status_code == 403
    assert clients["outsider"].get(url).status_code == 404
    assert clients["outsider"].post(url, {"reason": "x"}).status_code == 404
    missing = clients["owner"].post(url, {"reason": ""})
    assert missing.status_code == 400 and b"This field is required" in missing.content
    done = clients["owner"].post(url, {"reason": "Supplier changed"})
    assert done["Location"] == reverse("declarations:supplier_detail", args=[supplier.pk])
    data_request.refresh_from_db()
    assert data_request.status == DataRequestStatus.CANCELLED

    listing = clients["owner"].get(reverse("declarations:data_request_list"), {"status": "cancelled"}).content
    assert b"Supplier changed" in listing
    log = clients["owner"].get(reverse("declarations:supplier_detail", args=[supplier.pk])).content
    assert b"cancelled" in log and b"Supplier changed" in log

    operator_user = operator.memberships.get().user
    inbox = login(operator_user, operator).get(
        reverse("emissions:data_request_detail", args=[data_request.pk])
    )
    assert b"cancelled this request" in inbox.content and b"Share and answer" not in inbox.content
    refused = login(operator_user, operator).post(
        reverse("emissions:data_request_answer", args=[data_request.pk]),
        {"installation": make_installation(operator).pk},
    )
    assert refused.status_code == 400


def test_only_open_requests_show_a_cancel_action(personas, clients, actor):
    [open_request] = send(personas, actor)
    [closed] = send(personas, actor, [make_supplier(personas.organisation, name="Other")])
    request_services.data_request_cancel(actor=actor, data_request=closed, reason="Duplicate")
    html = clients["owner"].get(reverse("declarations:data_request_list")).content.decode()
    assert reverse("declarations:data_request_cancel", args=[open_request.pk]) in html
    assert reverse("declarations:data_request_cancel", args=[closed.pk]) not in html
    viewer_html = clients["viewer"].get(reverse("declarations:data_request_list")).content.decode()
    assert reverse("declarations:data_request_cancel", args=[open_request.pk]) not in viewer_html
    page = clients["owner"].get(reverse("declarations:data_request_cancel", args=[closed.pk]))
    assert b"can no longer be cancelled" in page.content


# --- cancel: API -------------------------------------------------------------------------------


def test_the_api_cancels_for_the_owner_only(personas, api_clients, actor):
    [data_request] = send(personas, actor)
    url = f"{REQUESTS}{data_request.pk}/cancel/"
    assert api_clients["viewer"].post(url, {"reason": "x"}, format="json").status_code == 403
    assert api_clients["outsider"].post(url, {"reason": "x"}, format="json").status_code == 404
    assert api_clients["owner"].post(url, {}, format="json").json() == {"reason": ["This field is required."]}
    response = api_clients["owner"].post(
        url, {"reason": "Not needed", "notify_supplier": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancel_reason"] == "Not needed"
    again = api_clients["owner"].post(url, {"reason": "Again"}, format="json")
    assert again.status_code == 400 and "no longer be cancelled" in again.json()["non_field_errors"][0]


# --- reminders: schedule -----------------------------------------------------------------------


def test_a_request_is_reminded_on_its_own_interval_up_to_its_cap_each_reminder_in_the_log(personas, actor):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        [data_request] = send(
            personas, actor, due_date=dt.date(2027, 3, 1), reminder_interval_days=3, max_reminders=2
        )
        sent = 0
        for day in range(3, 30):
            traveller.move_to(dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC))
            sent += request_services.data_requests_send_reminders()
    assert sent == 2
    notes = list(data_request.events.filter(kind="reminded").values_list("note", flat=True))
    assert notes == [
        "Reminder: no answer after 3 days. (reminder 1 of at most 2)",
        "Reminder: no answer after 3 days. (reminder 2 of at most 2)",
    ]
    assert AuditEvent.objects.filter(verb="data_request.reminded").count() == 2


def test_an_interval_of_zero_sends_no_reminders(personas, actor):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        send(personas, actor, due_date=dt.date(2026, 11, 5), reminder_interval_days=0)
        traveller.move_to(dt.datetime(2026, 12, 30, 9, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 0


def test_new_requests_take_the_organisation_default_schedule(personas, actor):
    request_services.data_request_defaults_update(
        actor=actor, organisation=personas.organisation, reminder_interval_days=14, max_reminders=3
    )
    [data_request] = send(personas, actor)
    assert (data_request.reminder_interval_days, data_request.max_reminders) == (14, 3)
    [explicit] = send(
        personas, actor, [make_supplier(personas.organisation, name="B")], reminder_interval_days=2
    )
    assert (explicit.reminder_interval_days, explicit.max_reminders) == (2, 3)
    [other] = request_services.data_request_send(
        actor=Actor(user=personas.outsider),
        organisation=personas.other_organisation,
        suppliers=[make_supplier(personas.other_organisation)],
        cn_codes="72081000",
        year=2026,
        due_date=in_days(14),
    )
    assert (other.reminder_interval_days, other.max_reminders) == (7, 6)


def test_a_bad_schedule_is_refused_naming_the_field(personas, actor):
    with pytest.raises(ValidationError) as exc:
        send(personas, actor, reminder_interval_days=-1)
    assert "reminder_interval_days" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        request_services.data_request_defaults_update(
            actor=actor, organisation=personas.organisation, reminder_interval_days=7, max_reminders=99
        )
    assert "max_reminders" in exc.value.message_dict
    assert not DataRequest.objects.exists()


def test_a_reminder_keeps_the_link_of_an_unclaimed_request_valid(personas, actor):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        [data_request] = send(personas, actor, due_date=dt.date(2027, 3, 1))
        first_expiry = DataRequest.objects.get(pk=data_request.pk).token_expires_at
        traveller.move_to(dt.datetime(2026, 11, 9, 9, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 1
    assert DataRequest.objects.get(pk=data_request.pk).token_expires_at - first_expiry == dt.timedelta(days=7)


# --- reminders: pages and API ------------------------------------------------------------------


def test_the_owner_sets_the_default_schedule_viewers_and_outsiders_cannot(personas, clients):
    url = reverse("declarations:data_request_defaults")
    assert clients["viewer"].post(url, {"reminder_interval_days": 3, "max_reminders": 2}).status_code == 403
    clients["outsider"].post(url, {"reminder_interval_days": 30, "max_reminders": 1})  # its own organisation
    response = clients["owner"].post(url, {"reminder_interval_days": 3, "max_reminders": 2})
    assert response["Location"] == reverse("declarations:data_request_list")
    defaults = DataRequestDefaults.objects.get(organisation=personas.organisation)
    assert (defaults.reminder_interval_days, defaults.max_reminders) == (3, 2)
    page = clients["owner"].get(reverse("declarations:data_request_list")).content.decode()
    assert "every 3 days" in page and "at most 2 times" in page
    bad = clients["owner"].post(url, {"reminder_interval_days": -4, "max_reminders": 2}, follow=True)
    assert "Remind every (days)" in bad.content.decode()
    assert DataRequestDefaults.objects.get(organisation=personas.organisation).reminder_interval_days == 3
    assert (
        "every 3 days"
        not in clients["outsider"].get(reverse("declarations:data_request_list")).content.decode()
    )


def test_the_request_form_and_api_accept_a_schedule(personas, clients, api_clients):
    supplier = make_supplier(personas.organisation)
    response = clients["owner"].post(
        reverse("declarations:data_request_create"),
        {
            "suppliers": [supplier.pk],
            "cn_codes": "72081000",
            "year": 2026,
            "due_date": in_days(10).isoformat(),
            "reminder_interval_days": 5,
        },
    )
    assert response.status_code == 302
    assert DataRequest.objects.get().reminder_interval_days == 5
    created = api_clients["owner"].post(
        REQUESTS,
        {
            "suppliers": [supplier.pk],
            "cn_codes": ["72081000"],
            "year": 2026,
            "due_date": in_days(10).isoformat(),
            "max_reminders": 1,
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()[0]["max_reminders"] == 1


def test_the_request_list_stays_within_a_fixed_number_of_queries(
    personas, clients, actor, django_assert_max_num_queries
):
    for n in range(12):
        [r] = send(personas, actor, [make_supplier(personas.organisation, name=f"S{n}")])
        if n % 3 == 0:
            request_services.data_request_cancel(actor=actor, data_request=r, reason="x")
    with django_assert_max_num_queries(10):
        response = clients["owner"].get(reverse("declarations:data_request_list"))
    assert response.status_code == 200 and response.content.count(b"Cancel</a>") == 8
    with django_assert_max_num_queries(10):
        api = clients["owner"].get(REQUESTS)
    assert api.status_code == 200 and api.json()["count"] == 12
