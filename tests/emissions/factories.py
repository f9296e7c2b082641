"""factory_boy factories of the operator side; every row hangs off one operator organisation."""

from decimal import Decimal

import factory

from emissions.models import (
    EmissionsReport,
    Installation,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
)
from tests.factories import OperatorFactory


class InstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installation

    organisation = factory.SubFactory(OperatorFactory)
    name = factory.Sequence(lambda n: f"Plant {n}")
    name_en = factory.LazyAttribute(lambda o: o.name)
    street = "Organize Sanayi Bolgesi 1"
    city = "Istanbul"
    country = "TR"
    unlocode = "TRIST"
    latitude = Decimal("41.008240")
    longitude = Decimal("28.978359")
    economic_activity = "Manufacture of basic iron and steel"


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmissionsReport

    installation = factory.SubFactory(InstallationFactory)
    organisation = factory.LazyAttribute(lambda o: o.installation.organisation)
    year = 2026


class ProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductionProcess

    report = factory.SubFactory(ReportFactory)
    key = factory.Sequence(lambda n: f"P{n}")
    name = "Process"
    aggregated_category = "Crude steel"
    activity_level = Decimal("1000")
    direct_emissions_t_co2e = Decimal("1500")
    electricity_consumed_mwh = Decimal("400")
    electricity_ef_t_co2_per_mwh = Decimal("0.5")


class GoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessGood

    process = factory.SubFactory(ProcessFactory)
    cn_code = "72189911"


class PurchasedPrecursorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchasedPrecursor

    process = factory.SubFactory(ProcessFactory)
    name = "Ferro-alloy"
    cn_code = "72024110"
    country = "CN"
    quantity = Decimal("10")
    see_direct = Decimal("2")
    see_indirect = Decimal("1")
