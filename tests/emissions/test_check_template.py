"""`manage.py check_template`: reads a template, prints computed SEE next to the template's, saves nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from emissions.models import EmissionsReport, Installation
from tests.emissions.test_template_reader import (
    ALL_EXAMPLES,
    CEMENT,
    FERTILISER,
    SCREWS,
    STEEL_BF,
    STEEL_EAF,
    example,
    patch_cells,
)

EXPECTED = {
    CEMENT: ("25232900", "0.78521", "0.12224", "0.90746"),
    STEEL_BF: ("72081000", "1.53898", "0.20355", "1.74253"),
    STEEL_EAF: ("73041100", "1.43961", "1.73148", "3.17109"),
    SCREWS: ("73181535", "1.95245", "2.27880", "4.23124"),
    FERTILISER: ("31052010", "0.30964", "0.05388", "0.36351"),
}


def run_json(path: Path) -> dict:
    out = io.StringIO()
    call_command("check_template", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_check_template_prints_the_published_see_for_every_commission_example(name):
    cn_code, direct, indirect, total = EXPECTED[name]

    report = run_json(example(name))

    assert report["errors"] == []
    assert report["differences"] == []
    (good,) = [g for g in report["goods"] if g["cn_code"] == cn_code]
    assert (good["see_direct"], good["see_indirect"], good["see_total"]) == (direct, indirect, total)
    assert good["template_see_total"] == total
    assert report["installation"]["name"].startswith("Example")
    assert report["processes"]


@pytest.mark.django_db
def test_check_template_json_for_example_2_matches_the_documented_shape():
    report = run_json(example(STEEL_BF))

    first = report["goods"][0]
    assert first["cn_code"] == "72081000"
    assert first["see_direct"] == "1.53898"
    assert first["see_indirect"] == "0.20355"
    assert first["see_total"] == "1.74253"
    assert report["installation"]["country"] == "CN"
    assert [g["cn_code"] for g in report["goods"]] == ["72081000", "72122000", "72139120", "73021028"]


@pytest.mark.django_db
def test_check_template_saves_nothing():
    before = (Installation.objects.count(), EmissionsReport.objects.count())

    run_json(example(CEMENT))

    assert (Installation.objects.count(), EmissionsReport.objects.count()) == before


@pytest.mark.django_db
def test_check_template_text_output_lists_goods_with_computed_and_template_values():
    out = io.StringIO()
    call_command("check_template", str(example(STEEL_BF)), stdout=out)

    text = out.getvalue()
    assert "Example Blast Steelworks" in text
    assert "72081000" in text and "1.53898" in text and "1.74253" in text
    assert "agree" in text


@pytest.mark.django_db
def test_check_template_fails_with_cell_level_errors_on_a_broken_file(tmp_path):
    broken = patch_cells(
        example(STEEL_BF),
        tmp_path / "broken.xlsx",
        {"Summary_Communication!I26": "lots", "Summary_Communication!F27": "99999999"},
    )
    out = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("check_template", str(broken), "--json", stdout=out)

    assert excinfo.value.returncode != 0
    report = json.loads(out.getvalue())
    assert report["errors"]
    assert any(e["cell"].startswith("Summary_Communication!") for e in report["errors"])
    assert report["goods"] == []


@pytest.mark.django_db
def test_check_template_refuses_a_file_that_is_not_a_workbook(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("cn,see\n72081000,1.5\n")
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_template", str(fake), "--json", stdout=out)

    (error,) = json.loads(out.getvalue())["errors"]
    assert "not an Excel workbook" in error["message"]


def test_check_template_exits_non_zero_from_the_command_line(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a workbook")
    manage = Path(__file__).resolve().parents[2] / "manage.py"

    completed = subprocess.run(
        [sys.executable, str(manage), "check_template", str(fake)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode != 0
    assert "not an Excel workbook" in completed.stdout
    assert "cannot be used" in completed.stderr


def test_check_template_works_without_a_database(tmp_path):
    import os

    manage = Path(__file__).resolve().parents[2] / "manage.py"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.db'}"}

    completed = subprocess.run(
        [sys.executable, str(manage), "check_template", str(example(STEEL_BF)), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )

    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["annex_i_source"].startswith("opencbam")
    assert report["goods"][0]["see_total"] == "1.74253"
