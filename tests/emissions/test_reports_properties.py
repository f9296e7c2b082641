"""Arithmetic invariants of the computation through the services (hypothesis)."""

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emissions.models import GoodResult, ProductionProcess
from emissions.services import reports as services

pytestmark = pytest.mark.django_db

#: Realistic magnitudes: activity levels of real installations, intensities up to 50 tCO2e/t.
activities = st.decimals(
    min_value=D("100"), max_value=D("10000000"), places=3, allow_nan=False, allow_infinity=False
)
intensities = st.decimals(
    min_value=D("0"), max_value=D("50"), places=6, allow_nan=False, allow_infinity=False
)
electricity = st.decimals(min_value=D("0"), max_value=D("5"), places=6, allow_nan=False, allow_infinity=False)
factors = st.decimals(min_value=D("0"), max_value=D("1.5"), places=6, allow_nan=False, allow_infinity=False)


@pytest.fixture
def report(installation, actor):
    report = services.report_create(actor=actor, installation=installation, year=2026)
    process = services.process_save(
        actor=actor,
        report=report,
        key="P1",
        name="Kiln",
        aggregated_category="Crude steel",
        activity_level=D("1"),
    )
    services.good_save(actor=actor, process=process, cn_code="72189911")
    return report


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    activity=activities,
    direct_per_t=intensities,
    mwh_per_t=electricity,
    ef=factors,
    not_available=st.booleans(),
)
def test_stored_see_is_the_simple_good_formula(
    report, actor, activity, direct_per_t, mwh_per_t, ef, not_available
):
    """SEE = AttrEm / AL for a simple good (Reg 2023/956 Annex IV pt 2); a value declared "not
    available" counts as 0; direct + indirect = total (to the stored 10 decimals)."""
    direct = (activity * direct_per_t).quantize(D("0.000001"))
    consumed = (activity * mwh_per_t).quantize(D("0.000001"))
    services.process_save(
        actor=actor,
        report=report,
        process=ProductionProcess.objects.get(report=report, key="P1"),
        activity_level=activity,
        direct_emissions_t_co2e=direct,
        electricity_consumed_mwh=consumed,
        electricity_ef_t_co2_per_mwh=ef,
        not_available={"electricity_consumed_mwh": "no meter"} if not_available else {},
    )
    result = GoodResult.objects.get(report=report, cn_code="72189911")
    indirect = D(0) if not_available else consumed * ef

    # Stored at the field's 10 decimal places; the unrounded value stays in the trace.
    assert result.see_direct == (direct / activity).quantize(D("1e-10"))
    assert result.see_indirect == (indirect / activity).quantize(D("1e-10"))
    assert abs(result.see_total - result.see_direct - result.see_indirect) < D("1e-9")
