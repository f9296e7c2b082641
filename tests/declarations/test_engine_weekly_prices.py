"""From 2027 imports are priced at the certificate price of their week ([R956] Art 21(1))."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from cbam_portal.core.actor import Actor
from cbam_portal.reference.models import CertificatePrice, Dataset, DatasetKind
from declarations.assessment import AssessmentInput, assess_good
from declarations.services import declarations as services
from declarations.services.traces import declaration_group_trace
from tests.declarations.test_declaration_services import add_line
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal
HEADER = "period_start,period_end,price_eur,source,published_on\n"
TWO_WEEKS = (
    HEADER
    + "2027-01-04,2027-01-10,80.10,Weekly price of week 1,2027-01-11\n"
    + "2027-01-11,2027-01-17,82.40,Weekly price of week 2,2027-01-18\n"
)


def load_prices(tmp_path, text: str, name: str = "prices.csv") -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    call_command("load_certificate_prices", str(path), stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115


def expected_cost(mass: str, price: str) -> Decimal:
    return assess_good(
        AssessmentInput(cn="72081000", country="CN", mass=D(mass), year=2027, quarter=1, price=D(price))
    ).result.cost_eur


def test_lines_of_two_weeks_make_two_groups_priced_at_their_week(reference_data, personas, tmp_path):  # noqa: F811
    load_prices(tmp_path, TWO_WEEKS)
    org = personas.organisation
    add_line(org, mass="100", day=dt.date(2027, 1, 5))
    add_line(org, mass="20", day=dt.date(2027, 1, 9))
    add_line(org, mass="50", day=dt.date(2027, 1, 12))
    declaration = services.declaration_create(actor=Actor(user=personas.owner), organisation=org, year=2027)
    first, second = declaration.groups.order_by("price_period_start")
    assert (first.quarter, first.price_period_start, first.price_period_end) == (
        1,
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 10),
    )
    assert (second.quarter, second.price_period_start) == (1, dt.date(2027, 1, 11))
    assert (first.mass_tonnes, first.lines, second.mass_tonnes) == (120, 2, 50)
    assert first.price_eur == D("80.10") and second.price_eur == D("82.40")
    assert first.cost_eur == expected_cost("120", "80.10")
    assert second.cost_eur == expected_cost("50", "82.40")
    assert declaration.cost_eur == first.cost_eur + second.cost_eur
    price_step = next(s for s in declaration_group_trace(first) if s["description"].startswith("Certificate price"))
    assert "2027-01-04 to 2027-01-10" in price_step["description"]
    assert "calendar week" in price_step["rule"] and price_step["inputs"]["release date"] == "2027-01-04"


def test_a_week_without_a_published_price_costs_nothing_and_says_why(reference_data, personas, tmp_path):  # noqa: F811
    load_prices(tmp_path, TWO_WEEKS)
    org = personas.organisation
    add_line(org, mass="100", day=dt.date(2027, 1, 5))
    add_line(org, mass="30", day=dt.date(2027, 2, 3))
    add_line(org, mass="10", day=dt.date(2027, 2, 24))
    declaration = services.declaration_create(actor=Actor(user=personas.owner), organisation=org, year=2027)
    priced = declaration.groups.get(price_period_start__isnull=False)
    unpriced = declaration.groups.get(price_period_start__isnull=True)
    assert priced.price_eur == D("80.10") and priced.cost_eur > 0
    assert unpriced.price_period_start is None and unpriced.quarter == 1
    assert unpriced.mass_tonnes == 40 and unpriced.certificates > 0
    assert unpriced.price_eur is None and unpriced.cost_eur == 0 and unpriced.error == ""
    descriptions = " ".join(step["description"] for step in declaration_group_trace(unpriced))
    assert "No certificate price is published yet" in descriptions
    assert "2027-02-03 – 2027-02-24" in descriptions


def test_an_override_of_one_week_stays_with_that_week(reference_data, personas, tmp_path):  # noqa: F811
    load_prices(tmp_path, TWO_WEEKS)
    org = personas.organisation
    add_line(org, mass="100", day=dt.date(2027, 1, 5))
    add_line(org, mass="50", day=dt.date(2027, 1, 12))
    actor = Actor(user=personas.owner)
    declaration = services.declaration_create(actor=actor, organisation=org, year=2027)
    first = declaration.groups.get(price_period_start=dt.date(2027, 1, 4))
    group = services.declaration_group_override(
        actor=actor,
        declaration=declaration,
        group_id=first.pk,
        source="default",
        reason="Checked with the supplier",
    )
    assert group.price_period_start == dt.date(2027, 1, 4) and group.override_source == "default"
    services.declaration_compute(actor=actor, declaration=declaration)
    overridden = declaration.groups.exclude(override_source="")
    assert [g.price_period_start for g in overridden] == [dt.date(2027, 1, 4)]


def test_2026_imports_keep_the_quarterly_price(reference_data, personas, tmp_path):  # noqa: F811
    load_prices(tmp_path, TWO_WEEKS)
    add_line(personas.organisation, mass="100", day=dt.date(2026, 2, 10))
    declaration = services.declaration_create(
        actor=Actor(user=personas.owner), organisation=personas.organisation, year=2026
    )
    (group,) = declaration.groups.all()
    assert group.price_period_start is None and group.price_eur == D("75.36")


def test_weekly_prices_are_added_to_the_prices_in_force_as_a_new_dataset(reference_data, tmp_path):  # noqa: F811
    before = Dataset.objects.get(kind=DatasetKind.CERTIFICATE_PRICES, is_current=True)
    load_prices(tmp_path, TWO_WEEKS)
    current = Dataset.objects.get(kind=DatasetKind.CERTIFICATE_PRICES, is_current=True)
    assert current.pk != before.pk and current.row_count == 4
    periods = list(CertificatePrice.objects.filter(dataset=current).values_list("period_start", "price_eur"))
    assert periods[:2] == list(
        CertificatePrice.objects.filter(dataset=before).values_list("period_start", "price_eur")
    )
    assert periods[2:] == [(dt.date(2027, 1, 4), D("80.10")), (dt.date(2027, 1, 11), D("82.40"))]
    week = CertificatePrice.objects.get(dataset=current, period_start=dt.date(2027, 1, 4))
    assert week.published_on == dt.date(2027, 1, 11) and week.source == "Weekly price of week 1"
    # The same prices again: nothing new.
    load_prices(tmp_path, TWO_WEEKS, name="again.csv")
    assert Dataset.objects.filter(kind=DatasetKind.CERTIFICATE_PRICES).count() == 2
    # A corrected price of a week replaces it in the next dataset.
    load_prices(tmp_path, HEADER + "2027-01-11,2027-01-17,82.45,Corrected,2027-01-19\n", name="fix.csv")
    latest = Dataset.objects.get(kind=DatasetKind.CERTIFICATE_PRICES, is_current=True)
    assert latest.row_count == 4
    assert CertificatePrice.objects.get(dataset=latest, period_start=dt.date(2027, 1, 11)).price_eur == D(
        "82.45"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "2027-01-04,2027-01-10,80.10,x,2027-01-11\n2027-01-08,2027-01-14,81,x,\n", "row 3: period"),
        (HEADER + "2027-01-04,2027-01-10,eighty,x,2027-01-11\n", "row 2, price_eur"),
        (HEADER + "2027-01-04,2027-13-10,80,x,\n", "row 2, period_end"),
        (HEADER + "2027-01-10,2027-01-04,80,x,\n", "period_end: 2027-01-04 is before"),
        (
            "period_start,period_end,price_eur\n2027-01-04,2027-01-10,80\n",
            "missing column(s) source, published_on",
        ),
        (HEADER + "2026-03-30,2026-04-05,80,x,\n", "overlaps 2026-01-01–2026-03-31"),
    ],
)
def test_a_bad_price_file_names_the_row_and_column_and_loads_nothing(reference_data, tmp_path, text, message):  # noqa: F811
    before = Dataset.objects.filter(kind=DatasetKind.CERTIFICATE_PRICES).count()
    with pytest.raises(CommandError) as excinfo:
        load_prices(tmp_path, text)
    assert message in str(excinfo.value)
    assert Dataset.objects.filter(kind=DatasetKind.CERTIFICATE_PRICES).count() == before
