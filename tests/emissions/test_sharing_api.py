"""Sharing over the API: grants (operators), shared reports (declarants), data requests (operators)."""

from __future__ import annotations

import pytest

from cbam_portal.core.actor import Actor
from emissions.models import DataRequestStatus, ReportAccess, ReportStatus, SharingGrant
from emissions.services import sharing as services
from emissions.services.reports import report_compute
from tests.conftest import api_login
from tests.emissions.factories import InstallationFactory, ReportFactory
from tests.emissions.test_sharing_services import make_request, shared_setup
from tests.factories import OperatorFactory, OrganisationFactory


@pytest.fixture
def declarant(db):
    return OrganisationFactory(name="Rheinstahl Import GmbH", eori="DE123456789012")


@pytest.fixture
def installation(operator_personas):
    return shared_setup(operator_personas.organisation)[0]


# --- grants ---------------------------------------------------------------------------------------


def test_owner_creates_lists_and_revokes_grants(operator_personas, installation, declarant):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    created = client.post("/api/v1/grants/", {"installation": installation.pk, "declarant_id": declarant.pk})
    assert created.status_code == 201, created.json()
    assert created.json()["declarant"]["name"] == "Rheinstahl Import GmbH"
    again = client.post("/api/v1/grants/", {"installation": installation.pk, "declarant_id": declarant.pk})
    assert again.json()["id"] == created.json()["id"]

    listed = client.get("/api/v1/grants/").json()
    assert [g["id"] for g in listed["results"]] == [created.json()["id"]]
    revoked = client.post(f"/api/v1/grants/{created.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert client.post(f"/api/v1/grants/{created.json()['id']}/revoke/").status_code == 400


def test_granting_to_a_non_declarant_is_a_field_error(operator_personas, installation):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    response = client.post(
        "/api/v1/grants/", {"installation": installation.pk, "declarant_id": OperatorFactory().pk}
    )

    assert response.status_code == 400
    assert "declarant_id" in response.json()


def test_granting_another_operators_installation_is_refused(operator_personas, declarant):
    foreign = InstallationFactory(organisation=operator_personas.other_organisation)
    client = api_login(operator_personas.owner, operator_personas.organisation)

    response = client.post("/api/v1/grants/", {"installation": foreign.pk, "declarant_id": declarant.pk})

    assert response.status_code == 400 and "installation" in response.json()
    assert SharingGrant.objects.count() == 0


def test_viewer_reads_grants_but_cannot_create_or_revoke(operator_personas, installation, declarant):
    grant = services.grant_create(actor=Actor(user=None), installation=installation, declarant=declarant)
    client = api_login(operator_personas.viewer, operator_personas.organisation)

    assert client.get("/api/v1/grants/").status_code == 200
    assert client.get("/api/v1/grants/declarants/", {"q": "rheinstahl"}).json()[0]["eori"] == "DE123456789012"
    assert (
        client.post(
            "/api/v1/grants/", {"installation": installation.pk, "declarant_id": declarant.pk}
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/grants/{grant.pk}/revoke/").status_code == 403


def test_outsider_does_not_see_or_revoke_grants(operator_personas, installation, declarant):
    grant = services.grant_create(actor=Actor(user=None), installation=installation, declarant=declarant)
    client = api_login(operator_personas.outsider, operator_personas.other_organisation)

    assert client.get("/api/v1/grants/").json()["results"] == []
    assert client.get(f"/api/v1/grants/{grant.pk}/").status_code == 404
    assert client.post(f"/api/v1/grants/{grant.pk}/revoke/").status_code == 404


def test_grant_list_and_access_log_have_bounded_queries(
    operator_personas, installation, django_assert_max_num_queries
):
    report = installation.reports.get()
    for _ in range(5):
        org = OrganisationFactory()
        services.grant_create(actor=Actor(user=None), installation=installation, declarant=org)
        services.report_access_record(report=report, declarant=org, user=None, via="api")
    client = api_login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(8):
        assert len(client.get("/api/v1/grants/").json()["results"]) == 5
    with django_assert_max_num_queries(8):
        log = client.get("/api/v1/grants/access-log/", {"installation": installation.pk}).json()
    assert len(log["results"]) == 5


# --- shared reports ---------------------------------------------------------------------------------


@pytest.fixture
def shared(personas):
    installation, report = shared_setup(OperatorFactory())
    report_compute(report=report)
    services.grant_create(actor=Actor(user=None), installation=installation, declarant=personas.organisation)
    return report


def test_declarant_lists_and_reads_shared_reports_and_reading_is_logged(
    personas, shared, django_assert_max_num_queries
):
    ReportFactory(installation=shared.installation, status=ReportStatus.DRAFT, year=2027)
    client = api_login(personas.viewer, personas.organisation)

    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/shared-reports/").json()
    assert [r["id"] for r in listed["results"]] == [shared.pk]
    detail = client.get(f"/api/v1/shared-reports/{shared.pk}/").json()

    (result,) = detail["results"]
    assert result["cn_code"] == "72081000" and result["trace"]
    assert ReportAccess.objects.get().via == "api"


def test_declarant_downloads_the_export_over_the_api(personas, shared):
    client = api_login(personas.owner, personas.organisation)

    response = client.get(f"/api/v1/shared-reports/{shared.pk}/export/")

    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def test_other_declarants_and_operators_cannot_read_shared_reports(personas, shared, operator_personas):
    outsider = api_login(personas.outsider, personas.other_organisation)
    operator = api_login(operator_personas.owner, operator_personas.organisation)

    assert outsider.get("/api/v1/shared-reports/").json()["results"] == []
    assert outsider.get(f"/api/v1/shared-reports/{shared.pk}/").status_code == 404
    assert operator.get("/api/v1/shared-reports/").status_code == 404
    assert ReportAccess.objects.count() == 0


def test_a_revoked_grant_hides_the_report_even_with_an_old_grant_history(personas, shared):
    grant = SharingGrant.objects.get()
    services.grant_revoke(actor=Actor(user=None), grant=grant)
    services.grant_create(
        actor=Actor(user=None), installation=shared.installation, declarant=OrganisationFactory()
    )
    client = api_login(personas.owner, personas.organisation)

    assert client.get("/api/v1/shared-reports/").json()["results"] == []
    assert client.get(f"/api/v1/shared-reports/{shared.pk}/").status_code == 404


# --- data requests ----------------------------------------------------------------------------------


def test_owner_lists_answers_and_declines_data_requests(
    operator_personas, installation, declarant, django_assert_max_num_queries
):
    first = make_request(declarant, operator_personas.organisation)
    second = make_request(OrganisationFactory(), operator_personas.organisation)
    make_request(declarant, OperatorFactory())
    client = api_login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/data-requests/").json()
    assert {r["id"] for r in listed["results"]} == {first.pk, second.pk}

    answered = client.post(f"/api/v1/data-requests/{first.pk}/answer/", {"installation": installation.pk})
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == DataRequestStatus.ANSWERED
    assert [e["kind"] for e in answered.json()["events"]] == ["answered"]
    assert client.post(f"/api/v1/data-requests/{second.pk}/decline/", {"reason": ""}).status_code == 400
    declined = client.post(f"/api/v1/data-requests/{second.pk}/decline/", {"reason": "Not our product."})
    assert declined.json()["status"] == DataRequestStatus.DECLINED
    again = client.post(f"/api/v1/data-requests/{second.pk}/decline/", {"reason": "No."})
    assert again.status_code == 400 and "no longer be answered" in str(again.json())


def test_viewer_reads_requests_but_cannot_answer(operator_personas, installation, declarant):
    request = make_request(declarant, operator_personas.organisation)
    client = api_login(operator_personas.viewer, operator_personas.organisation)

    assert client.get(f"/api/v1/data-requests/{request.pk}/").status_code == 200
    assert (
        client.post(
            f"/api/v1/data-requests/{request.pk}/answer/", {"installation": installation.pk}
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/data-requests/{request.pk}/decline/", {"reason": "x"}).status_code == 403


def test_outsider_cannot_see_or_answer_requests(operator_personas, installation, declarant):
    request = make_request(declarant, operator_personas.organisation)
    client = api_login(operator_personas.outsider, operator_personas.other_organisation)

    assert client.get("/api/v1/data-requests/").json()["results"] == []
    assert client.get(f"/api/v1/data-requests/{request.pk}/").status_code == 404
    assert client.post(f"/api/v1/data-requests/{request.pk}/decline/", {"reason": "x"}).status_code == 404
