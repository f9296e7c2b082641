"""Sharing an installation's submitted reports with declarants, revoking, the access log, and
answering data requests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cbam_portal.accounts.access import access_for
from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from emissions.models import DataRequest, DataRequestStatus, ReportAccess, ReportStatus, SharingGrant
from emissions.selectors.sharing import declarant_search, shared_report_get, shared_reports_for
from emissions.services import sharing as services
from tests.emissions.factories import GoodFactory, InstallationFactory, ProcessFactory, ReportFactory
from tests.factories import MembershipFactory, OperatorFactory, OrganisationFactory


def shared_setup(operator, *, status=ReportStatus.SUBMITTED, year=2026):
    """An installation of `operator` with one report (with a process and a good) in `status`."""
    installation = InstallationFactory(organisation=operator)
    report = ReportFactory(installation=installation, status=status, year=year)
    GoodFactory(process=ProcessFactory(report=report), cn_code="72081000")
    return installation, report


def make_request(declarant, operator, **overrides) -> DataRequest:
    fields = {
        "declarant": declarant,
        "operator": operator,
        "supplier_name": operator.name,
        "cn_codes": ["72081000"],
        "year": 2026,
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date(2026, 12, 31),
        "due_date": dt.date(2027, 3, 31),
        "message": "Please share your 2026 emissions data.",
    }
    fields.update(overrides)
    return DataRequest.objects.create(**fields)


@pytest.fixture
def operator(db):
    return OperatorFactory()


@pytest.fixture
def operator_admin(operator):
    return MembershipFactory(organisation=operator).user


@pytest.fixture
def actor(operator_admin):
    return Actor(user=operator_admin)


@pytest.fixture
def declarant(db):
    return OrganisationFactory(name="Rheinstahl Import GmbH", eori="DE123456789012")


def declarant_access(declarant):
    user = MembershipFactory(organisation=declarant).user
    return access_for(user, declarant.pk), user


def test_granting_lets_the_declarant_see_submitted_and_verified_reports_only(operator, actor, declarant):
    installation, submitted = shared_setup(operator)
    draft = ReportFactory(installation=installation, status=ReportStatus.DRAFT, year=2027)
    verified = ReportFactory(installation=installation, status=ReportStatus.VERIFIED, year=2025)
    access, _user = declarant_access(declarant)
    assert list(shared_reports_for(access)) == []

    grant = services.grant_create(actor=actor, installation=installation, declarant=declarant)

    assert grant.organisation == operator and grant.granted_by == actor.user
    assert set(shared_reports_for(access)) == {submitted, verified}
    assert draft not in shared_reports_for(access)
    assert AuditEvent.objects.filter(verb="sharing_grant.created", organisation=operator).count() == 1


def test_granting_twice_reuses_the_active_grant(operator, actor, declarant):
    installation, _report = shared_setup(operator)

    first = services.grant_create(actor=actor, installation=installation, declarant=declarant)
    second = services.grant_create(actor=actor, installation=installation, declarant=declarant)

    assert first.pk == second.pk
    assert SharingGrant.objects.count() == 1


@pytest.mark.parametrize("kind", ["operator", "representative"])
def test_only_declarants_can_receive_a_grant(operator, actor, kind):
    installation, _report = shared_setup(operator)
    other = OrganisationFactory(kind=kind, eori="")

    with pytest.raises(ValidationError, match="not a declarant"):
        services.grant_create(actor=actor, installation=installation, declarant=other)

    assert SharingGrant.objects.count() == 0


def test_revoking_hides_the_reports_again_and_keeps_the_grant_as_history(operator, actor, declarant):
    installation, report = shared_setup(operator)
    grant = services.grant_create(actor=actor, installation=installation, declarant=declarant)
    access, _user = declarant_access(declarant)

    services.grant_revoke(actor=actor, grant=grant)

    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == actor.user
    assert list(shared_reports_for(access)) == []
    with pytest.raises(Exception) as excinfo:
        shared_report_get(access, report.pk)
    assert excinfo.typename == "Http404"
    assert AuditEvent.objects.filter(verb="sharing_grant.revoked").exists()


def test_revoking_twice_is_refused(operator, actor, declarant):
    installation, _report = shared_setup(operator)
    grant = services.grant_create(actor=actor, installation=installation, declarant=declarant)
    services.grant_revoke(actor=actor, grant=grant)

    with pytest.raises(ValidationError, match="already revoked"):
        services.grant_revoke(actor=actor, grant=grant)


def test_after_revoking_a_new_grant_can_be_given(operator, actor, declarant):
    installation, _report = shared_setup(operator)
    services.grant_revoke(
        actor=actor, grant=services.grant_create(actor=actor, installation=installation, declarant=declarant)
    )

    again = services.grant_create(actor=actor, installation=installation, declarant=declarant)

    assert again.revoked_at is None
    assert SharingGrant.objects.count() == 2


def test_a_revoked_grant_does_not_leak_with_another_declarants_active_grant(operator, actor, declarant):
    installation, report = shared_setup(operator)
    other = OrganisationFactory()
    services.grant_revoke(
        actor=actor, grant=services.grant_create(actor=actor, installation=installation, declarant=declarant)
    )
    services.grant_create(actor=actor, installation=installation, declarant=other)
    access, _user = declarant_access(declarant)

    assert list(shared_reports_for(access)) == []


def test_report_access_is_recorded_with_user_and_channel(operator, actor, declarant):
    installation, report = shared_setup(operator)
    _access, user = declarant_access(declarant)

    row = services.report_access_record(report=report, declarant=declarant, user=user, via="api")

    assert ReportAccess.objects.get() == row
    assert (row.user, row.declarant, row.via) == (user, declarant, "api")


def test_declarant_search_finds_declarants_by_name_or_eori_only(operator, declarant):
    OrganisationFactory(kind="representative", name="Rheinstahl Customs BV", eori="NL123456789")

    assert declarant_search("rheinstahl") == [declarant]
    assert declarant_search("DE1234567") == [declarant]
    assert declarant_search("x") == []
    assert declarant_search(operator.name) == []


def test_answering_a_request_shares_the_installation_and_records_the_event(operator, actor, declarant):
    installation, _report = shared_setup(operator)
    request = make_request(declarant, operator)

    answered = services.data_request_answer(actor=actor, request=request, installation=installation)

    assert answered.status == DataRequestStatus.ANSWERED and answered.answered_at
    assert answered.answer_grant.declarant == declarant
    assert answered.installation == installation
    (event,) = answered.events.all()
    assert event.kind == "answered" and event.actor == actor.user
    assert AuditEvent.objects.filter(verb="data_request.answered").exists()


def test_answering_reuses_an_existing_grant(operator, actor, declarant):
    installation, _report = shared_setup(operator)
    grant = services.grant_create(actor=actor, installation=installation, declarant=declarant)

    answered = services.data_request_answer(
        actor=actor, request=make_request(declarant, operator), installation=installation
    )

    assert answered.answer_grant == grant


def test_answering_with_another_operators_installation_is_refused(operator, actor, declarant):
    foreign, _report = shared_setup(OperatorFactory())
    request = make_request(declarant, operator)

    with pytest.raises(ValidationError, match="your own installations"):
        services.data_request_answer(actor=actor, request=request, installation=foreign)

    request.refresh_from_db()
    assert request.status == DataRequestStatus.SENT
    assert SharingGrant.objects.count() == 0


def test_declining_needs_a_reason_and_records_it(operator, actor, declarant):
    request = make_request(declarant, operator)

    with pytest.raises(ValidationError, match="reason"):
        services.data_request_decline(actor=actor, request=request, reason="  ")
    declined = services.data_request_decline(actor=actor, request=request, reason="We do not supply you.")

    assert declined.status == DataRequestStatus.DECLINED
    assert declined.events.get().note == "We do not supply you."


def test_a_closed_request_can_no_longer_be_answered_or_declined(operator, actor, declarant):
    installation, _report = shared_setup(operator)
    request = make_request(declarant, operator)
    services.data_request_decline(actor=actor, request=request, reason="No.")

    with pytest.raises(ValidationError, match="can no longer be answered"):
        services.data_request_answer(actor=actor, request=request, installation=installation)
    with pytest.raises(ValidationError, match="can no longer be answered"):
        services.data_request_decline(actor=actor, request=request, reason="Still no.")


def test_opening_a_request_marks_it_opened_once(operator, actor, declarant):
    request = make_request(declarant, operator)

    services.data_request_mark_opened(actor=actor, request=request)
    services.data_request_mark_opened(actor=actor, request=request)

    request.refresh_from_db()
    assert request.status == DataRequestStatus.OPENED
    assert [e.kind for e in request.events.all()] == ["opened"]
