"""Declaration export pages and API: three personas, the registry as the single list of formats."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent, Job, JobStatus
from declarations import exports
from declarations.exports.services import declaration_export_enqueue
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

from .test_exports_support import declaration_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

READ = {"owner": 200, "viewer": 200, "outsider": 404}


@pytest.fixture
def xml_exporter():
    @exports.exporter("xml", label="Commission XML (test)", media_type="application/xml", extension="xml")
    def declaration_xml(declaration) -> bytes:
        return f"<declaration year='{declaration.year}'/>".encode()

    yield declaration_xml
    exports.unregister("xml")


def _export_url(declaration, name="declaration_export"):
    return reverse(f"declarations:{name}", args=[declaration.pk])


def _api_url(declaration):
    return reverse("api:declaration-exports", kwargs={"pk": declaration.pk})


# --- registry -----------------------------------------------------------------------------------


def test_an_unknown_format_is_refused_on_the_format_field(declaration, personas):
    with pytest.raises(ValidationError) as caught:
        declaration_export_enqueue(
            actor=Actor(user=personas.owner), declaration=declaration, format_key="docx"
        )
    assert "format" in caught.value.message_dict
    assert "Unknown export format 'docx'" in caught.value.message_dict["format"][0]
    assert "pdf, csv, xlsx, json" in caught.value.message_dict["format"][0]
    assert not Job.objects.exists()


def test_a_registered_exporter_appears_in_the_menu_and_the_api_and_runs(
    xml_exporter, declaration, personas, clients, api_clients
):
    html = clients["viewer"].get(_export_url(declaration) + "?fragment=menu").content.decode()
    assert 'data-format="xml"' in html and "Commission XML (test)" in html
    formats = api_clients["viewer"].get(_api_url(declaration)).json()
    assert [f["key"] for f in formats] == ["pdf", "csv", "xlsx", "json", "xml"]
    response = api_clients["viewer"].post(_api_url(declaration), {"format": "xml"}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"]["id"])
    from cbam_portal.core.jobs import job_run

    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result_file_name.endswith(".xml")
    assert job.result_file.read() == b"<declaration year='2026'/>"


# --- pages ----------------------------------------------------------------------------------------


def test_the_declaration_page_offers_the_export_menu(declaration, clients):
    html = (
        clients["viewer"]
        .get(reverse("declarations:declaration_detail", args=[declaration.pk]))
        .content.decode()
    )
    assert _export_url(declaration) in html and 'id="declaration-export-progress"' in html


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_export_page_and_menu(clients, who, declaration, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = clients[who].get(_export_url(declaration))
    assert page.status_code == READ[who]
    with django_assert_max_num_queries(10):
        menu = clients[who].get(_export_url(declaration), HTTP_HX_REQUEST="true")
    assert menu.status_code == READ[who]
    if who != "outsider":
        for key in ("pdf", "csv", "xlsx", "json"):
            assert f'value="{key}"' in page.content.decode()
            assert f'data-format="{key}"' in menu.content.decode()
        assert "marked DRAFT" in page.content.decode()


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_starting_an_export_from_the_page(
    clients, who, declaration, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = clients[who].post(
            _export_url(declaration, "declaration_export_start"), {"format": "csv"}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == READ[who]
    jobs = Job.objects.filter(organisation=personas.organisation)
    if who == "outsider":
        assert not jobs.exists() and not Job.objects.exists()
        return
    (job,) = jobs
    html = response.content.decode()
    assert f'id="job-{job.pk}-progress"' in html
    # The file is served only by the job's permission-checked download view.
    download = clients[who].get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert b"76011010" in b"".join(download.streaming_content)
    assert clients["outsider"].get(reverse("core:job_download", args=[job.pk])).status_code == 404
    assert AuditEvent.objects.filter(
        verb="declaration.export_requested", target_id=str(declaration.pk)
    ).exists()


def test_a_plain_form_post_goes_to_the_job_page(clients, declaration):
    response = clients["viewer"].post(
        _export_url(declaration, "declaration_export_start"), {"format": "json"}
    )
    assert response.status_code == 302 and "/jobs/" in response["Location"]


def test_an_unknown_format_on_the_page_is_an_error_next_to_the_field(clients, declaration):
    response = clients["owner"].post(_export_url(declaration, "declaration_export_start"), {"format": "docx"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    htmx = clients["owner"].post(
        _export_url(declaration, "declaration_export_start"), {"format": "docx"}, HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 400 and "The export was not started" in htmx.content.decode()
    assert not Job.objects.exists()


# --- API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_lists_formats(api_clients, who, declaration, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = api_clients[who].get(_api_url(declaration))
    assert response.status_code == READ[who]
    if who != "outsider":
        assert {f["key"]: f["media_type"] for f in response.json()}["xlsx"].startswith(
            "application/vnd.openxml"
        )


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_api_starts_an_export_job(
    api_clients, who, declaration, personas, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(14):
        response = api_clients[who].post(_api_url(declaration), {"format": "json"}, format="json")
    assert response.status_code == {"owner": 202, "viewer": 202, "outsider": 404}[who]
    if who == "outsider":
        assert not Job.objects.exists()
        return
    body = response.json()
    assert body["job"]["kind"] == "declarations.declaration_export"
    assert body["job"]["status"] == "queued" and body["job_url"].endswith(
        f"/api/v1/jobs/{body['job']['id']}/"
    )
    assert api_clients["outsider"].get(body["job_url"]).status_code == 404


def test_the_api_refuses_an_unknown_or_missing_format_with_a_field_error(api_clients, declaration):
    response = api_clients["owner"].post(_api_url(declaration), {"format": "docx"}, format="json")
    assert response.status_code == 400 and "Unknown export format" in response.json()["format"][0]
    assert api_clients["owner"].post(_api_url(declaration), {}, format="json").json()["format"]
    assert not Job.objects.exists()


def test_the_api_job_result_is_downloaded_through_the_job_endpoint(api_clients, declaration, personas):
    response = api_clients["viewer"].post(_api_url(declaration), {"format": "csv"}, format="json")
    from cbam_portal.core.jobs import job_run

    job_run(response.json()["job"]["id"])
    job = api_clients["viewer"].get(response.json()["job_url"]).json()
    assert job["status"] == "done" and job["result_file_url"]
    download = api_clients["viewer"].get(job["result_file_url"])
    assert download.status_code == 200 and b"167.575" in b"".join(download.streaming_content)
