"""SEE engine: the Commission template examples 1–5 of CBAM.md, the Annex II rules and invariants."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emissions.see import (
    EmissionsFlow,
    InternalPrecursor,
    ProcessCycleError,
    ProcessInput,
    PurchasedPrecursor,
    SeeInputError,
    TraceStep,
    WasteGasFlow,
    calculate_installation,
    obligation_see,
    quantise,
)


def see5(value: D) -> D:
    return quantise(value, 5)


def single(process: ProcessInput):
    return calculate_installation([process])[process.process_id]


# --- Example 1: cement bubble --------------------------------------------------------------


def cement_bubble() -> ProcessInput:
    return ProcessInput(
        process_id="cement",
        activity_level=D("1321052.631579"),
        direct_emissions_tco2e=D("1037310"),
        electricity_consumed_mwh=D("193864.473684"),
        electricity_ef_tco2e_per_mwh=D("0.833"),
    )


def test_example_1_cement_bubble_reproduces_the_commission_template():
    result = single(cement_bubble())

    assert result.attributed_indirect_tco2e == D("161489.106578772")
    assert result.presented() == {
        "see_direct": D("0.78521"),
        "see_indirect": D("0.12224"),
        "see_total": D("0.90746"),
        "default_share": D("0.00000"),
        "embedded_electricity_mwh_per_unit": D("0.14675"),
    }


def test_example_1_cement_counts_direct_and_indirect_for_the_obligation():
    installation = calculate_installation([cement_bubble()])

    assert see5(obligation_see(installation, "cement").see) == D("0.90746")


def test_every_trace_step_names_a_rule_and_carries_decimal_numbers():
    result = single(cement_bubble())

    assert result.trace
    for step in result.trace:
        assert isinstance(step, TraceStep)
        assert step.rule and step.description
        assert isinstance(step.result, D)
        assert all(isinstance(v, D | str) for v in step.inputs.values())


# --- Example 2: BF/BOF with waste gas export -------------------------------------------------


def blast_furnace() -> ProcessInput:
    return ProcessInput(
        process_id="bf-bof",
        activity_level=D("4800000"),
        direct_emissions_tco2e=D("7866044.469878"),
        waste_gas_exported=WasteGasFlow(energy_tj=D("12800")),
        electricity_consumed_mwh=D("1658844"),
        electricity_ef_tco2e_per_mwh=D("0.589"),
        annex_ii=True,
    )


def test_waste_gas_correction_uses_natural_gas_factor_and_efficiency_correction():
    assert WasteGasFlow(energy_tj=D("12800")).tco2e() == D("478959.36")


def test_example_2_integrated_steelworks_subtracts_the_exported_waste_gas_correction():
    result = single(blast_furnace())

    assert result.attributed_direct_tco2e == D("7866044.469878") - D("478959.36")
    presented = result.presented()
    assert presented["see_direct"] == D("1.53898")
    assert presented["see_indirect"] == D("0.20355")
    assert presented["see_total"] == D("1.74253")
    assert presented["embedded_electricity_mwh_per_unit"] == D("0.34559")


def test_example_2_steel_counts_only_direct_emissions_for_the_obligation():
    installation = calculate_installation([blast_furnace()])

    assert see5(obligation_see(installation, "bf-bof").see) == D("1.53898")


# --- Example 3: EAF with purchased alloys and a downstream rolling mill ------------------------


def eaf_installation() -> list[ProcessInput]:
    eaf = ProcessInput(
        process_id="P1",
        activity_level=D("2234000"),
        direct_emissions_tco2e=D("171005.308857"),
        electricity_consumed_mwh=D("1563800"),
        electricity_ef_tco2e_per_mwh=D("0.833"),
        annex_ii=True,
        purchased_precursors=(
            PurchasedPrecursor(
                name="Carbon steel ingots",
                quantity=D("80540"),
                see_direct=D("1.48"),
                see_indirect=D("0.203999"),
                electricity_mwh_per_unit=D("19724") / D("80540"),
                is_annex_ii=True,
            ),
            PurchasedPrecursor(
                name="FeNi (28 % Ni)",
                quantity=D("346773.02393"),
                see_direct=D("3"),
                see_indirect=D("2.499833"),
                electricity_mwh_per_unit=D("3.001"),
                is_annex_ii=True,
            ),
            PurchasedPrecursor(
                name="FeCr (52 % Cr)",
                quantity=D("331213"),
                see_direct=D("2.5"),
                see_indirect=D("2.349893"),
                electricity_mwh_per_unit=D("2.821"),
                is_annex_ii=True,
            ),
            PurchasedPrecursor(
                name="FeMn (31 % Mn)",
                quantity=D("60595"),
                see_direct=D("1.3"),
                see_indirect=D("1.900073"),
                electricity_mwh_per_unit=D("2.281"),
                is_default=True,
                is_annex_ii=True,
            ),
        ),
    )
    rolling = ProcessInput(
        process_id="P2",
        activity_level=D("1133000"),
        direct_emissions_tco2e=D("402245.415"),
        electricity_consumed_mwh=D("324660"),
        electricity_ef_tco2e_per_mwh=D("0.833"),
        annex_ii=True,
        internal_precursors=(InternalPrecursor(process_id="P1", quantity=D("1227000")),),
    )
    # Downstream first: the engine must order the evaluation itself.
    return [rolling, eaf]


def test_example_3_eaf_with_purchased_alloys_reproduces_the_commission_template():
    p1 = calculate_installation(eaf_installation())["P1"]

    presented = p1.presented()
    assert presented["see_direct"] == D("1.00149")
    assert presented["see_indirect"] == D("1.37842")
    assert presented["see_total"] == D("2.37991")
    assert presented["default_share"] == D("0.03521")
    assert presented["embedded_electricity_mwh_per_unit"] == D("1.65477")


def test_example_3_default_share_is_the_feMn_share_of_embedded_direct_emissions():
    p1 = calculate_installation(eaf_installation())["P1"]

    assert p1.default_direct_tco2e == D("78773.5")
    # the workbook's unrounded value; the FeNi mass above is rounded to 5 decimals
    assert abs(p1.default_share - D("0.03520871519393244")) < D("1e-11")


def test_example_3_rolling_mill_takes_the_crude_steel_see_of_the_eaf_process():
    installation = calculate_installation(eaf_installation())
    p2 = installation["P2"]

    presented = p2.presented()
    assert presented["see_direct"] == D("1.43961")
    assert presented["see_indirect"] == D("1.73148")
    assert presented["see_total"] == D("3.17109")
    assert presented["default_share"] == D("0.02653")
    assert presented["embedded_electricity_mwh_per_unit"] == D("2.07861")
    internal = [c for c in p2.precursors if c.source == "internal"]
    assert internal[0].see_direct == installation["P1"].see_direct


def test_results_keep_the_input_order_of_processes():
    installation = calculate_installation(eaf_installation())

    assert list(installation.processes) == ["P2", "P1"]
    assert len(installation) == 2


# --- Example 4: screws and nuts -------------------------------------------------------------


def screws() -> list[ProcessInput]:
    return [
        ProcessInput(
            process_id="carbon-screws",
            activity_level=D("17000"),
            direct_emissions_tco2e=D("3337.95"),
            electricity_consumed_mwh=D("3400"),
            electricity_ef_tco2e_per_mwh=D("0.833"),
            annex_ii=True,
            purchased_precursors=(
                PurchasedPrecursor(
                    name="Carbon steel",
                    quantity=D("20000"),
                    see_direct=D("1.539"),
                    see_indirect=D("0.204"),
                    is_annex_ii=True,
                ),
            ),
        ),
        ProcessInput(
            process_id="alloy-screws",
            activity_level=D("8200"),
            direct_emissions_tco2e=D("1610.07"),
            electricity_consumed_mwh=D("1640"),
            electricity_ef_tco2e_per_mwh=D("0.833"),
            annex_ii=True,
            purchased_precursors=(
                PurchasedPrecursor(
                    name="High-alloy steel",
                    quantity=D("10000"),
                    see_direct=D("1.44"),
                    see_indirect=D("1.732"),
                    is_annex_ii=True,
                ),
            ),
        ),
    ]


@pytest.mark.parametrize(
    ("process_id", "direct", "indirect", "total"),
    [
        ("carbon-screws", "2.00694", "0.40660", "2.41354"),
        ("alloy-screws", "1.95245", "2.27880", "4.23124"),
    ],
)
def test_example_4_screws_reproduce_the_commission_template(process_id, direct, indirect, total):
    result = calculate_installation(screws())[process_id]

    presented = result.presented()
    assert presented["see_direct"] == D(direct)
    assert presented["see_indirect"] == D(indirect)
    assert presented["see_total"] == D(total)


@pytest.mark.parametrize(
    ("process_id", "direct"), [("carbon-screws", "2.00694"), ("alloy-screws", "1.95245")]
)
def test_example_4_screws_count_only_direct_emissions_in_the_definitive_period(process_id, direct):
    installation = calculate_installation(screws())

    assert see5(obligation_see(installation, process_id).see) == D(direct)


# --- Example 5: NPK fertiliser ----------------------------------------------------------------


def npk() -> ProcessInput:
    return ProcessInput(
        process_id="npk",
        activity_level=D("750000"),
        direct_emissions_tco2e=D("13421.334267"),
        electricity_consumed_mwh=D("7875"),
        electricity_ef_tco2e_per_mwh=D("0.572"),
        purchased_precursors=(
            PurchasedPrecursor(
                name="Urea", quantity=D("120000"), see_direct=D("0.719"), see_indirect=D("0.17835")
            ),
            PurchasedPrecursor(
                name="Ammonia", quantity=D("69750"), see_direct=D("1.9"), see_indirect=D("0.2079")
            ),
        ),
    )


def test_example_5_npk_fertiliser_reproduces_the_commission_template():
    result = single(npk())

    presented = result.presented()
    assert presented["see_direct"] == D("0.30964")
    assert presented["see_indirect"] == D("0.05388")
    assert presented["see_total"] == D("0.36351")


def test_example_5_fertiliser_counts_direct_and_indirect_of_all_non_annex_ii_inputs():
    installation = calculate_installation([npk()])

    assert see5(obligation_see(installation, "npk").see) == D("0.36351")


# --- Annex II cross-over rule -----------------------------------------------------------------


def test_annex_ii_complex_good_includes_indirect_emissions_of_a_non_annex_ii_precursor():
    pig_iron = ProcessInput(
        process_id="pig-iron",
        activity_level=D("10"),
        direct_emissions_tco2e=D("10"),
        electricity_consumed_mwh=D("5"),
        electricity_ef_tco2e_per_mwh=D("0.5"),
        annex_ii=True,
        purchased_precursors=(
            PurchasedPrecursor(
                name="Sintered ore 2601 12 00",
                quantity=D("10"),
                see_direct=D("0.2"),
                see_indirect=D("0.05"),
                is_annex_ii=False,
            ),
        ),
    )
    installation = calculate_installation([pig_iron])

    # own direct 10 + precursor direct 2 + precursor indirect 0.5; own indirect 2.5 excluded
    assert obligation_see(installation, "pig-iron").see == D("1.25")
    assert installation["pig-iron"].see_direct == D("1.2")


def test_non_annex_ii_complex_good_excludes_indirect_emissions_of_an_annex_ii_precursor():
    ammonia = ProcessInput(
        process_id="ammonia",
        activity_level=D("100"),
        direct_emissions_tco2e=D("50"),
        electricity_consumed_mwh=D("20"),
        electricity_ef_tco2e_per_mwh=D("0.5"),
        purchased_precursors=(
            PurchasedPrecursor(
                name="Hydrogen", quantity=D("18"), see_direct=D("10"), see_indirect=D("2"), is_annex_ii=True
            ),
        ),
    )
    installation = calculate_installation([ammonia])
    result = obligation_see(installation, "ammonia")

    # own direct 50 + own indirect 10 + hydrogen direct 180; hydrogen indirect 36 excluded
    assert result.see == D("2.4")
    assert installation["ammonia"].see_total == D("2.76")
    assert any("not included" in step.description for step in result.trace)


def test_cross_over_rule_applies_through_internal_precursors():
    hydrogen = ProcessInput(
        process_id="hydrogen",
        activity_level=D("18"),
        direct_emissions_tco2e=D("180"),
        electricity_consumed_mwh=D("72"),
        electricity_ef_tco2e_per_mwh=D("0.5"),
        annex_ii=True,
    )
    ammonia = ProcessInput(
        process_id="ammonia",
        activity_level=D("100"),
        direct_emissions_tco2e=D("50"),
        electricity_consumed_mwh=D("20"),
        electricity_ef_tco2e_per_mwh=D("0.5"),
        internal_precursors=(InternalPrecursor(process_id="hydrogen", quantity=D("18")),),
    )
    installation = calculate_installation([ammonia, hydrogen])

    assert obligation_see(installation, "hydrogen").see == D("10")
    assert obligation_see(installation, "ammonia").see == D("2.4")
    assert installation["ammonia"].see_total == D("2.76")


# --- Errors -----------------------------------------------------------------------------------


def test_internal_precursors_in_a_cycle_are_refused_naming_the_processes():
    a = ProcessInput(
        process_id="sinter",
        activity_level=D("1"),
        direct_emissions_tco2e=D("1"),
        internal_precursors=(InternalPrecursor(process_id="pig-iron", quantity=D("1")),),
    )
    b = ProcessInput(
        process_id="pig-iron",
        activity_level=D("1"),
        direct_emissions_tco2e=D("1"),
        internal_precursors=(InternalPrecursor(process_id="sinter", quantity=D("1")),),
    )

    with pytest.raises(ProcessCycleError) as excinfo:
        calculate_installation([a, b])

    assert excinfo.value.cycle == ["sinter", "pig-iron", "sinter"]
    assert "sinter -> pig-iron -> sinter" in str(excinfo.value)


def test_a_process_using_its_own_goods_is_a_cycle():
    a = ProcessInput(
        process_id="P1",
        activity_level=D("1"),
        direct_emissions_tco2e=D("1"),
        internal_precursors=(InternalPrecursor(process_id="P1", quantity=D("1")),),
    )

    with pytest.raises(ProcessCycleError, match="P1 -> P1"):
        calculate_installation([a])


@pytest.mark.parametrize("activity_level", ["0", "-5"])
def test_zero_or_negative_activity_level_is_refused_naming_the_process(activity_level):
    with pytest.raises(SeeInputError, match="“kiln”: activity level must be greater than zero"):
        ProcessInput(process_id="kiln", activity_level=D(activity_level), direct_emissions_tco2e=D("1"))


def test_unknown_internal_precursor_is_refused():
    p = ProcessInput(
        process_id="P2",
        activity_level=D("1"),
        direct_emissions_tco2e=D("1"),
        internal_precursors=(InternalPrecursor(process_id="P9", quantity=D("1")),),
    )

    with pytest.raises(SeeInputError, match="unknown process “P9”"):
        calculate_installation([p])


def test_duplicate_process_ids_are_refused():
    with pytest.raises(SeeInputError, match="given twice"):
        calculate_installation([cement_bubble(), cement_bubble()])


def test_floats_are_refused_naming_the_field():
    with pytest.raises(SeeInputError, match="direct_emissions_tco2e.*float"):
        ProcessInput(process_id="kiln", activity_level=D("1"), direct_emissions_tco2e=1.5)


def test_strings_and_ints_are_accepted_as_decimals():
    p = ProcessInput(process_id="kiln", activity_level="4", direct_emissions_tco2e=2)

    assert p.activity_level == D("4")
    assert single(p).see_direct == D("0.5")


def test_negative_precursor_quantity_is_refused_naming_the_precursor():
    with pytest.raises(SeeInputError, match="precursor “Urea”: quantity must not be negative"):
        PurchasedPrecursor(name="Urea", quantity=D("-1"), see_direct=D("1"))


def test_a_flow_needs_either_amount_and_factor_or_emissions():
    assert EmissionsFlow(amount=D("2"), factor_tco2e_per_unit=D("56.1")).tco2e() == D("112.2")
    assert EmissionsFlow(emissions_tco2e=D("3")).tco2e() == D("3")
    with pytest.raises(SeeInputError):
        EmissionsFlow(amount=D("2"))
    with pytest.raises(SeeInputError):
        EmissionsFlow(amount=D("2"), factor_tco2e_per_unit=D("1"), emissions_tco2e=D("2"))


def test_attributed_direct_emissions_are_floored_at_zero():
    p = ProcessInput(
        process_id="chp",
        activity_level=D("10"),
        direct_emissions_tco2e=D("10"),
        heat_imported=EmissionsFlow(amount=D("1"), factor_tco2e_per_unit=D("5")),
        heat_exported=EmissionsFlow(emissions_tco2e=D("12")),
        electricity_produced=EmissionsFlow(amount=D("100"), factor_tco2e_per_unit=D("0.1")),
    )

    result = single(p)

    assert result.trace[0].inputs["Em_H,imp"] == D("5")
    assert result.attributed_direct_tco2e == D("0")
    assert result.see_direct == D("0")


def test_quantise_rounds_half_up():
    assert quantise(D("0.000005")) == D("0.00001")
    assert quantise(D("16351.855"), 2) == D("16351.86")


# --- Properties -------------------------------------------------------------------------------

amounts = st.decimals(
    min_value=D("0"), max_value=D("1000000"), places=3, allow_nan=False, allow_infinity=False
)
positive = st.decimals(
    min_value=D("0.001"), max_value=D("1000000"), places=3, allow_nan=False, allow_infinity=False
)
factors = st.decimals(min_value=D("0"), max_value=D("5"), places=4, allow_nan=False, allow_infinity=False)
scales = st.decimals(
    min_value=D("0.01"), max_value=D("1000"), places=2, allow_nan=False, allow_infinity=False
)


def build(al, direct, heat_exp, mwh, ef, m, see_d, see_i, k=D(1)) -> ProcessInput:
    return ProcessInput(
        process_id="P",
        activity_level=al * k,
        direct_emissions_tco2e=direct * k,
        heat_exported=EmissionsFlow(emissions_tco2e=heat_exp * k),
        electricity_consumed_mwh=mwh * k,
        electricity_ef_tco2e_per_mwh=ef,
        purchased_precursors=(
            PurchasedPrecursor(name="x", quantity=m * k, see_direct=see_d, see_indirect=see_i),
        ),
    )


@settings(max_examples=60, deadline=None)
@given(positive, amounts, amounts, amounts, factors, amounts, factors, factors, scales)
def test_scaling_every_quantity_leaves_the_see_unchanged(al, direct, heat_exp, mwh, ef, m, see_d, see_i, k):
    base = single(build(al, direct, heat_exp, mwh, ef, m, see_d, see_i))
    scaled = single(build(al, direct, heat_exp, mwh, ef, m, see_d, see_i, k))

    assert abs(base.see_direct - scaled.see_direct) < D("1e-24")
    assert abs(base.see_indirect - scaled.see_indirect) < D("1e-24")


@settings(max_examples=60, deadline=None)
@given(positive, amounts, amounts, amounts, factors, amounts, factors, factors)
def test_see_is_never_negative(al, direct, heat_exp, mwh, ef, m, see_d, see_i):
    result = single(build(al, direct, heat_exp, mwh, ef, m, see_d, see_i))

    assert result.see_direct >= 0
    assert result.see_indirect >= 0
    assert 0 <= result.default_share <= 1


@settings(max_examples=60, deadline=None)
@given(positive, amounts, amounts, factors, amounts, factors, factors, amounts)
def test_a_precursor_with_zero_see_adds_nothing_to_the_embedded_emissions(
    al, direct, mwh, ef, m, see_d, see_i, extra
):
    p = build(al, direct, D(0), mwh, ef, m, see_d, see_i)
    with_zero = ProcessInput(
        process_id="P",
        activity_level=p.activity_level,
        direct_emissions_tco2e=p.direct_emissions_tco2e,
        heat_exported=p.heat_exported,
        electricity_consumed_mwh=p.electricity_consumed_mwh,
        electricity_ef_tco2e_per_mwh=p.electricity_ef_tco2e_per_mwh,
        purchased_precursors=(
            *p.purchased_precursors,
            PurchasedPrecursor(name="EU-origin scrap", quantity=extra, see_direct=D(0), see_indirect=D(0)),
        ),
    )

    before, after = single(p), single(with_zero)

    assert after.embedded_direct_tco2e == before.embedded_direct_tco2e
    assert after.embedded_indirect_tco2e == before.embedded_indirect_tco2e
    assert after.see_total == before.see_total
