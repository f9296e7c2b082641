"""A large recalculation streams its groups through COPY (PostgreSQL) and works out what changed
from the groups it computed: the same rows, traces and change records as batched INSERTs and a
read-back would give."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection

from cbam_portal.accounts.models import Organisation
from cbam_portal.core.actor import Actor
from declarations.assessment import decimal_text
from declarations.models import DeclarationGroup
from declarations.reference_cache import LiveReference, ReferenceSnapshot
from declarations.services import changes
from declarations.services import declarations as services
from emissions.see import TraceStep
from tests.declarations.test_declaration_services import add_line, shared_installation
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal
GROUP_FIELDS = [f.attname for f in DeclarationGroup._meta.concrete_fields if f.attname not in ("id",)]


def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY and numeric rounding are PostgreSQL's")


def rows(declaration) -> list[dict]:
    return [
        {f: getattr(g, f) for f in GROUP_FIELDS if f != "declaration_id"}
        for g in declaration.groups.order_by("cn_code", "country", "installation_id", "quarter")
    ]


def importer_with_groups(personas) -> Organisation:
    """Actual-data groups (one operator reporting a carbon price), default-value groups from several
    countries, returned goods, a country outside CBAM, and an override whose reason needs escaping."""
    organisation = Organisation.objects.create(kind="declarant", name="Importer", country="DE")
    for i in range(3):
        installation, _grant = shared_installation(organisation, see_direct=f"1.{i + 1}23457")
        add_line(
            organisation, cn="76011010", mass="10.123457", day=dt.date(2026, 2, 1), installation=installation
        )
        add_line(organisation, cn="76011010", mass="5", day=dt.date(2026, 5, 1), installation=installation)
    for i, country in enumerate(["CN", "TR", "IN", "UA", "KR", "CH"]):
        add_line(organisation, mass=f"{i + 1}.333333", country=country, day=dt.date(2026, 1 + 2 * i, 3))
    add_line(organisation, mass="2", country="TR", day=dt.date(2026, 1, 4), procedure="returned_goods")
    return organisation


def test_a_step_as_json_text_reads_back_as_the_step_as_a_dict():
    as_json = services._JsonText(LiveReference())
    steps = [
        TraceStep(rule="R", description="plain", inputs={}, result=D(0)),
        TraceStep(
            rule="Reg (EU) 2023/956 Art 6(5) – “quoted” \\ back\tslash\nnew line",
            description='He said "tonnes" — 5 %',
            inputs={
                "mass (t)": D("12.3400"),
                "tiny": D("1E-9"),
                "large": D("1.5E+3"),
                "negative": D("-0.000100"),
                "route": "–",
                "year": "2026",
                "count": 3,
                "none": None,
                "flag": True,
            },
            result=D("217.025000"),
        ),
        TraceStep(rule="R", description="no result", inputs={"x": D(1)}, result=None),
    ]
    for step in steps:
        assert json.loads(as_json.step(step)) == services._step(step)
        assert json.loads(as_json(list(steps))) == [services._step(s) for s in steps]


def test_copy_text_escapes_what_the_copy_format_reads_as_special():
    assert services._copy_text("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert services._copy_text("plain – text") == "plain – text"


def test_streaming_the_groups_through_copy_stores_what_batched_inserts_store(
    reference_data,  # noqa: F811
    personas,
    monkeypatch,
):
    postgresql_only()
    actor = Actor(user=personas.owner)
    organisation = importer_with_groups(personas)
    declaration = services.declaration_create(actor=actor, organisation=organisation, year=2026)
    group = declaration.groups.get(country="IN")
    services.declaration_group_override(
        actor=actor,
        declaration=declaration,
        group_id=group.pk,
        source="default",
        reason="Operator data\tunder review\nsee ticket C:\\cases\\7 – “urgent”",
    )
    inserted = rows(declaration)
    assert len(inserted) >= 10
    assert any(g["returned_tonnes"] for g in inserted) and any(g["error"] for g in inserted)

    monkeypatch.setattr(services, "GROUP_BATCH_SIZE", 2)
    monkeypatch.setattr(services._GroupWriter, "LINES_PER_WRITE", 3)
    services.declaration_compute(actor=actor, declaration=declaration)

    assert rows(declaration) == inserted
    latest = declaration.changes.order_by("-at", "-pk").first()
    assert latest.changed is False  # the state worked out from the computed groups equals the stored one


def test_a_query_needed_while_copying_ends_the_copy_and_the_rest_follows(
    reference_data,  # noqa: F811
    personas,
    monkeypatch,
):
    postgresql_only()
    actor = Actor(user=personas.owner)
    organisation = importer_with_groups(personas)
    declaration = services.declaration_create(actor=actor, organisation=organisation, year=2026)
    inserted = rows(declaration)

    monkeypatch.setattr(services, "GROUP_BATCH_SIZE", 2)
    monkeypatch.setattr(services._GroupWriter, "LINES_PER_WRITE", 1)
    live_benchmarks = LiveReference.benchmarks
    monkeypatch.setattr(
        ReferenceSnapshot,
        "benchmarks",
        lambda self, cn8, *, dataset: live_benchmarks(self, cn8, dataset=dataset),
    )
    services.declaration_compute(actor=actor, declaration=declaration)

    assert rows(declaration) == inserted


def test_the_numbers_a_change_record_shows_after_a_calculation_are_the_stored_ones(
    reference_data,  # noqa: F811
    personas,
):
    actor = Actor(user=personas.owner)
    organisation = importer_with_groups(personas)
    declaration = services.declaration_create(actor=actor, organisation=organisation, year=2026)
    change = declaration.changes.get()
    stored = {changes.group_key_text(g.__dict__): g for g in declaration.groups.all()}
    entries = change.differences["groups"]
    assert len(entries) == len(stored)
    for entry in entries:
        group = stored[changes.group_key_text(entry["key"])]
        for field in changes.NUMBER_FIELDS:
            assert entry["fields"][field]["after"] == decimal_text(getattr(group, field)), field


def test_a_failure_while_copying_leaves_the_groups_as_they_were(
    reference_data,  # noqa: F811
    personas,
    monkeypatch,
):
    postgresql_only()
    actor = Actor(user=personas.owner)
    organisation = importer_with_groups(personas)
    declaration = services.declaration_create(actor=actor, organisation=organisation, year=2026)
    before = rows(declaration)
    changes_before = declaration.changes.count()

    monkeypatch.setattr(services, "GROUP_BATCH_SIZE", 2)
    monkeypatch.setattr(services._GroupWriter, "LINES_PER_WRITE", 2)
    computed = services._group_values
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("engine failure")
        return computed(**kwargs)

    monkeypatch.setattr(services, "_group_values", failing)
    with pytest.raises(RuntimeError, match="engine failure"):
        services.declaration_compute(actor=actor, declaration=declaration)

    assert rows(declaration) == before
    assert declaration.changes.count() == changes_before


def test_query_settings_apply_to_the_block_only():
    postgresql_only()
    from django.db import transaction

    from cbam_portal.core.db import postgresql_settings

    def setting(name: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s)", [name])
            return cursor.fetchone()[0]

    with transaction.atomic():
        memory, merge = setting("work_mem"), setting("enable_mergejoin")
        with postgresql_settings(work_mem=services.LINE_AGGREGATION_WORK_MEM, enable_mergejoin="off"):
            assert setting("work_mem") == services.LINE_AGGREGATION_WORK_MEM != memory
            assert setting("enable_mergejoin") == "off" != merge
        assert (setting("work_mem"), setting("enable_mergejoin")) == (memory, merge)
