"""The management command on an empty database (no module-wide data here)."""

import io
import time

import pytest
from django.core.management import CommandError, call_command

from cbam_portal.reference.models import CnGood, Dataset, DefaultValue

pytestmark = pytest.mark.django_db


def test_full_load_takes_only_a_few_seconds_and_prints_progress():
    out = io.StringIO()
    started = time.monotonic()
    call_command("load_reference_data", stdout=out)
    assert time.monotonic() - started < 15
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
