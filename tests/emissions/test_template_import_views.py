"""Uploading the communication template in the browser: progress, what was read and computed,
every difference, and the export download."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cbam_portal.core.models import Job, JobStatus
from cbam_portal.reference.models import Dataset
from emissions.models import EmissionsReport, Installation
from tests.conftest import login
from tests.emissions.factories import InstallationFactory, ReportFactory
from tests.emissions.test_template_reader import STEEL_BF, example, patch_cells


def counts():
    return Dataset.objects.count(), Installation.objects.count(), EmissionsReport.objects.count()


def post_file(client, path, name=None, **extra):
    data = {"file": SimpleUploadedFile(name or path.name, path.read_bytes()), **extra}
    return client.post(reverse("emissions:template_import"), data)


def test_owner_uploads_example_2_and_sees_read_computed_and_no_differences(
    operator_personas, django_capture_on_commit_callbacks
):
    client = login(operator_personas.owner, operator_personas.organisation)
    assert client.get(reverse("emissions:template_import")).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, example(STEEL_BF))

    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == reverse("emissions:template_import_status", args=[job.pk])
    assert job.status == JobStatus.DONE, job.error
    page = client.get(response["Location"]).content.decode()
    assert f'id="job-{job.pk}-progress"' in page
    assert "1.53898 / 1.53898" in page and "1.74253 / 1.74253" in page
    assert "Bubble approach" in page  # what was read
    assert "agree with the template" in page
    report_id = job.result["report_id"]
    assert reverse("emissions:report_template_export", args=[report_id]) in page
    assert reverse("emissions:report_detail", args=[report_id]) in page
    assert (
        EmissionsReport.objects.get(pk=report_id).installation.organisation == operator_personas.organisation
    )


def test_the_result_panel_polls_while_the_job_runs(operator_personas):
    job = Job.objects.create(
        organisation=operator_personas.organisation,
        kind="emissions_template_import",
        status=JobStatus.RUNNING,
        params={"file_name": "x.xlsx"},
    )
    client = login(operator_personas.viewer, operator_personas.organisation)

    panel = client.get(reverse("emissions:template_import_result", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in panel


def test_a_broken_upload_shows_the_cells_and_saves_nothing(
    operator_personas, tmp_path, django_capture_on_commit_callbacks
):
    broken = patch_cells(
        example(STEEL_BF), tmp_path / "broken.xlsx", {"Summary_Communication!F27": "99999999"}
    )
    client = login(operator_personas.owner, operator_personas.organisation)
    before = counts()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, broken)

    page = client.get(response["Location"]).content.decode()
    assert "This job failed." in page
    assert "Summary_Communication!F27" in page
    assert counts() == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("emissions.csv", b"a;b\n", "Only .xlsx files"), ("empty.xlsx", b"", "The submitted file is empty.")],
)
def test_wrong_file_types_get_a_clear_form_error(operator_personas, name, content, message):
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(reverse("emissions:template_import"), {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Job.objects.count() == 0


def test_an_oversized_upload_is_refused(operator_personas, settings):
    settings.CBAM_MAX_UPLOAD_BYTES = 1000
    client = login(operator_personas.owner, operator_personas.organisation)

    response = client.post(
        reverse("emissions:template_import"), {"file": SimpleUploadedFile("t.xlsx", b"x" * 2000)}
    )

    assert response.status_code == 400
    assert "limit" in response.content.decode()


def test_another_operators_installation_cannot_be_chosen(operator_personas):
    foreign = InstallationFactory(organisation=operator_personas.other_organisation)
    client = login(operator_personas.owner, operator_personas.organisation)

    response = post_file(client, example(STEEL_BF), installation=foreign.pk)

    assert response.status_code == 400
    assert Job.objects.count() == 0


def test_viewer_cannot_upload_and_outsider_cannot_see_the_import(
    operator_personas, django_capture_on_commit_callbacks
):
    owner = login(operator_personas.owner, operator_personas.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(owner, example(STEEL_BF))
    job = Job.objects.get()
    viewer = login(operator_personas.viewer, operator_personas.organisation)
    outsider = login(operator_personas.outsider, operator_personas.other_organisation)

    assert viewer.get(reverse("emissions:template_import")).status_code == 403
    assert post_file(viewer, example(STEEL_BF)).status_code == 403
    assert viewer.get(response["Location"]).status_code == 200
    assert outsider.get(response["Location"]).status_code == 404
    assert outsider.get(reverse("emissions:template_import_result", args=[job.pk])).status_code == 404


def test_declarants_have_no_upload_page(personas):
    client = login(personas.owner, personas.organisation)

    assert client.get(reverse("emissions:template_import")).status_code == 404


def test_owner_and_viewer_download_the_export_and_outsider_gets_404(operator_personas):
    report = ReportFactory(installation=InstallationFactory(organisation=operator_personas.organisation))
    url = reverse("emissions:report_template_export", args=[report.pk])

    for user in (operator_personas.owner, operator_personas.viewer):
        response = login(user, operator_personas.organisation).get(url)
        assert response.status_code == 200
        assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames == ["Summary_Communication"]
    assert login(operator_personas.outsider, operator_personas.other_organisation).get(url).status_code == 404


def test_the_import_status_page_has_bounded_queries(
    operator_personas, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = login(operator_personas.owner, operator_personas.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        location = post_file(client, example(STEEL_BF))["Location"]

    with django_assert_max_num_queries(8):
        assert client.get(location).status_code == 200
