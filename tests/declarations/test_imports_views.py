"""Import pages: list, single entry, upload → mapping → job → result, with the three personas."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import Job, JobStatus
from declarations.models import ColumnMapping, ImportLine, ImportUpload, UploadStatus
from declarations.services.imports import import_line_create, import_upload_create
from tests.conftest import login
from tests.factories import OperatorFactory

from .test_imports_support import csv_bytes, good_row, import_reference, mrn, upload_file  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]


def add_line(personas, n: int, **values):
    base = {"mrn": mrn(n), "line_no": 1, "released_on": "2026-03-01", "cn_code": "72081000", "origin_country": "CN",
            "net_mass_tonnes": "5"}
    return import_line_create(actor=Actor(user=personas.owner), organisation=personas.organisation, values={**base, **values})


def test_the_list_shows_the_organisations_lines_to_members_only(personas, clients, django_assert_max_num_queries):
    for n in range(1, 31):
        add_line(personas, n, origin_country="NO" if n % 10 == 0 else "CN")
    with django_assert_max_num_queries(12):
        response = clients["owner"].get(reverse("declarations:import_list"))
    assert response.status_code == 200
    assert mrn(7).encode() in response.content
    assert clients["viewer"].get(reverse("declarations:import_list")).status_code == 200
    outsider = clients["outsider"].get(reverse("declarations:import_list"))
    assert outsider.status_code == 200 and mrn(7).encode() not in outsider.content


def test_the_list_filters_by_scope_cn_country_and_year(personas, clients):
    add_line(personas, 1)
    add_line(personas, 2, origin_country="NO")
    add_line(personas, 3, cn_code="76011010", origin_country="IN")
    url = reverse("declarations:import_list")
    out = clients["owner"].get(url, {"in_scope": "no"}).content
    assert mrn(2).encode() in out and mrn(1).encode() not in out
    out = clients["owner"].get(url, {"cn": "7601"}).content
    assert mrn(3).encode() in out and mrn(1).encode() not in out
    out = clients["owner"].get(url, {"country": "in"}).content
    assert mrn(3).encode() in out and mrn(2).encode() not in out
    assert mrn(1).encode() not in clients["owner"].get(url, {"year": "2027"}).content
    assert clients["owner"].get(url, {"year": "abc"}).status_code == 200


def test_operators_have_no_import_pages(personas):
    from tests.factories import MembershipFactory

    operator = OperatorFactory()
    user = MembershipFactory(organisation=operator).user
    assert login(user, operator).get(reverse("declarations:import_list")).status_code == 404


def test_the_owner_adds_one_line_and_the_viewer_may_not(personas, clients):
    url = reverse("declarations:import_create")
    assert clients["owner"].get(url).status_code == 200
    data = {"mrn": mrn(1), "line_no": "1", "released_on": "2026-04-01", "cn_code": "7208100000",
            "origin_country": "CN", "net_mass_tonnes": "3.5", "procedure": "free_circulation"}
    response = clients["owner"].post(url, data)
    assert response.status_code == 302
    line = ImportLine.objects.get()
    assert (line.cn_code, line.taric_code) == ("72081000", "7208100000")
    assert clients["viewer"].get(url).status_code == 403
    assert clients["viewer"].post(url, {**data, "line_no": "2"}).status_code == 403
    assert ImportLine.objects.count() == 1


def test_a_bad_single_line_shows_errors_next_to_the_fields(clients):
    data = {"mrn": "short", "line_no": "1", "released_on": "2099-01-01", "cn_code": "7208100000",
            "origin_country": "ZZ", "net_mass_tonnes": "3.5", "procedure": "free_circulation"}
    response = clients["owner"].post(reverse("declarations:import_create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"mrn", "released_on", "origin_country"} <= set(errors)
    assert ImportLine.objects.count() == 0


def test_upload_mapping_job_and_result_in_the_browser(personas, clients, django_capture_on_commit_callbacks):
    client = clients["owner"]
    ColumnMapping.objects.create(organisation=personas.organisation, mapping={"net_mass_tonnes": "Net mass (t)"})
    response = client.post(reverse("declarations:import_upload"), {"file": upload_file(csv_bytes([good_row(1), good_row(2)]))})
    upload = ImportUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse("declarations:import_upload_detail", args=[upload.pk])

    page = client.get(response.url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["map_mrn"].value() == "MRN" and form["map_net_mass_tonnes"].value() == "Net mass (t)"
    assert b"Net mass (t)" in page.content

    data = {f"map_{key}": column for key, column in upload.mapping.items()} | {"remember": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(response.url, data)
    assert started.status_code == 302
    result = client.get(response.url)
    assert b"job-" in result.content  # the progress component
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    assert "2 lines imported" in result.content.decode()
    assert ImportLine.objects.count() == 2
    assert Job.objects.get().status == JobStatus.DONE


def test_a_rejected_upload_shows_its_errors_and_the_rejected_rows_file(personas, clients, django_capture_on_commit_callbacks):
    client = clients["owner"]
    client.post(reverse("declarations:import_upload"), {"file": upload_file(csv_bytes([good_row(1, **{"Net mass (t)": "-1"})]))})
    upload = ImportUpload.objects.get()
    data = {f"map_{key}": column for key, column in upload.mapping.items()}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("declarations:import_upload_detail", args=[upload.pk]), data)
    page = client.get(reverse("declarations:import_upload_detail", args=[upload.pk]))
    content = page.content.decode()
    assert "Nothing was imported" in content and "Must be greater than zero." in content
    job = Job.objects.get()
    assert reverse("core:job_download", args=[job.pk]) in content
    download = client.get(reverse("core:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert b"Must be greater than zero." in b"".join(download.streaming_content)
    assert ImportLine.objects.count() == 0


def test_an_unmapped_required_field_is_named_on_the_mapping_step(personas, clients):
    client = clients["owner"]
    client.post(reverse("declarations:import_upload"), {"file": upload_file(csv_bytes([good_row(1)]))})
    upload = ImportUpload.objects.get()
    data = {f"map_{key}": column for key, column in upload.mapping.items() if key != "cn_code"}
    response = client.post(reverse("declarations:import_upload_detail", args=[upload.pk]), data)
    assert response.status_code == 400
    assert "map_cn_code" in response.context["form"].errors
    assert Job.objects.count() == 0


def test_viewer_sees_an_upload_but_cannot_upload_or_start_it(personas, clients):
    upload = import_upload_create(
        actor=Actor(user=personas.owner), organisation=personas.organisation, uploaded_file=upload_file(csv_bytes([good_row(1)]))
    )
    url = reverse("declarations:import_upload_detail", args=[upload.pk])
    assert clients["viewer"].get(url).status_code == 200
    assert clients["viewer"].post(url, {"map_mrn": "MRN"}).status_code == 403
    assert clients["viewer"].get(reverse("declarations:import_upload")).status_code == 403
    assert clients["viewer"].post(reverse("declarations:import_upload"), {"file": upload_file(b"a;b\r\n")}).status_code == 403
    assert clients["outsider"].get(url).status_code == 404
    assert clients["outsider"].post(url, {"map_mrn": "MRN"}).status_code == 404
    assert Job.objects.count() == 0


def test_an_oversize_upload_is_refused_from_its_length(clients, settings):
    settings.CBAM_MAX_UPLOAD_BYTES = 1000
    big = SimpleUploadedFile("big.csv", b"MRN;Item\r\n" + b"x;1\r\n" * 40_000)
    response = clients["owner"].post(reverse("declarations:import_upload"), {"file": big})
    assert response.status_code == 413
    assert "the limit is" in response.content.decode()
    assert ImportUpload.objects.count() == 0


def test_an_upload_just_over_the_limit_is_refused_by_the_form(clients, settings):
    settings.CBAM_MAX_UPLOAD_BYTES = 1000
    response = clients["owner"].post(reverse("declarations:import_upload"), {"file": upload_file(b"a;b\r\n" + b"1;2\r\n" * 300)})
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()


def test_the_upload_page_checks_csrf(clients):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies = clients["owner"].cookies
    response = client.post(reverse("declarations:import_upload"), {"file": upload_file(csv_bytes([good_row(1)]))})
    assert response.status_code == 403
    assert ImportUpload.objects.count() == 0


def test_large_counts_are_written_with_thousands_separators(personas, clients):
    from declarations.jobs import _summarise

    upload = import_upload_create(
        actor=Actor(user=personas.owner), organisation=personas.organisation, uploaded_file=upload_file(csv_bytes([good_row(1)]))
    )
    ImportUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.IMPORTED, rows_imported=1_234_567, rows_out_of_scope=12_345)
    page = clients["viewer"].get(reverse("declarations:import_upload_detail", args=[upload.pk])).content.decode()
    assert "1,234,567 lines imported, of which 12,345 out of scope." in page
    ImportUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.IMPORTED, rows_imported=1, rows_out_of_scope=0)
    page = clients["viewer"].get(reverse("declarations:import_upload_detail", args=[upload.pk])).content.decode()
    assert "1 line imported, of which 0 out of scope." in page
    assert _summarise({"imported": 1_000_000, "out_of_scope": 319_352}) == "1,000,000 lines imported, 319,352 out of scope"
    assert _summarise({"status": "rejected", "rejected_rows": 2_500}).startswith("Nothing imported: 2,500 rows were rejected")


def test_pages_read_ids_first_hold_the_same_lines_in_the_same_order_as_plain_pages(
    personas, django_assert_num_queries
):
    from django.core.paginator import Paginator

    from cbam_portal.core.pagination import IdFirstPaginator
    from declarations.selectors.imports import import_lines_of

    for n in range(1, 8):
        add_line(personas, n, released_on=f"2026-0{1 + n % 3}-0{n}")
    lines = import_lines_of(personas.organisation)
    plain, first = Paginator(lines, 3, orphans=1), IdFirstPaginator(lines, 3, orphans=1)
    assert first.num_pages == plain.num_pages == 2
    for number in (1, 2):
        with django_assert_num_queries(2):  # the ids, then their rows (the count is cached)
            page = first.page(number)
            got = [(line.mrn, line.line_no, line.supplier) for line in page]
        assert got == [(line.mrn, line.line_no, line.supplier) for line in plain.page(number)]
        assert page.has_next() == (number == 1)
    assert len(first.page(2)) == 4  # the orphan joins the last page
    assert list(IdFirstPaginator([1, 2, 3], 2).page(2)) == [3]  # not a queryset: as Django does it
