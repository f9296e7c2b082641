"""Demo data of the declarant side: suppliers, a year of customs lines, a pending data request with
its reminders, and the customs lines of the importers a customs representative acts for.

Two groups of the declarant's 2026 draft reproduce the domain's worked examples:

* example 8 — 100 t of CN 7208 10 00 from China released in Q1, default values (route C,
  Column B benchmark 1.370), price Q1 €75.36;
* example 9 — 1,000 t of CN 7601 10 10 released in Q2 from the Omani smelter, whose verified and
  shared report gives SEE direct 1.555 (route K, Column A benchmark 1.423), price Q2 €75.28.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cbam_portal.accounts.models import Organisation
from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from emissions.models import DataRequest, DataRequestEvent, Installation

from .models import Supplier
from .services import imports, requests, suppliers

YEAR = 2026

#: Suppliers of the declarant: key -> (name, country, e-mail).
SUPPLIERS = {
    "anatolia": ("Anatolia Cement & Steel A.S.", "TR", "sales@anatolia.example"),
    "batinah": ("Batinah Primary Aluminium LLC", "OM", "metal.sales@batinah-aluminium.example"),
    "jinghua": ("Hebei Jinghua Steel Co., Ltd.", "CN", "export@jinghua-steel.example"),
    "kalinga": ("Kalinga Aluminium Ltd.", "IN", "exports@kalinga-aluminium.example"),
    "suez": ("Suez Delta Cement S.A.E.", "EG", "export@suezdelta-cement.example"),
}

#: Customs lines of the declarant: (MRN, line, values, supplier key). Lines of the Turkish
#: steelworks name its installation; the Omani smelter's lines take it from the supplier mapping.
IMPORT_LINES = [
    (
        "26DE0000000000A101",
        1,
        {
            "released_on": "2026-02-12",
            "cn_code": "72081000",
            "origin_country": "TR",
            "net_mass_tonnes": "420.5",
        },
        "anatolia",
    ),
    (
        "26DE0000000000A101",
        2,
        {
            "released_on": "2026-02-12",
            "cn_code": "72139120",
            "origin_country": "TR",
            "net_mass_tonnes": "180",
        },
        "anatolia",
    ),
    # Worked example 8: exactly 100 t of Chinese hot-rolled coil in Q1, default values.
    (
        "26DE0000000000A102",
        1,
        {
            "released_on": "2026-03-03",
            "cn_code": "72081000",
            "origin_country": "CN",
            "net_mass_tonnes": "100",
        },
        "jinghua",
    ),
    (
        "26DE0000000000A103",
        1,
        {
            "released_on": "2026-05-20",
            "cn_code": "76011010",
            "origin_country": "IN",
            "net_mass_tonnes": "250",
        },
        "kalinga",
    ),
    # Worked example 9: 1,000 t of primary aluminium slabs from the Omani smelter in Q2, actual data.
    (
        "26DE0000000000A107",
        1,
        {
            "released_on": "2026-04-14",
            "cn_code": "76011010",
            "origin_country": "OM",
            "net_mass_tonnes": "600",
        },
        "batinah",
    ),
    (
        "26DE0000000000A108",
        1,
        {
            "released_on": "2026-06-02",
            "cn_code": "76011010",
            "origin_country": "OM",
            "net_mass_tonnes": "400",
        },
        "batinah",
    ),
    (
        "26DE0000000000A104",
        1,
        {
            "released_on": "2026-06-08",
            "cn_code": "25232900",
            "origin_country": "EG",
            "net_mass_tonnes": "800",
            "functional_unit_quantity": "720",
        },
        "suez",
    ),
    (
        "26DE0000000000A105",
        1,
        {
            "released_on": "2026-09-15",
            "cn_code": "72193100",
            "origin_country": "IN",
            "net_mass_tonnes": "64.2",
        },
        None,
    ),
    # Switzerland is an Annex III country: the line is recorded and kept out of scope.
    (
        "26DE0000000000A106",
        1,
        {"released_on": "2026-10-02", "cn_code": "72081000", "origin_country": "CH", "net_mass_tonnes": "5"},
        None,
    ),
]

#: Customs lines of the importers the representative acts for, by the importer's EORI. The
#: fertiliser importer's potassium nitrate is declared in tonnes (its functional unit).
IMPORTER_LINES = {
    "SE5567891234": [
        (
            "26SE0000000000B201",
            1,
            {
                "released_on": "2026-03-18",
                "cn_code": "76012080",
                "origin_country": "AE",
                "net_mass_tonnes": "140",
            },
        ),
        (
            "26SE0000000000B201",
            2,
            {
                "released_on": "2026-03-18",
                "cn_code": "76012040",
                "origin_country": "AE",
                "net_mass_tonnes": "60",
            },
        ),
        (
            "26SE0000000000B202",
            1,
            {
                "released_on": "2026-07-09",
                "cn_code": "76061292",
                "origin_country": "CN",
                "net_mass_tonnes": "38.5",
            },
        ),
    ],
    "LT302345678": [
        (
            "26LT0000000000C301",
            1,
            {
                "released_on": "2026-04-22",
                "cn_code": "28342100",
                "origin_country": "CL",
                "net_mass_tonnes": "300",
            },
        ),
        (
            "26LT0000000000C302",
            1,
            {
                "released_on": "2026-08-11",
                "cn_code": "28342100",
                "origin_country": "IL",
                "net_mass_tonnes": "120",
            },
        ),
    ],
}

#: The pending request: sent this many days ago, reminded after one and two reminder intervals.
REQUEST_SENT_DAYS_AGO = 3 * requests.REMINDER_INTERVAL_DAYS - 1
REQUEST_DUE_IN_DAYS = 22
REQUEST_MESSAGE = (
    "Dear supplier, for our 2026 CBAM declaration we need the specific embedded emissions of the "
    "hot-rolled coil we import from you (CN 7208 10 00), ideally as a verified emissions report. "
    "Without them we must declare the default values for China, which are considerably higher."
)


@dataclass
class DeclarantDemo:
    suppliers: dict[str, Supplier]
    lines: int
    pending_request: DataRequest


@transaction.atomic
def seed_declarant_demo(
    *,
    declarant: Organisation,
    actor: Actor,
    operators: dict[str, Organisation],
    steelworks: Installation,
    smelter: Installation,
) -> DeclarantDemo:
    """Suppliers, customs lines and a pending data request of `declarant`. `operators` maps a
    supplier key to the operator organisation on the portal (the steelworks and the smelter must
    already be shared with `declarant`)."""
    found = {}
    for key, (name, country, email) in SUPPLIERS.items():
        found[key] = suppliers.supplier_create(
            actor=actor,
            organisation=declarant,
            name=name,
            country=country,
            email=email,
            operator_org=operators.get(key),
        )
    suppliers.supplier_mapping_create(
        actor=actor, supplier=found["batinah"], installation=smelter, cn_code="76011010"
    )
    for mrn, line_no, values, supplier_key in IMPORT_LINES:
        imports.import_line_create(
            actor=actor,
            organisation=declarant,
            values={"mrn": mrn, "line_no": line_no, **values},
            supplier=found.get(supplier_key),
            installation=steelworks if supplier_key == "anatolia" else None,
        )
    pending = seed_pending_request(declarant=declarant, actor=actor, supplier=found["jinghua"])
    return DeclarantDemo(suppliers=found, lines=len(IMPORT_LINES), pending_request=pending)


def _backdate(data_request: DataRequest, *, kind: str, verb: str, at: dt.datetime) -> None:
    """Move the latest `kind` event of a request, and its audit event, to `at` (demo history only)."""
    event = data_request.events.filter(kind=kind).order_by("-pk").first()
    DataRequestEvent.objects.filter(pk=event.pk).update(at=at)
    audit = AuditEvent.objects.filter(verb=verb, target_id=str(data_request.pk)).order_by("-pk").first()
    if audit is not None:
        AuditEvent.objects.filter(pk=audit.pk).update(at=at)


@transaction.atomic
def seed_pending_request(
    *, declarant: Organisation, actor: Actor, supplier: Supplier, now: dt.datetime | None = None
) -> DataRequest:
    """A data request to `supplier` (not on the portal) sent three weeks ago and still unanswered,
    chased by the two weekly reminders since. Sent and reminded through the request services; only
    the timestamps are moved into the past afterwards."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent_at = now - dt.timedelta(days=REQUEST_SENT_DAYS_AGO)
    (data_request,) = requests.data_request_send(
        actor=actor,
        organisation=declarant,
        suppliers=[supplier],
        cn_codes=["72081000"],
        year=YEAR,
        due_date=today + dt.timedelta(days=REQUEST_DUE_IN_DAYS),
        message=REQUEST_MESSAGE,
    )
    DataRequest.objects.filter(pk=data_request.pk).update(created_at=sent_at)
    _backdate(data_request, kind="sent", verb="data_request.sent", at=sent_at)
    # The daily reminder run (as the system) after one and after two intervals without an answer.
    for interval in (1, 2):
        reminded_at = sent_at + dt.timedelta(days=interval * requests.REMINDER_INTERVAL_DAYS)
        if not requests.data_request_remind(actor=Actor.system(), data_request=data_request, today=today):
            raise RuntimeError("The demo request should be due a reminder.")
        _backdate(data_request, kind="reminded", verb="data_request.reminded", at=reminded_at)
    data_request.refresh_from_db()
    return data_request


@transaction.atomic
def seed_importer_lines(*, importer: Organisation, actor: Actor) -> int:
    """The customs lines of an importer represented by the demo's customs representative."""
    rows = IMPORTER_LINES.get(importer.eori, [])
    for mrn, line_no, values in rows:
        imports.import_line_create(
            actor=actor, organisation=importer, values={"mrn": mrn, "line_no": line_no, **values}
        )
    return len(rows)
