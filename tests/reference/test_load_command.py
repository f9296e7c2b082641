"""The management command on an empty database (no module-wide data here)."""

import io

import pytest
from django.core.management import CommandError, call_command

from cbam_portal.reference import selectors
from cbam_portal.reference.models import CnGood, Dataset, DefaultValue

pytestmark = pytest.mark.django_db


def test_full_load_prints_progress_for_every_dataset():
    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    assert CnGood.objects.count() == 569
    assert "Default values (IR 2025/2621 Annex I): loaded 11391 rows as dataset" in out.getvalue()
    assert "Countries: " in out.getvalue()


def test_a_file_that_is_not_a_workbook_stops_the_command_before_anything_is_written(tmp_path):
    bogus = tmp_path / "benchmarks.xlsx"
    bogus.write_text("not a workbook")
    with pytest.raises(CommandError, match="benchmarks.xlsx: not an Excel workbook"):
        call_command("load_reference_data", "--benchmarks-xlsx", str(bogus), stdout=io.StringIO())
    assert Dataset.objects.count() == 0
    assert DefaultValue.objects.count() == 0


def test_cn_lookup_without_data_says_what_to_do():
    with pytest.raises(selectors.DatasetMissing, match="load_reference_data"):
        selectors.cn_lookup("72081000")


def test_index_without_data_tells_the_administrator_what_to_run(client):
    from django.urls import reverse

    response = client.get(reverse("reference:index"))
    assert response.status_code == 200
    assert "No reference data is loaded yet" in response.content.decode()
    lookup = client.get(reverse("reference:cn_lookup"), {"code": "72081000"})
    assert "load_reference_data" in lookup.content.decode()
