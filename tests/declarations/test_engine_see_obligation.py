"""The operator's SEE for the obligation goes to the engine as such, and the trace says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cbam_portal.core.actor import Actor
from declarations.assessment import AssessmentError, AssessmentInput, assess_good
from declarations.services import declarations as services
from declarations.services.traces import declaration_group_trace
from emissions.models import GoodResult
from tests.declarations.test_declaration_services import add_line, shared_installation
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal
ALUMINIUM = {"cn": "76011010", "country": "CN", "mass": D(1000), "year": 2026, "quarter": 2, "route": "K"}


def test_the_see_for_the_obligation_replaces_direct_and_indirect_see(reference_data):  # noqa: F811
    with_obligation = assess_good(
        AssessmentInput(**ALUMINIUM, see_direct=D("1.555"), see_indirect=D("2.1"), see_obligation=D("1.7"))
    )
    assert with_obligation.result.see_used == D("1.7")
    assert with_obligation.result.embedded_tco2e == D("1700")
    step = next(s for s in with_obligation.trace if "cross-over" in s.rule)
    assert step.inputs["SEE direct"] == D("1.555") and step.inputs["SEE indirect"] == D("2.1")
    assert step.inputs["SEE for the obligation"] == D("1.7") and step.result == D("1.7")
    assert "instead of the direct and indirect SEE" in step.description
    engine_step = next(
        s for s in with_obligation.trace if s.result == D("1.7") and "SEE used" in s.description
    )
    assert "already computed" in engine_step.description


def test_without_a_see_for_the_obligation_the_annex_ii_rule_applies_as_before(reference_data):  # noqa: F811
    plain = assess_good(AssessmentInput(**ALUMINIUM, see_direct=D("1.555"), see_indirect=D("2.1")))
    assert plain.result.see_used == D("1.555")  # unwrought aluminium is an Annex II good: direct only
    assert not any("cross-over" in s.rule for s in plain.trace)


def test_a_see_for_the_obligation_needs_the_actual_direct_see(reference_data):  # noqa: F811
    with pytest.raises(AssessmentError) as excinfo:
        assess_good(AssessmentInput(**ALUMINIUM, see_obligation=D("1.7")))
    assert excinfo.value.field == "see_direct"


def test_a_negative_see_for_the_obligation_is_refused_by_name(reference_data):  # noqa: F811
    with pytest.raises(AssessmentError) as excinfo:
        assess_good(AssessmentInput(**ALUMINIUM, see_direct=D(1), see_obligation=D("-0.1")))
    assert excinfo.value.field == "see_obligation"
    assert "SEE for the obligation" in excinfo.value.message


def test_the_declaration_passes_the_reports_see_for_the_obligation_with_the_real_direct_and_indirect(
    reference_data,  # noqa: F811
    personas,
):
    org = personas.organisation
    installation, _grant = shared_installation(org, see_direct="1.555")
    GoodResult.objects.filter(report__installation=installation).update(see_obligation=D("1.9"))
    add_line(org, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation)
    declaration = services.declaration_create(actor=Actor(user=personas.owner), organisation=org, year=2026)
    (group,) = declaration.groups.all()
    assert group.source == "actual" and group.see_used == D("1.9")
    assert group.embedded_t_co2e == D("1900")
    expected = assess_good(
        AssessmentInput(**ALUMINIUM, see_direct=D("1.555"), see_indirect=D("2.1"), see_obligation=D("1.9"))
    )
    assert group.certificates == expected.result.certificates
    (step,) = [s for s in declaration_group_trace(group) if "cross-over" in s["rule"]]
    assert step["inputs"]["SEE direct"] == "1.555" and step["inputs"]["SEE indirect"] == "2.1"
    assert step["inputs"]["SEE for the obligation"] == "1.9"
