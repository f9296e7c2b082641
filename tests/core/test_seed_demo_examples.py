"""The demo's draft declaration reproduces worked examples 8 and 9 of the domain brief when the
Commission's workbooks are loaded, the way `make reference` loads them when they are available."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cbam_portal.core.models import AuditEvent
from declarations.demo import REQUEST_SENT_DAYS_AGO
from declarations.models import Declaration, SupplierDataRequest
from declarations.services.requests import REMINDER_INTERVAL_DAYS, reminder_due
from emissions.models import DataRequestStatus, GoodResult, ReportStatus
from emissions.see import EUR_PLACES, quantise
from tests.conftest import login, require_shared_data
from tests.reference.conftest import wipe_reference_data

pytestmark = pytest.mark.django_db

WORKBOOKS = "commission-workbooks"
DECLARANT_EORI = "DE123456789012345"


@pytest.fixture(scope="module")
def commission_reference_data(django_db_setup, django_db_blocker):
    """The opencbam data with the Commission's default-value and benchmark workbooks loaded on top
    (committed once for the module; each test's own writes are rolled back)."""
    default_values = require_shared_data(WORKBOOKS, "default_values.xlsx")
    benchmarks = require_shared_data(WORKBOOKS, "benchmarks.xlsx")
    with django_db_blocker.unblock():
        wipe_reference_data()
        call_command("load_reference_data", stdout=StringIO())
        call_command(
            "load_reference_data",
            "--default-values-xlsx",
            str(default_values),
            "--benchmarks-xlsx",
            str(benchmarks),
            stdout=StringIO(),
        )
    yield
    with django_db_blocker.unblock():
        wipe_reference_data()


@pytest.fixture
def draft(commission_reference_data):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return Declaration.objects.get(organisation__eori=DECLARANT_EORI, year=2026), out.getvalue()


def test_the_china_hot_rolled_coil_group_reproduces_worked_example_8(draft):
    declaration, printed = draft
    group = declaration.groups.get(cn_code="72081000", country="CN")

    assert (group.quarter, group.mass_tonnes, group.source) == (1, D("100"), "default")
    assert (group.column, group.route, group.benchmark) == ("B", "C", D("1.370"))
    assert group.see_used == D("3.505582")  # the workbook's 2026 value with mark-up
    assert group.sefa == D("1.33575") and group.faa == D("133.575")
    assert group.price_eur == D("75.36")
    assert group.certificates == D("216.9832")
    # The brief's €16,351.86 uses the workbook's unrounded 3.5055823; the published six-decimal
    # value gives 216.9832 × 75.36 = 16,351.853952, which is €16,351.85 half-up.
    assert quantise(group.cost_eur, EUR_PLACES) == D("16351.85")
    assert group.datasets["default_values"]["version"] == "v1 (2026-02-04)"
    assert "Q1 72081000 CN default 100 t  216.9832 certificates  EUR 16,351.85" in printed
    assert "default values v1 (2026-02-04)" in printed


def test_the_omani_aluminium_group_reproduces_worked_example_9_from_the_smelters_verified_report(draft):
    declaration, printed = draft
    group = declaration.groups.select_related("installation", "report").get(cn_code="76011010", country="OM")

    assert (group.quarter, group.mass_tonnes, group.lines, group.source) == (2, D("1000"), 2, "actual")
    assert group.installation.unlocode == "OMSOH" and group.installation.country == "OM"
    assert group.report.status == ReportStatus.VERIFIED
    assert group.see_used == D("1.555")  # Annex II: direct emissions only
    assert (group.column, group.route, group.benchmark) == ("A", "K", D("1.423"))
    assert group.sefa == D("1.387425")
    assert group.price_eur == D("75.28")
    assert group.certificates == D("167.575")
    assert quantise(group.cost_eur, EUR_PLACES) == D("12615.05")
    assert "Q2 76011010 OM actual  1000 t  167.575 certificates  EUR 12,615.05" in printed

    # The 1.555 is the emissions engine's result for the smelter's process, not a typed-in value.
    result = GoodResult.objects.get(report=group.report, cn_code="76011010")
    assert result.annex_ii and result.see_direct == result.see_obligation == D("1.555")
    assert result.see_indirect > 0  # reported, not counted for an Annex II good


def test_the_chinese_supplier_has_a_pending_request_chased_by_two_reminders(draft):
    declaration, _printed = draft
    link = SupplierDataRequest.objects.select_related("supplier", "data_request").get(
        organisation=declaration.organisation, supplier__country="CN"
    )
    request = link.data_request
    assert link.supplier.operator_org is None and link.supplier.email
    assert request.status == DataRequestStatus.SENT and request.cn_codes == ["72081000"]
    assert request.due_date > timezone.localdate()

    events = list(request.events.order_by("at"))
    assert [e.kind for e in events] == ["sent", "reminded", "reminded"]
    sent_on = timezone.localdate() - dt.timedelta(days=REQUEST_SENT_DAYS_AGO)
    assert [timezone.localdate(e.at) for e in events] == [
        sent_on + dt.timedelta(days=n * REMINDER_INTERVAL_DAYS) for n in range(3)
    ]
    assert timezone.localdate(request.created_at) == sent_on
    # The audit trail tells the same story, and no third reminder is due on the day of seeding.
    audited = AuditEvent.objects.filter(target_id=str(request.pk), verb__startswith="data_request.")
    assert sorted(timezone.localdate(a.at) for a in audited) == [timezone.localdate(e.at) for e in events]
    assert reminder_due(request, events, today=timezone.localdate()) == ""


def test_the_declarant_sees_the_examples_and_the_chased_request_on_its_pages(draft):
    declaration, _printed = draft
    preparer = declaration.organisation.memberships.get(user__email="paul.preparer@rheinstahl.example").user
    client = login(preparer, declaration.organisation)

    page = client.get(reverse("declarations:declaration_detail", kwargs={"pk": declaration.pk}))
    assert page.status_code == 200
    assert "216.9832" in page.content.decode() and "167.575" in page.content.decode()
    group = declaration.groups.get(cn_code="72081000", country="CN")
    page = client.get(
        reverse("declarations:declaration_group", kwargs={"pk": declaration.pk, "group_pk": group.pk})
    )
    assert page.status_code == 200 and "v1 (2026-02-04)" in page.content.decode()  # the data source version

    supplier = declaration.organisation.suppliers.get(country="CN")
    page = client.get(reverse("declarations:supplier_detail", kwargs={"pk": supplier.pk}))
    assert page.status_code == 200
    assert page.content.decode().count("Reminder: no answer after") == 2
