"""Supplier services: suppliers, installation mappings, data requests and reminders."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.models import ImportLine, Supplier, SupplierDataRequest
from declarations.services import requests as request_services
from declarations.services import suppliers as services
from emissions.models import DataRequest, DataRequestEvent, DataRequestStatus
from emissions.services.sharing import data_request_answer
from tests.factories import OperatorFactory

from .test_suppliers_support import (  # noqa: F401
    actor_fixture,
    add_line,
    import_reference,
    in_days,
    make_installation,
    make_supplier,
    operator_fixture,
    share,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]


def send(personas, actor, suppliers, **overrides):
    values = {"cn_codes": "72081000", "year": 2026, "due_date": in_days(14), "message": "Please share."}
    return request_services.data_request_send(
        actor=actor, organisation=personas.organisation, suppliers=suppliers, **{**values, **overrides}
    )


# --- suppliers -------------------------------------------------------------------------------


def test_creating_a_supplier_normalises_the_country_and_is_audited(personas, actor):
    supplier = services.supplier_create(
        actor=actor, organisation=personas.organisation, name=" Ural Metals ", country="ru", email="a@ural.example"
    )
    assert (supplier.name, supplier.country) == ("Ural Metals", "RU")
    assert AuditEvent.objects.filter(verb="supplier.created", target_id=str(supplier.pk)).exists()


def test_a_duplicate_supplier_or_unknown_country_is_refused_naming_the_field(personas, actor):
    make_supplier(personas.organisation, name="Ural Metals", country="RU")
    with pytest.raises(ValidationError) as exc:
        services.supplier_create(actor=actor, organisation=personas.organisation, name="Ural Metals", country="RU")
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.supplier_create(actor=actor, organisation=personas.organisation, name="X", country="XX")
    assert "country" in exc.value.message_dict


def test_a_declarant_cannot_be_linked_as_a_suppliers_operator(personas, actor):
    with pytest.raises(ValidationError) as exc:
        services.supplier_create(
            actor=actor, organisation=personas.organisation, name="X", country="TR", operator_org=personas.other_organisation
        )
    assert "operator_org" in exc.value.message_dict


def test_linking_a_supplier_to_an_operator_routes_its_open_requests_to_the_operators_inbox(personas, actor, operator):
    supplier = make_supplier(personas.organisation)
    [data_request] = send(personas, actor, [supplier])
    assert data_request.operator_id is None
    services.supplier_update(
        actor=actor, supplier=supplier, name=supplier.name, country="TR", email=supplier.email, operator_org=operator
    )
    data_request.refresh_from_db()
    assert data_request.operator_id == operator.pk
    event = AuditEvent.objects.get(verb="supplier.updated")
    assert event.after["requests_routed_to_operator"] == 1


# --- installation mappings -------------------------------------------------------------------


def test_only_an_installation_shared_with_the_declarant_can_be_mapped(personas, actor, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    not_shared = make_installation(operator)
    with pytest.raises(ValidationError) as exc:
        services.supplier_mapping_create(actor=actor, supplier=supplier, installation=not_shared)
    assert "not shared" in exc.value.message_dict["installation"][0]
    shared_with_someone_else = make_installation(operator)
    share(shared_with_someone_else, personas.other_organisation)
    with pytest.raises(ValidationError):
        services.supplier_mapping_create(actor=actor, supplier=supplier, installation=shared_with_someone_else)


def test_an_installation_of_another_operator_cannot_be_mapped_to_a_linked_supplier(personas, actor, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    foreign = make_installation(OperatorFactory(name="Other Operator"))
    share(foreign, personas.organisation)
    with pytest.raises(ValidationError) as exc:
        services.supplier_mapping_create(actor=actor, supplier=supplier, installation=foreign)
    assert "installation" in exc.value.message_dict


def test_a_cn_code_in_a_mapping_must_have_eight_digits(personas, actor, operator):
    supplier = make_supplier(personas.organisation)
    installation = make_installation(operator)
    share(installation, personas.organisation)
    with pytest.raises(ValidationError) as exc:
        services.supplier_mapping_create(actor=actor, supplier=supplier, installation=installation, cn_code="7208")
    assert "cn_code" in exc.value.message_dict


def test_applying_mappings_links_only_unlinked_lines_cn_specific_first_and_is_audited(personas, actor, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    general, aluminium = make_installation(operator), make_installation(operator)
    manual = make_installation(operator)
    for inst in (general, aluminium, manual):
        share(inst, personas.organisation)
    services.supplier_mapping_create(actor=actor, supplier=supplier, installation=general)
    services.supplier_mapping_create(actor=actor, supplier=supplier, installation=aluminium, cn_code="76011010")
    steel = add_line(personas.organisation, supplier, 1)
    alu = add_line(personas.organisation, supplier, 2, cn="76011010")
    linked = add_line(personas.organisation, supplier, 3, installation=manual)
    other_supplier_line = add_line(personas.organisation, make_supplier(personas.organisation, name="B"), 4)

    assert services.supplier_mapping_apply(actor=actor, supplier=supplier) == 2

    lines = {line.pk: line.installation_id for line in ImportLine.objects.all()}
    assert lines[steel.pk] == general.pk
    assert lines[alu.pk] == aluminium.pk
    assert lines[linked.pk] == manual.pk
    assert lines[other_supplier_line.pk] is None
    assert AuditEvent.objects.get(verb="supplier.mapping_applied").after["lines_linked"] == 2


def test_the_mapping_table_gives_ingest_the_installation_for_future_lines(personas, actor, operator):
    supplier = make_supplier(personas.organisation)
    general, alu = make_installation(operator), make_installation(operator)
    share(general, personas.organisation)
    share(alu, personas.organisation)
    services.supplier_mapping_create(actor=actor, supplier=supplier, installation=general)
    services.supplier_mapping_create(actor=actor, supplier=supplier, installation=alu, cn_code="76011010")
    table = services.mapping_table(personas.organisation)
    assert services.installation_for(table, supplier.pk, "72081000") == general.pk
    assert services.installation_for(table, supplier.pk, "7601101000") == alu.pk
    assert services.installation_for(table, None, "72081000") is None
    assert services.mapping_table(personas.other_organisation) == {}


# --- data requests ---------------------------------------------------------------------------


def test_sending_requests_creates_one_per_supplier_with_a_sent_event_and_emails_on_commit(
    personas, actor, operator, django_capture_on_commit_callbacks
):
    linked = make_supplier(personas.organisation, name="Linked", operator_org=operator)
    unlinked = make_supplier(personas.organisation, name="Unlinked", email="x@unlinked.example")
    with django_capture_on_commit_callbacks(execute=True):
        created = send(personas, actor, [linked, unlinked], cn_codes="72081000, 76011010 72081000")
    assert len(created) == 2
    by_name = {r.supplier_name: r for r in created}
    assert by_name["Linked"].operator_id == operator.pk
    assert by_name["Unlinked"].operator_id is None
    assert by_name["Linked"].cn_codes == ["72081000", "76011010"]
    assert (by_name["Linked"].period_start, by_name["Linked"].period_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert SupplierDataRequest.objects.filter(supplier=linked, data_request=by_name["Linked"]).exists()
    assert DataRequestEvent.objects.filter(kind="sent").count() == 2
    assert AuditEvent.objects.filter(verb="data_request.sent").count() == 2
    assert len(mail.outbox) == 2
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert f"/emissions/data-requests/{by_name['Linked'].pk}/" in bodies[linked.email]
    assert "/emissions/data-requests/link/" in bodies["x@unlinked.example"]
    assert "72081000, 76011010" in bodies[linked.email]


def test_no_email_is_sent_before_the_transaction_commits(personas, actor):
    send(personas, actor, [make_supplier(personas.organisation)])
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"cn_codes": "7208"}, "cn_codes", "7208 is not an 8-digit CN code"),
        ({"cn_codes": "7208100A"}, "cn_codes", "not an 8-digit"),
        ({"cn_codes": "01012100"}, "cn_codes", "Not CBAM goods (Annex I): 01012100"),
        ({"cn_codes": "  "}, "cn_codes", "at least one"),
        ({"due_date": dt.date(2020, 1, 1)}, "due_date", "in the past"),
        ({"year": 2019}, "year", "reporting year"),
    ],
)
def test_bad_request_input_is_refused_naming_the_field_and_nothing_is_saved(personas, actor, overrides, field, text):
    supplier = make_supplier(personas.organisation)
    with pytest.raises(ValidationError) as exc:
        send(personas, actor, [supplier], **overrides)
    assert text in " ".join(exc.value.message_dict[field])
    assert not DataRequest.objects.exists() and not DataRequestEvent.objects.exists()


def test_a_supplier_of_another_organisation_or_without_any_address_is_refused(personas, actor):
    foreign = make_supplier(personas.other_organisation)
    with pytest.raises(ValidationError) as exc:
        send(personas, actor, [foreign])
    assert "suppliers" in exc.value.message_dict
    silent = make_supplier(personas.organisation, name="Silent", email="")
    with pytest.raises(ValidationError) as exc:
        send(personas, actor, [silent])
    assert "Silent" in exc.value.message_dict["suppliers"][0]
    assert not DataRequest.objects.exists()


# --- reminders -------------------------------------------------------------------------------


def _events(kind):
    return DataRequestEvent.objects.filter(kind=kind).count()


def test_reminders_go_out_after_seven_days_once_per_day_and_again_when_overdue(
    personas, actor, django_capture_on_commit_callbacks
):
    supplier = make_supplier(personas.organisation)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            send(personas, actor, [supplier], due_date=dt.date(2026, 11, 12))
        mail.outbox.clear()
        traveller.move_to(dt.datetime(2026, 11, 8, 9, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 0  # six days: too early

        traveller.move_to(dt.datetime(2026, 11, 9, 6, tzinfo=dt.UTC))
        with django_capture_on_commit_callbacks(execute=True):
            assert request_services.data_requests_send_reminders() == 1
        traveller.move_to(dt.datetime(2026, 11, 9, 18, tzinfo=dt.UTC))
        with django_capture_on_commit_callbacks(execute=True):
            assert request_services.data_requests_send_reminders() == 0  # same day: nothing twice
        assert _events("reminded") == 1 and len(mail.outbox) == 1
        assert "Reminder" in mail.outbox[0].subject

        traveller.move_to(dt.datetime(2026, 11, 13, 6, tzinfo=dt.UTC))  # due date passed
        with django_capture_on_commit_callbacks(execute=True):
            assert request_services.data_requests_send_reminders() == 1
        event = DataRequestEvent.objects.filter(kind="reminded").last()
        assert "2026-11-12 has passed" in event.note
        assert "The answer was due on 2026-11-12" in mail.outbox[-1].body
        traveller.move_to(dt.datetime(2026, 11, 14, 6, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 0  # next one after 7 days
        traveller.move_to(dt.datetime(2026, 11, 20, 6, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 1
    assert _events("reminded") == 3


def test_answered_requests_are_not_reminded_and_the_answer_is_in_the_evidence_log(personas, actor, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    installation = make_installation(operator)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        [data_request] = send(personas, actor, [supplier])
        data_request_answer(actor=Actor.system(), request=data_request, installation=installation)
        traveller.move_to(dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC))
        assert request_services.data_requests_send_reminders() == 0
    data_request.refresh_from_db()
    assert data_request.status == DataRequestStatus.ANSWERED
    assert list(data_request.events.values_list("kind", flat=True)) == ["sent", "answered"]


def test_the_reminder_task_runs_the_service(personas, actor):
    from declarations.tasks import send_data_request_reminders

    supplier = make_supplier(personas.organisation)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=False) as traveller:
        send(personas, actor, [supplier])
        traveller.move_to(dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC))
        assert send_data_request_reminders.delay().get() == 1
        assert send_data_request_reminders.delay().get() == 0
    assert Supplier.objects.count() == 1


def test_future_lines_of_a_mapped_supplier_take_the_installation_by_single_entry_and_by_upload(
    personas, actor, operator, django_capture_on_commit_callbacks
):
    from declarations.services.imports import import_line_create, import_upload_create, import_upload_start

    from .test_imports_support import HEADER, csv_bytes, good_row, upload_file

    supplier = make_supplier(personas.organisation, name="Anatolia Steel", operator_org=operator)
    general, alu = make_installation(operator), make_installation(operator)
    share(general, personas.organisation)
    share(alu, personas.organisation)
    services.supplier_mapping_create(actor=actor, supplier=supplier, installation=general)
    services.supplier_mapping_create(actor=actor, supplier=supplier, installation=alu, cn_code="76011010")

    single = import_line_create(
        actor=actor,
        organisation=personas.organisation,
        values={"mrn": "26DE00000000000777", "line_no": 1, "released_on": "2026-03-01", "cn_code": "72081000",
                "origin_country": "TR", "net_mass_tonnes": "10"},
        supplier=supplier,
    )
    assert single.installation_id == general.pk

    header = [*HEADER, "Supplier"]
    rows = [
        [*good_row(1, Origin="TR"), "Anatolia Steel"],
        [*good_row(2, Origin="TR", **{"CN code": "7601 10 10"}), "anatolia steel"],
        [*good_row(3), ""],
    ]
    upload = import_upload_create(
        actor=actor, organisation=personas.organisation, uploaded_file=upload_file(csv_bytes(rows, header=header))
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_upload_start(actor=actor, organisation=personas.organisation, upload=upload, mapping=upload.mapping)
    lines = {line.mrn: line for line in ImportLine.objects.filter(upload=upload)}
    assert lines["26DE00000000000001"].installation_id == general.pk
    assert lines["26DE00000000000002"].installation_id == alu.pk
    assert lines["26DE00000000000003"].installation_id is None  # no supplier, no mapping
