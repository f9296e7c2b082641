"""Reference-data fixtures: the full opencbam data loaded once per test module."""

from __future__ import annotations

from functools import cache

import pytest

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from cbam_portal.reference import services
from cbam_portal.reference.loaders import opencbam, schedules
from cbam_portal.reference.models import (
    Benchmark,
    CbamFactor,
    CertificatePrice,
    CnGood,
    Country,
    Cscf,
    Dataset,
    DefaultValue,
    PrecursorDefault,
)

ROW_MODELS = (CnGood, DefaultValue, PrecursorDefault, Benchmark, CbamFactor, Cscf, CertificatePrice)


@cache
def parsed_builtin():
    """Parse the built-in datasets once per session (parsing is pure; rows are plain dicts)."""
    return [parser() for parser in (*opencbam.PARSERS.values(), *schedules.PARSERS.values())]


def load_builtin() -> None:
    parsed = parsed_builtin()
    names = {row["country_name"] for p in parsed if p.kind == "default_values" for row in p.rows}
    services.countries_sync(actor=Actor.system(), default_values_names=names)
    for p in parsed:
        services.dataset_load(parsed=p, actor=Actor.system())


def wipe_reference_data() -> None:
    for model in ROW_MODELS:
        model.objects.all().delete()
    Dataset.objects.all().delete()
    Country.objects.all().delete()
    AuditEvent.objects.filter(verb__startswith="reference.").delete()


@pytest.fixture(scope="module")
def reference_data(django_db_setup, django_db_blocker):
    """The opencbam data, CBAM factor, CSCF, prices and countries, committed once for the module
    (tests still run in their own rolled-back transactions on top of it)."""
    with django_db_blocker.unblock():
        wipe_reference_data()
        load_builtin()
    yield
    with django_db_blocker.unblock():
        wipe_reference_data()
