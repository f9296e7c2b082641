"""Pages of the historic quarterly reports: upload → job → result, list, detail and the supplier
section, with the three personas (and a representative acting for the importer)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cbam_portal.core.models import JobStatus
from declarations.models import (
    HistoricEmission,
    HistoricReport,
    HistoricReportUpload,
    HistoricUploadStatus,
    Supplier,
)
from tests.conftest import login
from tests.factories import MembershipFactory, OperatorFactory, RepresentationFactory, RepresentativeFactory

from .test_qreport_import_support import (  # noqa: F401  (fixtures)
    personas_fixture,
    sample_bytes_fixture,
    schema_valid,
    upload_and_run,
    with_xsd_fixture,
    without_xsd_fixture,
    xml_file,
    xsd_path_fixture,
)
from .test_qreport_security import BILLION_LAUGHS

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks):
    (upload,), _job = upload_and_run(
        personas, xml_file(schema_valid(sample_bytes)), capture=django_capture_on_commit_callbacks
    )
    return upload


def test_the_owner_uploads_a_report_and_sees_it_imported(
    clients, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    url = reverse("declarations:historic_report_upload")
    page = clients["owner"].get(url)
    assert page.status_code == 200
    assert "QReport schema (XSD) before it is imported" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = clients["owner"].post(
            url, {"files": [xml_file(schema_valid(sample_bytes), "2023-Q4.xml")]}
        )

    upload = HistoricReportUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "declarations:historic_upload_detail", args=[upload.pk]
    )
    detail = clients["owner"].get(response.url).content.decode()
    assert "Report 2023-Q4 imported: 1 goods, 2 installation lines." in detail
    assert f'id="job-{upload.job_id}-progress"' in detail
    assert upload.job.status == JobStatus.DONE


def test_several_files_go_to_the_list_with_their_statuses(
    clients, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["owner"].post(
            reverse("declarations:historic_report_upload"),
            {
                "files": [
                    xml_file(schema_valid(sample_bytes), "good.xml"),
                    xml_file(sample_bytes, "sample.xml"),
                ]
            },
        )

    assert response.status_code == 302 and response.url.startswith(
        reverse("declarations:historic_report_list")
    )
    html = clients["owner"].get(response.url).content.decode()
    assert "good.xml" in html and "sample.xml" in html
    assert "8 problems" in html and "2023-Q4" in html


def test_a_rejected_upload_lists_each_problem_with_its_element_and_line(
    personas, clients, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    (upload,), _job = upload_and_run(
        personas, xml_file(sample_bytes), capture=django_capture_on_commit_callbacks
    )

    response = clients["owner"].get(reverse("declarations:historic_upload_detail", args=[upload.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported: the file has 8 problems." in html
    assert '<td class="font-monospace small">/QReport/Year</td><td class="num">6</td>' in html
    assert "This job failed." in html


def test_a_billion_laughs_upload_fails_cleanly_in_the_browser(
    clients, without_xsd, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["owner"].post(
            reverse("declarations:historic_report_upload"), {"files": [xml_file(BILLION_LAUGHS)]}
        )

    page = clients["owner"].get(response.url)
    assert page.status_code == 200
    assert "DOCTYPE or ENTITY declaration" in page.content.decode()
    assert not HistoricReport.objects.exists()


def test_the_upload_page_says_when_schema_validation_is_not_configured(clients, without_xsd):
    html = clients["owner"].get(reverse("declarations:historic_report_upload")).content.decode()

    assert "Schema validation is not configured (CBAM_QREPORT_XSD is not set)" in html


def test_a_misconfigured_xsd_is_shown_on_the_page(clients, settings, tmp_path):
    settings.CBAM_QREPORT_XSD = str(tmp_path / "absent.xsd")

    html = clients["owner"].get(reverse("declarations:historic_report_list")).content.decode()

    assert "CBAM_QREPORT_XSD cannot be used" in html


def test_too_large_and_missing_files_show_errors_next_to_the_field(
    clients, settings, sample_bytes, without_xsd
):
    settings.CBAM_MAX_UPLOAD_BYTES = 1000
    url = reverse("declarations:historic_report_upload")

    response = clients["owner"].post(url, {"files": [xml_file(sample_bytes, "big.xml")]})
    assert response.status_code == 400
    assert any(
        "big.xml is" in e and "the limit is 1000" in e for e in response.context["form"].errors["files"]
    )

    assert clients["owner"].post(url, {}).status_code == 400
    assert not HistoricReportUpload.objects.exists()


def test_viewers_may_not_upload_and_outsiders_see_nothing(personas, clients, imported, sample_bytes):
    upload_url = reverse("declarations:historic_report_upload")
    assert clients["viewer"].get(upload_url).status_code == 403
    assert clients["viewer"].post(upload_url, {"files": [xml_file(sample_bytes)]}).status_code == 403
    assert HistoricReportUpload.objects.count() == 1

    report = imported.report
    supplier = Supplier.objects.get()
    for name in ("historic_report_detail", "historic_upload_detail", "supplier_historic_emissions"):
        pk = {"historic_report_detail": report.pk, "historic_upload_detail": imported.pk}.get(
            name, supplier.pk
        )
        url = reverse(f"declarations:{name}", args=[pk])
        assert clients["viewer"].get(url).status_code == 200, name
        assert clients["outsider"].get(url).status_code == 404, name
    listed = clients["outsider"].get(reverse("declarations:historic_report_list"))
    assert listed.status_code == 200 and "TR Steel" not in listed.content.decode()
    assert "DRAFT-2023-Q4-0001" not in listed.content.decode()


def test_the_list_shows_totals_in_a_constant_number_of_queries(
    personas,
    clients,
    sample_bytes,
    with_xsd,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    for year, period in ((2023, "Q4"), (2024, "Q1"), (2024, "Q2"), (2024, "Q3")):
        upload_and_run(
            personas,
            xml_file(schema_valid(sample_bytes, year=year, period=period, draft_id=f"D-{year}-{period}")),
            capture=django_capture_on_commit_callbacks,
        )

    with django_assert_max_num_queries(12):
        response = clients["viewer"].get(reverse("declarations:historic_report_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert all(f"D-{p}" in html for p in ("2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3"))
    assert '<td class="num">13615</td>' in html and '<td class="num">550</td>' in html
    assert "Import quarterly reports" not in html  # viewers get no upload button


def test_the_report_detail_shows_the_goods_and_emissions_table(
    clients, imported, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = clients["owner"].get(
            reverse("declarations:historic_report_detail", args=[imported.report_id])
        )

    html = response.content.decode()
    assert "Augusta Steel INC" in html and "Bursa steel factory INC" in html
    assert '<td class="num">23.5</td>' in html and "79.5" in html
    assert "P11 Primary Al (with pre-baked Anodes): EQP08 = 7 (direct)" in html
    assert "01 TR: 500.519 USD (592.5 EUR)" in html


def test_the_supplier_page_loads_what_the_transitional_reports_said(
    personas, clients, imported, django_assert_max_num_queries
):
    supplier = Supplier.objects.get()
    page = clients["owner"].get(reverse("declarations:supplier_detail", args=[supplier.pk])).content.decode()
    assert reverse("declarations:supplier_historic_emissions", args=[supplier.pk]) in page

    with django_assert_max_num_queries(10):
        response = clients["owner"].get(
            reverse("declarations:supplier_historic_emissions", args=[supplier.pk])
        )

    html = response.content.decode()
    assert "Reported in transitional reports" in html
    assert "Augusta Steel INC" in html and "IN03" in html and "OP04-0001" in html
    assert '<td class="num">23.5</td>' in html and '<td class="num">15</td>' in html
    assert "2023-Q4" in html
    request_url = (
        reverse("declarations:data_request_create") + f"?supplier={supplier.pk}&amp;cn_codes=76090000"
    )
    assert request_url in html
    viewer = (
        clients["viewer"]
        .get(reverse("declarations:supplier_historic_emissions", args=[supplier.pk]))
        .content.decode()
    )
    assert "Augusta Steel INC" in viewer and "Request definitive-period data" not in viewer
    assert HistoricEmission.objects.filter(supplier=supplier).count() == 2


def test_a_supplier_never_reported_says_so(personas, clients):
    from cbam_portal.core.actor import Actor
    from declarations.services.suppliers import supplier_create

    supplier = supplier_create(
        actor=Actor(user=personas.owner), organisation=personas.organisation, name="Acme", country="CN"
    )

    html = (
        clients["owner"]
        .get(reverse("declarations:supplier_historic_emissions", args=[supplier.pk]))
        .content.decode()
    )

    assert "Not named in any imported transitional report." in html


def test_a_representative_imports_for_the_importer_it_represents(
    personas, sample_bytes, with_xsd, django_capture_on_commit_callbacks
):
    representative = RepresentativeFactory()
    RepresentationFactory(representative=representative, importer=personas.organisation)
    agent = MembershipFactory(organisation=representative, role="preparer").user
    client = login(agent, personas.organisation)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("declarations:historic_report_upload"), {"files": [xml_file(schema_valid(sample_bytes))]}
        )

    assert response.status_code == 302
    upload = HistoricReportUpload.objects.get()
    assert upload.status == HistoricUploadStatus.IMPORTED
    assert upload.report.organisation == personas.organisation and upload.created_by == agent


def test_operators_have_no_historic_report_pages(personas):
    operator = OperatorFactory()
    user = MembershipFactory(organisation=operator).user

    assert login(user, operator).get(reverse("declarations:historic_report_list")).status_code == 404
    assert login(user, operator).get(reverse("declarations:historic_report_upload")).status_code == 404


def test_the_request_link_of_the_supplier_section_pre_fills_supplier_and_cn_codes(
    personas, clients, imported
):
    supplier = Supplier.objects.get()
    form_page = clients["owner"].get(
        reverse("declarations:data_request_create") + f"?supplier={supplier.pk}&cn_codes=76090000"
    )
    assert form_page.status_code == 200
    form = form_page.context["form"]
    assert form.initial["cn_codes"] == "76090000"
    assert [str(pk) for pk in form.initial["suppliers"]] == [str(supplier.pk)]
    assert 'value="76090000"' in form_page.content.decode()
