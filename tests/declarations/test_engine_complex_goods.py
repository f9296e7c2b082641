"""SEFA of a complex good with actual data adds its precursors' benchmarks ([IR2620] Annex 4,
Eq. 2-5): SEFA = CBAM factor x CSCF x (BM* + sum of m_i x BM_i)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from declarations.assessment import AssessmentInput, assess_good
from declarations.services.traces import declaration_group_trace
from emissions.see import PrecursorShare
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal
FACTOR_2026 = D("0.975")
# [IR2620] benchmarks: hot-rolled coil 7208 10 00 Column A (rolling only) 0.044; non-alloy pig iron
# 7201 10 11 Column A 1.089 / Column B 1.21; ferro-chromium 7202 41 10 1.142 for 2026-27.
HRC = {"cn": "72081000", "country": "TR", "mass": D(100), "year": 2026, "quarter": 1, "route": "C"}


def hot_metal(mass_per_unit: str, *, precursors=()) -> PrecursorShare:
    return PrecursorShare(
        name="Hot metal",
        source="internal",
        cn_code="72011011",
        route="",
        mass_per_unit=D(mass_per_unit),
        is_default=False,
        precursors=tuple(precursors),
    )


def test_a_simple_good_keeps_the_column_a_benchmark_of_its_own_process(reference_data):  # noqa: F811
    plain = assess_good(AssessmentInput(**HRC, see_direct=D("2.0")))
    assert plain.benchmark == D("0.044")
    assert plain.result.sefa == FACTOR_2026 * D("0.044")
    assert not any("Eq. 4" in s.rule for s in plain.trace)


def test_an_internal_precursor_adds_its_column_a_benchmark_per_tonne(reference_data):  # noqa: F811
    result = assess_good(AssessmentInput(**HRC, see_direct=D("2.0"), precursors=(hot_metal("1.1"),)))
    effective = D("0.044") + D("1.1") * D("1.089")  # 1.2419
    assert result.benchmark == effective
    assert result.result.sefa == FACTOR_2026 * effective
    assert result.result.certificates == D(100) * (D("2.0") - FACTOR_2026 * effective)
    step = next(s for s in result.trace if "Eq. 4" in s.rule)
    assert step.result == effective
    assert step.inputs["BM* of the good (Column A)"] == D("0.044")
    assert "7201 10 11 Column A 1.089" in step.inputs["precursor 1: Hot metal"]


def test_a_purchased_precursor_on_default_values_adds_its_column_b_benchmark(reference_data):  # noqa: F811
    ferro_chromium = PrecursorShare(
        name="FeCr", source="purchased", cn_code="72024110", route="", mass_per_unit=D("0.2"), is_default=True
    )
    result = assess_good(AssessmentInput(**HRC, see_direct=D("2.0"), precursors=(ferro_chromium,)))
    assert result.benchmark == D("0.044") + D("0.2") * D("1.142")


def test_precursors_of_an_internal_precursor_are_added_recursively(reference_data):  # noqa: F811
    pig_iron_bought = PrecursorShare(
        name="Pig iron",
        source="purchased",
        cn_code="72011011",
        route="",
        mass_per_unit=D("0.5"),
        is_default=True,
    )
    result = assess_good(
        AssessmentInput(
            **HRC, see_direct=D("2.0"), precursors=(hot_metal("1.1", precursors=[pig_iron_bought]),)
        )
    )
    # Column A of the internal precursor plus Column B of what it consumed, per tonne of it.
    inner = D("1.089") + D("0.5") * D("1.21")
    assert result.benchmark == D("0.044") + D("1.1") * inner


def test_a_precursor_without_cn_code_adds_nothing_and_the_trace_says_so(reference_data):  # noqa: F811
    unknown = PrecursorShare(
        name="Alloy mix", source="purchased", cn_code="", route="", mass_per_unit=D("0.3"), is_default=False
    )
    result = assess_good(AssessmentInput(**HRC, see_direct=D("2.0"), precursors=(unknown,)))
    assert result.benchmark == D("0.044")
    step = next(s for s in result.trace if "Eq. 4" in s.rule)
    assert "no CN code reported" in step.inputs["precursor 1: Alloy mix"]


def test_precursors_are_ignored_with_default_values(reference_data):  # noqa: F811
    result = assess_good(AssessmentInput(**{**HRC, "country": "CN"}, precursors=(hot_metal("1.1"),)))
    assert result.benchmark_column == "B"
    assert result.benchmark == D("1.37")


def test_the_declaration_takes_the_precursor_masses_from_the_shared_report(reference_data, personas):  # noqa: F811
    import datetime as dt

    from cbam_portal.core.actor import Actor
    from declarations.services import declarations as services
    from emissions.models import GoodResult
    from tests.declarations.test_declaration_services import add_line, shared_installation

    installation, _grant = shared_installation(
        personas.organisation, cn="72081000", see_direct="2.0", route="C"
    )
    GoodResult.objects.filter(report__installation=installation).update(
        precursors=[hot_metal("1.1").as_dict()]
    )
    add_line(
        personas.organisation, cn="72081000", mass="100", day=dt.date(2026, 2, 2), installation=installation
    )

    declaration = services.declaration_create(
        actor=Actor(user=personas.owner), organisation=personas.organisation, year=2026
    )
    (group,) = declaration.groups.all()
    effective = D("0.044") + D("1.1") * D("1.089")
    assert group.source == "actual"
    assert group.benchmark == effective
    # Stored with 6 decimals (PostgreSQL rounds the half up, SQLite to even): 1.2108525 either way.
    assert abs(group.sefa - FACTOR_2026 * effective) <= D("0.0000005")
    assert any("Eq. 4" in step["rule"] for step in declaration_group_trace(group))
