"""Supplier pages with the three personas: list, create/edit, detail, mappings, requests, evidence."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.urls import reverse

from declarations.models import ImportLine, Supplier, SupplierInstallationMapping
from declarations.services import requests as request_services
from emissions.models import DataRequest, DataRequestEvent

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
    values = {"cn_codes": "72081000", "year": 2026, "due_date": in_days(14)}
    return request_services.data_request_send(
        actor=actor, organisation=personas.organisation, suppliers=suppliers, **{**values, **overrides}
    )


def test_the_supplier_list_shows_own_suppliers_with_counts_in_few_queries(
    personas, clients, actor, operator, django_assert_max_num_queries
):
    for n in range(15):
        supplier = make_supplier(personas.organisation, name=f"Supplier {n}", operator_org=operator if n % 2 else None)
        add_line(personas.organisation, supplier, n)
    send(personas, actor, [Supplier.objects.get(name="Supplier 3")])
    make_supplier(personas.other_organisation, name="Hidden Supplier")
    with django_assert_max_num_queries(10):
        response = clients["owner"].get(reverse("declarations:supplier_list"))
    assert response.status_code == 200
    assert b"Supplier 14" in response.content and b"Hidden Supplier" not in response.content
    assert clients["viewer"].get(reverse("declarations:supplier_list")).status_code == 200
    outsider = clients["outsider"].get(reverse("declarations:supplier_list"))
    assert outsider.status_code == 200 and b"Supplier 14" not in outsider.content


def test_an_operator_organisation_cannot_open_the_supplier_pages(operator_personas):
    from tests.conftest import login

    client = login(operator_personas.owner, operator_personas.organisation)
    assert client.get(reverse("declarations:supplier_list")).status_code == 404


def test_the_owner_creates_a_supplier_linked_to_an_operator_found_by_name(personas, clients, operator):
    found = clients["owner"].get(reverse("declarations:supplier_operator_search"), {"q": "anatolia"})
    assert found.status_code == 200 and b"Anatolia Steel" in found.content
    assert b"Anatolia Steel" in clients["viewer"].get(reverse("declarations:supplier_operator_search"), {"q": "anat"}).content
    assert b"Importer" not in clients["owner"].get(reverse("declarations:supplier_operator_search"), {"q": "Importer"}).content
    response = clients["owner"].post(
        reverse("declarations:supplier_create"),
        {"name": "Anatolia Trading", "country": "tr", "email": "s@a.example", "operator_org": operator.pk},
    )
    supplier = Supplier.objects.get(organisation=personas.organisation)
    assert response.status_code == 302 and response["Location"] == reverse("declarations:supplier_detail", args=[supplier.pk])
    assert (supplier.country, supplier.operator_org_id) == ("TR", operator.pk)


def test_a_bad_supplier_form_shows_the_error_next_to_the_field(personas, clients):
    response = clients["owner"].post(reverse("declarations:supplier_create"), {"name": "X", "country": "ZZ"})
    assert response.status_code == 400
    assert b"ZZ is not an ISO 3166-1 alpha-2 country code" in response.content
    assert not Supplier.objects.exists()


def test_viewers_cannot_create_or_edit_and_outsiders_get_404(personas, clients):
    supplier = make_supplier(personas.organisation)
    assert clients["viewer"].get(reverse("declarations:supplier_create")).status_code == 403
    assert clients["viewer"].post(reverse("declarations:supplier_create"), {"name": "X", "country": "TR"}).status_code == 403
    assert clients["viewer"].post(
        reverse("declarations:supplier_edit", args=[supplier.pk]), {"name": "X", "country": "TR"}
    ).status_code == 403
    assert clients["outsider"].get(reverse("declarations:supplier_edit", args=[supplier.pk])).status_code == 404
    assert clients["outsider"].post(
        reverse("declarations:supplier_edit", args=[supplier.pk]), {"name": "X", "country": "TR"}
    ).status_code == 404
    supplier.refresh_from_db()
    assert supplier.name == "Anatolia Steel Trading"


def test_the_owner_edits_a_supplier(personas, clients):
    supplier = make_supplier(personas.organisation)
    response = clients["owner"].post(
        reverse("declarations:supplier_edit", args=[supplier.pk]), {"name": "Renamed", "country": "TR", "email": ""}
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.name, supplier.email) == ("Renamed", "")


def test_the_detail_shows_lines_mappings_requests_and_the_evidence_log(personas, clients, actor, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    add_line(personas.organisation, supplier, 1)
    installation = make_installation(operator, name="Iskenderun Works")
    share(installation, personas.organisation)
    SupplierInstallationMapping.objects.create(organisation=personas.organisation, supplier=supplier, installation=installation)
    send(personas, actor, [supplier])
    for who in ("owner", "viewer"):
        response = clients[who].get(reverse("declarations:supplier_detail", args=[supplier.pk]))
        assert response.status_code == 200
        assert b"1 import line" in response.content and b"Iskenderun Works" in response.content
        assert b"Sent to sales@anatolia.example" in response.content
    assert clients["outsider"].get(reverse("declarations:supplier_detail", args=[supplier.pk])).status_code == 404


def test_the_owner_maps_a_shared_installation_and_applies_it_to_existing_lines(personas, clients, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    line = add_line(personas.organisation, supplier, 1)
    shared = make_installation(operator)
    share(shared, personas.organisation)
    not_shared = make_installation(operator)

    refused = clients["owner"].post(
        reverse("declarations:supplier_mapping_create", args=[supplier.pk]), {"installation": not_shared.pk}
    )
    assert refused.status_code == 400 and b"not shared with you" in refused.content
    bad_cn = clients["owner"].post(
        reverse("declarations:supplier_mapping_create", args=[supplier.pk]), {"installation": shared.pk, "cn_code": "72"}
    )
    assert bad_cn.status_code == 400 and b"A CN code has 8 digits" in bad_cn.content
    assert clients["viewer"].post(
        reverse("declarations:supplier_mapping_create", args=[supplier.pk]), {"installation": shared.pk}
    ).status_code == 403
    assert clients["outsider"].post(
        reverse("declarations:supplier_mapping_create", args=[supplier.pk]), {"installation": shared.pk}
    ).status_code == 404

    ok = clients["owner"].post(reverse("declarations:supplier_mapping_create", args=[supplier.pk]), {"installation": shared.pk})
    assert ok.status_code == 302
    assert clients["viewer"].post(reverse("declarations:supplier_mapping_apply", args=[supplier.pk])).status_code == 403
    assert clients["outsider"].post(reverse("declarations:supplier_mapping_apply", args=[supplier.pk])).status_code == 404
    line.refresh_from_db()
    assert line.installation_id is None
    assert clients["owner"].post(reverse("declarations:supplier_mapping_apply", args=[supplier.pk])).status_code == 302
    line.refresh_from_db()
    assert line.installation_id == shared.pk

    mapping = SupplierInstallationMapping.objects.get()
    assert clients["viewer"].post(reverse("declarations:supplier_mapping_delete", args=[mapping.pk])).status_code == 403
    assert clients["outsider"].post(reverse("declarations:supplier_mapping_delete", args=[mapping.pk])).status_code == 404
    assert clients["owner"].post(reverse("declarations:supplier_mapping_delete", args=[mapping.pk])).status_code == 302
    assert not SupplierInstallationMapping.objects.exists()
    assert ImportLine.objects.get().installation_id == shared.pk


def test_the_evidence_csv_lists_every_event_and_neutralises_formulas(personas, clients, actor):
    supplier = make_supplier(personas.organisation)
    [data_request] = send(personas, actor, [supplier])
    DataRequestEvent.objects.create(request=data_request, kind="declined", note="=HYPERLINK(\"http://evil\")")
    response = clients["owner"].get(reverse("declarations:supplier_evidence_csv", args=[supplier.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[5] for r in rows[1:]] == ["sent", "declined"]
    assert rows[2][7].startswith("'=HYPERLINK")
    assert clients["viewer"].get(reverse("declarations:supplier_evidence_csv", args=[supplier.pk])).status_code == 200
    assert clients["outsider"].get(reverse("declarations:supplier_evidence_csv", args=[supplier.pk])).status_code == 404


def test_the_request_list_marks_overdue_requests_and_filters_by_status(
    personas, clients, actor, django_assert_max_num_queries
):
    suppliers = [make_supplier(personas.organisation, name=f"S{n}") for n in range(12)]
    requests = send(personas, actor, suppliers)
    late = requests[0]
    DataRequest.objects.filter(pk=late.pk).update(due_date=in_days(-3))
    with django_assert_max_num_queries(10):
        response = clients["owner"].get(reverse("declarations:data_request_list"))
    assert response.status_code == 200
    assert response.content.count(b"badge text-bg-danger") == 1
    overdue = clients["owner"].get(reverse("declarations:data_request_list"), {"status": "overdue"})
    assert overdue.content.count(b"<tr>") == 2  # header + one row
    assert clients["viewer"].get(reverse("declarations:data_request_list")).status_code == 200
    outsider = clients["outsider"].get(reverse("declarations:data_request_list"))
    assert outsider.status_code == 200 and b"S11" not in outsider.content


def test_the_owner_sends_requests_from_the_form_and_bad_input_is_shown_by_field(
    personas, clients, django_capture_on_commit_callbacks
):
    supplier = make_supplier(personas.organisation)
    foreign = make_supplier(personas.other_organisation, name="Foreign")
    url = reverse("declarations:data_request_create")
    assert clients["owner"].get(url, {"supplier": supplier.pk}).status_code == 200
    base = {"suppliers": [supplier.pk], "cn_codes": "72081000", "year": 2026, "due_date": in_days(10).isoformat()}

    bad = clients["owner"].post(url, {**base, "cn_codes": "7208 01012100"})
    assert bad.status_code == 400 and b"7208 is not an 8-digit CN code" in bad.content
    not_annex = clients["owner"].post(url, {**base, "cn_codes": "01012100"})
    assert b"Not CBAM goods (Annex I): 01012100" in not_annex.content
    past = clients["owner"].post(url, {**base, "due_date": "2020-01-01"})
    assert past.status_code == 400 and b"is in the past" in past.content
    other = clients["owner"].post(url, {**base, "suppliers": [foreign.pk]})
    assert other.status_code == 400 and not DataRequest.objects.exists()

    assert clients["viewer"].post(url, base).status_code == 403
    assert clients["viewer"].get(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["owner"].post(url, base)
    assert response.status_code == 302
    assert DataRequest.objects.get().declarant == personas.organisation
    assert len(mail.outbox) == 1
    # The outsider sends in its own organisation and cannot pick this one's supplier.
    assert clients["outsider"].post(url, base).status_code == 400
    assert DataRequest.objects.count() == 1
