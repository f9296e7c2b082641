"""Fixtures shared by the supplier and data-request tests (no tests here)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cbam_portal.accounts.policy import Role
from cbam_portal.core.actor import Actor
from declarations.models import ImportLine, Supplier
from emissions.models import SharingGrant
from tests.emissions.factories import InstallationFactory
from tests.factories import MembershipFactory, OperatorFactory

from .test_imports_support import import_reference  # noqa: F401


@pytest.fixture(name="actor")
def actor_fixture(personas) -> Actor:
    return Actor(user=personas.owner)


@pytest.fixture(name="operator")
def operator_fixture(db):
    org = OperatorFactory(name="Anatolia Steel")
    MembershipFactory(organisation=org, role=Role.ADMIN)
    return org


def make_supplier(organisation, **values) -> Supplier:
    defaults = {"name": "Anatolia Steel Trading", "country": "TR", "email": "sales@anatolia.example"}
    return Supplier.objects.create(organisation=organisation, **{**defaults, **values})


def share(installation, declarant) -> SharingGrant:
    return SharingGrant.objects.create(
        organisation=installation.organisation, installation=installation, declarant=declarant
    )


def make_installation(operator, **values):
    return InstallationFactory(organisation=operator, **values)


def add_line(organisation, supplier, n: int, cn: str = "72081000", installation=None) -> ImportLine:
    return ImportLine.objects.create(
        organisation=organisation,
        mrn=f"26DE{n:014d}",
        line_no=1,
        released_on=dt.date(2026, 3, 1),
        cn_code=cn,
        origin_country="TR",
        net_mass_tonnes="5",
        supplier=supplier,
        installation=installation,
    )


def in_days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)
