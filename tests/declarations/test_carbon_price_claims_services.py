"""Carbon price paid abroad ([R956] Art 9): claims on actual-data groups reduce the certificates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.models import CarbonPriceClaim
from declarations.selectors.declarations import declaration_filed_groups
from declarations.services import carbon_prices as claims
from declarations.services import declarations as services
from declarations.services.traces import declaration_group_trace
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

STORED = Decimal("0.000001")
Q2_2026_PRICE = Decimal("75.28")


def evidence(name="certificate.pdf", content=b"%PDF-1.4 certified statement"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def claim_fields(**overrides) -> dict:
    fields = {
        "paid_in_country": "CN",
        "instrument": "China national ETS",
        "price_per_t_co2e": Decimal("60"),
        "currency": "CNY",
        "currency_per_eur": Decimal("8"),
        "rebate_per_t_co2e": Decimal("10"),
        "coverage": "share",
        "share_covered": Decimal("0.5"),
        "certifier_name": "Independent Assurance Ltd",
        "legal_act_reference": "Interim Regulations on the Administration of Carbon Emissions Trading (2024)",
        "payment_reference": "Payment 2026-0042",
    }
    fields.update(overrides)
    return fields


def draft_with_actual_group(personas):
    example_9(personas.organisation)  # 1,000 t unwrought aluminium, actual SEE 1.555 (Annex II: direct)
    actor = Actor(user=personas.preparer)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    return actor, declaration, declaration.groups.get()


def test_a_claim_reduces_the_certificates_by_the_euro_paid_over_the_certificate_price(
    reference_data,  # noqa: F811
    personas,
):
    actor, declaration, group = draft_with_actual_group(personas)
    assert group.certificates == Decimal("167.575") and group.price_eur == Q2_2026_PRICE

    claim = claims.carbon_price_claim_create(
        actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
    )

    # By hand: (60 − 10) CNY ÷ 8 CNY/EUR = 6.25 EUR/tCO2e; covered 50 % × 1,000 t × 1.555 = 777.5 tCO2e;
    # paid 4,859.375 EUR; as certificates at the Q2 2026 price: 4,859.375 ÷ 75.28.
    deduction = Decimal("4859.375") / Q2_2026_PRICE
    group = declaration.groups.get()
    assert group.carbon_price_deduction == deduction.quantize(STORED)
    assert group.certificates == (Decimal("167.575") - deduction).quantize(STORED)
    assert group.cost_eur == ((Decimal("167.575") - deduction) * Q2_2026_PRICE).quantize(STORED)
    declaration.refresh_from_db()
    assert declaration.certificates == group.certificates
    trace = " ".join(f"{s['rule']} {s['description']}" for s in declaration_group_trace(group))
    assert "Art 9(5)" in trace and "not yet adopted" in trace and "Provisional method" in trace
    conversion = next(s for s in declaration_group_trace(group) if "yearly average exchange rate" in s["description"])
    assert conversion["result"] == "6.25"
    covered = next(s for s in declaration_group_trace(group) if s["description"].startswith("Emissions covered"))
    assert covered["result"] == "777.5"
    # The recalculation records the claim as what moved.
    change = declaration.changes.order_by("-at", "-pk").first()
    assert change.trigger == "claim" and "claim" in change.causes
    event = AuditEvent.objects.get(verb="declaration.carbon_price_claimed")
    assert event.after["price_per_t_co2e"] == "60" and event.after["evidence"] == "certificate.pdf"
    assert claim.evidence_name == "certificate.pdf" and claim.is_active


def test_a_quantity_covered_is_capped_at_the_embedded_emissions(reference_data, personas):  # noqa: F811
    actor, declaration, group = draft_with_actual_group(personas)
    claims.carbon_price_claim_create(
        actor=actor,
        declaration=declaration,
        group_id=group.pk,
        evidence=evidence(),
        **claim_fields(coverage="quantity", share_covered=None, covered_t_co2e=Decimal("5000"),
                       currency="EUR", currency_per_eur=None, rebate_per_t_co2e=Decimal("0"),
                       price_per_t_co2e=Decimal("2")),
    )  # fmt: skip
    group = declaration.groups.get()
    # 2 EUR × 1,555 tCO2e (capped) = 3,110 EUR ÷ 75.28
    assert group.carbon_price_deduction == (Decimal("3110") / Q2_2026_PRICE).quantize(STORED)
    assert any("capped" in s["description"] for s in declaration_group_trace(group))


def test_a_claim_is_refused_on_a_default_value_group(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)  # example 8: China HRC, default values
    actor = Actor(user=personas.preparer)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    group = declaration.groups.get()
    with pytest.raises(ValidationError) as excinfo:
        claims.carbon_price_claim_create(
            actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
        )
    assert "default values" in str(excinfo.value) and "Art 9(1)" in str(excinfo.value)
    assert not CarbonPriceClaim.objects.exists()


def test_bad_claim_input_is_named_by_field_and_nothing_is_saved(reference_data, personas):  # noqa: F811
    actor, declaration, group = draft_with_actual_group(personas)
    with pytest.raises(ValidationError) as excinfo:
        claims.carbon_price_claim_create(
            actor=actor,
            declaration=declaration,
            group_id=group.pk,
            evidence=evidence(content=b"not a pdf"),
            **claim_fields(
                paid_in_country="DE", currency="yuan", rebate_per_t_co2e=Decimal("70"), share_covered=Decimal("1.5"),
                certifier_name=" ",
            ),
        )  # fmt: skip
    errors = excinfo.value.message_dict
    assert {
        "paid_in_country",
        "currency",
        "rebate_per_t_co2e",
        "share_covered",
        "certifier_name",
        "evidence",
    } <= set(errors)
    assert "EU member state" in errors["paid_in_country"][0]
    assert not CarbonPriceClaim.objects.exists()
    assert declaration.groups.get().carbon_price_deduction == 0


def test_a_claim_survives_recalculation_and_is_kept_but_not_applied_on_default_values(
    reference_data,  # noqa: F811
    personas,
):
    actor, declaration, group = draft_with_actual_group(personas)
    claims.carbon_price_claim_create(
        actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
    )
    services.declaration_compute(actor=actor, declaration=declaration)
    assert declaration.groups.get().carbon_price_deduction > 0

    group = declaration.groups.get()
    services.declaration_group_override(
        actor=actor, declaration=declaration, group_id=group.pk, source="default", reason="Report disputed"
    )
    group = declaration.groups.get()
    assert group.column == "B" and group.carbon_price_deduction == 0 and group.error == ""
    assert any(
        "not applied" in s["description"] and "default values" in s["description"] for s in declaration_group_trace(group)
    )
    assert CarbonPriceClaim.objects.get().is_active

    services.declaration_group_override(
        actor=actor, declaration=declaration, group_id=group.pk, source="", reason=""
    )
    assert declaration.groups.get().carbon_price_deduction > 0


def test_a_withdrawn_claim_stops_applying_and_is_audited(reference_data, personas):  # noqa: F811
    actor, declaration, group = draft_with_actual_group(personas)
    claim = claims.carbon_price_claim_create(
        actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
    )
    group = declaration.groups.get()  # the recalculation wrote the group again
    with pytest.raises(ValidationError, match="already has a carbon price claim"):
        claims.carbon_price_claim_create(
            actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
        )
    claims.carbon_price_claim_withdraw(
        actor=actor, declaration=declaration, claim_id=claim.pk, reason="Wrong rate"
    )
    group = declaration.groups.get()
    assert group.carbon_price_deduction == 0 and group.certificates == Decimal("167.575")
    claim.refresh_from_db()
    assert claim.withdrawn_at is not None and claim.withdrawal_reason == "Wrong rate"
    assert AuditEvent.objects.filter(verb="declaration.carbon_price_claim_withdrawn").count() == 1


def test_claims_are_frozen_and_part_of_the_filed_snapshot(reference_data, personas):  # noqa: F811
    actor, declaration, group = draft_with_actual_group(personas)
    claim = claims.carbon_price_claim_create(
        actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
    )
    services.declaration_submit_for_review(actor=actor, declaration=declaration)
    reviewer = Actor(user=personas.reviewer)
    services.declaration_approve(actor=reviewer, declaration=declaration)
    declaration = services.declaration_file(actor=reviewer, declaration=declaration)
    (snap,) = declaration.snapshot["carbon_price_claims"]
    assert snap["id"] == claim.pk and snap["price_per_t_co2e"] == "60" and snap["withdrawn_at"] is None
    (group_snap,) = declaration_filed_groups(declaration)
    assert Decimal(group_snap["carbon_price_deduction"]) > 0

    with pytest.raises(ValidationError, match="filed"):
        claims.carbon_price_claim_create(
            actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
        )
    with pytest.raises(ValidationError, match="filed"):
        claims.carbon_price_claim_withdraw(actor=actor, declaration=declaration, claim_id=claim.pk)

    # The amendment starts with the claim and the same deduction.
    amendment = services.declaration_amend(actor=actor, declaration=declaration)
    copied = amendment.carbon_price_claims.get()
    assert copied.evidence.name == claim.evidence.name
    assert amendment.groups.get().carbon_price_deduction == group_snap_deduction(declaration)


def group_snap_deduction(declaration) -> Decimal:
    return Decimal(declaration_filed_groups(declaration)[0]["carbon_price_deduction"])


def test_a_claim_without_a_published_price_is_kept_but_not_applied(reference_data, personas):  # noqa: F811
    from declarations.models import CarbonPriceClaim as Claim

    actor, declaration, group = draft_with_actual_group(personas)
    claim = claims.carbon_price_claim_create(
        actor=actor, declaration=declaration, group_id=group.pk, evidence=evidence(), **claim_fields()
    )
    # A 2027 group would have no price yet: apply the claim directly to an assessment without one.
    from declarations.assessment import AssessmentInput, assess_good

    data = AssessmentInput(cn="76011010", country="CN", mass=Decimal(1000), year=2026, quarter=None,
                           see_direct=Decimal("1.555"), see_indirect=Decimal("2.1"), route="K")  # fmt: skip
    assessment = assess_good(data)
    assert assessment.certificate_price_eur is None
    same, steps = claims.carbon_price_claim_apply(
        claim=Claim.objects.get(pk=claim.pk), data=data, assessment=assessment, use="actual"
    )
    assert same is assessment and "not applied yet" in steps[0]["description"]
    assert dt.date  # keep the import used by the helpers


def test_from_2027_a_quantity_covered_is_shared_among_the_weekly_groups_by_quantity(
    reference_data,  # noqa: F811
    personas,
):
    actor, declaration, group = draft_with_actual_group(personas)
    claim = claims.carbon_price_claim_create(
        actor=actor,
        declaration=declaration,
        group_id=group.pk,
        evidence=evidence(),
        **claim_fields(coverage="quantity", share_covered=None, covered_t_co2e=Decimal("100")),
    )
    week = {"cn_code": "76011010", "country": "CN", "installation_id": group.installation_id, "quarter": 2}
    zero = Decimal(0)
    groups = [
        services.LineGroup(**week, mass_tonnes=Decimal(m), functional_quantity=zero, returned_tonnes=zero,
                           returned_functional=zero, lines=1, price_period_start=dt.date(2027, 4, d))
        for m, d in (("300", 5), ("700", 12))
    ]  # fmt: skip
    parts = claims.carbon_price_claims_for_groups(declaration=declaration, groups=groups)
    assert [parts[g.group_key].fraction for g in groups] == [Decimal("0.3"), Decimal("0.7")]
    assert all(parts[g.group_key].claim == claim for g in groups)
    per_tonne, steps = claims.claim_eur_per_tonne(
        claim, embedded_t_co2e=Decimal("466.5"), quantity=Decimal("300"), fraction=Decimal("0.3")
    )
    # 30 tCO2e of the 100 covered × 6.25 EUR ÷ 300 t
    assert steps[1].result == Decimal("30.0") and per_tonne == Decimal("0.625")
