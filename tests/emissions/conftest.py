"""Fixtures of the operator side: a small Annex I list with default values, and the worked
example 3 of the domain brief (EAF with purchased alloys and a rolling mill) built through the
services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

import pytest

from cbam_portal.core.actor import Actor
from cbam_portal.reference.models import CnGood, Dataset, DatasetKind, DefaultValue, PrecursorDefault
from emissions.models import EmissionsReport, Installation, ProductionProcess
from emissions.services import installations as installation_services
from emissions.services import reports as services

#: (cn8, sector, aggregated category, Annex II, functional unit)
CN_GOODS = [
    ("72189911", "iron_steel", "Crude steel", True, "t"),
    ("72189919", "iron_steel", "Crude steel", True, "t"),
    ("73041100", "iron_steel", "Iron or steel products", True, "t"),
    ("72191310", "iron_steel", "Iron or steel products", True, "t"),
    ("72210010", "iron_steel", "Iron or steel products", True, "t"),
    ("72061000", "iron_steel", "Crude steel", True, "t"),
    ("72026000", "iron_steel", "Ferro-alloys", True, "t"),
    ("72024110", "iron_steel", "Ferro-alloys", True, "t"),
    ("72021120", "iron_steel", "Ferro-alloys", True, "t"),
    ("72081000", "iron_steel", "Iron or steel products", True, "t"),
    ("25232900", "cement", "Cement", False, "t clinker"),
    ("31052010", "fertilisers", "Mixed fertilisers", False, "kg N"),
]


def _dataset(kind: str) -> Dataset:
    return Dataset.objects.create(
        kind=kind,
        legal_act="test",
        version="test",
        source="tests",
        sha256=kind.ljust(64, "0"),
        is_current=True,
    )


@pytest.fixture
def annex_i(db) -> Dataset:
    """A current Annex I list with the CN codes of the examples, plus default values for ferro-
    chromium (7202 41) from China and the highest-value table."""
    cn = _dataset(DatasetKind.CN_GOODS)
    CnGood.objects.bulk_create(
        CnGood(
            dataset=cn,
            cn8=code,
            sector=sector,
            aggregated_category=category,
            annex_ii_direct_only=annex_ii,
            functional_unit=unit,
        )
        for code, sector, category, annex_ii, unit in CN_GOODS
    )
    dv = _dataset(DatasetKind.DEFAULT_VALUES)
    DefaultValue.objects.create(
        dataset=dv,
        country_code="CN",
        country_name="China",
        cn_code="720241",
        direct=D("2.5"),
        indirect=D("2"),
        total=D("4.5"),
        total_2026=D("4.95"),
        total_2027=D("5.4"),
        total_2028_onwards=D("5.85"),
    )
    DefaultValue.objects.create(
        dataset=dv,
        country_code="ZZ",
        country_name="Other countries and territories",
        cn_code="720241",
        direct=D("3"),
        indirect=D("2"),
        total=D("5"),
        total_2026=D("5.5"),
        total_2027=D("6"),
        total_2028_onwards=D("6.5"),
    )
    pd = _dataset(DatasetKind.PRECURSOR_DEFAULTS)
    PrecursorDefault.objects.create(
        dataset=pd,
        cn_code="7202",
        highest=D("6"),
        total_2026=D("6.6"),
        total_2027=D("7.2"),
        total_2028_onwards=D("7.8"),
    )
    return cn


@pytest.fixture
def actor(operator_personas) -> Actor:
    return Actor(user=operator_personas.owner)


def make_installation(organisation, actor: Actor, **overrides) -> Installation:
    fields = {
        "name": "Example Steel EAF",
        "name_en": "Example Steel EAF",
        "street": "1 Mill Road",
        "city": "Pittsburgh",
        "country": "US",
        "unlocode": "USPIT",
        "latitude": D("40.440625"),
        "longitude": D("-79.995886"),
        "economic_activity": "Manufacture of basic iron and steel",
    }
    fields.update(overrides)
    return installation_services.installation_create(actor=actor, organisation=organisation, **fields)


@pytest.fixture
def installation(operator_personas, actor, annex_i) -> Installation:
    return make_installation(operator_personas.organisation, actor)


@dataclass
class Example3:
    report: EmissionsReport
    eaf: ProductionProcess
    rolling: ProductionProcess


def build_example_3(report: EmissionsReport, actor: Actor) -> Example3:
    """Worked example 3 (Commission template 'Steel 2 EAF alloys', country US) through the services."""
    eaf = services.process_save(
        actor=actor,
        report=report,
        key="P1",
        name="EAF incl. continuous casting",
        aggregated_category="Crude steel",
        route="EAF",
        activity_level=D("2234000"),
        direct_emissions_t_co2e=D("171005.308857"),
        electricity_consumed_mwh=D("1563800"),
        electricity_ef_t_co2_per_mwh=D("0.833"),
        electricity_ef_source="D.4(b)",
    )
    services.good_save(actor=actor, process=eaf, cn_code="72189911", product_name="Crude stainless steel")
    for name, cn, qty, sd, si, el, default in [
        ("Carbon steel ingots", "72061000", "80540", "1.48", "0.203999", "0.2448969456", False),
        ("FeNi (28 % Ni)", "72026000", "346773.02393", "3", "2.499833", "3.001", False),
        ("FeCr (52 % Cr)", "72024110", "331213", "2.5", "2.349893", "2.821", False),
        ("FeMn (31 % Mn)", "72021120", "60595", "1.3", "1.900073", "2.281", True),
    ]:
        services.purchased_precursor_save(
            actor=actor,
            process=eaf,
            name=name,
            cn_code=cn,
            country="US",
            quantity=D(qty),
            see_direct=D(sd),
            see_indirect=D(si),
            electricity_mwh_per_unit=D(el),
            is_default=default,
        )
    rolling = services.process_save(
        actor=actor,
        report=report,
        key="P2",
        name="Rolling mill and finishing",
        aggregated_category="Iron or steel products",
        activity_level=D("1133000"),
        direct_emissions_t_co2e=D("402245.415"),
        electricity_consumed_mwh=D("324660"),
        electricity_ef_t_co2_per_mwh=D("0.833"),
    )
    for cn in ("73041100", "72191310", "72210010"):
        services.good_save(actor=actor, process=rolling, cn_code=cn)
    services.internal_precursor_save(actor=actor, process=rolling, source_process=eaf, quantity=D("1227000"))
    return Example3(report=report, eaf=eaf, rolling=rolling)


@pytest.fixture
def example3(installation, actor) -> Example3:
    report = services.report_create(actor=actor, installation=installation, year=2026)
    return build_example_3(report, actor)
