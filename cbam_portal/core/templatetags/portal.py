"""Template helpers shared by every page: `{% load portal %}`."""

from __future__ import annotations

import json
from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

from cbam_portal.accounts.policy import Capability

from ..jobs import job_label as _job_label
from ..jobs import job_summary as _job_summary

register = template.Library()


@register.filter
def can(access, capability: str) -> bool:
    """`{% if access|can:"view_audit" %}`: whether the active access has a capability."""
    if access is None:
        return False
    try:
        return access.can(Capability(capability))
    except ValueError:
        return False


@register.filter
def job_label(kind: str) -> str:
    return _job_label(kind)


@register.filter
def job_summary(job) -> str:
    return _job_summary(job)


@register.filter
def duration(value: timedelta | None) -> str:
    """A short, readable duration: "0.4 s", "12 s", "3 min 05 s", "2 h 01 min"."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 10:
        return _("%(s).1f s") % {"s": seconds}
    whole = int(seconds)
    if whole < 60:
        return _("%(s)d s") % {"s": whole}
    if whole < 3600:
        return _("%(m)d min %(s)02d s") % {"m": whole // 60, "s": whole % 60}
    return _("%(h)d h %(m)02d min") % {"h": whole // 3600, "m": (whole % 3600) // 60}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def audit_diff(event) -> list[dict]:
    """The fields of an event's before/after snapshots, side by side, changed ones flagged."""
    before = event.before if isinstance(event.before, dict) else ({} if event.before is None else {"": event.before})
    after = event.after if isinstance(event.after, dict) else ({} if event.after is None else {"": event.after})
    rows = []
    for key in sorted(set(before) | set(after)):
        rows.append(
            {
                "field": key,
                "before": _cell(before.get(key)) if key in before else None,
                "after": _cell(after.get(key)) if key in after else None,
                "changed": before.get(key) != after.get(key) or (key in before) != (key in after),
            }
        )
    return rows


@register.simple_tag(takes_context=True)
def nav_active(context, *names: str) -> str:
    """`active` when the current page's URL name (`namespace:name` or `namespace:*`) is one of `names`."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    current = match.view_name
    for name in names:
        if name == current or (name.endswith(":*") and current.startswith(name[:-1])):
            return "active"
    return ""


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[dict]:
    """The domain apps' menu entries visible to the active access, with URL and active state."""
    from django.urls import NoReverseMatch, reverse

    from ..navigation import nav_items_for

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    items = []
    for item in nav_items_for(context.get("access")):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # a page not wired up (yet) never breaks every other page
        items.append({"label": item.label, "url": url, "active": "active" if item.is_active(view_name) else ""})
    return items
