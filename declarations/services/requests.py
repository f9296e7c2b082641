"""Writes: data requests from a declarant to its suppliers, and the reminders that chase them.

Each request, reminder and answer is a `DataRequestEvent`: the declarant's record of its efforts
to obtain actual emissions data from the operator before falling back to default values
([R956] Art 7(2) as amended by [OMN] Art 1(6); operators may disclose their verified data to
declarants, [R956] Art 10(5)).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation
from cbam_portal.accounts.services import portal_url
from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record
from cbam_portal.reference.models import CnGood, DatasetKind
from emissions.models import OPEN_REQUEST_STATUSES, DataRequest, DataRequestEvent, DataRequestStatus
from emissions.services.data_requests import link_token, link_token_issue

from ..models import DataRequestDefaults, Supplier, SupplierDataRequest

logger = logging.getLogger(__name__)

REMINDER_INTERVAL_DAYS = 7  # default schedule: every 7 days while open ...
MAX_REMINDERS = 6  # ... at most 6 reminders per request
MAX_INTERVAL_DAYS = 365
MAX_REMINDERS_CAP = 52
FIRST_YEAR = 2026  # definitive period ([R956] Art 36(2)(b) as amended by [OMN] Art 1(27))


def request_link(data_request: DataRequest) -> str:
    """Where the e-mail sends the supplier: the request in the operator's inbox when the supplier is
    on the portal, else the request's single-use link, from which the supplier signs up (or logs in)
    and claims the request for its operator organisation."""
    if data_request.operator_id:
        return portal_url(reverse("emissions:data_request_detail", kwargs={"pk": data_request.pk}))
    return portal_url(reverse("emissions:data_request_link", kwargs={"token": link_token(data_request)}))


def reminder_schedule_for(organisation: Organisation) -> tuple[int, int]:
    """(interval in days, maximum reminders) for new requests of the organisation."""
    defaults = DataRequestDefaults.objects.filter(organisation=organisation).first()
    if defaults is None:
        return REMINDER_INTERVAL_DAYS, MAX_REMINDERS
    return defaults.reminder_interval_days, defaults.max_reminders


def _clean_schedule(interval_days, max_reminders) -> tuple[int, int]:
    errors = {}
    if not isinstance(interval_days, int) or not 0 <= interval_days <= MAX_INTERVAL_DAYS:
        errors["reminder_interval_days"] = _("Remind every 0 to %(max)s days (0: no reminders).") % {
            "max": MAX_INTERVAL_DAYS
        }
    if not isinstance(max_reminders, int) or not 0 <= max_reminders <= MAX_REMINDERS_CAP:
        errors["max_reminders"] = _("Send at most 0 to %(max)s reminders.") % {"max": MAX_REMINDERS_CAP}
    if errors:
        raise ValidationError(errors)
    return interval_days, max_reminders


@transaction.atomic
def data_request_defaults_update(
    *, actor: Actor, organisation: Organisation, reminder_interval_days: int, max_reminders: int
) -> DataRequestDefaults:
    """Set the organisation's default reminder schedule for new requests (sent ones keep theirs)."""
    interval, cap = _clean_schedule(reminder_interval_days, max_reminders)
    defaults, _created = DataRequestDefaults.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    before = {
        "reminder_interval_days": defaults.reminder_interval_days,
        "max_reminders": defaults.max_reminders,
    }
    defaults.reminder_interval_days, defaults.max_reminders = interval, cap
    defaults.save()
    audit_record(
        actor=actor,
        verb="data_request.defaults_updated",
        organisation=organisation,
        target=defaults,
        before=before,
        after={"reminder_interval_days": interval, "max_reminders": cap},
    )
    return defaults


def is_overdue(data_request: DataRequest, *, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return data_request.status in OPEN_REQUEST_STATUSES and data_request.due_date < today


def clean_cn_codes(raw: str | Iterable[str]) -> list[str]:
    """8-digit CN codes of Annex I goods ([R956] Annex I), de-duplicated, in input order."""
    items = raw.replace(",", " ").replace(";", " ").split() if isinstance(raw, str) else list(raw)
    codes: list[str] = []
    for item in items:
        code = str(item).strip()
        if not code:
            continue
        if len(code) != 8 or not code.isdigit():
            raise ValidationError({"cn_codes": _("%(code)s is not an 8-digit CN code.") % {"code": code}})
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValidationError({"cn_codes": _("Give at least one CN code.")})
    known = set(
        CnGood.objects.filter(
            dataset__kind=DatasetKind.CN_GOODS, dataset__is_current=True, cn8__in=codes
        ).values_list("cn8", flat=True)
    )
    missing = [c for c in codes if c not in known]
    if missing:
        raise ValidationError(
            {"cn_codes": _("Not CBAM goods (Annex I): %(codes)s.") % {"codes": ", ".join(missing)}}
        )
    return codes


def _event(request: DataRequest, *, kind: str, actor: Actor, note: str = "") -> DataRequestEvent:
    return DataRequestEvent.objects.create(
        request=request, kind=kind, actor=actor.user, actor_label=actor.label[:200], note=note
    )


def _send_email(data_request_id: int, *, reminder: bool) -> None:
    data_request = DataRequest.objects.select_related("declarant").get(pk=data_request_id)
    if not data_request.supplier_email:
        return
    context = {
        "data_request": data_request,
        "declarant": data_request.declarant,
        "link": request_link(data_request),
        "reminder": reminder,
        "overdue": is_overdue(data_request),
    }
    if reminder:
        subject = _("Reminder: %(declarant)s is waiting for your CBAM emissions data") % {
            "declarant": data_request.declarant.name
        }
    else:
        subject = _("%(declarant)s asks for your CBAM emissions data") % {
            "declarant": data_request.declarant.name
        }
    body = render_to_string("declarations/suppliers/email/data_request.txt", context)
    send_mail(subject, body, None, [data_request.supplier_email])


@transaction.atomic
def data_request_send(
    *,
    actor: Actor,
    organisation: Organisation,
    suppliers: Iterable[Supplier],
    cn_codes: str | Iterable[str],
    year: int,
    due_date: dt.date,
    message: str = "",
    reminder_interval_days: int | None = None,
    max_reminders: int | None = None,
) -> list[DataRequest]:
    """Send one request per supplier for the CN codes and reporting year; e-mailed on commit.
    The reminder schedule defaults to the organisation's (see `reminder_schedule_for`)."""
    suppliers = list(suppliers)
    if not suppliers:
        raise ValidationError({"suppliers": _("Choose at least one supplier.")})
    foreign = [s for s in suppliers if s.organisation_id != organisation.pk]
    if foreign:
        raise ValidationError({"suppliers": _("Choose among your own suppliers.")})
    unreachable = [s.name for s in suppliers if not s.email and not s.operator_org_id]
    if unreachable:
        raise ValidationError(
            {
                "suppliers": _("No e-mail and not on the portal: %(names)s. Add an e-mail address first.")
                % {"names": ", ".join(unreachable)}
            }
        )
    codes = clean_cn_codes(cn_codes)
    today = timezone.localdate()
    if year < FIRST_YEAR or year > today.year + 1:
        raise ValidationError(
            {
                "year": _("The reporting year must be between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": today.year + 1}
            }
        )
    if due_date < today:
        raise ValidationError(
            {"due_date": _("The due date %(date)s is in the past.") % {"date": due_date.isoformat()}}
        )
    default_interval, default_cap = reminder_schedule_for(organisation)
    interval, cap = _clean_schedule(
        default_interval if reminder_interval_days is None else reminder_interval_days,
        default_cap if max_reminders is None else max_reminders,
    )
    created: list[DataRequest] = []
    for supplier in suppliers:
        data_request = DataRequest.objects.create(
            declarant=organisation,
            operator_id=supplier.operator_org_id,
            supplier_name=supplier.name,
            supplier_email=supplier.email,
            cn_codes=codes,
            year=year,
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            due_date=due_date,
            message=(message or "").strip(),
            created_by=actor.user,
            reminder_interval_days=interval,
            max_reminders=cap,
        )
        if not supplier.operator_org_id:
            link_token_issue(data_request=data_request)
        SupplierDataRequest.objects.create(
            organisation=organisation, supplier=supplier, data_request=data_request
        )
        recipient = supplier.email or _("portal inbox")
        _event(data_request, kind="sent", actor=actor, note=_("Sent to %(to)s.") % {"to": recipient})
        audit_record(
            actor=actor,
            verb="data_request.sent",
            organisation=organisation,
            target=data_request,
            after={
                "supplier": supplier.pk,
                "cn_codes": codes,
                "year": year,
                "due_date": due_date,
                "reminder_interval_days": interval,
                "max_reminders": cap,
            },
        )
        request_id = data_request.pk
        transaction.on_commit(lambda request_id=request_id: _send_email(request_id, reminder=False))
        created.append(data_request)
    return created


def _last_contact(events: list[DataRequestEvent]) -> dt.datetime | None:
    contacts = [e.at for e in events if e.kind in ("sent", "reminded")]
    return max(contacts) if contacts else None


def reminder_due(data_request: DataRequest, events: list[DataRequestEvent], *, today: dt.date) -> str:
    """Why a reminder is due today ('' when none): the request is open, its schedule allows another
    reminder (interval not 0, fewer than `max_reminders` sent), none went out today, and either the
    interval has passed since the last contact or the due date has just passed."""
    if data_request.status not in OPEN_REQUEST_STATUSES:
        return ""
    interval = data_request.reminder_interval_days
    reminders = [e for e in events if e.kind == "reminded"]
    if interval <= 0 or len(reminders) >= data_request.max_reminders:
        return ""
    if any(timezone.localdate(e.at) == today for e in reminders):
        return ""
    last = _last_contact(events)
    if last is None or (today - timezone.localdate(last)).days >= interval:
        return "interval"
    if data_request.due_date < today and timezone.localdate(last) <= data_request.due_date:
        return "overdue"
    return ""


@transaction.atomic
def data_request_remind(*, actor: Actor, data_request: DataRequest, today: dt.date | None = None) -> bool:
    """Send one reminder if one is due today; False when it is not (so a rerun sends nothing)."""
    today = today or timezone.localdate()
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    events = list(data_request.events.all())
    reason = reminder_due(data_request, events, today=today)
    if not reason:
        return False
    note = (
        _("Reminder: the due date %(date)s has passed.") % {"date": data_request.due_date.isoformat()}
        if reason == "overdue" or is_overdue(data_request, today=today)
        else _("Reminder: no answer after %(days)s days.") % {"days": data_request.reminder_interval_days}
    )
    number = sum(1 for e in events if e.kind == "reminded") + 1
    note = _("%(note)s (reminder %(n)s of at most %(max)s)") % {
        "note": note,
        "n": number,
        "max": data_request.max_reminders,
    }
    if data_request.token_hash and not data_request.operator_id:
        link_token_issue(data_request=data_request)  # the reminder's link stays valid from today
    _event(data_request, kind="reminded", actor=actor, note=note)
    audit_record(
        actor=actor,
        verb="data_request.reminded",
        organisation=data_request.declarant,
        target=data_request,
        after={"reason": reason, "number": number, "max_reminders": data_request.max_reminders},
    )
    request_id = data_request.pk
    transaction.on_commit(lambda: _send_email(request_id, reminder=True))
    return True


def data_requests_send_reminders(*, today: dt.date | None = None) -> int:
    """Remind every open request that is due a reminder; one transaction per request, so one
    failure does not hold back the others. Returns the reminders sent."""
    today = today or timezone.localdate()
    actor = Actor.system()
    sent = 0
    ids = DataRequest.objects.filter(
        status__in=OPEN_REQUEST_STATUSES, supplier_link__isnull=False
    ).values_list("pk", flat=True)
    for pk in list(ids):
        try:
            if data_request_remind(actor=actor, data_request=DataRequest(pk=pk), today=today):
                sent += 1
        except Exception:
            logger.exception("Could not remind data request %s", pk)
    return sent


def _send_cancel_email(data_request_id: int) -> None:
    data_request = DataRequest.objects.select_related("declarant").get(pk=data_request_id)
    if not data_request.supplier_email:
        return
    subject = _("%(declarant)s has withdrawn its request for CBAM emissions data") % {
        "declarant": data_request.declarant.name
    }
    body = render_to_string(
        "declarations/suppliers/email/data_request_cancelled.txt",
        {"data_request": data_request, "declarant": data_request.declarant},
    )
    send_mail(subject, body, None, [data_request.supplier_email])


@transaction.atomic
def data_request_cancel(
    *, actor: Actor, data_request: DataRequest, reason: str, notify_supplier: bool = False
) -> DataRequest:
    """Withdraw an open request, giving the reason: reminders stop, the operator's inbox shows it
    cancelled and it can no longer be answered; the evidence log keeps it. The supplier is told by
    e-mail (on commit) when asked."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for cancelling.")})
    data_request = DataRequest.objects.select_for_update().select_related("declarant").get(pk=data_request.pk)
    if data_request.status not in OPEN_REQUEST_STATUSES:
        raise ValidationError(
            _("This request is %(status)s and can no longer be cancelled.")
            % {"status": data_request.get_status_display().lower()}
        )
    before = {"status": data_request.status}
    data_request.status = DataRequestStatus.CANCELLED
    data_request.cancelled_at = timezone.now()
    data_request.cancel_reason = reason
    data_request.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    notify = bool(notify_supplier and data_request.supplier_email)
    note = reason + (" " + _("(supplier told by e-mail)") if notify else "")
    _event(data_request, kind="cancelled", actor=actor, note=note)
    audit_record(
        actor=actor,
        verb="data_request.cancelled",
        organisation=data_request.declarant,
        target=data_request,
        before=before,
        after={"status": data_request.status, "reason": reason, "supplier_notified": notify},
    )
    if notify:
        request_id = data_request.pk
        transaction.on_commit(lambda: _send_cancel_email(request_id))
    return data_request
