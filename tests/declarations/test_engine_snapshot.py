"""The declaration engine reads reference data once per recalculation, with the same results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cbam_portal.accounts.models import Organisation
from cbam_portal.core.actor import Actor
from declarations.assessment import AssessmentError, AssessmentInput, assess_good, assessment_as_dict
from declarations.reference_cache import ReferenceSnapshot
from declarations.services import declarations as services
from tests.declarations.test_declaration_services import add_line, shared_installation
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal
INPUTS = [
    AssessmentInput(cn="72081000", country="CN", mass=D(100), year=2026, quarter=1),  # example 8
    AssessmentInput(cn="72081000", country="CN", mass=D(100), year=2026, quarter=3),  # no price yet
    AssessmentInput(cn="72081000", country="BR", mass=D(7), year=2027, quarter=2),
    AssessmentInput(cn="76011010", country="CN", mass=D(1000), year=2026, quarter=2, see_direct=D("1.555")),
    AssessmentInput(
        cn="76011010",
        country="CN",
        mass=D(10),
        year=2026,
        quarter=2,
        see_direct=D(2),
        see_obligation=D("1.8"),
    ),
    AssessmentInput(
        cn="2523 10 00", country="TR", mass=D(50), functional_unit_mass=D(40), year=2026, quarter=1
    ),
    AssessmentInput(cn="72081000", country="CH", mass=D(1), year=2026),  # outside CBAM
    AssessmentInput(cn="72081000", country="XX", mass=D(1), year=2026),  # unknown country
    AssessmentInput(cn="01012100", country="CN", mass=D(1), year=2026),  # not a CBAM good
    AssessmentInput(cn="25231000", country="TR", mass=D(1), year=2026),  # functional unit missing
]


def outcome(data, reference=None):
    try:
        return assessment_as_dict(assess_good(data, reference=reference))
    except AssessmentError as exc:
        return ("error", exc.field, exc.message)


def test_a_snapshot_gives_exactly_what_the_live_lookups_give(reference_data):  # noqa: F811
    snapshot = ReferenceSnapshot(
        cn_codes={"72081000", "76011010", "25231000"}, countries={"CN", "BR", "TR", "CH"}
    )
    for data in INPUTS:
        assert outcome(data, snapshot) == outcome(data), data
        assert outcome(data, snapshot) == outcome(data), data  # the remembered answer too


def test_a_snapshot_answers_outside_its_bounds_by_reading_live(reference_data):  # noqa: F811
    snapshot = ReferenceSnapshot(cn_codes={"76011010"}, countries={"CN"})
    data = AssessmentInput(cn="72081000", country="IN", mass=D(3), year=2026, quarter=1)
    assert outcome(data, snapshot) == outcome(data)


def test_a_snapshot_is_read_in_a_fixed_handful_of_queries(reference_data):  # noqa: F811
    with CaptureQueriesContext(connection) as few:
        ReferenceSnapshot(cn_codes={"72081000"}, countries={"CN"}, years=[2026])
    with CaptureQueriesContext(connection) as many:
        snapshot = ReferenceSnapshot(
            cn_codes={"72081000", "76011010", "25231000", "72139110", "31021010"},
            countries={"CN", "TR", "IN", "UA", "KR", "BR"},
            years=[2026],
        )
    assert len(few) == len(many) <= 9
    with CaptureQueriesContext(connection) as during:
        for country in ("CN", "TR", "IN"):
            for quarter in (1, 2, 3, 4):
                assess_good(
                    AssessmentInput(cn="72081000", country=country, mass=D(5), year=2026, quarter=quarter),
                    reference=snapshot,
                )
    assert len(during) == 0


def _importer_with_groups(organisation, installations: int) -> None:
    """``installations`` installations with shared reports (actual data), each with lines in
    two quarters, and as many default-value lines from several countries."""
    countries = ["CN", "TR", "IN", "UA", "KR"]
    for i in range(installations):
        installation, _grant = shared_installation(organisation, see_direct=f"1.{i + 1}")
        add_line(organisation, cn="76011010", mass="10", day=dt.date(2026, 2, 1), installation=installation)
        add_line(organisation, cn="76011010", mass="5", day=dt.date(2026, 5, 1), installation=installation)
        add_line(organisation, mass=str(i + 1), country=countries[i % 5], day=dt.date(2026, 1 + i % 12, 3))


def _recompute_queries(personas, installations: int) -> tuple[int, int]:
    organisation = Organisation.objects.create(
        kind="declarant", name=f"Importer {installations}", country="DE"
    )
    actor = Actor(user=personas.owner)
    _importer_with_groups(organisation, installations)
    declaration = services.declaration_create(actor=actor, organisation=organisation, year=2026)
    with CaptureQueriesContext(connection) as queries:
        services.declaration_compute(actor=actor, declaration=declaration)
    return len(queries), declaration.groups.count()


def test_recomputing_30_groups_takes_as_many_queries_as_3(reference_data, personas):  # noqa: F811
    small, small_groups = _recompute_queries(personas, 1)
    large, large_groups = _recompute_queries(personas, 10)
    assert (small_groups, large_groups) == (3, 30)
    assert large == small


def test_the_declaration_gives_each_group_the_numbers_of_the_quick_assessment(reference_data, personas):  # noqa: F811
    org = personas.organisation
    installation, _grant = shared_installation(org, see_direct="1.555")
    add_line(org, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation)
    add_line(org, country="TR", mass="12.5", day=dt.date(2026, 2, 1))
    add_line(org, country="IN", mass="3", day=dt.date(2026, 8, 1))
    declaration = services.declaration_create(actor=Actor(user=personas.owner), organisation=org, year=2026)
    for group in declaration.groups.all():
        actual = group.source == "actual"
        expected = assess_good(
            AssessmentInput(
                cn=group.cn_code,
                country=group.country,
                mass=group.mass_tonnes,
                year=2026,
                quarter=group.quarter,
                see_direct=D("1.555") if actual else None,
                see_indirect=D("2.1") if actual else None,
                route="K" if actual else "",
            )
        )
        assert group.certificates == expected.result.certificates
        assert group.embedded_t_co2e == expected.result.embedded_tco2e
        assert group.datasets == assessment_as_dict(expected)["datasets"]
