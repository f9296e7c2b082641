from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cbam_portal.accounts.access import access_for
from cbam_portal.accounts.models import Membership, Organisation, OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.management.commands.seed_demo import DEMO_PASSWORD, USERS
from cbam_portal.core.models import Job
from declarations.models import Declaration, ImportLine, Supplier
from emissions.models import (
    DataRequest,
    DataRequestEvent,
    DataRequestStatus,
    EmissionsReport,
    Installation,
    ReportStatus,
    SharingGrant,
)
from emissions.see import EUR_PLACES, quantise


@pytest.fixture
def reference(db):
    call_command("load_reference_data", verbosity=0)


def test_seed_demo_without_reference_data_says_what_to_run(db):
    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("seed_demo", stdout=StringIO())
    assert not Organisation.objects.exists()


def test_seed_demo_creates_every_role_and_a_representative_acting_for_two_importers(reference):
    out = StringIO()
    call_command("seed_demo", stdout=out)

    assert (
        Organisation.objects.filter(kind=OrganisationKind.DECLARANT, represented_by__isnull=True).count() == 1
    )
    assert Organisation.objects.filter(kind=OrganisationKind.OPERATOR).count() == 2
    representative = Organisation.objects.get(kind=OrganisationKind.REPRESENTATIVE)
    importers = list(representative.represents.all())
    assert len(importers) == 2 and all(i.eori for i in importers)
    assert {m.role for m in Membership.objects.all()} == {"admin", "preparer", "reviewer", "viewer"}

    clara = Membership.objects.get(user__email="clara.customs@lowlands.example").user
    for importer in importers:
        assert access_for(clara, importer.pk).can(Capability.EDIT)

    operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR, country="TR")
    assert Installation.objects.filter(organisation=operator).count() == 2
    verified = EmissionsReport.objects.get(organisation=operator, status=ReportStatus.VERIFIED)
    declarant = Organisation.objects.get(eori="DE123456789012345")
    assert SharingGrant.objects.filter(
        installation=verified.installation, declarant=declarant, revoked_at=None
    ).exists()
    assert verified.results.exists()
    assert DataRequest.objects.filter(
        declarant=declarant, operator=operator, status=DataRequestStatus.SENT
    ).exists()
    smelter_operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR, country="OM")
    (smelter,) = Installation.objects.filter(organisation=smelter_operator)
    smelter_report = EmissionsReport.objects.get(
        installation=smelter, year=2026, status=ReportStatus.VERIFIED
    )
    assert SharingGrant.objects.filter(installation=smelter, declarant=declarant, revoked_at=None).exists()

    lines = ImportLine.objects.filter(organisation=declarant)
    assert lines.count() == 9
    assert set(lines.values_list("origin_country", flat=True)) == {"TR", "CN", "IN", "OM", "EG", "CH"}
    assert lines.filter(in_scope=False, origin_country="CH").count() == 1  # Annex III origin
    assert lines.filter(installation=verified.installation).count() == 2  # actual data available
    assert (
        lines.filter(installation=smelter, supplier__operator_org=smelter_operator).count() == 2
    )  # mapped supplier
    assert Supplier.objects.filter(organisation=declarant).count() == 5

    draft = Declaration.objects.get(organisation=declarant, year=2026)
    assert draft.status == "draft" and draft.certificates > 0 and draft.computation_error == ""
    assert {g.source for g in draft.groups.all()} == {"actual", "default"}
    assert draft.groups.filter(report=smelter_report).exists()
    assert not Job.objects.exists()  # computed once by the seed, no recompute jobs queued

    for importer in importers:  # the representative's importers each have lines and a computed draft
        assert ImportLine.objects.filter(organisation=importer).count() >= 2
        importer_draft = Declaration.objects.get(organisation=importer, year=2026)
        assert importer_draft.certificates > 0 and importer_draft.computation_error == ""

    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for email, *_ in USERS:
        assert email in text


def _counts() -> dict:
    models = (Organisation, Membership, Installation, EmissionsReport, ImportLine, Supplier, Declaration)
    counted = {m.__name__: m.objects.count() for m in models}
    counted["DataRequestEvent"] = DataRequestEvent.objects.count()
    return counted


def test_seed_demo_run_twice_keeps_the_data_and_prints_the_credentials_again(reference):
    first = StringIO()
    call_command("seed_demo", stdout=first)
    before = _counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert _counts() == before
    assert "already present" in out.getvalue()
    summary = first.getvalue().split("\n\n")[-1]
    assert "Q2 76011010 OM actual" in summary and summary in out.getvalue()


def test_on_the_opencbam_data_example_9_is_exact_and_the_page_data_names_its_source(reference):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    draft = Declaration.objects.get(organisation__eori="DE123456789012345", year=2026)

    aluminium = draft.groups.get(cn_code="76011010", country="OM")
    assert aluminium.certificates == D("167.575")
    assert quantise(aluminium.cost_eur, EUR_PLACES) == D("12615.05")
    # opencbam rounds the Chinese default to 3.506 (the workbook has 3.505582): example 8 differs slightly.
    hrc = draft.groups.get(cn_code="72081000", country="CN")
    assert (hrc.see_used, hrc.certificates, quantise(hrc.cost_eur, EUR_PLACES)) == (
        D("3.506"),
        D("217.025"),
        D("16355.00"),
    )
    assert hrc.datasets["default_values"]["version"].startswith("opencbam")
    assert "default values opencbam" in out.getvalue()


def test_demo_users_can_sign_in_with_the_printed_password(client, reference):
    call_command("seed_demo", stdout=StringIO())
    assert client.login(email="rita.reviewer@rheinstahl.example", password=DEMO_PASSWORD)
