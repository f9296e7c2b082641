"""The 50-tonne threshold page as read by a person: grouped CN codes, no empty MWh column, and
a way from the uncounted lines to the lines themselves; with the three personas."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login

from .test_threshold_support import import_reference, line, reference  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference")]


def test_the_year_shows_grouped_cn_codes_and_links_to_the_lines_out_of_scope(personas):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-03-01", cn="72081000", mass="4", origin="NO", in_scope=False, reason="Annex III")
    html = login(personas.viewer, org).get(reverse("declarations:threshold")).content.decode()
    assert "7208 10 00" in html
    assert ">MWh<" not in html  # no electricity this year
    assert f'href="{reverse("declarations:import_list")}?in_scope=no&amp;year=2026"' in html
    outsider = login(personas.outsider, personas.other_organisation).get(reverse("declarations:threshold"))
    assert outsider.status_code == 200 and "7208 10 00" not in outsider.content.decode()
