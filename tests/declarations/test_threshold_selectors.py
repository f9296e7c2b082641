"""The 50-tonne de minimis watch: sums in SQL, the rule of Art 2a applied per calendar year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cbam_portal.accounts.access import access_for
from declarations.models import Procedure
from declarations.selectors.threshold import ThresholdState, threshold_year_for, threshold_years_for

from .test_threshold_support import import_reference, line, reference  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference")]


@pytest.fixture
def access(personas):
    return access_for(personas.owner, personas.organisation.pk)


def test_example_10_steel_and_cement_of_45_tonnes_are_exempt_with_a_warning(personas, access):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-04-01", cn="25231000", mass="15")

    year = threshold_year_for(access, 2026)

    assert year.status.cumulative_mass_t == Decimal("45")
    assert year.status.exempt is True
    assert year.status.near_threshold is True
    assert year.state == ThresholdState.WARNING
    assert year.crossed_on is None
    assert year.percent == Decimal("90")
    assert {s.sector: s.net_mass_t for s in year.sectors} == {"iron_steel": Decimal("30"), "cement": Decimal("15")}


def test_example_10_a_further_6_tonnes_exceed_the_threshold_on_the_date_of_that_line(personas, access):
    org = personas.organisation
    line(org, on="2026-02-01", cn="72081000", mass="30")
    line(org, on="2026-04-01", cn="25231000", mass="15")
    line(org, on="2026-09-10", cn="76011010", mass="6")
    line(org, on="2026-11-20", cn="72081000", mass="2")

    year = threshold_year_for(access, 2026)

    assert year.status.cumulative_mass_t == Decimal("53")
    assert year.state == ThresholdState.EXCEEDED
    assert year.exceeded is True
    assert year.crossed_on == dt.date(2026, 9, 10)
    assert year.bar_percent == 100


def test_the_crossing_date_is_found_in_release_order_not_in_entry_order(personas, access):
    org = personas.organisation
    line(org, on="2026-12-01", cn="72081000", mass="40")
    line(org, on="2026-01-15", cn="72081000", mass="40")

    assert threshold_year_for(access, 2026).crossed_on == dt.date(2026, 12, 1)


def test_exactly_50_tonnes_is_still_exempt(personas, access):
    line(personas.organisation, mass="50")

    year = threshold_year_for(access, 2026)

    assert year.status.exempt is True
    assert year.crossed_on is None


def test_hydrogen_importer_is_never_exempt_and_hydrogen_does_not_count_towards_50_tonnes(personas, access):
    org = personas.organisation
    line(org, cn="72081000", mass="10")
    line(org, cn="28041000", mass="100")

    year = threshold_year_for(access, 2026)

    assert year.status.cumulative_mass_t == Decimal("10")
    assert year.has_electricity_or_hydrogen is True
    hydrogen = next(s for s in year.sectors if s.sector == "hydrogen")
    assert hydrogen.outside_threshold is True
    assert hydrogen.net_mass_t == Decimal("100")
    assert year.crossed_on is None


def test_electricity_in_mwh_is_flagged_as_never_exempt(personas, access):
    line(personas.organisation, cn="27160000", mass=None, mwh="500")

    year = threshold_year_for(access, 2026)

    assert year.status.cumulative_mass_t == Decimal("0")
    assert year.has_electricity_or_hydrogen is True
    assert year.sectors[0].quantity_mwh == Decimal("500")


def test_out_of_scope_lines_do_not_count(personas, access):
    org = personas.organisation
    line(org, mass="40")
    line(org, mass="30", origin="NO", in_scope=False, reason="Origin in an Annex III country")
    line(org, cn="39011010", mass="30", in_scope=False, reason="CN code not in Annex I")

    year = threshold_year_for(access, 2026)

    assert year.status.cumulative_mass_t == Decimal("40")
    assert year.status.exempt is True
    assert year.lines_counted == 1
    assert year.lines_excluded == 2
    assert year.excluded_mass_t == Decimal("60")


def test_returned_goods_count_towards_the_threshold(personas, access):
    org = personas.organisation
    line(org, mass="45")
    line(org, on="2026-06-30", mass="10", procedure=Procedure.RETURNED_GOODS)

    year = threshold_year_for(access, 2026)

    assert year.status.cumulative_mass_t == Decimal("55")
    assert year.crossed_on == dt.date(2026, 6, 30)


def test_each_calendar_year_has_its_own_threshold_and_the_year_filter_keeps_one(personas, access):
    org = personas.organisation
    line(org, on="2026-12-31", mass="45")
    line(org, on="2027-01-01", mass="45")
    line(org, on="2027-01-02", mass="6")

    years = threshold_years_for(access)
    assert [(y.year, y.state) for y in years] == [(2027, "exceeded"), (2026, "warning")]
    assert years[0].crossed_on == dt.date(2027, 1, 2)

    only = threshold_years_for(access, year=2026)
    assert [y.year for y in only] == [2026]
    assert only[0].status.cumulative_mass_t == Decimal("45")


def test_a_year_without_imports_is_exempt_with_nothing_counted(personas, access):
    year = threshold_year_for(access, 2030)

    assert year.status.cumulative_mass_t == Decimal("0")
    assert year.state == ThresholdState.EXEMPT
    assert year.sectors == ()


def test_other_organisations_lines_are_never_counted(personas, access):
    line(personas.other_organisation, mass="80")
    line(personas.organisation, mass="5")

    assert threshold_year_for(access, 2026).status.cumulative_mass_t == Decimal("5")


def test_a_representative_sees_the_represented_importers_figures(personas):
    from tests.factories import MembershipFactory, RepresentationFactory, RepresentativeFactory

    rep = RepresentativeFactory()
    RepresentationFactory(representative=rep, importer=personas.organisation)
    agent = MembershipFactory(organisation=rep, role="preparer").user
    line(personas.organisation, mass="12")

    access = access_for(agent, personas.organisation.pk)

    assert threshold_year_for(access, 2026).status.cumulative_mass_t == Decimal("12")


def test_the_selector_uses_two_queries_whatever_the_number_of_lines(
    personas, access, django_assert_num_queries
):
    org = personas.organisation
    for i in range(30):
        line(org, on=f"2026-01-{i % 28 + 1:02d}", cn=["72081000", "25231000", "28041000"][i % 3], mass="3")
        line(org, on="2025-05-05", mass="1")

    with django_assert_num_queries(2):
        years = threshold_years_for(access)

    assert [y.year for y in years] == [2026, 2025]
