"""The declaration page's "where suppliers' actual data would matter most": the goods on default
values with the most certificates, the suppliers on their lines and the year's request to each."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cbam_portal.core.actor import Actor
from declarations.models import Supplier, SupplierDataRequest
from declarations.selectors.declarations import default_value_hotspots
from declarations.services import declarations as services
from emissions.models import DataRequest
from tests.conftest import login
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _december_2026():
    with time_machine.travel("2026-12-07 12:00:00Z", tick=False):
        yield


@pytest.fixture
def suppliers(personas):
    org = personas.organisation
    return {
        name: Supplier.objects.create(organisation=org, name=name, country=country)
        for name, country in (("Hebei Jinghua Steel", "CN"), ("Baoshan Iron", "CN"), ("Kalinga Aluminium", "IN"))
    }


@pytest.fixture
def declaration(reference_data, personas, suppliers):  # noqa: F811
    """Example 9 on actual data; Chinese coil (two suppliers and a line naming none) and Indian
    aluminium on default values."""
    org = personas.organisation
    example_9(org)
    add_line(org, mass="100", supplier=suppliers["Hebei Jinghua Steel"])
    add_line(org, mass="50", supplier=suppliers["Hebei Jinghua Steel"])
    add_line(org, mass="30", supplier=suppliers["Baoshan Iron"])
    add_line(org, mass="5")
    add_line(org, cn="76011010", country="IN", mass="20", day=dt.date(2026, 5, 4), supplier=suppliers["Kalinga Aluminium"])
    return services.declaration_create(actor=Actor(user=personas.preparer), organisation=org, year=2026)


def data_request(personas, supplier, *, cn_codes, status="sent", due=dt.date(2026, 12, 20)):
    request = DataRequest.objects.create(
        declarant=personas.organisation,
        supplier_name=supplier.name,
        cn_codes=cn_codes,
        year=2026,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        due_date=due,
        status=status,
    )
    SupplierDataRequest.objects.create(organisation=personas.organisation, supplier=supplier, data_request=request)
    return request


def test_the_heaviest_default_groups_come_first_with_the_suppliers_on_their_lines(declaration):
    hotspots = default_value_hotspots(declaration, TODAY)

    assert [(h.group.cn_code, h.group.country) for h in hotspots] == [("72081000", "CN"), ("76011010", "IN")]
    assert hotspots[0].group.certificates > hotspots[1].group.certificates
    coil = {s.name: (s.lines, s.request_status) for s in hotspots[0].suppliers}
    assert coil == {"Hebei Jinghua Steel": (2, ""), "Baoshan Iron": (1, ""), "": (1, "")}
    # The aluminium on actual data (example 9) is not listed: its data is there already.
    assert all(h.group.source == "default" for h in hotspots)


def test_the_request_shown_is_the_latest_covering_the_groups_cn_code(declaration, personas, suppliers):
    hebei, baoshan, kalinga = suppliers.values()
    data_request(personas, hebei, cn_codes=["72081000"], status="declined")
    data_request(personas, hebei, cn_codes=["72081000"], status="opened", due=dt.date(2026, 11, 30))  # overdue
    data_request(personas, baoshan, cn_codes=["72139120"])  # another good
    data_request(personas, kalinga, cn_codes=[], status="answered")  # no CN codes: every good

    hotspots = default_value_hotspots(declaration, TODAY)

    coil = {s.name: (s.request_status, s.request_overdue) for s in hotspots[0].suppliers}
    assert coil["Hebei Jinghua Steel"] == ("opened", True)
    assert coil["Baoshan Iron"] == ("", False)
    assert [(s.name, s.request_status) for s in hotspots[1].suppliers] == [("Kalinga Aluminium", "answered")]


def test_the_page_offers_a_prefilled_request_to_those_who_may_send_one(declaration, personas, suppliers):
    hebei = suppliers["Hebei Jinghua Steel"]
    data_request(personas, suppliers["Kalinga Aluminium"], cn_codes=["76011010"])
    url = reverse("declarations:declaration_detail", args=[declaration.pk])

    html = login(personas.owner, personas.organisation).get(url).content.decode()
    section = html.split('data-testid="hotspots"')[1].split("</section>")[0]
    assert "actual data would matter most" in html
    assert f'?supplier={hebei.pk}&amp;cn_codes=72081000&amp;year=2026" data-testid="request-data"' in section
    assert "1 import line names no supplier: record it to ask for data." in section
    aluminium = section.split("7601 10 10")[1]
    assert "request: Sent" in aluminium and "request-data" not in aluminium  # already asked

    viewer = login(personas.viewer, personas.organisation).get(url).content.decode()
    assert 'data-testid="hotspots"' in viewer and 'data-testid="request-data"' not in viewer
    assert login(personas.outsider, personas.other_organisation).get(url).status_code == 404


def test_the_prefilled_request_form_takes_the_supplier_the_good_and_the_year(personas, suppliers):
    hebei = suppliers["Hebei Jinghua Steel"]
    with time_machine.travel("2027-03-01 12:00:00Z"):  # asking in 2027 for the 2026 declaration
        client = login(personas.owner, personas.organisation)
        form = client.get(
            reverse("declarations:data_request_create"), {"supplier": hebei.pk, "cn_codes": "72081000", "year": "2026"}
        ).context["form"]
    assert [str(s) for s in form.initial["suppliers"]] == [str(hebei.pk)]
    assert form.initial["cn_codes"] == "72081000" and form.initial["year"] == 2026


def test_a_filed_declaration_lists_no_hotspots(declaration, personas):
    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    services.declaration_approve(actor=Actor(user=personas.reviewer), declaration=declaration)
    services.declaration_file(actor=Actor(user=personas.owner), declaration=declaration)

    html = login(personas.owner, personas.organisation).get(
        reverse("declarations:declaration_detail", args=[declaration.pk])
    ).content.decode()

    assert 'data-testid="hotspots"' not in html


def test_the_page_needs_the_same_queries_with_more_suppliers_and_requests(
    declaration, personas, suppliers, django_assert_max_num_queries
):
    url = reverse("declarations:declaration_detail", args=[declaration.pk])
    client = login(personas.viewer, personas.organisation)
    client.get(url)
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    for n in range(6):
        extra = Supplier.objects.create(organisation=personas.organisation, name=f"Mill {n}", country="CN")
        add_line(personas.organisation, mass="10", supplier=extra)
        data_request(personas, extra, cn_codes=["72081000"])
    services.declaration_compute(actor=Actor(user=personas.owner), declaration=declaration)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('data-testid="request-status"') == 6
