"""Import-lines table: CSV/XLSX export of the filtered lines, display precision, and the first
rows of an upload shown on the mapping step; with the three personas."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cbam_portal.core.actor import Actor
from declarations.models import ImportLine, ImportUpload, Supplier
from declarations.services.imports import import_line_create, import_upload_create

from .test_imports_support import csv_bytes, good_row, import_reference, mrn, upload_file  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_reference")]


def add_line(personas, n: int, **values):
    base = {
        "mrn": mrn(n),
        "line_no": 1,
        "released_on": "2026-03-01",
        "cn_code": "72081000",
        "origin_country": "CN",
        "net_mass_tonnes": "12.5",
    }
    supplier = values.pop("supplier", None)
    return import_line_create(
        actor=Actor(user=personas.owner),
        organisation=personas.organisation,
        values={**base, **values},
        supplier=supplier,
    )


def csv_rows(response) -> list[str]:
    return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()


def export_url(file_format: str) -> str:
    return reverse("declarations:import_export", args=[file_format])


def test_members_export_the_lines_as_csv_with_full_precision_and_outsiders_get_none(
    personas, clients, django_assert_max_num_queries
):
    for n in range(1, 21):
        add_line(personas, n, net_mass_tonnes="8.333333" if n == 7 else "12.5")
    with django_assert_max_num_queries(8):
        response = clients["owner"].get(export_url("csv"))
        rows = csv_rows(response)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert rows[0].startswith("Customs declaration (MRN),Line number,Date of release,CN code")
    assert len(rows) == 21
    assert any(row.startswith(f"{mrn(7)},1,2026-03-01,72081000,,CN,,8.333333,") for row in rows)
    assert any(",12.500000," in row for row in rows)  # the stored value, unrounded
    assert len(csv_rows(clients["viewer"].get(export_url("csv")))) == 21
    outsider = clients["outsider"].get(export_url("csv"))
    assert outsider.status_code == 200 and csv_rows(outsider) == rows[:1]


def test_the_export_follows_the_lists_filters(personas, clients):
    add_line(personas, 1)
    add_line(personas, 2, origin_country="NO")
    add_line(personas, 3, cn_code="76011010", origin_country="IN")
    rows = csv_rows(clients["owner"].get(export_url("csv"), {"in_scope": "no"}))
    assert len(rows) == 2 and rows[1].startswith(mrn(2))
    assert ",no,Origin in an Annex III country" in rows[1]
    rows = csv_rows(clients["owner"].get(export_url("csv"), {"cn": "7601"}))
    assert [r.split(",")[0] for r in rows[1:]] == [mrn(3)]
    page = clients["owner"].get(reverse("declarations:import_list"), {"country": "in"}).content.decode()
    assert f'href="{export_url("xlsx")}?country=in"' in page


def test_the_xlsx_export_has_numbers_as_numbers_and_no_formulas(personas, clients):
    supplier = Supplier.objects.create(organisation=personas.organisation, name="=HYPERLINK(1)", country="CN")
    add_line(personas, 1, net_mass_tonnes="8.333333", supplier=supplier)
    response = clients["owner"].get(export_url("xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert header[7] == "Net mass (t)" and row[7] == pytest.approx(8.333333)
    assert row[12] == "'=HYPERLINK(1)"
    assert sheet.cell(row=2, column=13).data_type == "s"


def test_an_export_too_large_for_a_spreadsheet_sends_the_user_back_to_filter(personas, clients, monkeypatch):
    from declarations.views import imports

    monkeypatch.setattr(imports, "XLSX_MAX_ROWS", 1)
    add_line(personas, 1)
    add_line(personas, 2)
    response = clients["owner"].get(export_url("xlsx"), {"country": "cn"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("declarations:import_list") + "?country=cn"
    assert "cannot hold them" in response.content.decode()


def test_an_unknown_export_format_is_not_found(clients):
    assert clients["owner"].get(export_url("pdf")).status_code == 404


def test_the_list_shows_masses_with_sensible_precision_and_grouped_cn_codes(personas, clients):
    add_line(personas, 1, net_mass_tonnes="12.5")
    add_line(personas, 2, net_mass_tonnes="8.333333")
    html = clients["owner"].get(reverse("declarations:import_list")).content.decode()
    assert ">12.500<" in html and ">8.333333<" in html and "12.500000" not in html
    assert "7208 10 00" in html
    assert ImportLine.objects.get(mrn=mrn(1)).net_mass_tonnes == 12.5


def test_the_mapping_step_shows_the_first_rows_of_the_file(personas, clients):
    rows = [good_row(n, **{"Net mass (t)": f"{n},5"}) for n in range(1, 6)]
    upload = import_upload_create(
        actor=Actor(user=personas.owner),
        organisation=personas.organisation,
        uploaded_file=upload_file(csv_bytes(rows)),
    )
    url = reverse("declarations:import_upload_detail", args=[upload.pk])
    response = clients["owner"].get(url)
    preview = response.context["preview"]
    assert len(preview) == 3 and preview[0][0] == mrn(1) and preview[2][6] == "3,5"
    assert 'data-testid="preview"' in response.content.decode()
    assert clients["viewer"].get(url).context["preview"] == preview
    assert clients["outsider"].get(url).status_code == 404
    assert ImportUpload.objects.count() == 1


def test_the_mwh_column_is_shown_only_when_the_page_has_electricity(personas, clients):
    add_line(personas, 1)
    url = reverse("declarations:import_list")
    assert ">MWh<" not in clients["owner"].get(url).content.decode()
    add_line(personas, 2, cn_code="27160000", net_mass_tonnes=None, quantity_mwh="1500.25")
    html = clients["owner"].get(url).content.decode()
    assert ">MWh<" in html and ">1500.250<" in html
