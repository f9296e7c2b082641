"""Template filters of the historic quarterly report pages."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def reported(value) -> str:
    """A reported number as written in the report: no trailing zeros added by storage."""
    if value is None or value == "":
        return "–"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


@register.filter
def qualifying_summary(methods) -> str:
    """'P11 Primary Al: EQP08 = 7 (direct), EQP08 = 9 (indirect)' for each production method."""
    parts = []
    for method in methods or []:
        params = [f"{p['id']} = {p['value']} ({_('direct')})" for p in method.get("direct", [])]
        params += [f"{p['id']} = {p['value']} ({_('indirect')})" for p in method.get("indirect", [])]
        label = " ".join(filter(None, [method.get("method_id"), method.get("method_name")]))
        parts.append(f"{label}: {', '.join(params)}" if params else label)
    return "; ".join(parts)


@register.filter
def carbon_price_summary(prices) -> str:
    """'01 TR: 500.519 USD (460.5 EUR)' for each carbon price due."""
    return "; ".join(
        f"{p.get('instrument_type', '')} {p.get('country', '')}: {p.get('amount', '')} {p.get('currency', '')}"
        f" ({p.get('amount_eur', '')} EUR)"
        for p in prices or []
    )
