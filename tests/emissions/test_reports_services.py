import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cbam_portal.core.models import AuditEvent
from emissions.models import (
    CarbonPriceDue,
    EmissionsReport,
    GoodResult,
    InternalPrecursor,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
    ReportStatus,
)
from emissions.see import calculate_installation, quantise
from emissions.services import reports as services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% verification report\n"


def see5(value):
    return quantise(value)


def result_of(report, cn):
    return GoodResult.objects.get(report=report, cn_code=cn)


def verify(report, actor, **overrides):
    fields = {
        "verifier_name": "Verified Ltd",
        "verifier_accreditation_number": "ACC-123",
        "verification_date": timezone.localdate(),
        "verification_report": SimpleUploadedFile("verification.pdf", PDF, content_type="application/pdf"),
    }
    fields.update(overrides)
    return services.report_verify(actor=actor, report=report, **fields)


# --- example 3 through the services ---------------------------------------------------------


def test_example_3_eaf_goods_get_the_commission_see(example3):
    crude = result_of(example3.report, "72189911")

    assert see5(crude.see_direct) == D("1.00149")
    assert see5(crude.see_indirect) == D("1.37842")
    assert see5(crude.see_total) == D("2.37991")
    assert see5(crude.default_share) == D("0.03521")
    assert crude.annex_ii is True
    # Annex II: only direct emissions count for the obligation
    assert see5(crude.see_obligation) == D("1.00149")


def test_example_3_rolling_mill_goods_take_the_eaf_see_as_internal_precursor(example3):
    for cn in ("73041100", "72191310", "72210010"):
        good = result_of(example3.report, cn)
        assert see5(good.see_direct) == D("1.43961")
        assert see5(good.see_indirect) == D("1.73148")
        assert see5(good.see_total) == D("3.17109")
        assert good.process == example3.rolling


def test_each_good_stores_the_specific_mass_of_its_precursors_for_the_declarants_sefa(example3):
    rolled = result_of(example3.report, "72191310")
    (crude,) = rolled.precursors
    assert crude["source"] == "internal"
    assert crude["cn_code"] == "72189911"
    assert D(crude["mass_per_unit"]).quantize(D("1e-12")) == (D("1227000") / D("1133000")).quantize(D("1e-12"))
    alloys = crude["precursors"]
    assert len(alloys) == 4
    assert [a["is_default"] for a in alloys].count(True) == 1
    assert all(a["source"] == "purchased" for a in alloys)
    # The crude steel itself is made from purchased precursors only.
    assert len(result_of(example3.report, "72189911").precursors) == 4


def test_the_trace_explains_each_step_with_rules_and_decimal_strings(example3):
    trace = result_of(example3.report, "73041100").trace

    rules = [step["rule"] for step in trace]
    assert any("Annex III B" in rule for rule in rules)
    internal = [s for s in trace if "goods of process P1" in s["description"]]
    assert internal and internal[0]["inputs"]["M_i"] == "1227000.000000"
    assert all(isinstance(step["result"], str) for step in trace)


def test_report_see_inputs_maps_rows_to_the_engine_in_a_bounded_number_of_queries(
    example3, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        inputs = services.report_see_inputs(example3.report)

    result = calculate_installation(inputs)
    assert see5(result["P2"].see_total) == D("3.17109")
    assert result["P1"].annex_ii


def test_results_are_recomputed_after_every_edit(example3, actor):
    services.process_save(
        actor=actor, report=example3.report, process=example3.rolling, activity_level=D("1227000")
    )

    good = result_of(example3.report, "73041100")
    assert good.see_direct < D("1.43961")


# --- not available --------------------------------------------------------------------------


def test_a_value_not_available_counts_as_zero_and_is_explained(example3, actor):
    services.process_save(
        actor=actor,
        report=example3.report,
        process=example3.rolling,
        electricity_consumed_mwh=D("324660"),
        not_available={"electricity_consumed_mwh": "the supplier has no sub-meter"},
    )

    rolling = ProductionProcess.objects.get(pk=example3.rolling.pk)
    assert rolling.electricity_consumed_mwh == 0
    assert rolling.not_available == {"electricity_consumed_mwh": "the supplier has no sub-meter"}
    good = result_of(example3.report, "73041100")
    assert see5(good.see_indirect) == see5(D("1227000") * D("1.3784244") / D("1133000"))
    assert "not available: the supplier has no sub-meter" in good.trace[0]["description"]


def test_not_available_needs_a_reason_and_a_known_field(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.process_save(
            actor=actor,
            report=example3.report,
            process=example3.rolling,
            not_available={"heat_imported_tj": " "},
        )
    assert "heat_imported_tj" in exc.value.message_dict

    with pytest.raises(ValidationError) as exc:
        services.process_save(
            actor=actor,
            report=example3.report,
            process=example3.rolling,
            not_available={"activity_level": "n/a"},
        )
    assert "not_available" in exc.value.message_dict


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("activity_level", D("0")),
        ("direct_emissions_t_co2e", D("-1")),
        ("electricity_ef_t_co2_per_mwh", D("833")),
        ("heat_imported_tj", D("1.1234567")),
    ],
)
def test_bad_process_values_are_refused_naming_the_field(example3, actor, field, value):
    with pytest.raises(ValidationError) as exc:
        services.process_save(actor=actor, report=example3.report, process=example3.rolling, **{field: value})

    assert field in exc.value.message_dict
    assert ProductionProcess.objects.get(pk=example3.rolling.pk).activity_level == D("1133000")


def test_process_keys_are_unique_within_a_report(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.process_save(
            actor=actor,
            report=example3.report,
            key="P1",
            name="x",
            aggregated_category="x",
            activity_level=D("1"),
        )

    assert "key" in exc.value.message_dict


def test_goods_outside_annex_i_are_refused(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.good_save(actor=actor, process=example3.eaf, cn_code="8471 30 00")

    assert "not a CBAM good" in exc.value.message_dict["cn_code"][0]
    with pytest.raises(ValidationError) as exc:
        services.good_save(actor=actor, process=example3.eaf, cn_code="72A8")
    assert "cn_code" in exc.value.message_dict


def test_qualifying_parameters_must_belong_to_the_sector(example3, actor):
    good = services.good_save(
        actor=actor,
        process=example3.eaf,
        cn_code="72189919",
        qualifying_parameters={"cr_pct": "18", "ni_pct": "8,5", "main_reducing_agent": "none", "mn_pct": ""},
    )
    assert good.qualifying_parameters == {"cr_pct": "18", "ni_pct": "8.5", "main_reducing_agent": "none"}

    with pytest.raises(ValidationError) as exc:
        services.good_save(
            actor=actor,
            process=example3.eaf,
            cn_code="72189919",
            good=good,
            qualifying_parameters={"clinker_factor": "0.9"},
        )
    assert "clinker_factor" in exc.value.message_dict["qualifying_parameters"][0]

    with pytest.raises(ValidationError) as exc:
        services.good_save(
            actor=actor,
            process=example3.eaf,
            cn_code="72189919",
            good=good,
            qualifying_parameters={"cr_pct": "180"},
        )
    assert "out of range" in exc.value.message_dict["qualifying_parameters"][0]


def test_internal_precursors_cannot_form_a_cycle(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.internal_precursor_save(
            actor=actor, process=example3.eaf, source_process=example3.rolling, quantity=D("1")
        )

    assert "cycle" in exc.value.message_dict["source_process"][0]
    assert (
        "P1 → P2 → P1" in exc.value.message_dict["source_process"][0]
        or "P2 → P1" in exc.value.message_dict["source_process"][0]
    )
    assert InternalPrecursor.objects.count() == 1


def test_a_process_cannot_use_its_own_goods(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.internal_precursor_save(
            actor=actor, process=example3.eaf, source_process=example3.eaf, quantity=D("1")
        )

    assert "source_process" in exc.value.message_dict


# --- default values -------------------------------------------------------------------------


def test_fill_default_values_uses_the_countrys_values_with_the_years_mark_up(example3, actor):
    precursor = PurchasedPrecursor.objects.get(process=example3.eaf, name__startswith="FeCr")

    services.purchased_precursor_save(
        actor=actor, process=example3.eaf, precursor=precursor, country="CN", fill_defaults=True
    )

    precursor.refresh_from_db()
    # China 7202 41: 2.5 direct + 2 indirect = 4.5, 2026 incl. mark-up 4.95 (×1.1)
    assert precursor.see_direct == D("2.75")
    assert precursor.see_indirect == D("2.2")
    assert precursor.is_default
    assert see5(result_of(example3.report, "72189911").default_share) > D("0.03521")


def test_fill_default_values_falls_back_to_other_countries_and_the_highest_value(example3, actor):
    precursor = PurchasedPrecursor.objects.get(process=example3.eaf, name__startswith="FeCr")

    values = services.precursor_default_values(cn_code="72024110", country="TR", year=2027)
    assert values["see_direct"] == D("3.6")  # 3 × 6/5
    assert "Other countries" in values["source"]

    services.purchased_precursor_save(
        actor=actor, process=example3.eaf, precursor=precursor, country="", fill_defaults=True
    )
    precursor.refresh_from_db()
    assert precursor.see_direct == D("6.6")
    assert precursor.see_indirect == 0


def test_fill_default_values_without_a_cn_code_names_the_field(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.purchased_precursor_save(
            actor=actor, process=example3.eaf, name="Unknown", quantity=D("1"), fill_defaults=True
        )

    assert "cn_code" in exc.value.message_dict


# --- lifecycle ------------------------------------------------------------------------------


def test_submitting_needs_a_process_with_goods(installation, actor):
    report = services.report_create(actor=actor, installation=installation, year=2026)

    with pytest.raises(ValidationError):
        services.report_submit(actor=actor, report=report)

    services.process_save(
        actor=actor,
        report=report,
        key="P1",
        name="EAF",
        aggregated_category="Crude steel",
        activity_level=D("10"),
    )
    with pytest.raises(ValidationError) as exc:
        services.report_submit(actor=actor, report=report)
    assert "P1" in exc.value.messages[0]


def test_only_one_report_per_installation_and_year(installation, actor):
    services.report_create(actor=actor, installation=installation, year=2026)

    with pytest.raises(ValidationError) as exc:
        services.report_create(actor=actor, installation=installation, year=2026)

    assert "year" in exc.value.message_dict


def test_a_submitted_report_refuses_every_edit_service(example3, actor):
    report = services.report_submit(actor=actor, report=example3.report)
    assert report.status == ReportStatus.SUBMITTED
    good = ProcessGood.objects.filter(process=example3.eaf).first()
    precursor = PurchasedPrecursor.objects.filter(process=example3.eaf).first()
    internal = InternalPrecursor.objects.get()
    price = CarbonPriceDue(
        report=report, instrument="tax", amount_per_t=D("1"), currency="USD", share_covered=D("1")
    )
    price.save()

    attempts = [
        lambda: services.process_save(actor=actor, report=report, process=example3.eaf, name="changed"),
        lambda: services.process_save(
            actor=actor, report=report, key="P9", name="new", aggregated_category="x", activity_level=D("1")
        ),
        lambda: services.process_delete(actor=actor, process=example3.eaf),
        lambda: services.good_save(actor=actor, process=example3.eaf, cn_code="72189919"),
        lambda: services.good_delete(actor=actor, good=good),
        lambda: services.purchased_precursor_save(
            actor=actor, process=example3.eaf, precursor=precursor, quantity=D("2")
        ),
        lambda: services.purchased_precursor_delete(actor=actor, precursor=precursor),
        lambda: services.internal_precursor_save(
            actor=actor,
            process=example3.rolling,
            precursor=internal,
            source_process=example3.eaf,
            quantity=D("5"),
        ),
        lambda: services.internal_precursor_delete(actor=actor, precursor=internal),
        lambda: services.carbon_price_save(
            actor=actor,
            report=report,
            instrument="ETS",
            amount_per_t=D("1"),
            currency="USD",
            share_covered=D("1"),
        ),
        lambda: services.carbon_price_delete(actor=actor, carbon_price=price),
        lambda: services.report_submit(actor=actor, report=report),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert "can no longer be changed" in exc.value.messages[0]
    assert ProductionProcess.objects.get(pk=example3.eaf.pk).name == "EAF incl. continuous casting"
    assert ProcessGood.objects.filter(process__report=report).count() == 4


def test_verification_attaches_the_verifier_and_the_report_file(example3, actor):
    report = services.report_submit(actor=actor, report=example3.report)

    report = verify(report, actor)

    assert report.status == ReportStatus.VERIFIED
    assert report.verification_report_name == "verification.pdf"
    assert report.verification_report.read() == PDF
    assert AuditEvent.objects.filter(verb="emissions_report.verified").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"verifier_name": ""}, "verifier_name"),
        ({"verification_date": dt.date(2099, 1, 1)}, "verification_date"),
        ({"verification_report": SimpleUploadedFile("v.exe", b"MZ")}, "verification_report"),
        ({"verification_report": SimpleUploadedFile("v.pdf", b"not a pdf")}, "verification_report"),
        ({"verification_report": None}, "verification_report"),
    ],
)
def test_bad_verification_input_is_refused(example3, actor, overrides, field):
    report = services.report_submit(actor=actor, report=example3.report)

    with pytest.raises(ValidationError) as exc:
        verify(report, actor, **overrides)

    assert field in exc.value.message_dict
    assert EmissionsReport.objects.get(pk=report.pk).status == ReportStatus.SUBMITTED


def test_a_draft_cannot_be_verified(example3, actor):
    with pytest.raises(ValidationError):
        verify(example3.report, actor)


def test_a_correction_copies_every_row_and_supersedes_on_submit(example3, actor):
    services.carbon_price_save(
        actor=actor,
        report=example3.report,
        instrument="Carbon tax",
        legal_act="State act 1",
        cn_codes=["72189911"],
        amount_per_t=D("12.5"),
        currency="usd",
        share_covered=D("0.4"),
    )
    v1 = verify(services.report_submit(actor=actor, report=example3.report), actor)

    v2 = services.report_correct(actor=actor, report=v1)

    assert (v2.version, v2.status, v2.supersedes_id) == (2, ReportStatus.DRAFT, v1.pk)
    assert list(v2.processes.values_list("key", flat=True)) == ["P1", "P2"]
    assert ProcessGood.objects.filter(process__report=v2).count() == 4
    assert PurchasedPrecursor.objects.filter(process__report=v2).count() == 4
    link = InternalPrecursor.objects.get(process__report=v2)
    assert link.source_process.report_id == v2.pk and link.source_process.key == "P1"
    assert CarbonPriceDue.objects.get(report=v2).currency == "USD"
    assert see5(result_of(v2, "73041100").see_total) == D("3.17109")
    assert EmissionsReport.objects.get(pk=v1.pk).status == ReportStatus.VERIFIED

    with pytest.raises(ValidationError):
        services.report_correct(actor=actor, report=v1)

    services.report_submit(actor=actor, report=v2)

    assert EmissionsReport.objects.get(pk=v1.pk).status == ReportStatus.SUPERSEDED
    assert EmissionsReport.objects.get(pk=v2.pk).status == ReportStatus.SUBMITTED
    # the old version's rows are untouched
    assert ProcessGood.objects.filter(process__report=v1).count() == 4
    with pytest.raises(ValidationError):
        services.report_correct(actor=actor, report=v1)


def test_a_draft_cannot_be_corrected(example3, actor):
    with pytest.raises(ValidationError):
        services.report_correct(actor=actor, report=example3.report)


def test_a_computation_error_is_kept_on_the_report_and_raised(example3, actor):
    ProductionProcess.objects.filter(pk=example3.rolling.pk).update(activity_level=0)

    with pytest.raises(ValidationError) as exc:
        services.report_compute(report=example3.report)

    assert "activity level" in exc.value.messages[0]
    assert "activity level" in EmissionsReport.objects.get(pk=example3.report.pk).computation_error
    assert not GoodResult.objects.filter(report=example3.report).exists()


def test_carbon_price_due_is_validated(example3, actor):
    with pytest.raises(ValidationError) as exc:
        services.carbon_price_save(
            actor=actor,
            report=example3.report,
            instrument="Tax",
            amount_per_t=D("-1"),
            currency="XXY",
            share_covered=D("1.5"),
            cn_codes=["84713000"],
        )

    errors = exc.value.message_dict
    assert {"amount_per_t", "currency", "share_covered", "cn_codes"} <= set(errors)
    assert not CarbonPriceDue.objects.exists()


def test_every_edit_writes_an_audit_event(example3):
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))

    assert {
        "emissions_report.created",
        "emissions_process.created",
        "emissions_good.created",
        "emissions_precursor.created",
        "emissions_internal_precursor.created",
    } <= verbs


def test_the_templates_own_see_survives_a_recomputation(example3, actor):
    GoodResult.objects.filter(report=example3.report, cn_code="72189911").update(
        template_see_direct=D("1.00149"), template_see_indirect=D("1.37842"), template_see_total=D("2.37991")
    )

    services.process_save(actor=actor, report=example3.report, process=example3.eaf, name="EAF renamed")

    crude = result_of(example3.report, "72189911")
    assert crude.template_see_total == D("2.37991")
    assert see5(crude.see_total) == D("2.37991")


def test_factories_keep_one_tenant_and_compute(annex_i):
    from .factories import GoodFactory, PurchasedPrecursorFactory

    good = GoodFactory()
    PurchasedPrecursorFactory(process=good.process)
    report = good.process.report

    assert report.organisation == report.installation.organisation
    services.report_compute(report=report)
    # (1500 + 10 × 2) / 1000 direct, (400 × 0.5 + 10 × 1) / 1000 indirect
    assert see5(result_of(report, "72189911").see_total) == D("1.73000")
