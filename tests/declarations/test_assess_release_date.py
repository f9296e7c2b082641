"""The quick assessment takes the date of release: from 2027 it prices at the weekly price of that
date, and it gives the quarter when none is given."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.declarations.test_engine_weekly_prices import TWO_WEEKS, load_prices
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal
HRC = ("--cn", "72081000", "--country", "CN", "--mass", "100")


def assess_json(*args: str) -> dict:
    out = io.StringIO()
    call_command("assess", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_2027_release_date_takes_the_weekly_price_of_its_week(reference_data, tmp_path):  # noqa: F811
    load_prices(tmp_path, TWO_WEEKS)
    week_1 = assess_json(*HRC, "--year", "2027", "--release-date", "2027-01-06")
    week_2 = assess_json(*HRC, "--year", "2027", "--release-date", "2027-01-12")
    assert D(week_1["certificate_price_eur"]) == D("80.10")
    assert D(week_2["certificate_price_eur"]) == D("82.40")
    assert week_1["quarter"] == 1
    assert D(week_2["cost_eur"]) == (D(week_2["certificates_due"]) * D("82.40")).quantize(D("0.01"))


def test_without_a_weekly_price_loaded_2027_says_so(reference_data):  # noqa: F811
    result = assess_json(*HRC, "--year", "2027", "--release-date", "2027-01-06")
    assert result["cost_eur"] is None
    assert result["price_source"].startswith(
        "No certificate price is published yet for imports released on 2027-01-06"
    )


def test_a_2026_release_date_gives_the_quarter_of_its_price(reference_data):  # noqa: F811
    result = assess_json(*HRC, "--year", "2026", "--release-date", "2026-02-14")
    assert result["quarter"] == 1 and D(result["certificate_price_eur"]) == D("75.36")


def test_a_release_date_outside_the_year_is_refused_by_name(reference_data):  # noqa: F811
    with pytest.raises(CommandError, match=r"^--release-date: .*not in 2026"):
        assess_json(*HRC, "--year", "2026", "--release-date", "2027-01-06")


def test_the_api_takes_the_release_date_and_names_it_in_errors(reference_data, tmp_path):  # noqa: F811
    load_prices(tmp_path, TWO_WEEKS)
    client = APIClient()
    body = {"cn": "72081000", "country": "CN", "mass": "100", "year": 2027, "release_date": "2027-01-12"}
    ok = client.post("/api/v1/assess/", body, format="json")
    assert ok.status_code == 200, ok.content
    assert D(ok.json()["certificate_price_eur"]) == D("82.40")
    wrong = client.post("/api/v1/assess/", {**body, "year": 2028}, format="json")
    assert wrong.status_code == 400
    assert "release_date" in json.dumps(wrong.json())


def test_the_page_offers_the_release_date_and_uses_its_quarter(reference_data, client):  # noqa: F811
    page = client.get("/declarations/assess/")
    assert 'name="release_date"' in page.content.decode()
    response = client.post(
        "/declarations/assess/",
        {"cn": "72081000", "country": "CN", "mass": "100", "year": "2026", "release_date": "2026-05-04"},
    )
    assert response.status_code == 200
    assert "75.28" in response.content.decode()  # the Q2 2026 price
