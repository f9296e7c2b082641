"""Template upload over the API: a job to poll, with the report id and the comparison."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cbam_portal.core.models import Job, JobStatus
from emissions.models import EmissionsReport, Installation
from tests.conftest import api_login
from tests.emissions.factories import InstallationFactory
from tests.emissions.test_template_reader import STEEL_BF, example


def upload(client, path=None, name=None, content=None, **extra):
    if path is not None:
        content, name = path.read_bytes(), name or path.name
    return client.post(
        "/api/v1/template-imports/", {"file": SimpleUploadedFile(name, content), **extra}, format="multipart"
    )


def test_owner_uploads_a_template_and_polls_the_job(operator_personas, django_capture_on_commit_callbacks):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, example(STEEL_BF))

    assert response.status_code == 202, response.json()
    job = client.get(f"/api/v1/template-imports/{response.json()['id']}/").json()
    assert job["status"] == JobStatus.DONE, job["error"]
    result = job["result"]
    assert result["matches"] is True
    assert {r["cn_code"]: r["see_total"] for r in result["rows"]}["72081000"] == "1.74253"
    assert EmissionsReport.objects.filter(
        pk=result["report_id"], organisation=operator_personas.organisation
    ).exists()


def test_wrong_file_type_is_a_field_error(operator_personas):
    client = api_login(operator_personas.owner, operator_personas.organisation)

    response = upload(client, name="emissions.csv", content=b"a,b\n")

    assert response.status_code == 400
    assert "Only .xlsx" in response.json()["file"][0]
    assert Job.objects.count() == 0


def test_another_operators_installation_is_refused(operator_personas):
    foreign = InstallationFactory(organisation=operator_personas.other_organisation)
    client = api_login(operator_personas.owner, operator_personas.organisation)

    response = upload(client, example(STEEL_BF), installation=foreign.pk)

    assert response.status_code == 400 and "installation" in response.json()


def test_viewer_lists_imports_but_cannot_upload(operator_personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(api_login(operator_personas.owner, operator_personas.organisation), example(STEEL_BF))
    client = api_login(operator_personas.viewer, operator_personas.organisation)

    assert len(client.get("/api/v1/template-imports/").json()["results"]) == 1
    assert upload(client, example(STEEL_BF)).status_code == 403
    assert Installation.objects.count() == 1


def test_outsider_and_declarants_see_no_imports(
    operator_personas, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(
            api_login(operator_personas.owner, operator_personas.organisation), example(STEEL_BF)
        ).json()["id"]
    outsider = api_login(operator_personas.outsider, operator_personas.other_organisation)

    assert outsider.get("/api/v1/template-imports/").json()["results"] == []
    assert outsider.get(f"/api/v1/template-imports/{job_id}/").status_code == 404
    assert (
        api_login(personas.owner, personas.organisation).get("/api/v1/template-imports/").status_code == 404
    )


def test_import_list_has_bounded_queries(operator_personas, django_assert_max_num_queries):
    for _ in range(5):
        Job.objects.create(organisation=operator_personas.organisation, kind="emissions_template_import")
    client = api_login(operator_personas.owner, operator_personas.organisation)

    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/template-imports/").json()["results"]) == 5
