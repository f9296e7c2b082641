"""The operator demo: two installations, a verified 2026 report shared with the declarant, an open request."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from cbam_portal.accounts.access import access_for
from emissions.demo import seed_operator_demo
from emissions.models import DataRequestStatus, GoodResult, ReportStatus
from emissions.selectors.sharing import data_request_list, shared_reports_for
from tests.factories import MembershipFactory, OperatorFactory, OrganisationFactory


@pytest.fixture
def demo(db):
    operator = OperatorFactory(name="Anadolu Sanayi Holding A.Ş.")
    admin = MembershipFactory(organisation=operator).user
    declarant = OrganisationFactory(name="Rheinstahl Import GmbH")
    importer_user = MembershipFactory(organisation=declarant).user
    result = seed_operator_demo(operator=operator, declarant=declarant, operator_admin=admin)
    return result, operator, admin, declarant, importer_user


def test_the_demo_creates_two_turkish_installations(demo):
    result, operator, _admin, _declarant, _user = demo

    installations = sorted(operator.installations.all(), key=lambda i: i.name_en)
    assert [i.name_en for i in installations] == ["Iskenderun Integrated Steelworks", "Marmara Cement Plant"]
    assert all(i.country == "TR" and i.unlocode.startswith("TR") for i in installations)
    assert all(i.latitude.as_tuple().exponent == -6 for i in installations)


def test_the_steelworks_report_is_verified_with_the_worked_example_see(demo):
    result, _operator, _admin, _declarant, _user = demo

    report = result.report
    assert (report.year, report.status) == (2026, ReportStatus.VERIFIED)
    assert report.verifier_name and report.verification_report
    hrc = GoodResult.objects.get(report=report, cn_code="72081000")
    assert hrc.see_direct.quantize(D("0.00001")) == D("1.53898")
    assert hrc.see_indirect.quantize(D("0.00001")) == D("0.20355")
    assert hrc.see_total.quantize(D("0.00001")) == D("1.74253")


def test_the_declarant_sees_the_shared_report_and_the_operator_has_an_open_request(demo):
    result, operator, admin, declarant, importer_user = demo

    assert list(shared_reports_for(access_for(importer_user, declarant.pk))) == [result.report]
    (request,) = data_request_list(access_for(admin, operator.pk))
    assert request.status == DataRequestStatus.SENT and request.declarant == declarant
    assert request.events.get().kind == "sent"
