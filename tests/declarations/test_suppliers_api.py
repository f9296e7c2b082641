"""Supplier and data-request API with the three personas."""

from __future__ import annotations

import pytest
from django.core import mail

from declarations.models import ImportLine, Supplier, SupplierInstallationMapping
from declarations.services import requests as request_services
from emissions.models import DataRequest

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

SUPPLIERS = "/api/v1/suppliers/"
REQUESTS = "/api/v1/supplier-requests/"


def test_suppliers_are_listed_to_members_only_in_few_queries(personas, api_clients, django_assert_max_num_queries):
    for n in range(15):
        add_line(personas.organisation, make_supplier(personas.organisation, name=f"S{n}"), n)
    make_supplier(personas.other_organisation, name="Hidden")
    with django_assert_max_num_queries(10):
        response = api_clients["owner"].get(SUPPLIERS)
    assert response.status_code == 200
    assert response.json()["count"] == 15
    assert response.json()["results"][0]["line_count"] == 1
    assert api_clients["viewer"].get(SUPPLIERS).status_code == 200
    assert [s["name"] for s in api_clients["outsider"].get(SUPPLIERS).json()["results"]] == ["Hidden"]


def test_the_owner_creates_and_updates_a_supplier_and_the_viewer_cannot(personas, api_clients, operator):
    body = {"name": "Anatolia", "country": "tr", "email": "a@a.example", "operator_org": operator.pk}
    assert api_clients["viewer"].post(SUPPLIERS, body, format="json").status_code == 403
    created = api_clients["owner"].post(SUPPLIERS, body, format="json")
    assert created.status_code == 201 and created.json()["country"] == "TR"
    pk = created.json()["id"]
    duplicate = api_clients["owner"].post(SUPPLIERS, body, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    assert api_clients["viewer"].patch(f"{SUPPLIERS}{pk}/", {"name": "X"}, format="json").status_code == 403
    assert api_clients["outsider"].patch(f"{SUPPLIERS}{pk}/", {"name": "X"}, format="json").status_code == 404
    assert api_clients["outsider"].get(f"{SUPPLIERS}{pk}/").status_code == 404
    updated = api_clients["owner"].patch(f"{SUPPLIERS}{pk}/", {"email": "b@a.example"}, format="json")
    assert updated.status_code == 200 and updated.json()["email"] == "b@a.example"
    assert Supplier.objects.get(pk=pk).operator_org_id == operator.pk


def test_mappings_accept_only_shared_installations_and_apply_to_lines(personas, api_clients, operator):
    supplier = make_supplier(personas.organisation, operator_org=operator)
    line = add_line(personas.organisation, supplier, 1)
    shared, not_shared = make_installation(operator), make_installation(operator)
    share(shared, personas.organisation)
    url = f"{SUPPLIERS}{supplier.pk}/mappings/"

    refused = api_clients["owner"].post(url, {"installation": not_shared.pk}, format="json")
    assert refused.status_code == 400 and "not shared" in refused.json()["installation"][0]
    assert api_clients["viewer"].post(url, {"installation": shared.pk}, format="json").status_code == 403
    assert api_clients["outsider"].post(url, {"installation": shared.pk}, format="json").status_code == 404
    assert api_clients["owner"].post(url, {"installation": shared.pk}, format="json").status_code == 201
    assert SupplierInstallationMapping.objects.count() == 1
    assert api_clients["viewer"].get(url).json()[0]["installation"] == shared.pk
    assert api_clients["outsider"].get(url).status_code == 404

    apply_url = f"{SUPPLIERS}{supplier.pk}/apply-mappings/"
    assert api_clients["viewer"].post(apply_url).status_code == 403
    assert api_clients["outsider"].post(apply_url).status_code == 404
    assert api_clients["owner"].post(apply_url).json() == {"lines_linked": 1}
    assert ImportLine.objects.get(pk=line.pk).installation_id == shared.pk


def test_data_requests_are_sent_listed_with_overdue_and_logged_as_evidence(
    personas, api_clients, actor, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    supplier = make_supplier(personas.organisation)
    body = {"suppliers": [supplier.pk], "cn_codes": ["72081000"], "year": 2026, "due_date": in_days(5).isoformat()}
    assert api_clients["viewer"].post(REQUESTS, body, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        created = api_clients["owner"].post(REQUESTS, body, format="json")
    assert created.status_code == 201 and created.json()[0]["supplier"] == supplier.pk
    assert len(mail.outbox) == 1

    more = [make_supplier(personas.organisation, name=f"S{n}") for n in range(10)]
    request_services.data_request_send(
        actor=actor, organisation=personas.organisation, suppliers=more, cn_codes="72081000", year=2026,
        due_date=in_days(3),
    )
    DataRequest.objects.filter(supplier_name="S0").update(due_date=in_days(-1))
    with django_assert_max_num_queries(10):
        listed = api_clients["viewer"].get(REQUESTS)
    assert listed.status_code == 200 and listed.json()["count"] == 11
    assert [r["supplier_name"] for r in listed.json()["results"] if r["overdue"]] == ["S0"]
    assert api_clients["outsider"].get(REQUESTS).json()["count"] == 0
    pk = created.json()[0]["id"]
    assert api_clients["outsider"].get(f"{REQUESTS}{pk}/").status_code == 404

    evidence = api_clients["viewer"].get(f"{SUPPLIERS}{supplier.pk}/evidence/")
    assert [e["kind"] for e in evidence.json()] == ["sent"]
    assert api_clients["outsider"].get(f"{SUPPLIERS}{supplier.pk}/evidence/").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cn_codes": ["720810"]}, "cn_codes"),
        ({"cn_codes": ["01012100"]}, "cn_codes"),
        ({"due_date": "2020-01-01"}, "due_date"),
    ],
)
def test_bad_data_request_input_is_a_400_naming_the_field(personas, api_clients, change, field):
    supplier = make_supplier(personas.organisation)
    body = {"suppliers": [supplier.pk], "cn_codes": ["72081000"], "year": 2026, "due_date": in_days(5).isoformat()}
    response = api_clients["owner"].post(REQUESTS, {**body, **change}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not DataRequest.objects.exists()


def test_a_supplier_of_another_organisation_cannot_be_requested(personas, api_clients):
    foreign = make_supplier(personas.other_organisation)
    body = {"suppliers": [foreign.pk], "cn_codes": ["72081000"], "year": 2026, "due_date": in_days(5).isoformat()}
    response = api_clients["owner"].post(REQUESTS, body, format="json")
    assert response.status_code == 400 and "suppliers" in response.json()
    assert not DataRequest.objects.exists()
