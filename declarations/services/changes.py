"""Writes: what a recalculation of a declaration changed.

Every recalculation of a draft (:func:`declarations.services.declarations._compute_into`) takes a
picture of the groups before it replaces them and compares it with the groups it wrote, in the
same transaction. The comparison is kept as one :class:`DeclarationChange` row: per group key
(CN code, country, installation, quarter) the source, quantity, SEE used, embedded emissions,
carbon price deduction, certificates and cost before and after, the groups added and removed,
the declaration totals before and after, and what started the recalculation (job, person, which
input). Identical recalculations in a row are counted on one "no change" row rather than stored
again, so the history lists what moved.

What started a recalculation is set by the caller with :func:`recompute_cause`; the numbers
themselves also say what moved (``causes``): lines (quantities, groups added or removed), shared
reports (source or report), reference data (dataset versions, certificate price) or a carbon
price claim (deduction).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ..assessment import decimal_text
from ..models import ChangeTrigger, Declaration, DeclarationChange

ZERO = Decimal(0)
STORED = Decimal("0.000001")  # the precision the groups are stored with (decimal_places=6)
#: Entries kept in one change set; the counters always hold the full numbers.
MAX_GROUP_ENTRIES = 1000

#: The group key; from 2027 groups of a quarter are also split by certificate-price period (week).
KEY_FIELDS = ("cn_code", "country", "installation_id", "quarter", "price_period_start")
#: Numbers compared per group, with the cause a difference points to.
NUMBER_FIELDS = {
    "mass_tonnes": "lines",
    "see_used": "report",
    "embedded_t_co2e": "",
    "carbon_price_deduction": "claim",
    "certificates": "",
    "cost_eur": "",
    "price_eur": "reference",
}
TEXT_FIELDS = {"source": "report", "report_id": "report", "error": ""}
TOTAL_FIELDS = ("quantity_tonnes", "embedded_t_co2e", "certificates", "cost_eur")


@dataclass(frozen=True)
class RecomputeCause:
    trigger: str
    actor_id: int | None = None
    job_id: int | None = None


_cause: ContextVar[RecomputeCause | None] = ContextVar("declaration_recompute_cause", default=None)


@contextlib.contextmanager
def recompute_cause(*, trigger: str, actor=None, job=None) -> Iterator[None]:
    """Name what started the recalculations run inside the block (a job, a person, an input)."""
    if trigger not in ChangeTrigger.values:
        trigger = ChangeTrigger.INPUTS
    user = getattr(actor, "user", actor)
    token = _cause.set(
        RecomputeCause(
            trigger=trigger,
            actor_id=getattr(user, "pk", None),
            job_id=getattr(job, "pk", job if isinstance(job, int) else None),
        )
    )
    try:
        yield
    finally:
        _cause.reset(token)


def _number(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(STORED)


def group_key_text(values: dict) -> str:
    return "|".join("" if values.get(f) is None else str(values.get(f)) for f in KEY_FIELDS)


def declaration_state(*, declaration: Declaration) -> dict:
    """The numbers of a declaration as they stand, per group key, in one query."""
    groups: dict[str, dict] = {}
    rows = declaration.groups.values(
        *KEY_FIELDS,
        "installation__name",
        *[f for f in TEXT_FIELDS if f != "source"],
        *NUMBER_FIELDS,
        "datasets",
    )
    for row in rows:
        key = group_key_text(row)
        entry = {
            "key": {f: (row[f].isoformat() if hasattr(row[f], "isoformat") else row[f]) for f in KEY_FIELDS},
            "installation": row["installation__name"] or "",
            # The source the numbers were computed with: an override is saved before the
            # recalculation, so the stored choice would already show the new source.
            "source": "actual" if row["report_id"] is not None else "default",
            "report_id": row["report_id"],
            "error": row["error"] or "",
            "datasets": sorted(
                f"{kind}#{d.get('id')}" for kind, d in (row["datasets"] or {}).items() if isinstance(d, dict)
            ),
            **{f: _number(row[f]) for f in NUMBER_FIELDS},
        }
        if key in groups:  # finer groups under one key: their numbers add up
            known = groups[key]
            for f in NUMBER_FIELDS:
                if f in ("see_used", "price_eur"):
                    continue
                known[f] = (known[f] or ZERO) + (entry[f] or ZERO)
        else:
            groups[key] = entry
    return {
        "computed": declaration.computed_at is not None,
        "groups": groups,
        "totals": {f: _number(getattr(declaration, f)) for f in TOTAL_FIELDS},
        "error": declaration.computation_error or "",
    }


def _pair(before, after) -> dict:
    pair = {
        "before": decimal_text(before) if isinstance(before, Decimal) else before,
        "after": decimal_text(after) if isinstance(after, Decimal) else after,
    }
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        pair["delta"] = decimal_text((after or ZERO) - (before or ZERO))
    return pair


def _label(entry: dict) -> str:
    key = entry["key"]
    code = key["cn_code"]
    cn = f"{code[:4]} {code[4:6]} {code[6:8]}" if len(code) == 8 else code
    period = f" · {key['price_period_start']}" if key.get("price_period_start") else ""
    where = f" · {entry['installation']}" if entry.get("installation") else ""
    return f"{cn} · {key['country']} · Q{key['quarter']}{period}{where}"


def _values(entry: dict, *, side: str) -> dict:
    fields = {}
    for f in ("source", *NUMBER_FIELDS):
        value = entry.get(f)
        fields[f] = _pair(value, None) if side == "before" else _pair(None, value)
        if f == "source":
            fields[f].pop("delta", None)
    return fields


def state_differences(before: dict, after: dict) -> dict:
    """Per group key: numbers that moved, groups added and removed, totals, and what moved."""
    old, new = before["groups"], after["groups"]
    entries: list[dict] = []
    causes: set[str] = set()
    counts = {"changed": 0, "added": 0, "removed": 0}
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        if was is None:
            counts["added"] += 1
            causes.add("lines")
            entries.append(
                {
                    "key": now["key"],
                    "label": _label(now),
                    "status": "added",
                    "fields": _values(now, side="after"),
                }
            )
            continue
        if now is None:
            counts["removed"] += 1
            causes.add("lines")
            entries.append(
                {
                    "key": was["key"],
                    "label": _label(was),
                    "status": "removed",
                    "fields": _values(was, side="before"),
                }
            )
            continue
        fields = {}
        for f, cause in (*TEXT_FIELDS.items(), *NUMBER_FIELDS.items()):
            if was.get(f) != now.get(f):
                fields[f] = _pair(was.get(f), now.get(f))
                if f in TEXT_FIELDS:
                    fields[f].pop("delta", None)
                if cause:
                    causes.add(cause)
        if was["datasets"] != now["datasets"]:
            fields["datasets"] = {"before": ", ".join(was["datasets"]), "after": ", ".join(now["datasets"])}
            causes.add("reference")
        if fields:
            counts["changed"] += 1
            entries.append({"key": now["key"], "label": _label(now), "status": "changed", "fields": fields})
    totals = {f: _pair(before["totals"][f], after["totals"][f]) for f in TOTAL_FIELDS}
    totals_moved = any(before["totals"][f] != after["totals"][f] for f in TOTAL_FIELDS)
    errors_moved = before["error"] != after["error"]
    changed = bool(entries) or totals_moved or errors_moved
    return {
        "changed": changed,
        "counts": counts,
        "causes": sorted(causes),
        "groups": entries,
        "totals": totals,
        "errors": {"before": before["error"], "after": after["error"]} if errors_moved else {},
    }


def declaration_change_record(*, declaration: Declaration, before: dict) -> DeclarationChange:
    """Compare the declaration with ``before`` and keep what changed (same transaction as the
    recalculation). Called by the recalculation itself, after the new groups are written."""
    after = declaration_state(declaration=declaration)
    diff = state_differences(before, after)
    cause = _cause.get() or RecomputeCause(trigger=ChangeTrigger.INPUTS)
    trigger = cause.trigger
    if not before["computed"] and trigger in (ChangeTrigger.INPUTS, ChangeTrigger.MANUAL):
        trigger = ChangeTrigger.CREATED
    now = timezone.now()
    if not diff["changed"]:
        latest = declaration.changes.order_by("-at", "-pk").first()
        if latest is not None and not latest.changed:
            latest.repeats += 1
            latest.last_at = now
            latest.save(update_fields=["repeats", "last_at"])
            return latest
    entries = diff["groups"]
    differences = {
        "groups": entries[:MAX_GROUP_ENTRIES],
        "groups_left_out": max(len(entries) - MAX_GROUP_ENTRIES, 0),
        "totals": diff["totals"],
        "errors": diff["errors"],
        "first_calculation": not before["computed"],
    }
    return DeclarationChange.objects.create(
        declaration=declaration,
        trigger=trigger,
        job_id=cause.job_id,
        actor_id=cause.actor_id,
        at=now,
        changed=diff["changed"],
        causes=diff["causes"],
        groups_changed=diff["counts"]["changed"],
        groups_added=diff["counts"]["added"],
        groups_removed=diff["counts"]["removed"],
        certificates_before=before["totals"]["certificates"] or ZERO,
        certificates_after=after["totals"]["certificates"] or ZERO,
        cost_eur_before=before["totals"]["cost_eur"] or ZERO,
        cost_eur_after=after["totals"]["cost_eur"] or ZERO,
        differences=differences,
    )
