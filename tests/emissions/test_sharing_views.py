"""Sharing pages: the operator's sharing page and data-request inbox, the declarant's
"Shared with us" pages, with the three personas each."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from cbam_portal.core.actor import Actor
from emissions.models import DataRequestStatus, ReportAccess, ReportStatus, SharingGrant
from emissions.services import sharing as services
from tests.conftest import login
from tests.emissions.factories import InstallationFactory, ReportFactory
from tests.emissions.test_sharing_services import make_request, shared_setup
from tests.factories import OperatorFactory, OrganisationFactory, RepresentationFactory


@pytest.fixture
def declarant(db):
    return OrganisationFactory(name="Rheinstahl Import GmbH", eori="DE123456789012")


@pytest.fixture
def setup(operator_personas):
    installation, report = shared_setup(operator_personas.organisation)
    return installation, report


# --- operator: sharing page ---------------------------------------------------------------------


def test_owner_sees_the_sharing_page_with_grants_and_access_log(
    operator_personas, setup, declarant, django_assert_max_num_queries
):
    installation, report = setup
    grant = services.grant_create(
        actor=Actor(user=operator_personas.owner), installation=installation, declarant=declarant
    )
    services.report_access_record(report=report, declarant=declarant, user=None)
    for _ in range(3):
        other = OrganisationFactory()
        services.grant_create(
            actor=Actor(user=operator_personas.owner), installation=installation, declarant=other
        )
        services.report_access_record(report=report, declarant=other, user=None)
    client = login(operator_personas.owner, operator_personas.organisation)
    url = reverse("emissions:installation_sharing", args=[installation.pk])

    with django_assert_max_num_queries(12):
        response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Rheinstahl Import GmbH" in body
    assert reverse("emissions:grant_revoke", args=[grant.pk]) in body
    assert "Access log" in body


def test_searching_declarants_offers_to_share(operator_personas, setup, declarant):
    installation, _report = setup
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.get(reverse("emissions:installation_sharing", args=[installation.pk]), {"q": "DE1234"})

    assert "Share with Rheinstahl Import GmbH" in response.content.decode()


def test_the_search_answers_htmx_with_the_results_partial_only(operator_personas, setup, declarant):
    installation, _report = setup
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.get(
        reverse("emissions:installation_sharing", args=[installation.pk]),
        {"q": "rheinstahl"},
        headers={"HX-Request": "true", "HX-Target": "declarant-results"},
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="declarant-results"')
    assert "Rheinstahl Import GmbH" in body


def test_viewer_sees_the_sharing_page_without_actions(operator_personas, setup, declarant):
    installation, _report = setup
    client = login(operator_personas.viewer, operator_personas.organisation)

    response = client.get(
        reverse("emissions:installation_sharing", args=[installation.pk]), {"q": "rheinstahl"}
    )

    assert response.status_code == 200
    assert "Share with" not in response.content.decode()


def test_outsider_gets_404_on_the_sharing_page(operator_personas, setup):
    installation, _report = setup
    client = login(operator_personas.outsider, operator_personas.other_organisation)

    assert client.get(reverse("emissions:installation_sharing", args=[installation.pk])).status_code == 404


def test_declarants_do_not_have_an_operator_sharing_page(personas, setup):
    installation, _report = setup
    client = login(personas.owner, personas.organisation)

    assert client.get(reverse("emissions:installation_sharing", args=[installation.pk])).status_code == 404


def test_owner_grants_and_revokes_access(operator_personas, setup, declarant):
    installation, _report = setup
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(
        reverse("emissions:grant_create", args=[installation.pk]), {"declarant": declarant.pk}
    )

    assert response.status_code == 302
    grant = SharingGrant.objects.get(installation=installation, declarant=declarant, revoked_at__isnull=True)
    response = client.post(reverse("emissions:grant_revoke", args=[grant.pk]), follow=True)
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert "no longer has access" in response.content.decode()


def test_granting_to_a_non_declarant_shows_a_clear_error(operator_personas, setup):
    installation, _report = setup
    operator = OperatorFactory()
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(
        reverse("emissions:grant_create", args=[installation.pk]), {"declarant": operator.pk}, follow=True
    )

    assert "Choose a declarant" in response.content.decode()
    assert SharingGrant.objects.count() == 0


def test_viewer_cannot_grant_or_revoke(operator_personas, setup, declarant):
    installation, _report = setup
    grant = services.grant_create(
        actor=Actor(user=operator_personas.owner), installation=installation, declarant=declarant
    )
    client = login(operator_personas.viewer, operator_personas.organisation)

    assert (
        client.post(
            reverse("emissions:grant_create", args=[installation.pk]), {"declarant": declarant.pk}
        ).status_code
        == 403
    )
    assert client.post(reverse("emissions:grant_revoke", args=[grant.pk])).status_code == 403
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_outsider_cannot_grant_or_revoke(operator_personas, setup, declarant):
    installation, _report = setup
    grant = services.grant_create(
        actor=Actor(user=operator_personas.owner), installation=installation, declarant=declarant
    )
    client = login(operator_personas.outsider, operator_personas.other_organisation)

    assert (
        client.post(
            reverse("emissions:grant_create", args=[installation.pk]), {"declarant": declarant.pk}
        ).status_code
        == 404
    )
    assert client.post(reverse("emissions:grant_revoke", args=[grant.pk])).status_code == 404


def test_the_installation_sharing_card_links_to_the_sharing_page(operator_personas, setup):
    from django.template.loader import render_to_string

    installation, _report = setup

    html = render_to_string(
        "emissions/sharing/_installation_sharing_card.html", {"installation": installation}
    )

    assert reverse("emissions:installation_sharing", args=[installation.pk]) in html


# --- operator: data requests --------------------------------------------------------------------


def test_owner_lists_data_requests_with_bounded_queries(
    operator_personas, declarant, django_assert_max_num_queries
):
    for _ in range(5):
        make_request(OrganisationFactory(), operator_personas.organisation)
    make_request(declarant, OperatorFactory())  # addressed to someone else
    client = login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("emissions:data_request_list"))

    assert response.status_code == 200
    assert len(response.context["requests"]) == 5


def test_viewer_reads_requests_and_outsider_sees_none(operator_personas, declarant):
    request = make_request(declarant, operator_personas.organisation)
    viewer = login(operator_personas.viewer, operator_personas.organisation)
    outsider = login(operator_personas.outsider, operator_personas.other_organisation)

    assert viewer.get(reverse("emissions:data_request_detail", args=[request.pk])).status_code == 200
    assert viewer.get(reverse("emissions:data_request_list")).status_code == 200
    assert outsider.get(reverse("emissions:data_request_detail", args=[request.pk])).status_code == 404
    assert outsider.get(reverse("emissions:data_request_list")).context["requests"] == []
    request.refresh_from_db()
    assert request.status == DataRequestStatus.SENT  # a viewer's look does not count as opened


def test_owner_opening_a_request_marks_it_opened(operator_personas, declarant):
    request = make_request(declarant, operator_personas.organisation)
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.get(reverse("emissions:data_request_detail", args=[request.pk]))

    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == DataRequestStatus.OPENED


def test_owner_answers_a_request_by_sharing_an_installation(operator_personas, setup, declarant):
    installation, _report = setup
    request = make_request(declarant, operator_personas.organisation)
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(
        reverse("emissions:data_request_answer", args=[request.pk]),
        {"installation": installation.pk},
        follow=True,
    )

    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == DataRequestStatus.ANSWERED
    assert SharingGrant.objects.filter(
        installation=installation, declarant=declarant, revoked_at__isnull=True
    ).exists()


def test_answering_with_a_foreign_installation_is_a_form_error(operator_personas, declarant):
    foreign = InstallationFactory(organisation=OperatorFactory())
    request = make_request(declarant, operator_personas.organisation)
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(
        reverse("emissions:data_request_answer", args=[request.pk]), {"installation": foreign.pk}
    )

    assert response.status_code == 400
    assert SharingGrant.objects.count() == 0


def test_owner_declines_with_a_reason_and_an_empty_reason_is_refused(operator_personas, declarant):
    request = make_request(declarant, operator_personas.organisation)
    client = login(operator_personas.owner, operator_personas.organisation)
    url = reverse("emissions:data_request_decline", args=[request.pk])

    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "We do not sell to you."}, follow=True)

    request.refresh_from_db()
    assert request.status == DataRequestStatus.DECLINED
    assert "We do not sell to you." in response.content.decode()


def test_viewer_and_outsider_cannot_answer_or_decline(operator_personas, setup, declarant):
    installation, _report = setup
    request = make_request(declarant, operator_personas.organisation)
    viewer = login(operator_personas.viewer, operator_personas.organisation)
    outsider = login(operator_personas.outsider, operator_personas.other_organisation)

    for client, expected in ((viewer, 403), (outsider, 404)):
        assert (
            client.post(
                reverse("emissions:data_request_answer", args=[request.pk]), {"installation": installation.pk}
            ).status_code
            == expected
        )
        assert (
            client.post(
                reverse("emissions:data_request_decline", args=[request.pk]), {"reason": "no"}
            ).status_code
            == expected
        )
    request.refresh_from_db()
    assert request.status == DataRequestStatus.SENT


# --- declarant: shared with us ------------------------------------------------------------------


@pytest.fixture
def shared(personas):
    """A submitted report of another operator shared with the personas' declarant organisation."""
    operator = OperatorFactory(name="Anadolu Çimento A.Ş.")
    installation, report = shared_setup(operator)
    from emissions.services.reports import report_compute

    report_compute(report=report)
    services.grant_create(actor=Actor(user=None), installation=installation, declarant=personas.organisation)
    return report


def test_declarant_lists_what_is_shared_with_bounded_queries(personas, shared, django_assert_max_num_queries):
    for _ in range(3):
        installation, _report = shared_setup(OperatorFactory())
        services.grant_create(
            actor=Actor(user=None), installation=installation, declarant=personas.organisation
        )
    ReportFactory(installation=shared.installation, status=ReportStatus.DRAFT, year=2027)
    client = login(personas.viewer, personas.organisation)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("emissions:shared_list"))

    assert response.status_code == 200
    assert len(response.context["reports"]) == 4
    assert len(response.context["grants"]) == 4


def test_declarant_reads_a_shared_report_and_the_access_is_logged(
    personas, shared, django_assert_max_num_queries
):
    client = login(personas.viewer, personas.organisation)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("emissions:shared_report_detail", args=[shared.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "72081000" in body and "Why this number?" in body
    access = ReportAccess.objects.get()
    assert (access.report, access.declarant, access.user, access.via) == (
        shared,
        personas.organisation,
        personas.viewer,
        "web",
    )


def test_declarant_downloads_the_summary_communication(personas, shared):
    client = login(personas.owner, personas.organisation)

    response = client.get(reverse("emissions:shared_report_export", args=[shared.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary_Communication"]
    assert ReportAccess.objects.get().via == "export"


def test_other_declarants_and_operators_cannot_read_the_shared_report(personas, shared):
    outsider = login(personas.outsider, personas.other_organisation)

    assert outsider.get(reverse("emissions:shared_report_detail", args=[shared.pk])).status_code == 404
    assert outsider.get(reverse("emissions:shared_report_export", args=[shared.pk])).status_code == 404
    assert outsider.get(reverse("emissions:shared_list")).context["reports"] == []
    assert ReportAccess.objects.count() == 0


def test_operators_do_not_have_shared_with_us_pages(operator_personas):
    client = login(operator_personas.owner, operator_personas.organisation)

    assert client.get(reverse("emissions:shared_list")).status_code == 404


def test_a_draft_or_revoked_report_is_not_readable(personas, shared):
    draft = ReportFactory(installation=shared.installation, status=ReportStatus.DRAFT, year=2027)
    client = login(personas.owner, personas.organisation)
    assert client.get(reverse("emissions:shared_report_detail", args=[draft.pk])).status_code == 404

    services.grant_revoke(actor=Actor(user=None), grant=SharingGrant.objects.get())

    assert client.get(reverse("emissions:shared_report_detail", args=[shared.pk])).status_code == 404


def test_a_representative_acting_for_the_importer_sees_its_shared_reports(personas, shared):
    from tests.factories import MembershipFactory, RepresentativeFactory

    representative = RepresentativeFactory()
    RepresentationFactory(representative=representative, importer=personas.organisation)
    agent = MembershipFactory(organisation=representative).user
    client = login(agent, personas.organisation)

    response = client.get(reverse("emissions:shared_report_detail", args=[shared.pk]))

    assert response.status_code == 200
    assert ReportAccess.objects.get().user == agent


def test_nav_shows_shared_with_us_to_declarants_and_data_requests_to_operators(personas, operator_personas):
    declarant_page = login(personas.owner, personas.organisation).get(reverse("emissions:shared_list"))
    operator_page = login(operator_personas.owner, operator_personas.organisation).get(
        reverse("emissions:data_request_list")
    )

    assert reverse("emissions:shared_list") in declarant_page.content.decode()
    assert reverse("emissions:data_request_list") not in declarant_page.content.decode()
    assert reverse("emissions:data_request_list") in operator_page.content.decode()
