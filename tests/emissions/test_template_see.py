"""The portal's SEE engine on the parsed Commission examples reproduces the published values,
and ``compare`` finds a changed input."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from emissions.see import calculate_installation, obligation_see, quantise
from emissions.template import (
    ParsedTemplate,
    ProcessData,
    SummaryCommunication,
    TemplateError,
    compare,
    export_summary,
    read_template,
    to_see_inputs,
)
from tests.emissions.test_template_reader import (
    ALL_EXAMPLES,
    CEMENT,
    FERTILISER,
    SCREWS,
    STEEL_BF,
    STEEL_EAF,
    annex_i_codes,
    example,
    patch_cells,
)

# (example, CN code, SEE direct, SEE indirect, SEE total) as published (CBAM.md worked examples 1–5).
PUBLISHED = [
    (CEMENT, "25232900", "0.78521", "0.12224", "0.90746"),
    (STEEL_BF, "72081000", "1.53898", "0.20355", "1.74253"),
    (STEEL_BF, "72122000", "1.53898", "0.20355", "1.74253"),
    (STEEL_BF, "72139120", "1.53898", "0.20355", "1.74253"),
    (STEEL_BF, "73021028", "1.53898", "0.20355", "1.74253"),
    (STEEL_EAF, "72189911", "1.00149", "1.37842", "2.37991"),
    (STEEL_EAF, "73041100", "1.43961", "1.73148", "3.17109"),
    (STEEL_EAF, "72191310", "1.43961", "1.73148", "3.17109"),
    (STEEL_EAF, "72210010", "1.43961", "1.73148", "3.17109"),
    (SCREWS, "73181542", "2.00694", "0.40660", "2.41354"),
    (SCREWS, "73181535", "1.95245", "2.27880", "4.23124"),
    (FERTILISER, "31052010", "0.30964", "0.05388", "0.36351"),
]

_PARSED: dict[str, ParsedTemplate] = {}


def parsed(name: str) -> ParsedTemplate:
    if name not in _PARSED:
        _PARSED[name] = read_template(example(name))
    return _PARSED[name]


@pytest.mark.parametrize(("name", "cn_code", "direct", "indirect", "total"), PUBLISHED)
def test_portal_and_template_reproduce_the_published_see(name, cn_code, direct, indirect, total):
    template = parsed(name)
    result = calculate_installation(to_see_inputs(template))
    comparison = compare(template, result)
    (row,) = [r for r in comparison.rows if r.cn_code == cn_code]

    expected = (D(direct), D(indirect), D(total))
    computed = (row.computed_see_direct, row.computed_see_indirect, row.computed_see_total)
    own = (row.template_see_direct, row.template_see_indirect, row.template_see_total)
    assert tuple(quantise(v) for v in computed) == expected
    assert tuple(quantise(v) for v in own) == expected


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_compare_finds_no_differences_on_the_unmodified_examples(name):
    template = parsed(name)

    comparison = compare(template, calculate_installation(to_see_inputs(template)))

    assert comparison.matches, [str(d) for d in comparison.differences]
    assert len(comparison.rows) == len(template.summary.products)
    for row in comparison.rows:  # default share and embedded electricity agree as well
        assert abs(row.computed_default_share - row.template_default_share) < D("0.000005")
        assert abs(
            row.computed_embedded_electricity_mwh_per_t - row.template_embedded_electricity_mwh_per_t
        ) < D("0.000005")


def test_example_3_default_share_comes_from_the_default_ferromanganese():
    template = parsed(STEEL_EAF)
    result = calculate_installation(to_see_inputs(template))

    assert quantise(result["P1"].default_share) == D("0.03521")
    assert quantise(result["P2"].default_share) == D("0.02653")  # inherited through crude steel


def test_compare_reports_a_difference_when_direm_is_altered(tmp_path):
    (process,) = parsed(CEMENT).processes
    altered = patch_cells(
        example(CEMENT), tmp_path / "altered.xlsx", {process.cells["direct_emissions_tco2e"]: 1_100_000}
    )
    template = read_template(altered)

    comparison = compare(template, calculate_installation(to_see_inputs(template)))

    assert not comparison.matches
    by_field = {d.field: d for d in comparison.differences}
    assert set(by_field) == {"SEE (direct)", "SEE (total)"}
    direct = by_field["SEE (direct)"]
    assert (direct.cn_code, direct.cell) == ("25232900", "Summary_Communication!I26")
    assert quantise(direct.template) == D("0.78521")
    assert quantise(direct.computed) == D("0.83267")  # 1,100,000 / 1,321,052.63
    assert direct.delta > 0
    assert "Summary_Communication!I26 SEE (direct) of CN 25232900" in str(direct)


def test_compare_tolerates_values_rounded_to_five_decimals(tmp_path):
    rounded = patch_cells(
        example(CEMENT),
        tmp_path / "rounded.xlsx",
        {
            "Summary_Communication!I26": 0.78521,
            "Summary_Communication!J26": 0.12224,
            "Summary_Communication!K26": 0.90746,
        },
    )
    template = read_template(rounded)

    assert compare(template, calculate_installation(to_see_inputs(template))).matches


def test_to_see_inputs_maps_waste_gas_precursors_and_internal_links():
    bf_inputs = to_see_inputs(parsed(STEEL_BF))
    (bubble,) = bf_inputs
    assert bubble.waste_gas_exported.tco2e() == D("478959.3600")  # 12,800 TJ × 56.1 × 0.667

    p1, p2 = to_see_inputs(parsed(STEEL_EAF))
    assert [(p.name, p.quantity, p.is_default) for p in p1.purchased_precursors] == [
        ("Carbon steel ingots", D("80540"), False),
        ("FeNi  (28% Ni)", D("346773.0239303843"), False),
        ("FeCr  (52% Cr)", D("331213"), False),
        ("FeMn (31% Mn)", D("60595"), True),
    ]
    assert p1.purchased_precursors[3].see_indirect == D("2.281") * D("0.833")
    assert [(link.process_id, link.quantity) for link in p2.internal_precursors] == [("P1", D("1227000"))]
    assert p2.purchased_precursors == ()


def test_imported_waste_gas_is_credited_without_the_efficiency_correction():
    template = ParsedTemplate(
        summary=SummaryCommunication(),
        processes=(
            ProcessData(
                index=1,
                id="P1",
                name="Ammonia",
                aggregated_good="Ammonia",
                activity_level=D("100"),
                direct_emissions_tco2e=D("1000"),
                waste_gas_imported_tj=D("10"),
            ),
        ),
    )
    (process,) = to_see_inputs(template)

    assert process.waste_gas_imported.tco2e() == D("561.0")  # 10 TJ × 56.1, template D_Processes (i)


def test_annex_ii_processes_are_marked_from_the_reference_list():
    import csv

    from tests.conftest import require_shared_data

    path = require_shared_data("cbam_cn8_codes_from_communication_template_v2.1.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        annex_ii = {
            r["cn8"]
            for r in csv.DictReader(handle)
            if r["only_direct_emissions_definitive_period(AnnexII)"] == "yes"
        }
    template = parsed(SCREWS)

    inputs = to_see_inputs(template, annex_ii_cn_codes=annex_ii)
    result = calculate_installation(inputs)

    assert [p.annex_ii for p in inputs] == [True, True]
    assert annex_i_codes() >= {"73181542", "73181535"}
    # Screws count only their own direct emissions; the purchased steel (no CN code in the
    # template, so not known to be an Annex II good) keeps its indirect part (cross-over rule):
    # (3,337.95 + 20,000 × (1.539 + 0.204)) / 17,000.
    assert quantise(obligation_see(result, "P1").see) == D("2.24694")


def test_to_see_inputs_refuses_a_summary_only_workbook():
    summary_only = read_template(export_summary(parsed(CEMENT)))

    with pytest.raises(TemplateError) as excinfo:
        to_see_inputs(summary_only)
    (problem,) = excinfo.value.problems
    assert problem.sheet == "D_Processes"
    assert "no production processes" in problem.message


def test_a_heat_import_without_emission_factor_is_a_problem():
    template = ParsedTemplate(
        summary=SummaryCommunication(),
        processes=(
            ProcessData(
                index=1,
                id="P1",
                name="Clinker kiln",
                aggregated_good="Cement clinker",
                activity_level=D("10"),
                direct_emissions_tco2e=D("8"),
                heat_imported_tj=D("2"),
                cells={"heat_imported_ef": "D_Processes!L58"},
            ),
        ),
    )

    with pytest.raises(TemplateError) as excinfo:
        to_see_inputs(template)
    (problem,) = excinfo.value.problems
    assert problem.cell == "D_Processes!L58"
    assert "without its emission factor" in problem.message
