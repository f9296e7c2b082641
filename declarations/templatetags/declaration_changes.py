"""The "what changed in the last recalculation" panel of the declaration page."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from ..selectors.changes import declaration_change_latest

register = template.Library()

#: Entries shown in the panel; the full list is on the change page.
PANEL_GROUPS = 20

FIELD_LABELS = {
    "source": _("source"),
    "report_id": _("report"),
    "error": _("calculation error"),
    "mass_tonnes": _("quantity"),
    "see_used": _("SEE used"),
    "embedded_t_co2e": _("embedded (tCO2e)"),
    "carbon_price_deduction": _("carbon price deduction (tCO2e)"),
    "certificates": _("certificates"),
    "cost_eur": _("cost (EUR)"),
    "price_eur": _("certificate price (EUR)"),
    "datasets": _("reference datasets"),
    "quantity_tonnes": _("quantity"),
}

CAUSE_LABELS = {
    "lines": _("import lines (quantities, goods added or removed)"),
    "report": _("operator data (source or SEE)"),
    "reference": _("reference data (dataset versions or certificate price)"),
    "claim": _("carbon price claims"),
}


@register.filter
def change_field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


@register.filter
def change_cause_label(name: str) -> str:
    return CAUSE_LABELS.get(name, name)


@register.inclusion_tag("declarations/declaration/_last_change.html")
def last_change_panel(declaration):
    change = declaration_change_latest(declaration)
    groups = change.differences.get("groups", []) if change is not None else []
    return {
        "declaration": declaration,
        "change": change,
        "groups": groups[:PANEL_GROUPS],
        "more": max(len(groups) - PANEL_GROUPS, 0)
        + (change.differences.get("groups_left_out", 0) if change else 0),
    }
