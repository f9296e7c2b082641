"""Helpers shared by the 50-tonne threshold tests (no tests here)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from cbam_portal.reference.models import CnGood
from declarations.models import ImportLine

from .test_imports_support import import_reference  # noqa: F401  (fixture used below)

_numbers = itertools.count(1)


def line(organisation, *, on="2026-03-15", cn="72081000", mass="1", mwh=None, in_scope=True, reason="", **kw):
    """One import line of `organisation`, created directly (in scope, from China, by default)."""
    n = next(_numbers)
    return ImportLine.objects.create(
        organisation=organisation,
        mrn=f"26TH{n:014d}",
        line_no=1,
        released_on=dt.date.fromisoformat(on),
        cn_code=cn,
        origin_country=kw.pop("origin", "CN"),
        net_mass_tonnes=Decimal(mass) if mass is not None else None,
        quantity_mwh=Decimal(mwh) if mwh is not None else None,
        in_scope=in_scope,
        out_of_scope_reason=reason,
        **kw,
    )


@pytest.fixture
def reference(import_reference):  # noqa: F811
    """The small Annex I list of the import tests, plus hydrogen."""
    CnGood.objects.create(
        dataset=import_reference, cn8="28041000", sector="hydrogen", aggregated_category="hydrogen", functional_unit="t"
    )
    return import_reference
