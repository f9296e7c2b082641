from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from emissions.models import EmissionsReport, ProductionProcess, PurchasedPrecursor, ReportStatus
from emissions.services import reports as services
from tests.conftest import api_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"


def test_report_detail_and_results_with_trace(operator_personas, example3, django_assert_max_num_queries):
    client = api_login(operator_personas.viewer, operator_personas.organisation)

    with django_assert_max_num_queries(14):
        detail = client.get(f"{URL}{example3.report.pk}/")
    results = client.get(f"{URL}{example3.report.pk}/results/").json()

    assert detail.status_code == 200
    assert [p["key"] for p in detail.json()["processes"]] == ["P1", "P2"]
    by_cn = {r["cn_code"]: r for r in results}
    assert by_cn["72189911"]["see_direct"] == "1.00149"
    assert by_cn["72189911"]["see_indirect"] == "1.37842"
    assert by_cn["73041100"]["see_total"] == "3.17109"
    assert by_cn["73041100"]["trace"][0]["rule"]


def test_report_list_is_bounded_and_scoped(operator_personas, example3, django_assert_max_num_queries):
    client = api_login(operator_personas.viewer, operator_personas.organisation)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.json()["count"] == 1

    outsider = api_login(operator_personas.outsider, operator_personas.other_organisation)
    assert outsider.get(URL).json()["count"] == 0
    assert outsider.get(f"{URL}{example3.report.pk}/").status_code == 404
    assert outsider.get(f"{URL}{example3.report.pk}/results/").status_code == 404
    assert outsider.post(f"{URL}{example3.report.pk}/submit/").status_code == 404
    assert outsider.post(f"{URL}{example3.report.pk}/processes/", {}, format="json").status_code == 404


def test_full_journey_through_the_api(operator_personas, installation):
    client = api_login(operator_personas.preparer, operator_personas.organisation)

    created = client.post(URL, {"installation": installation.pk, "year": 2026}, format="json")
    assert created.status_code == 201, created.json()
    rid = created.json()["id"]
    process = client.post(
        f"{URL}{rid}/processes/",
        {
            "key": "P1",
            "name": "EAF",
            "aggregated_category": "Crude steel",
            "activity_level": "2234000",
            "direct_emissions_t_co2e": "171005.308857",
            "electricity_consumed_mwh": "1563800",
            "electricity_ef_t_co2_per_mwh": "0.833",
        },
        format="json",
    )
    assert process.status_code == 201, process.json()
    pid = process.json()["id"]
    assert (
        client.post(
            f"{URL}{rid}/processes/{pid}/goods/", {"cn_code": "7218 99 11"}, format="json"
        ).status_code
        == 201
    )
    precursor = client.post(
        f"{URL}{rid}/processes/{pid}/purchased-precursors/",
        {"name": "FeCr", "cn_code": "72024110", "country": "CN", "quantity": "331213", "fill_defaults": True},
        format="json",
    )
    assert precursor.status_code == 201, precursor.json()
    assert precursor.json()["is_default"] is True
    assert precursor.json()["see_direct"].startswith("2.75")
    price = client.post(
        f"{URL}{rid}/carbon-prices/",
        {"instrument": "Carbon tax", "amount_per_t": "10", "currency": "USD", "share_covered": "0.5"},
        format="json",
    )
    assert price.status_code == 201, price.json()

    submitted = client.post(f"{URL}{rid}/submit/")

    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["results"][0]["cn_code"] == "72189911"
    refused = client.patch(f"{URL}{rid}/processes/{pid}/", {"name": "changed"}, format="json")
    assert refused.status_code == 400
    assert "can no longer be changed" in str(refused.json())

    corrected = client.post(f"{URL}{rid}/correct/")
    assert corrected.status_code == 201
    assert corrected.json()["version"] == 2 and len(corrected.json()["processes"]) == 1


def test_bad_rows_answer_400_with_the_field(operator_personas, example3):
    client = api_login(operator_personas.owner, operator_personas.organisation)
    rid, pid = example3.report.pk, example3.eaf.pk

    bad_good = client.post(f"{URL}{rid}/processes/{pid}/goods/", {"cn_code": "84713000"}, format="json")
    assert bad_good.status_code == 400 and "cn_code" in bad_good.json()

    zero = client.patch(f"{URL}{rid}/processes/{pid}/", {"activity_level": "0"}, format="json")
    assert zero.status_code == 400 and "activity_level" in zero.json()

    cycle = client.post(
        f"{URL}{rid}/processes/{pid}/internal-precursors/",
        {"source_process": example3.rolling.pk, "quantity": "5"},
        format="json",
    )
    assert cycle.status_code == 400 and "source_process" in cycle.json()

    text = client.patch(f"{URL}{rid}/processes/{pid}/", {"direct_emissions_t_co2e": "lots"}, format="json")
    assert text.status_code == 400 and "direct_emissions_t_co2e" in text.json()

    duplicate = client.post(
        URL, {"installation": example3.report.installation_id, "year": 2026}, format="json"
    )
    assert duplicate.status_code == 400 and "year" in duplicate.json()


def test_not_available_through_the_api(operator_personas, example3):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    response = client.patch(
        f"{URL}{example3.report.pk}/processes/{example3.rolling.pk}/",
        {"not_available": {"electricity_consumed_mwh": "no meter"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["electricity_consumed_mwh"] == "0.000000"
    assert response.json()["not_available"] == {"electricity_consumed_mwh": "no meter"}


def test_viewer_gets_403_on_writes(operator_personas, example3):
    client = api_login(operator_personas.viewer, operator_personas.organisation)
    rid, pid = example3.report.pk, example3.eaf.pk
    precursor = PurchasedPrecursor.objects.filter(process=example3.eaf).first()

    assert (
        client.post(
            URL, {"installation": example3.report.installation_id, "year": 2027}, format="json"
        ).status_code
        == 403
    )
    assert client.post(f"{URL}{rid}/submit/").status_code == 403
    assert client.delete(f"{URL}{rid}/processes/{pid}/").status_code == 403
    assert client.delete(f"{URL}{rid}/purchased-precursors/{precursor.pk}/").status_code == 403
    assert ProductionProcess.objects.filter(report=example3.report).count() == 2


def test_verify_and_delete_rows(operator_personas, example3, actor):
    client = api_login(operator_personas.owner, operator_personas.organisation)
    precursor = PurchasedPrecursor.objects.filter(process=example3.eaf).first()
    assert client.delete(f"{URL}{example3.report.pk}/purchased-precursors/{precursor.pk}/").status_code == 204
    services.report_submit(actor=actor, report=example3.report)

    response = client.post(
        f"{URL}{example3.report.pk}/verify/",
        {
            "verifier_name": "Verified Ltd",
            "verifier_accreditation_number": "A-1",
            "verification_date": timezone.localdate().isoformat(),
            "verification_report": SimpleUploadedFile("v.pdf", b"%PDF-1.7 x"),
        },
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == ReportStatus.VERIFIED
    assert EmissionsReport.objects.get(pk=example3.report.pk).verification_report_name == "v.pdf"
    assert D(response.json()["results"][0]["see_direct"]) > 0
