from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from emissions.models import (
    EmissionsReport,
    InternalPrecursor,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
    ReportStatus,
)
from emissions.services import reports as services
from tests.conftest import login

from .conftest import build_example_3

pytestmark = pytest.mark.django_db

PROCESS = {
    "key": "P3",
    "name": "Galvanising",
    "aggregated_category": "Iron or steel products",
    "route": "",
    "activity_level": "1000",
    "activity_unit": "t",
    "direct_emissions_t_co2e": "50",
    "heat_imported_tj": "0",
    "heat_imported_ef_t_co2_per_tj": "0",
    "heat_exported_tj": "0",
    "heat_exported_ef_t_co2_per_tj": "0",
    "waste_gas_imported_t_co2e": "0",
    "waste_gas_exported_t_co2e": "0",
    "electricity_consumed_mwh": "",
    "na_electricity_consumed_mwh": "no sub-meter at the galvanising line",
    "electricity_ef_t_co2_per_mwh": "0.833",
    "electricity_ef_source": "D.4(b)",
    "electricity_produced_t_co2e": "0",
    "electricity_exported_mwh": "0",
}


def url(name, *args):
    return reverse(f"emissions:{name}", args=args)


def test_detail_page_shows_results_traces_and_a_bounded_number_of_queries(
    operator_personas, example3, django_assert_max_num_queries
):
    client = login(operator_personas.viewer, operator_personas.organisation)

    with django_assert_max_num_queries(16):
        response = client.get(url("report_detail", example3.report.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert "1.00149" in page and "1.37842" in page and "2.37991" in page
    assert "1.43961" in page and "1.73148" in page and "3.17109" in page
    assert "0.03521" in page
    assert 'data-testid="trace"' in page
    # viewers read only
    assert url("process_create", example3.report.pk) not in page
    assert url("report_submit", example3.report.pk) not in page


def test_detail_query_count_does_not_grow_with_the_number_of_processes(
    operator_personas, example3, actor, django_assert_max_num_queries
):
    for i in range(6):
        process = services.process_save(
            actor=actor,
            report=example3.report,
            key=f"X{i}",
            name="Extra",
            aggregated_category="Iron or steel products",
            activity_level=D("10"),
            direct_emissions_t_co2e=D("1"),
        )
        services.good_save(actor=actor, process=process, cn_code="72081000")
        services.purchased_precursor_save(
            actor=actor, process=process, name="Slab", quantity=D("1"), see_direct=D("1")
        )
    client = login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(16):
        response = client.get(url("report_detail", example3.report.pk))

    assert response.status_code == 200
    assert len(response.context["processes"]) == 8


def test_owner_sees_the_edit_controls_of_a_draft(operator_personas, example3):
    client = login(operator_personas.owner, operator_personas.organisation)

    page = client.get(url("report_detail", example3.report.pk)).content.decode()

    assert url("process_create", example3.report.pk) in page
    assert url("report_submit", example3.report.pk) in page
    assert "Fill default values" in page


def test_outsider_gets_404_on_every_report_page(operator_personas, example3):
    client = login(operator_personas.outsider, operator_personas.other_organisation)
    pk, process = example3.report.pk, example3.eaf.pk

    for target in (
        url("report_detail", pk),
        url("report_submit", pk),
        url("report_verify", pk),
        url("process_create", pk),
        url("process_update", pk, process),
        url("good_create", pk, process),
        url("purchased_create", pk, process),
    ):
        assert client.get(target).status_code == 404, target
    assert client.post(url("report_correct", pk)).status_code == 404
    assert client.post(url("process_delete", pk, process)).status_code == 404
    assert ProductionProcess.objects.filter(pk=process).exists()


def test_viewer_gets_403_on_every_write(operator_personas, example3):
    client = login(operator_personas.viewer, operator_personas.organisation)
    pk, process = example3.report.pk, example3.eaf.pk
    precursor = PurchasedPrecursor.objects.filter(process=example3.eaf).first()

    assert client.post(url("process_create", pk), PROCESS).status_code == 403
    assert client.post(url("process_delete", pk, process)).status_code == 403
    assert client.post(url("purchased_fill_defaults", pk, precursor.pk)).status_code == 403
    assert client.post(url("report_submit", pk)).status_code == 403
    assert (
        client.post(url("report_create", example3.report.installation_id), {"year": 2027}).status_code == 403
    )
    assert ProductionProcess.objects.filter(report=example3.report).count() == 2
    assert EmissionsReport.objects.get(pk=pk).status == ReportStatus.DRAFT


def test_report_list_is_scoped_and_bounded(operator_personas, example3, django_assert_max_num_queries):
    client = login(operator_personas.viewer, operator_personas.organisation)
    with django_assert_max_num_queries(8):
        response = client.get(url("report_list"))
    assert response.status_code == 200
    assert list(response.context["reports"]) == [example3.report]

    outsider = login(operator_personas.outsider, operator_personas.other_organisation)
    assert list(outsider.get(url("report_list")).context["reports"]) == []


def test_preparer_starts_a_report_for_a_year(operator_personas, installation):
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(url("report_create", installation.pk), {"year": 2026})

    report = EmissionsReport.objects.get(installation=installation)
    assert response["Location"] == url("report_detail", report.pk)
    again = client.post(url("report_create", installation.pk), {"year": 2026}, follow=True)
    assert "already has a report for 2026" in again.content.decode()


def test_preparer_adds_a_process_with_a_value_not_available(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(url("process_create", example3.report.pk), PROCESS)

    assert response.status_code == 302
    process = ProductionProcess.objects.get(report=example3.report, key="P3")
    assert process.not_available == {"electricity_consumed_mwh": "no sub-meter at the galvanising line"}
    page = client.get(url("report_detail", example3.report.pk)).content.decode()
    assert "not available: no sub-meter at the galvanising line" in page


def test_a_missing_value_without_reason_is_an_error_next_to_the_field(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(
        url("process_create", example3.report.pk),
        {**PROCESS, "na_electricity_consumed_mwh": "", "activity_level": "0"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "electricity_consumed_mwh" in errors
    assert "greater than zero" in errors["activity_level"][0]
    assert not ProductionProcess.objects.filter(key="P3").exists()


def test_preparer_adds_a_good_with_qualifying_parameters(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)
    data = {"cn_code": "7218 99 19", "product_name": "Slab", "param_key_0": "cr_pct", "param_value_0": "18"}

    response = client.post(url("good_create", example3.report.pk, example3.eaf.pk), data)

    assert response.status_code == 302
    assert ProcessGood.objects.get(cn_code="72189919").qualifying_parameters == {"cr_pct": "18"}


def test_a_good_outside_annex_i_shows_the_error_next_to_the_cn_code(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(
        url("good_create", example3.report.pk, example3.eaf.pk),
        {"cn_code": "84713000", "param_key_0": "clinker_factor", "param_value_0": "0.9"},
    )

    assert response.status_code == 200
    assert "not a CBAM good" in response.context["form"].errors["cn_code"][0]


def test_fill_default_values_button(operator_personas, example3):
    precursor = PurchasedPrecursor.objects.get(process=example3.eaf, name__startswith="FeCr")
    PurchasedPrecursor.objects.filter(pk=precursor.pk).update(country="CN")
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(url("purchased_fill_defaults", example3.report.pk, precursor.pk), follow=True)

    precursor.refresh_from_db()
    assert precursor.is_default and precursor.see_direct == D("2.75")
    page = response.content.decode()
    assert "Default values were filled in" in page and "China" in page


def test_purchased_precursor_form_can_fill_defaults_on_creation(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)
    data = {
        "name": "FeCr lot 2",
        "cn_code": "7202 41 10",
        "country": "CN",
        "quantity": "10",
        "fill_defaults": "on",
    }

    response = client.post(url("purchased_create", example3.report.pk, example3.eaf.pk), data)

    assert response.status_code == 302
    created = PurchasedPrecursor.objects.get(name="FeCr lot 2")
    assert (created.see_direct, created.see_indirect, created.is_default) == (D("2.75"), D("2.2"), True)


def test_internal_precursor_cycle_is_refused_on_the_form(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(
        url("internal_create", example3.report.pk, example3.eaf.pk),
        {"source_process": example3.rolling.pk, "quantity": "1"},
    )

    assert response.status_code == 200
    assert "cycle" in response.context["form"].errors["source_process"][0]
    assert InternalPrecursor.objects.count() == 1


def test_carbon_price_form(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)
    data = {
        "instrument": "Carbon tax",
        "legal_act": "Act 1",
        "cn_codes_text": "7218 99 11",
        "amount_per_t": "20",
        "currency": "usd",
        "share_covered": "0.5",
        "rebate_per_t": "",
    }

    response = client.post(url("carbon_price_create", example3.report.pk), data)

    assert response.status_code == 302
    assert example3.report.carbon_prices.get().cn_codes == ["72189911"]


def test_submit_confirm_then_submit_then_edits_are_refused(operator_personas, example3):
    client = login(operator_personas.preparer, operator_personas.organisation)

    confirm = client.get(url("report_submit", example3.report.pk))
    assert "can no longer be changed" in confirm.content.decode()
    response = client.post(url("report_submit", example3.report.pk))

    assert response.status_code == 302
    assert EmissionsReport.objects.get(pk=example3.report.pk).status == ReportStatus.SUBMITTED
    blocked = client.post(url("process_create", example3.report.pk), PROCESS, follow=True)
    assert "no longer a draft" in blocked.content.decode()
    assert not ProductionProcess.objects.filter(key="P3").exists()
    page = client.get(url("report_detail", example3.report.pk)).content.decode()
    assert url("process_create", example3.report.pk) not in page
    assert url("report_correct", example3.report.pk) in page


def test_verify_uploads_the_report_and_the_file_downloads_for_members_only(
    operator_personas, example3, actor
):
    services.report_submit(actor=actor, report=example3.report)
    client = login(operator_personas.owner, operator_personas.organisation)
    data = {
        "verifier_name": "Verified Ltd",
        "verifier_accreditation_number": "ACC-1",
        "verification_date": timezone.localdate().isoformat(),
        "verification_report": SimpleUploadedFile(
            "opinion.pdf", b"%PDF-1.4 ok", content_type="application/pdf"
        ),
    }

    response = client.post(url("report_verify", example3.report.pk), data)

    assert response.status_code == 302
    assert EmissionsReport.objects.get(pk=example3.report.pk).status == ReportStatus.VERIFIED
    download = login(operator_personas.viewer, operator_personas.organisation).get(
        url("report_verification_download", example3.report.pk)
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 ok"
    outsider = login(operator_personas.outsider, operator_personas.other_organisation)
    assert outsider.get(url("report_verification_download", example3.report.pk)).status_code == 404


def test_verify_with_a_bad_file_shows_the_error_next_to_the_field(operator_personas, example3, actor):
    services.report_submit(actor=actor, report=example3.report)
    client = login(operator_personas.owner, operator_personas.organisation)
    data = {
        "verifier_name": "V",
        "verifier_accreditation_number": "A",
        "verification_date": timezone.localdate().isoformat(),
        "verification_report": SimpleUploadedFile("opinion.exe", b"MZ"),
    }

    response = client.post(url("report_verify", example3.report.pk), data)

    assert response.status_code == 200
    assert "verification_report" in response.context["form"].errors
    assert EmissionsReport.objects.get(pk=example3.report.pk).status == ReportStatus.SUBMITTED


def test_correct_creates_the_next_version(operator_personas, example3, actor):
    services.report_submit(actor=actor, report=example3.report)
    client = login(operator_personas.preparer, operator_personas.organisation)

    response = client.post(url("report_correct", example3.report.pk))

    v2 = EmissionsReport.objects.get(installation=example3.report.installation, version=2)
    assert response["Location"] == url("report_detail", v2.pk)
    assert v2.processes.count() == 2


def test_the_example_can_be_built_for_another_year_and_lists_both(operator_personas, installation, actor):
    report = services.report_create(actor=actor, installation=installation, year=2027)
    build_example_3(report, actor)
    client = login(operator_personas.owner, operator_personas.organisation)

    page = client.get(url("installation_detail", installation.pk)).content.decode()

    assert "2027" in page


def test_detail_page_runs_the_same_queries_for_2_or_8_processes(operator_personas, example3, actor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(operator_personas.owner, operator_personas.organisation)
    target = url("report_detail", example3.report.pk)
    client.get(target)
    with CaptureQueriesContext(connection) as two:
        client.get(target)
    for i in range(6):
        process = services.process_save(
            actor=actor,
            report=example3.report,
            key=f"X{i}",
            name="Extra",
            aggregated_category="Iron or steel products",
            activity_level=D("10"),
            direct_emissions_t_co2e=D("1"),
        )
        services.good_save(actor=actor, process=process, cn_code="72081000")
        services.internal_precursor_save(
            actor=actor, process=process, source_process=example3.eaf, quantity=D("1")
        )
    with CaptureQueriesContext(connection) as eight:
        client.get(target)

    assert len(eight.captured_queries) == len(two.captured_queries)


def test_declarant_organisations_get_404_on_report_pages(personas, example3):
    client = login(personas.owner, personas.organisation)

    assert client.get(url("report_list")).status_code == 404
    assert client.get(url("report_detail", example3.report.pk)).status_code == 404


def test_report_list_filters_by_status_and_year(operator_personas, example3, actor, installation):
    services.report_submit(actor=actor, report=example3.report)
    draft = services.report_create(actor=actor, installation=installation, year=2027)
    client = login(operator_personas.viewer, operator_personas.organisation)

    assert list(client.get(url("report_list"), {"status": "draft"}).context["reports"]) == [draft]
    assert list(client.get(url("report_list"), {"year": "2026"}).context["reports"]) == [example3.report]
    assert len(client.get(url("report_list"), {"year": "abc"}).context["reports"]) == 2


def test_results_export_as_csv(operator_personas, example3):
    client = login(operator_personas.viewer, operator_personas.organisation)

    response = client.get(url("report_results_csv", example3.report.pk))

    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert "P1,72189911,1.00149,1.37842,2.37991,0.03521" in text
    outsider = login(operator_personas.outsider, operator_personas.other_organisation)
    assert outsider.get(url("report_results_csv", example3.report.pk)).status_code == 404


def test_internal_precursor_quantity_can_be_edited(operator_personas, example3):
    link = InternalPrecursor.objects.get()
    client = login(operator_personas.preparer, operator_personas.organisation)

    form = client.get(url("internal_update", example3.report.pk, example3.rolling.pk, link.pk))
    assert form.status_code == 200
    response = client.post(
        url("internal_update", example3.report.pk, example3.rolling.pk, link.pk),
        {"source_process": example3.eaf.pk, "quantity": "1000000"},
    )

    assert response.status_code == 302
    link.refresh_from_db()
    assert link.quantity == D("1000000")
    assert (
        login(operator_personas.viewer, operator_personas.organisation)
        .post(
            url("internal_update", example3.report.pk, example3.rolling.pk, link.pk),
            {"source_process": example3.eaf.pk, "quantity": "1"},
        )
        .status_code
        == 403
    )
