"""What a person reads on the declaration pages: status colours, the first-calculation summary,
numbers at one precision per column, the "why?" page in words, and a filed version closed to comments."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import AuditEvent
from declarations.models import DeclarationStatus
from declarations.services import declarations as services
from declarations.templatetags.declaration_changes import change_rows
from declarations.templatetags.declaration_format import (
    dataset_label,
    eur,
    see,
    status_badge,
    tonnes,
    trace_steps,
)
from tests.conftest import login
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(reference_data, personas):  # noqa: F811
    example_9(personas.organisation)
    add_line(personas.organisation)
    return services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )


def _filed(declaration, personas):
    preparer, reviewer = Actor(user=personas.preparer), Actor(user=personas.reviewer)
    declaration = services.declaration_submit_for_review(actor=preparer, declaration=declaration)
    declaration = services.declaration_approve(actor=reviewer, declaration=declaration)
    return services.declaration_file(actor=reviewer, declaration=declaration)


def _status_class(html: str) -> list[str]:
    return re.findall(r'class="badge (text-bg-[a-z]+)" data-testid="status"', html)


# Formatting ---------------------------------------------------------------------------------


def test_numbers_are_shown_at_one_precision_per_kind_without_changing_the_value():
    value = Decimal("8.333333")
    assert tonnes(value) == "8.333" and tonnes(Decimal("12.5")) == "12.500"
    assert see(Decimal("1.387425")) == "1.38743" and see(Decimal("2.67")) == "2.67000"
    assert eur(Decimal("4664.7149")) == "4,664.71" and eur(Decimal("1234567.005")) == "1,234,567.01"
    assert tonnes(None) == "–"
    assert value == Decimal("8.333333")


def test_each_status_has_its_own_badge_colour():
    assert status_badge(DeclarationStatus.DRAFT) == "text-bg-secondary"
    assert status_badge(DeclarationStatus.IN_REVIEW) == "text-bg-warning"
    assert status_badge(DeclarationStatus.APPROVED) == "text-bg-primary"
    assert status_badge(DeclarationStatus.FILED) == "text-bg-success"
    assert status_badge(DeclarationStatus.AMENDED) == "text-bg-dark"


def test_a_dataset_is_named_with_its_version_once():
    dataset = {
        "id": 5,
        "legal_act": "Directive 2003/87/EC Art 10a(1a), as amended by Directive (EU) 2023/959",
        "version": "2023/959",
    }
    assert (
        dataset_label(dataset)
        == "Directive 2003/87/EC Art 10a(1a), as amended by Directive (EU) 2023/959 (#5)"
    )
    other = {
        "id": 4,
        "legal_act": "Implementing Regulation (EU) 2025/2620 Annex",
        "version": "opencbam 0.1.0",
    }
    assert dataset_label(other) == "Implementing Regulation (EU) 2025/2620 Annex opencbam 0.1.0 (#4)"


def test_trace_steps_round_for_reading_and_drop_meaningless_results():
    steps = trace_steps(
        [
            {"rule": "r1", "description": "choice", "inputs": {}, "result": "0"},
            {
                "rule": "r2",
                "description": "good",
                "inputs": {"dataset cscf": "CSCF (#6)", "Annex II": "yes"},
                "result": "30.125",
            },
            {
                "rule": "r3",
                "description": "certificates",
                "inputs": {"FAA (tCO2e)": "41.796178125", "deduction (tCO2e)": "0"},
                "result": "5.048196875",
            },
            {
                "rule": "r4",
                "description": "price reported",
                "inputs": {"price 1": "ETS: 10 EUR/tCO2e"},
                "result": "0",
            },
        ]
    )
    assert steps[0]["result"] is None and steps[3]["result"] is None
    assert [i["name"] for i in steps[1]["inputs"]] == ["Annex II"]
    assert steps[1]["result"] == {"text": "30.125", "full": ""}
    assert steps[2]["result"] == {"text": "5.0482", "full": "5.048196875"}
    assert steps[2]["inputs"][0] == {"name": "FAA (tCO2e)", "text": "41.79618", "full": "41.796178125"}
    assert steps[2]["inputs"][1]["text"] == "0"


# Declaration list and page --------------------------------------------------------------------


def test_the_list_names_the_importer_and_colours_each_status(draft, personas):
    _filed(draft, personas)
    services.declaration_amend(actor=Actor(user=personas.preparer), declaration=draft)

    html = (
        login(personas.viewer, personas.organisation)
        .get(reverse("declarations:declaration_list"))
        .content.decode()
    )

    importer = re.search(r'data-testid="importer">(.*?)</p>', html, re.S).group(1)
    assert personas.organisation.name in importer and personas.organisation.eori in importer
    assert _status_class(html) == ["text-bg-secondary", "text-bg-dark"]


def test_the_declaration_page_colours_its_status_and_explains_the_abbreviations(draft, personas):
    client = login(personas.viewer, personas.organisation)
    url = reverse("declarations:declaration_detail", args=[draft.pk])

    html = client.get(url).content.decode()
    assert _status_class(html) == ["text-bg-secondary"]
    for abbr in ("SEE", "FAA", "SEFA"):
        assert re.search(rf'<abbr title="[^"]+">{abbr}</abbr>', html), abbr
    assert '<td class="text-nowrap">7208 10 00</td>' in html

    _filed(draft, personas)
    assert _status_class(client.get(url).content.decode()) == ["text-bg-success"]


def test_the_first_calculation_is_summarised_without_a_table_of_every_field(draft, personas):
    html = (
        login(personas.viewer, personas.organisation)
        .get(reverse("declarations:declaration_detail", args=[draft.pk]))
        .content.decode()
    )

    panel = re.search(r'data-testid="last-change">(.*?)</section>', html, re.S).group(1)
    assert "First calculation: 2 groups." in panel
    assert re.search(r"Certificates: \d+\.\d{3} · Cost \(EUR\): [\d,]+\.\d{2}<", panel)
    assert 'data-testid="change-added"' not in panel and "<table" not in panel


def test_a_recalculation_lists_only_what_moved_at_the_pages_precision(draft, personas):
    add_line(personas.organisation, mass="50.5")
    services.declaration_compute(actor=Actor(user=personas.preparer), declaration=draft)

    html = (
        login(personas.viewer, personas.organisation)
        .get(reverse("declarations:declaration_detail", args=[draft.pk]))
        .content.decode()
    )

    panel = re.search(r'data-testid="last-change">(.*?)</section>', html, re.S).group(1)
    rows = re.findall(r'<tr data-testid="change-changed">(.*?)</tr>', panel, re.S)
    cells = [re.findall(r'<td class="num">(.*?)</td>', row) for row in rows]
    assert ["100.000", "150.500", "+50.500"] in cells  # the quantity of 7208 10 00 from China
    labels = " ".join(rows)
    assert ">source<" not in labels and "certificate price" not in labels
    assert all(re.fullmatch(r"[+-]?[\d,]+\.\d{2,5}", c) for row in cells for c in row)


def test_added_groups_show_their_size_not_every_number():
    group = {
        "status": "added",
        "fields": {
            "source": {"before": None, "after": "default"},
            "mass_tonnes": {"before": None, "after": "12.5", "delta": "12.5"},
            "see_used": {"before": None, "after": "4.708", "delta": "4.708"},
            "certificates": {"before": None, "after": "42.153125", "delta": "42.153125"},
            "cost_eur": {"before": None, "after": "3176.6595", "delta": "3176.6595"},
            "carbon_price_deduction": {"before": None, "after": "0", "delta": "0"},
        },
    }
    rows = change_rows(group)
    assert [(r["name"], r["after"], r["delta"]) for r in rows] == [
        ("source", "default", ""),
        ("mass_tonnes", "12.500", "+12.500"),
        ("certificates", "42.153", "+42.153"),
        ("cost_eur", "3,176.66", "+3,176.66"),
    ]


# Comments on a filed declaration ----------------------------------------------------------------


def test_a_filed_declaration_refuses_comments_and_hides_the_form(draft, personas):
    filed = _filed(draft, personas)
    with pytest.raises(ValidationError, match="filed: it cannot be commented"):
        services.declaration_comment_add(actor=Actor(user=personas.reviewer), declaration=filed, text="Late")
    assert not filed.comments.exists()
    assert not AuditEvent.objects.filter(verb="declaration.commented").exists()

    client = login(personas.owner, personas.organisation)
    html = client.get(reverse("declarations:declaration_detail", args=[filed.pk])).content.decode()
    assert 'data-testid="comments-closed"' in html and 'name="text"' not in html
    response = client.post(reverse("declarations:declaration_comment", args=[filed.pk]), {"text": "Late"})
    assert response.status_code == 400 and "cannot be commented" in response.content.decode()
    assert not filed.comments.exists()


def test_comments_stay_open_until_filing(draft, personas):
    declaration = services.declaration_submit_for_review(
        actor=Actor(user=personas.preparer), declaration=draft
    )
    services.declaration_comment_add(
        actor=Actor(user=personas.reviewer), declaration=declaration, text="Q2 ok?"
    )
    assert declaration.comments.count() == 1


# The "why?" page ------------------------------------------------------------------------------------


def test_the_why_page_speaks_in_labels_and_rounds_the_trace(draft, personas):
    group = draft.groups.get(cn_code="76011010")
    html = (
        login(personas.owner, personas.organisation)
        .get(reverse("declarations:declaration_group", args=[draft.pk, group.pk]))
        .content.decode()
    )

    source = re.search(r'data-testid="source">(.*?)</dd>', html, re.S).group(1)
    assert "Actual data from the operator&#x27;s report" in source
    datasets = re.search(r'data-testid="datasets">(.*?)</ul>', html, re.S).group(1)
    assert "cbam_factor:" not in datasets and "CBAM factor schedule:" in datasets
    assert "2023/959 2023/959" not in datasets
    why = re.search(r'data-testid="why">(.*?)</ol>', html, re.S).group(1)
    assert "dataset cscf" not in why and "CSCF dataset" not in why
    for shown in re.findall(r'data-testid="step-result">= (?:<span class="num" title="[^"]+">)?([^<]+)', why):
        assert len(shown.partition(".")[2]) <= 5, shown
    assert reverse("declarations:carbon_price_group", args=[draft.pk, group.pk]) in html
    assert html.count("Source of emissions") == 1  # the field's label only


def test_the_override_step_ends_without_a_meaningless_result(draft, personas):
    group = draft.groups.get(cn_code="76011010")
    services.declaration_group_override(
        actor=Actor(user=personas.preparer),
        declaration=draft,
        group_id=group.pk,
        source="default",
        reason="Report not verified yet.",
    )
    group = draft.groups.get(cn_code="76011010")  # the recalculation writes the groups anew
    html = (
        login(personas.viewer, personas.organisation)
        .get(reverse("declarations:declaration_group", args=[draft.pk, group.pk]))
        .content.decode()
    )

    first = re.search(r'data-testid="why">\s*<li(.*?)</li>', html, re.S).group(1)
    assert "dataset:" not in re.search(r'data-testid="why">(.*?)</ol>', html, re.S).group(1)
    assert "Default values chosen by the declarant" in first and "step-result" not in first
    source = re.search(r'data-testid="source">(.*?)</dd>', html, re.S).group(1)
    assert "Default values" in source
    assert reverse("declarations:carbon_price_group", args=[draft.pk, group.pk]) not in html


def test_swapped_reference_datasets_are_named_not_listed_whole():
    group = {
        "status": "changed",
        "fields": {
            "datasets": {
                "before": "benchmarks#4, cbam_factor#5, cn_goods#1",
                "after": "benchmarks#4, cbam_factor#5, cn_goods#1, default_values#2",
            }
        },
    }
    (row,) = change_rows(group)
    assert row["before"] is None
    assert row["after"] == "Default values (IR 2025/2621 Annex I) #2"


def test_a_large_declaration_shows_its_groups_a_page_at_a_time_with_the_totals_of_all(
    reference_data, personas, monkeypatch  # noqa: F811
):
    from declarations.views import declarations as views

    for quarter_month in (2, 5, 8):  # three quarters: three groups of the same good
        add_line(personas.organisation, day=dt.date(2026, quarter_month, 10))
    declaration = services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )
    assert declaration.groups.count() == 3
    monkeypatch.setattr(views, "GROUPS_PER_PAGE", 2)
    client = login(personas.viewer)
    url = reverse("declarations:declaration_detail", args=[declaration.pk])

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()

    assert first.count('data-testid="why"') == 2 and second.count('data-testid="why"') == 1
    assert "Groups 1–2 of 3" in first and "Groups 3–3 of 3" in second
    assert "<td>Q1</td>" in first and "<td>Q2</td>" in first and "<td>Q3</td>" in second  # CN, country, quarter order
    assert "<td>Q3</td>" not in first
    total = 'data-testid="total-certificates"'
    assert total in first and first.split(total)[1][:80] == second.split(total)[1][:80]  # totals of every group
