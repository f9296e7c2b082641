from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cbam_portal.accounts.access import access_for
from cbam_portal.accounts.models import Membership, Organisation, OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.management.commands.seed_demo import DEMO_PASSWORD, USERS
from cbam_portal.core.models import Job
from declarations.models import Declaration, ImportLine
from emissions.models import (
    DataRequest,
    DataRequestStatus,
    EmissionsReport,
    Installation,
    ReportStatus,
    SharingGrant,
)


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

    assert Organisation.objects.filter(kind=OrganisationKind.DECLARANT, represented_by__isnull=True).count() == 1
    assert Organisation.objects.filter(kind=OrganisationKind.OPERATOR).count() == 1
    representative = Organisation.objects.get(kind=OrganisationKind.REPRESENTATIVE)
    importers = list(representative.represents.all())
    assert len(importers) == 2 and all(i.eori for i in importers)
    assert {m.role for m in Membership.objects.all()} == {"admin", "preparer", "reviewer", "viewer"}

    clara = Membership.objects.get(user__email="clara.customs@lowlands.example").user
    for importer in importers:
        assert access_for(clara, importer.pk).can(Capability.EDIT)

    operator = Organisation.objects.get(kind=OrganisationKind.OPERATOR)
    assert Installation.objects.filter(organisation=operator).count() == 2
    verified = EmissionsReport.objects.get(organisation=operator, status=ReportStatus.VERIFIED)
    declarant = Organisation.objects.get(eori="DE123456789012345")
    assert SharingGrant.objects.filter(installation=verified.installation, declarant=declarant, revoked_at=None).exists()
    assert verified.results.exists()
    assert DataRequest.objects.filter(declarant=declarant, operator=operator, status=DataRequestStatus.SENT).exists()

    lines = ImportLine.objects.filter(organisation=declarant)
    assert lines.count() == 7
    assert lines.filter(in_scope=False, origin_country="CH").count() == 1  # Annex III origin
    assert lines.filter(installation=verified.installation).count() == 2  # actual data available

    draft = Declaration.objects.get(organisation=declarant, year=2026)
    assert draft.status == "draft" and draft.certificates > 0
    assert {g.source for g in draft.groups.all()} == {"actual", "default"}
    assert not Job.objects.exists()  # computed once by the seed, no recompute jobs queued

    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for email, *_ in USERS:
        assert email in text


def test_seed_demo_run_twice_keeps_the_data_and_prints_the_credentials_again(reference):
    call_command("seed_demo", stdout=StringIO())
    before = Membership.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert Membership.objects.count() == before
    assert "already present" in out.getvalue()


def test_demo_users_can_sign_in_with_the_printed_password(client, reference):
    call_command("seed_demo", stdout=StringIO())
    assert client.login(email="rita.reviewer@rheinstahl.example", password=DEMO_PASSWORD)
