"""Specific masses of precursors (m_i = M_i / AL_g) that the declarant needs for the free
allocation adjustment of complex goods ([IR2620] Annex 4, Eq. 4-5)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from emissions.see import (
    InternalPrecursor,
    ProcessCycleError,
    ProcessInput,
    PurchasedPrecursor,
    SeeInputError,
    precursor_shares,
)

from .test_see import eaf_installation


def q(value: D) -> D:
    return value.quantize(D("1e-20"))


def test_rolling_mill_share_of_crude_steel_is_mass_consumed_over_activity_level_of_example_3():
    shares = precursor_shares(
        eaf_installation(),
        "P2",
        cn_by_process={"P1": "72189911", "P2": "72191310"},
        route_by_process={"P1": "EAF (J)"},
        name_by_process={"P1": "EAF incl. continuous casting"},
    )
    assert len(shares) == 1
    crude = shares[0]
    assert crude.source == "internal"
    assert crude.cn_code == "72189911"
    assert crude.route == "EAF (J)"
    assert crude.name == "EAF incl. continuous casting"
    assert q(crude.mass_per_unit) == q(D("1227000") / D("1133000"))
    # The EAF's own precursors come along, per tonne of crude steel.
    assert [p.name for p in crude.precursors] == [
        "Carbon steel ingots",
        "FeNi (28 % Ni)",
        "FeCr (52 % Cr)",
        "FeMn (31 % Mn)",
    ]
    assert q(crude.precursors[0].mass_per_unit) == q(D("80540") / D("2234000"))
    assert [p.is_default for p in crude.precursors] == [False, False, False, True]


def test_purchased_precursor_keeps_its_cn_code_and_default_flag():
    screws = ProcessInput(
        process_id="P1",
        activity_level=D("17000"),
        direct_emissions_tco2e=D("3337.95"),
        purchased_precursors=(
            PurchasedPrecursor(
                name="Carbon steel wire rod", quantity=D("20000"), see_direct=D("1.539"), cn_code="72139110"
            ),
        ),
    )
    (share,) = precursor_shares([screws], "P1", cn_by_process={}, route_by_process={})
    assert share.as_dict() == {
        "name": "Carbon steel wire rod",
        "source": "purchased",
        "cn_code": "72139110",
        "route": "",
        "mass_per_unit": "1.176470588235294117647058823529412",  # 20,000 / 17,000 to 34 digits
        "is_default": False,
        "precursors": [],
    }


def test_a_simple_good_has_no_precursor_shares():
    smelter = ProcessInput(process_id="P1", activity_level=D("380000"), direct_emissions_tco2e=D("590900"))
    assert precursor_shares([smelter], "P1", cn_by_process={}, route_by_process={}) == ()


def test_a_cycle_of_internal_precursors_is_refused():
    a = ProcessInput(
        process_id="A",
        activity_level=D("1"),
        direct_emissions_tco2e=D("1"),
        internal_precursors=(InternalPrecursor(process_id="B", quantity=D("1")),),
    )
    b = ProcessInput(
        process_id="B",
        activity_level=D("1"),
        direct_emissions_tco2e=D("1"),
        internal_precursors=(InternalPrecursor(process_id="A", quantity=D("1")),),
    )
    with pytest.raises(ProcessCycleError):
        precursor_shares([a, b], "A", cn_by_process={}, route_by_process={})


def test_an_unknown_process_is_refused():
    with pytest.raises(SeeInputError, match="Unknown production process"):
        precursor_shares([], "P9", cn_by_process={}, route_by_process={})
