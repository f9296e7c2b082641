"""A new current reference dataset recomputes every draft declaration (filed ones keep their
pinned datasets), and the change record names the reference data as the trigger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from cbam_portal.core.actor import Actor
from declarations.models import DeclarationStatus
from declarations.services import declarations as services
from tests.conftest import make_personas
from tests.declarations.test_declaration_services import add_line
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_new_certificate_price_recomputes_the_drafts_of_every_organisation_but_not_filed_ones(
    reference_data,  # noqa: F811
    personas,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    other = make_personas()
    drafts = []
    for p in (personas, other):
        add_line(p.organisation, mass="100", day=dt.date(2026, 2, 2))
        drafts.append(
            services.declaration_create(actor=Actor(user=p.owner), organisation=p.organisation, year=2026)
        )
    filed = drafts[1]
    filed.status = DeclarationStatus.FILED  # frozen: a recomputation would refuse it anyway
    filed.save(update_fields=["status"])
    before = drafts[0].groups.get().price_eur
    assert before == D("75.36")

    prices = tmp_path / "prices.csv"
    prices.write_text(
        "period_start,period_end,price_eur,source,published_on\n"
        "2026-01-01,2026-03-31,80.00,Corrected Q1 2026 price,2026-04-07\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_certificate_prices", str(prices), stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115

    draft = drafts[0]
    draft.refresh_from_db()
    group = draft.groups.get()
    assert group.price_eur == D("80.00")
    assert group.cost_eur == (group.certificates * D("80.00")).quantize(D("0.01"))
    change = draft.changes.order_by("-pk").first()
    assert change.trigger == "reference" and change.changed is True

    filed.refresh_from_db()
    assert filed.groups.get().price_eur == before
    assert not filed.changes.filter(trigger="reference").exists()
