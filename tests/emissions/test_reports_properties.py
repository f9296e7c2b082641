"""Arithmetic invariants of the computation through the services (hypothesis)."""

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emissions.models import GoodResult
from emissions.services import reports as services

pytestmark = pytest.mark.django_db

amounts = st.decimals(min_value=D("0"), max_value=D("10000000"), places=6, allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value=D("0.001"), max_value=D("10000000"), places=6, allow_nan=False, allow_infinity=False)
factors = st.decimals(min_value=D("0"), max_value=D("1.5"), places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activity=positive, direct=amounts, electricity=amounts, ef=factors, not_available=st.booleans())
def test_stored_see_is_the_simple_good_formula(example3, actor, activity, direct, electricity, ef, not_available):
    """SEE = AttrEm / AL for a simple good (Reg 2023/956 Annex IV pt 2); a value "not available"
    counts as 0; direct + indirect = total."""
    services.process_save(
        actor=actor,
        report=example3.report,
        process=example3.eaf,
        activity_level=activity,
        direct_emissions_t_co2e=direct,
        electricity_consumed_mwh=electricity,
        electricity_ef_t_co2_per_mwh=ef,
        not_available={"electricity_consumed_mwh": "no meter"} if not_available else {},
    )
    result = GoodResult.objects.get(report=example3.report, cn_code="72189911")
    precursors = list(example3.eaf.purchased_precursors.all())
    embedded_direct = direct + sum((p.quantity * p.see_direct for p in precursors), D(0))
    consumed = D(0) if not_available else electricity
    embedded_indirect = consumed * ef + sum((p.quantity * p.see_indirect for p in precursors), D(0))
    step = D("1e-10")

    assert result.see_direct == (embedded_direct / activity).quantize(step)
    assert result.see_indirect == (embedded_indirect / activity).quantize(step)
    assert abs(result.see_total - result.see_direct - result.see_indirect) <= 2 * step
