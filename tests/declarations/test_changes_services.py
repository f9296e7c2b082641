"""What changed: every recalculation of a draft keeps the numbers that moved, and why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cbam_portal.core.actor import Actor
from declarations.models import DeclarationChange, ImportLine
from declarations.services import declarations as services
from tests.declarations.test_declaration_services import add_line, shared_installation
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db


def latest(declaration) -> DeclarationChange:
    return declaration.changes.order_by("-at", "-pk").first()


def test_the_first_calculation_lists_every_group_as_added(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    change = latest(declaration)
    assert change.trigger == "created" and change.actor == personas.owner
    assert change.changed and change.groups_added == 1 and change.groups_changed == 0
    assert change.differences["first_calculation"] is True
    assert change.certificates_before == 0 and change.certificates_after == declaration.certificates
    (entry,) = change.differences["groups"]
    assert entry["status"] == "added" and entry["key"]["cn_code"] == "72081000"
    assert entry["fields"]["source"] == {"before": None, "after": "default"}


def test_changing_an_import_lines_mass_changes_the_certificates_by_the_net_emissions_per_tonne(
    reference_data,  # noqa: F811
    personas,
):
    line = add_line(personas.organisation, mass="100")
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    group = declaration.groups.get()
    certificates_before = group.certificates
    net_per_tonne = group.see_used - group.sefa  # default values, Column B benchmark

    ImportLine.objects.filter(pk=line.pk).update(net_mass_tonnes=Decimal("150"))
    services.declaration_compute(actor=actor, declaration=declaration, trigger="lines")

    change = latest(declaration)
    assert change.trigger == "lines" and change.changed
    assert change.groups_changed == 1 and change.groups_added == 0 and change.groups_removed == 0
    assert "lines" in change.causes
    (entry,) = change.differences["groups"]
    assert entry["status"] == "changed" and entry["label"].startswith("7208 10 00 · CN · Q1")
    assert entry["fields"]["mass_tonnes"] == {"before": "100", "after": "150", "delta": "50"}
    expected_delta = (50 * net_per_tonne).quantize(Decimal("0.000001"))
    assert Decimal(entry["fields"]["certificates"]["delta"]) == expected_delta
    assert change.certificates_before == certificates_before
    assert change.certificates_after == declaration.groups.get().certificates
    assert change.certificates_delta == expected_delta
    assert "source" not in entry["fields"]  # still default values
    totals = change.differences["totals"]
    assert Decimal(totals["certificates"]["delta"]) == expected_delta
    assert totals["quantity_tonnes"]["delta"] == "50"


def test_sharing_a_report_turns_a_default_group_into_actual_and_the_change_says_so(
    reference_data,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    from emissions.services.sharing import grant_create

    actor = Actor(user=personas.owner)
    installation, grant = shared_installation(personas.organisation)
    grant.delete()
    add_line(
        personas.organisation, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation
    )
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    default_certificates = declaration.groups.get().certificates

    with django_capture_on_commit_callbacks(execute=True):
        grant_create(actor=Actor(user=None), installation=installation, declarant=personas.organisation)

    change = latest(declaration)
    assert change.trigger == "grant" and change.job is not None
    assert change.job.status == "done"
    (entry,) = change.differences["groups"]
    assert entry["fields"]["source"] == {"before": "default", "after": "actual"}
    assert (
        entry["fields"]["report_id"]["before"] is None and entry["fields"]["report_id"]["after"] is not None
    )
    assert entry["fields"]["see_used"]["after"] == "1.555"
    # Example 9: 1,000 t aluminium with actual data is 167.575 certificates.
    assert entry["fields"]["certificates"] == {
        "before": str(default_certificates.normalize())
        if "." in str(default_certificates.normalize())
        else str(default_certificates),
        "after": "167.575",
        "delta": str((Decimal("167.575") - default_certificates).normalize()),
    }
    assert "report" in change.causes
    assert change.certificates_after == Decimal("167.575")


def test_an_identical_recalculation_records_no_change_once(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    services.declaration_compute(actor=actor, declaration=declaration)
    change = latest(declaration)
    assert change.changed is False and change.trigger == "manual" and change.repeats == 1
    assert change.differences["groups"] == [] and change.groups_changed == 0
    assert change.certificates_before == change.certificates_after == declaration.certificates

    services.declaration_compute(actor=actor, declaration=declaration)
    assert declaration.changes.count() == 2  # the first calculation and one "no change" row
    change.refresh_from_db()
    assert change.repeats == 2 and change.last_at is not None


def test_a_removed_line_shows_its_group_as_removed(reference_data, personas):  # noqa: F811
    add_line(personas.organisation)
    second = add_line(personas.organisation, day=dt.date(2026, 8, 1))
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    q3 = declaration.groups.get(quarter=3)
    second.delete()
    services.declaration_compute(actor=actor, declaration=declaration)
    change = latest(declaration)
    assert change.groups_removed == 1 and change.groups_changed == 0
    (entry,) = change.differences["groups"]
    assert entry["status"] == "removed" and entry["key"]["quarter"] == 3
    assert Decimal(entry["fields"]["certificates"]["before"]) == q3.certificates
    assert change.certificates_delta == -q3.certificates


def test_the_recalculation_job_names_its_trigger_and_job(
    reference_data,  # noqa: F811
    personas,
    django_capture_on_commit_callbacks,
):
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    add_line(personas.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        (job,) = services.declarations_inputs_changed(
            actor=actor, organisation=personas.organisation, trigger="lines"
        )
    change = latest(declaration)
    assert change.job_id == job.pk and change.trigger == "lines" and change.actor == personas.owner
    assert change.groups_added == 1


def test_an_override_is_recorded_as_such(reference_data, personas):  # noqa: F811
    installation, _ = shared_installation(personas.organisation)
    add_line(
        personas.organisation, cn="76011010", mass="1000", day=dt.date(2026, 5, 4), installation=installation
    )
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    group = declaration.groups.get()
    services.declaration_group_override(
        actor=actor, declaration=declaration, group_id=group.pk, source="default", reason="Report disputed"
    )
    change = latest(declaration)
    assert change.trigger == "override"
    assert change.differences["groups"][0]["fields"]["source"] == {"before": "actual", "after": "default"}


def test_every_group_counts_but_only_the_first_ones_are_listed(reference_data, personas, monkeypatch):  # noqa: F811
    from declarations.services import changes

    monkeypatch.setattr(changes, "MAX_GROUP_ENTRIES", 2)
    for month, cn in ((2, "72081000"), (5, "72081000"), (8, "72083900"), (11, "72083900")):
        add_line(personas.organisation, cn=cn, day=dt.date(2026, month, 3))
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=personas.organisation, year=2026)
    change = latest(declaration)
    assert change.groups_added == 4 and change.differences["groups_left_out"] == 2
    assert [(e["key"]["cn_code"], e["key"]["quarter"]) for e in change.differences["groups"]] == [
        ("72081000", 1),
        ("72081000", 2),
    ]
    # The next recalculation lists the one group that moved, and why.
    line = ImportLine.objects.get(organisation=personas.organisation, cn_code="72083900", released_on__month=11)
    ImportLine.objects.filter(pk=line.pk).update(net_mass_tonnes=Decimal("300"))
    services.declaration_compute(actor=actor, declaration=declaration)
    change = latest(declaration)
    assert change.groups_changed == 1 and change.causes == ["lines"]
    assert change.differences["groups"][0]["key"]["quarter"] == 4
    assert change.differences["groups_left_out"] == 0
