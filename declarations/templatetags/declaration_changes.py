"""The "what changed in the last recalculation" panel of the declaration page."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from ..selectors.changes import declaration_change_latest
from .declaration_format import (
    CERTIFICATE_PLACES,
    T_CO2E_PLACES,
    TONNES_PLACES,
    dataset_kind_label,
    display_number,
    source_short,
)

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

#: Display precision per compared number, as on the declaration page (money grouped by thousands).
FIELD_PLACES = {
    "mass_tonnes": TONNES_PLACES,
    "quantity_tonnes": TONNES_PLACES,
    "see_used": 5,
    "embedded_t_co2e": T_CO2E_PLACES,
    "carbon_price_deduction": T_CO2E_PLACES,
    "certificates": CERTIFICATE_PLACES,
    "cost_eur": 2,
    "price_eur": 2,
}
MONEY_FIELDS = {"cost_eur", "price_eur"}
#: What an added or removed group shows: its size, not every number it has.
SUMMARY_FIELDS = ("source", "mass_tonnes", "certificates", "cost_eur")

CAUSE_LABELS = {
    "lines": _("import lines (quantities, goods added or removed)"),
    "report": _("operator data (source or SEE)"),
    "reference": _("reference data (dataset versions or certificate price)"),
    "claim": _("carbon price claims"),
}


@register.filter
def change_field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def change_value(name: str, value) -> str | None:
    """A compared value as the declaration page shows it (None stays None: "—")."""
    if value is None or value == "":
        return None
    if name == "source":
        return source_short(value)
    if name == "report_id":
        return f"#{value}"
    if name not in FIELD_PLACES:
        return str(value)
    return display_number(value, FIELD_PLACES[name], grouped=name in MONEY_FIELDS)


def _delta_text(name: str, delta) -> str:
    text = change_value(name, delta)
    if text is None or name not in FIELD_PLACES:
        return ""
    if text.startswith("-") or not any(c in "123456789" for c in text):
        return text
    return f"+{text}"


def _dataset_names(text) -> list[str]:
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def _dataset_text(names: list[str]) -> str | None:
    """'cbam_factor#5' -> 'CBAM factor schedule #5'."""
    shown = []
    for name in names:
        kind, _hash, pk = name.partition("#")
        shown.append(f"{dataset_kind_label(kind)} #{pk}" if pk else dataset_kind_label(kind))
    return "; ".join(shown) or None


def _datasets_row(pair: dict) -> tuple[str | None, str | None]:
    """Only the datasets that were swapped: the ones left on the before side, the new on the after side."""
    before, after = _dataset_names(pair.get("before")), _dataset_names(pair.get("after"))
    return (
        _dataset_text([n for n in before if n not in after]),
        _dataset_text([n for n in after if n not in before]),
    )


@register.filter
def change_rows(group: dict) -> list[dict]:
    """The rows of one group in the change table: only what moved; for a group added or removed,
    its source, quantity, certificates and cost."""
    fields = group.get("fields") or {}
    names = list(fields)
    if group.get("status") in ("added", "removed"):
        names = [n for n in SUMMARY_FIELDS if n in fields]
    rows = []
    for name in names:
        pair = fields[name] or {}
        if name == "datasets":
            before, after = _datasets_row(pair)
            rows.append(
                {
                    "name": name,
                    "label": change_field_label(name),
                    "before": before,
                    "after": after,
                    "delta": "",
                }
            )
            continue
        rows.append(
            {
                "name": name,
                "label": change_field_label(name),
                "before": change_value(name, pair.get("before")),
                "after": change_value(name, pair.get("after")),
                "delta": _delta_text(name, pair.get("delta")) if pair.get("delta") not in (None, "") else "",
            }
        )
    return rows


@register.filter
def change_total(pair: dict, name: str) -> dict:
    """One line of the totals table, formatted like the page."""
    pair = pair or {}
    return {
        "before": change_value(name, pair.get("before")),
        "after": change_value(name, pair.get("after")),
        "delta": _delta_text(name, pair.get("delta")) if pair.get("delta") not in (None, "") else "",
    }


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
