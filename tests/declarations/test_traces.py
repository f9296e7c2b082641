"""The "why?" of declaration groups: derived from the current inputs in a draft, frozen at review."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cbam_portal.core.actor import Actor
from declarations.assessment import AssessmentInput, assess_good, trace_as_dicts
from declarations.models import ChangeTrigger, DeclarationGroup, ImportLine
from declarations.selectors.declarations import declaration_filed_groups
from declarations.services import declarations as services
from declarations.services import traces
from declarations.services.traces import declaration_group_trace, declaration_group_traces
from tests.conftest import api_login, login
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(reference_data, personas):  # noqa: F811
    example_9(personas.organisation)
    add_line(personas.organisation)  # 100 t of 7208 10 00 from China, default values
    return services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )


@pytest.fixture
def clients(personas):
    return {
        who: (login(user, organisation), api_login(user, organisation))
        for who, user, organisation in (
            ("owner", personas.owner, personas.organisation),
            ("viewer", personas.viewer, personas.organisation),
            ("outsider", personas.outsider, personas.other_organisation),
        )
    }


def _steel(declaration) -> DeclarationGroup:
    return declaration.groups.get(cn_code="72081000")


def test_a_draft_stores_no_trace_and_derives_the_one_of_the_engine(draft):
    group = _steel(draft)
    assert group.trace is None
    trace = declaration_group_trace(group)
    expected, _ = trace_as_dicts(
        assess_good(AssessmentInput(cn="72081000", country="CN", mass=Decimal("100"), year=2026, quarter=1))
    )
    assert trace == expected
    assert trace[-2]["result"] == str(group.certificates.normalize())  # the certificates step


def test_many_groups_are_derived_with_a_fixed_number_of_queries(draft, personas, django_assert_max_num_queries):
    groups = list(draft.groups.all())  # an actual group and a default one
    with django_assert_max_num_queries(16) as few:
        two = declaration_group_traces(draft, groups)
    for month in (4, 7, 10):
        add_line(personas.organisation, day=dt.date(2026, month, 2))
        add_line(personas.organisation, cn="72083900", country="IN", day=dt.date(2026, month, 3))
    services.declaration_compute(actor=Actor(user=personas.owner), declaration=draft)
    groups = list(draft.groups.all())
    assert len(groups) == 8
    with django_assert_max_num_queries(len(few.captured_queries)):
        many = declaration_group_traces(draft, groups)
    assert set(many) == {g.pk for g in groups} and all(many.values())
    assert len(two) == 2


def test_the_whole_declaration_is_read_when_many_groups_are_asked_for(draft, monkeypatch):
    monkeypatch.setattr(traces, "NARROW_UP_TO", 0)
    groups = list(draft.groups.all())
    assert declaration_group_traces(draft, groups) == {
        g.pk: declaration_group_traces(draft, [g])[g.pk] for g in groups
    }


def test_changed_inputs_not_yet_recalculated_are_said_first(draft, personas):
    line = ImportLine.objects.get(organisation=personas.organisation, cn_code="72081000")
    ImportLine.objects.filter(pk=line.pk).update(net_mass_tonnes=Decimal("150"))  # no recalculation yet
    trace = declaration_group_trace(_steel(draft))
    assert "changed after the draft was last calculated" in trace[0]["description"]
    assert any(v.startswith("certificates: ") for v in trace[0]["inputs"].values())
    assert trace[1]["result"] == "150"  # the steps use the current inputs


def test_a_group_whose_lines_are_gone_says_so(draft, personas):
    ImportLine.objects.filter(organisation=personas.organisation, cn_code="72081000").delete()
    (step,) = declaration_group_trace(_steel(draft))
    assert "no longer form it" in step["description"]


def test_submitting_for_review_stores_the_traces_and_filing_keeps_them(draft, personas):
    derived = declaration_group_traces(draft, draft.groups.all())
    by_key = {(g.cn_code, g.quarter): derived[g.pk] for g in draft.groups.all()}
    declaration = services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=draft)
    stored = {(g.cn_code, g.quarter): g.trace for g in declaration.groups.all()}
    assert stored == by_key  # what the reviewer sees is what the draft showed
    review = declaration.changes.order_by("-at", "-pk").first()
    assert review.trigger == ChangeTrigger.REVIEW and not review.changed  # the same numbers, now with steps
    # From now on the inputs may change: the stored steps stay.
    ImportLine.objects.filter(organisation=personas.organisation, cn_code="72081000").update(
        net_mass_tonnes=Decimal("999")
    )
    assert declaration_group_trace(_steel(declaration)) == by_key[("72081000", 1)]
    declaration = services.declaration_approve(actor=Actor(user=personas.reviewer), declaration=declaration)
    declaration = services.declaration_file(actor=Actor(user=personas.reviewer), declaration=declaration)
    filed = {(g["cn_code"], g["quarter"]): g["trace"] for g in declaration_filed_groups(declaration)}
    assert filed == by_key


def test_returning_to_draft_and_recalculating_drops_the_stored_traces(draft, personas):
    declaration = services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=draft)
    declaration = services.declaration_return_to_draft(
        actor=Actor(user=personas.reviewer), declaration=declaration, reason="Check the steel."
    )
    assert _steel(declaration).trace  # still the frozen steps, consistent with the numbers
    services.declaration_compute(actor=Actor(user=personas.preparer), declaration=declaration)
    assert _steel(declaration).trace is None and declaration_group_trace(_steel(declaration))


@pytest.mark.parametrize("who", ["owner", "viewer", "outsider"])
def test_the_why_page_shows_the_derived_steps_to_members_only(draft, clients, who):
    group = _steel(draft)
    response = clients[who][0].get(reverse("declarations:declaration_group", args=[draft.pk, group.pk]))
    if who == "outsider":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="why"' in page and "Embedded emissions of 7208 10 00 CN 2026" in page
    for step in declaration_group_trace(group):
        assert step["rule"].replace("&", "&amp;").split(";")[0] in page


def test_the_api_gives_one_groups_derived_trace_after_an_override(draft, clients):
    group = _steel(draft)
    response = clients["owner"][1].post(
        f"/api/v1/declarations/{draft.pk}/override/",
        {"group": group.pk, "source": "default", "reason": "Supplier data not verified."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["trace"] == declaration_group_trace(DeclarationGroup.objects.get(pk=body["id"]))
