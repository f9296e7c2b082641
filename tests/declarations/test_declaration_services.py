"""Annual declaration: drafting, computing (worked examples 8 and 9), overrides and the four-eyes workflow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.assessment import AssessmentInput, assess_good
from declarations.models import DeclarationStatus, ImportLine, Procedure
from declarations.selectors.declarations import declaration_filed_groups
from declarations.services import declarations as services
from declarations.services.traces import declaration_group_trace
from emissions.models import GoodResult, ReportStatus, SharingGrant
from emissions.see import EUR_PLACES, quantise
from tests.emissions.factories import InstallationFactory, ProcessFactory
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db


def add_line(organisation, *, cn="72081000", country="CN", mass="100", day=dt.date(2026, 2, 10), **extra):
    n = ImportLine.objects.filter(organisation=organisation).count() + 1
    return ImportLine.objects.create(
        organisation=organisation,
        mrn=f"26DE{n:014d}",
        line_no=1,
        released_on=day,
        cn_code=cn,
        origin_country=country,
        net_mass_tonnes=Decimal(mass),
        **extra,
    )


def shared_installation(
    declarant, *, cn="76011010", see_direct="1.555", route="K", status=ReportStatus.SUBMITTED
):
    """An installation whose submitted 2026 report gives ``see_direct`` for ``cn``, shared with ``declarant``."""
    installation = InstallationFactory(country="CN")
    process = ProcessFactory(
        report__installation=installation,
        report__status=status,
        route=route,
        aggregated_category="Unwrought aluminium",
    )
    GoodResult.objects.create(
        report=process.report,
        process=process,
        cn_code=cn,
        see_direct=Decimal(see_direct),
        see_indirect=Decimal("2.1"),
        see_total=Decimal(see_direct) + Decimal("2.1"),
        annex_ii=True,
    )
    grant = SharingGrant.objects.create(
        organisation=installation.organisation, installation=installation, declarant=declarant
    )
    return installation, grant


def example_9(organisation):
    installation, grant = shared_installation(organisation)
    add_line(organisation, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation)
    return installation, grant


def owner_actor(personas):
    return Actor(user=personas.owner)


def test_example_8_default_values_give_the_same_numbers_as_the_assessment(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    (group,) = declaration.groups.all()
    expected = assess_good(
        AssessmentInput(cn="72081000", country="CN", mass=Decimal(100), year=2026, quarter=1)
    )
    assert group.source == "default" and group.column == "B" and group.route == expected.route
    assert group.quarter == 1 and group.mass_tonnes == 100
    assert group.see_used == expected.result.see_used
    assert group.embedded_t_co2e == expected.result.embedded_tco2e
    assert group.benchmark == expected.benchmark == Decimal("1.370")
    assert group.sefa == expected.result.sefa
    assert group.faa == expected.result.faa_tco2e
    assert group.certificates == expected.result.certificates
    assert group.price_eur == expected.certificate_price_eur
    assert quantise(group.cost_eur, EUR_PLACES) == expected.cost_eur
    assert declaration.certificates == group.certificates
    assert declaration.computation_error == ""
    # The "why": rules, inputs and dataset versions are kept with the group.
    rules = " ".join(step["rule"] for step in declaration_group_trace(group))
    assert "[IR2620] Annex Eq. 6" in rules and "[IR2621] Annex I" in rules
    assert {"default_values", "benchmarks"} <= set(group.datasets)


def test_example_9_actual_values_from_a_shared_submitted_report(reference_data, personas):  # noqa: F811
    installation, _ = example_9(personas.organisation)
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    (group,) = declaration.groups.all()
    assert group.source == "actual" and group.report is not None
    assert group.installation == installation and group.quarter == 2
    assert group.column == "A" and group.benchmark == Decimal("1.423")
    assert group.see_used == Decimal("1.555")  # Annex II: direct only
    assert group.sefa == Decimal("1.387425")
    assert group.certificates == Decimal("167.575")
    assert quantise(group.cost_eur, EUR_PLACES) == Decimal("12615.05")
    assert quantise(declaration.cost_eur, EUR_PLACES) == Decimal("12615.05")


def test_a_revoked_grant_or_a_draft_report_means_default_values(reference_data, personas):  # noqa: F811
    _, grant = example_9(personas.organisation)
    grant.revoked_at = timezone.now()
    grant.save()
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    (group,) = declaration.groups.all()
    assert group.source == "default" and group.column == "B" and group.report is None


def test_certificates_are_floored_per_group_without_offset(reference_data, personas):  # noqa: F811
    installation, _ = shared_installation(personas.organisation, see_direct="1.30")
    add_line(
        personas.organisation, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation
    )
    add_line(personas.organisation)  # example 8: 100 t China HRC by default
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    aluminium = declaration.groups.get(cn_code="76011010")
    steel = declaration.groups.get(cn_code="72081000")
    assert aluminium.certificates == 0 and aluminium.cost_eur == 0
    assert aluminium.embedded_t_co2e < aluminium.faa
    assert steel.certificates > 0
    assert declaration.certificates == steel.certificates


def test_lines_are_grouped_by_cn_country_installation_and_quarter(reference_data, personas):  # noqa: F811
    org = personas.organisation
    add_line(org, mass="60")
    add_line(org, mass="40", day=dt.date(2026, 3, 31))
    add_line(org, mass="10", day=dt.date(2026, 4, 1))
    add_line(org, mass="5", country="IN", production_country="CN")  # produced in China
    add_line(org, mass="7", in_scope=False)
    add_line(org, mass="9", day=dt.date(2025, 12, 31))
    groups = services.line_groups(organisation=org, year=2026)
    assert [(g.cn_code, g.country, g.quarter, g.mass_tonnes, g.lines) for g in groups] == [
        ("72081000", "CN", 1, Decimal("105"), 3),
        ("72081000", "CN", 2, Decimal("10"), 1),
    ]


def test_returned_goods_count_in_quantity_with_zero_emissions(reference_data, personas):  # noqa: F811
    add_line(personas.organisation, procedure=Procedure.RETURNED_GOODS)
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    (group,) = declaration.groups.all()
    assert group.mass_tonnes == 100 and group.returned_tonnes == 100
    assert group.embedded_t_co2e == 0 and group.certificates == 0
    assert "Art 6(5)" in declaration_group_trace(group)[0]["rule"]


def test_override_to_default_values_needs_a_justification_and_is_audited(reference_data, personas):  # noqa: F811
    example_9(personas.organisation)
    actor = owner_actor(personas)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    group = declaration.groups.get()
    with pytest.raises(ValidationError) as excinfo:
        services.declaration_group_override(
            actor=actor, declaration=declaration, group_id=group.pk, source="default", reason=" "
        )
    assert "justification" in str(excinfo.value)
    assert declaration.groups.get().override_source == ""
    group = services.declaration_group_override(
        actor=actor,
        declaration=declaration,
        group_id=group.pk,
        source="default",
        reason="Report under dispute",
    )
    assert group.source == "actual" and group.effective_source == "default"
    assert group.column == "B" and group.override_reason == "Report under dispute"
    event = AuditEvent.objects.get(verb="declaration.source_overridden")
    assert event.after["override_reason"] == "Report under dispute"
    # The override survives a recomputation.
    services.declaration_compute(actor=actor, declaration=declaration)
    assert declaration.groups.get().effective_source == "default"


def test_actual_data_cannot_be_chosen_without_a_shared_report(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)
    actor = owner_actor(personas)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    with pytest.raises(ValidationError, match="No shared"):
        services.declaration_group_override(
            actor=actor,
            declaration=declaration,
            group_id=declaration.groups.get().pk,
            source="actual",
            reason="x",
        )


def test_only_one_open_declaration_per_year(reference_data, personas):  # noqa: F811
    actor = owner_actor(personas)
    services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    with pytest.raises(ValidationError, match="already exists"):
        services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)


def _to_review(personas):
    add_line(personas.organisation)
    preparer = Actor(user=personas.preparer)
    declaration = services.declaration_create(actor=preparer, organisation=personas.organisation, year=2026)
    return services.declaration_submit_for_review(actor=preparer, declaration=declaration)


def test_the_preparer_cannot_approve_their_own_declaration(reference_data, personas):  # noqa: F811
    declaration = _to_review(personas)
    with pytest.raises(ValidationError, match="Four eyes"):
        services.declaration_approve(actor=Actor(user=personas.preparer), declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.IN_REVIEW


def test_whoever_submitted_for_review_cannot_approve(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)
    declaration = services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )
    services.declaration_submit_for_review(actor=Actor(user=personas.owner), declaration=declaration)
    with pytest.raises(ValidationError, match="Four eyes"):
        services.declaration_approve(actor=Actor(user=personas.owner), declaration=declaration)


def test_a_reviewer_approves_then_it_is_filed_and_frozen(reference_data, personas):  # noqa: F811
    declaration = _to_review(personas)
    reviewer = Actor(user=personas.reviewer)
    declaration = services.declaration_approve(actor=reviewer, declaration=declaration)
    assert declaration.status == DeclarationStatus.APPROVED and declaration.approved_by == personas.reviewer
    with pytest.raises(ValidationError):
        services.declaration_compute(actor=reviewer, declaration=declaration)
    declaration = services.declaration_file(actor=reviewer, declaration=declaration)
    assert declaration.status == DeclarationStatus.FILED
    assert declaration.snapshot["import_lines"]["count"] == 1
    assert declaration_filed_groups(declaration)[0]["certificates"] == str(declaration.certificates.normalize())
    assert declaration.snapshot["datasets"]["default_values"]["version"]
    # The groups as filed are rows of their own, with their traces; the snapshot counts them.
    assert "groups" not in declaration.snapshot and declaration.snapshot["group_count"] == 1
    (filed,) = declaration_filed_groups(declaration)
    assert filed["trace"] == declaration.groups.get().trace and filed["trace"]
    with pytest.raises(ValidationError):
        services.declaration_group_override(
            actor=reviewer,
            declaration=declaration,
            group_id=declaration.groups.get().pk,
            source="default",
            reason="x",
        )


def test_returning_to_draft_needs_a_reason_and_adds_a_comment(reference_data, personas):  # noqa: F811
    declaration = _to_review(personas)
    reviewer = Actor(user=personas.reviewer)
    with pytest.raises(ValidationError):
        services.declaration_return_to_draft(actor=reviewer, declaration=declaration, reason="")
    declaration = services.declaration_return_to_draft(
        actor=reviewer, declaration=declaration, reason="Check Q1 lines"
    )
    assert declaration.status == DeclarationStatus.DRAFT
    assert declaration.comments.get().text == "Check Q1 lines"


def test_revoking_the_grant_after_filing_does_not_change_the_filed_numbers(reference_data, personas):  # noqa: F811
    _, grant = example_9(personas.organisation)
    preparer, reviewer = Actor(user=personas.preparer), Actor(user=personas.reviewer)
    declaration = services.declaration_create(actor=preparer, organisation=personas.organisation, year=2026)
    services.declaration_submit_for_review(actor=preparer, declaration=declaration)
    services.declaration_approve(actor=reviewer, declaration=declaration)
    declaration = services.declaration_file(actor=reviewer, declaration=declaration)
    snapshot, filed = declaration.snapshot, declaration_filed_groups(declaration)
    grant.revoked_at = timezone.now()
    grant.save()
    with pytest.raises(ValidationError):
        services.declaration_compute(actor=preparer, declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.snapshot == snapshot and declaration_filed_groups(declaration) == filed
    assert declaration.certificates == Decimal("167.575")
    assert declaration.groups.get().source == "actual"
    assert snapshot["reports"][0]["results"][0]["see_direct"] == "1.555"
    # Amending opens version 2 computed from today's inputs; version 1 stays as filed.
    amendment = services.declaration_amend(actor=preparer, declaration=declaration)
    assert amendment.version == 2 and amendment.supersedes_id == declaration.pk
    assert amendment.groups.get().source == "default"
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.AMENDED and declaration.certificates == Decimal("167.575")


def test_comments_need_text(reference_data, personas):  # noqa: F811
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    with pytest.raises(ValidationError):
        services.declaration_comment_add(actor=owner_actor(personas), declaration=declaration, text="  ")
    comment = services.declaration_comment_add(
        actor=owner_actor(personas), declaration=declaration, text="Looks right"
    )
    assert comment.author == personas.owner


def test_changed_inputs_recompute_drafts_in_a_background_job(
    reference_data,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    actor = owner_actor(personas)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    assert declaration.certificates == 0
    add_line(personas.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        (job,) = services.declarations_inputs_changed(actor=actor, organisation=personas.organisation)
    job.refresh_from_db()
    assert job.status == "done", job.error
    declaration.refresh_from_db()
    assert declaration.certificates > 0 and declaration.groups.count() == 1


def test_a_group_that_cannot_be_calculated_is_named_and_blocks_review(reference_data, personas):  # noqa: F811
    add_line(personas.organisation, country="ZZ")
    actor = owner_actor(personas)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    assert "72081000 ZZ Q1: country:" in declaration.computation_error
    assert declaration.groups.get().error
    with pytest.raises(ValidationError, match="could not be calculated"):
        services.declaration_submit_for_review(actor=actor, declaration=declaration)


def test_a_reported_carbon_price_is_shown_in_the_trace_but_not_deducted(reference_data, personas):  # noqa: F811
    from emissions.models import CarbonPriceDue

    installation, _ = example_9(personas.organisation)
    report = installation.reports.get()
    CarbonPriceDue.objects.create(
        report=report,
        instrument="ETS",
        amount_per_t=Decimal("10"),
        currency="CNY",
        share_covered=Decimal("1"),
    )
    declaration = services.declaration_create(
        actor=owner_actor(personas), organisation=personas.organisation, year=2026
    )
    group = declaration.groups.get()
    assert group.carbon_price_deduction == 0 and group.certificates == Decimal("167.575")
    step = next(s for s in declaration_group_trace(group) if "Art 9(1)–(3)" in s["rule"])
    assert "ETS: 10 CNY/tCO2e" in step["inputs"]["price 1"]


def test_recording_an_import_line_recomputes_the_draft_once_committed(
    reference_data,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    from declarations.services.imports import import_line_create

    actor = owner_actor(personas)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    with django_capture_on_commit_callbacks(execute=True):
        import_line_create(
            actor=actor,
            organisation=personas.organisation,
            values={"mrn": "26DE00000000000991", "line_no": 1, "released_on": "2026-02-10", "cn_code": "72081000",
                    "origin_country": "CN", "net_mass_tonnes": "100"},
        )
    declaration.refresh_from_db()
    assert declaration.groups.count() == 1
    assert declaration.certificates > 0


def test_sharing_and_revoking_an_installation_recomputes_the_declarants_drafts(
    reference_data,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    from emissions.services.sharing import grant_create, grant_revoke

    actor = owner_actor(personas)
    installation, grant = shared_installation(personas.organisation)
    grant.delete()  # start unshared: the line below then uses default values
    add_line(personas.organisation, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    services.declaration_compute(actor=actor, declaration=declaration)
    assert declaration.groups.get().source == "default"

    operator_actor = Actor(user=None)
    with django_capture_on_commit_callbacks(execute=True):
        grant = grant_create(actor=operator_actor, installation=installation, declarant=personas.organisation)
    assert declaration.groups.get().source == "actual"

    with django_capture_on_commit_callbacks(execute=True):
        grant_revoke(actor=operator_actor, grant=grant)
    assert declaration.groups.get().source == "default"


def test_the_migration_moves_the_groups_of_a_filed_snapshot_into_rows_and_back(reference_data, personas):  # noqa: F811
    import importlib

    from django.apps import apps

    from declarations.models import FiledGroup

    migration = importlib.import_module("declarations.migrations.0013_filed_groups")
    reviewer = Actor(user=personas.reviewer)
    declaration = services.declaration_approve(actor=reviewer, declaration=_to_review(personas))
    declaration = services.declaration_file(actor=reviewer, declaration=declaration)
    rows, snapshot = declaration_filed_groups(declaration), declaration.snapshot
    # Back to the earlier form: the groups inside the snapshot, no rows.
    migration.rows_to_groups(apps, None)
    FiledGroup.objects.all().delete()
    declaration.refresh_from_db()
    assert declaration.snapshot["groups"] == rows and "group_count" not in declaration.snapshot
    migration.groups_to_rows(apps, None)
    declaration.refresh_from_db()
    assert declaration.snapshot == snapshot and declaration_filed_groups(declaration) == rows
