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
import json
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import TextField
from django.db.models.functions import Cast
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


def stored_number(value: Decimal | None) -> Decimal | None:
    """``value`` as a PostgreSQL ``numeric(…, 6)`` column keeps it: rounded half away from zero."""
    if value is None:
        return None
    return value.quantize(STORED, rounding=ROUND_HALF_UP)


def group_key_text(values: dict) -> str:
    return "|".join("" if values.get(f) is None else str(values.get(f)) for f in KEY_FIELDS)


#: What the state reads of each group, in this order (and the group's datasets).
STATE_FIELDS = (*KEY_FIELDS, "installation__name", "report_id", "error", *NUMBER_FIELDS)
_KEY_COUNT = len(KEY_FIELDS)
_NAME_AT = _KEY_COUNT
_REPORT_AT, _ERROR_AT = _KEY_COUNT + 1, _KEY_COUNT + 2
_NUMBERS_AT = _KEY_COUNT + 3
_ADDED_UP = tuple(f not in ("see_used", "price_eur") for f in NUMBER_FIELDS)


def _dataset_labels(datasets: dict | None) -> list[str]:
    return sorted(f"{kind}#{d.get('id')}" for kind, d in (datasets or {}).items() if isinstance(d, dict))


class _GroupState:
    """One group key's numbers as compared between two states; :meth:`entry` gives them as a dict
    (only for the groups that differ, so that a large unchanged declaration stays cheap)."""

    __slots__ = ("datasets", "error", "installation", "key_values", "numbers", "report_id")

    def __init__(self, key_values, installation, report_id, error, numbers, datasets) -> None:
        self.key_values = key_values
        self.installation = installation or ""
        self.report_id = report_id
        self.error = error or ""
        self.numbers = numbers
        self.datasets = datasets

    def same_as(self, other: _GroupState) -> bool:
        return (
            self.report_id == other.report_id
            and self.error == other.error
            and self.numbers == other.numbers
            and self.datasets == other.datasets
        )

    def entry(self) -> dict:
        entry = {
            "key": {
                f: (v.isoformat() if hasattr(v, "isoformat") else v)
                for f, v in zip(KEY_FIELDS, self.key_values, strict=True)
            },
            "installation": self.installation,
            # The source the numbers were computed with: an override is saved before the
            # recalculation, so the stored choice would already show the new source.
            "source": "actual" if self.report_id is not None else "default",
            "report_id": self.report_id,
            "error": self.error,
            "datasets": self.datasets,
        }
        entry.update(zip(NUMBER_FIELDS, self.numbers, strict=True))
        return entry


def _state_groups(
    rows: Iterable[tuple],
    datasets_of: Callable[[object], list[str]],
    number: Callable[[object], Decimal | None] | None = _number,
) -> dict[str, _GroupState]:
    """Per group key text, the state of ``rows`` (tuples of :data:`STATE_FIELDS` then the
    datasets, as ``datasets_of`` reads them; numbers as ``number`` reads them, None: as they are)."""
    groups: dict[str, _GroupState] = {}
    for row in rows:
        key_values = row[:_KEY_COUNT]
        key = "|".join(["" if v is None else str(v) for v in key_values])
        numbers = row[_NUMBERS_AT:-1]
        numbers = list(numbers) if number is None else [number(v) for v in numbers]
        known = groups.get(key)
        if known is not None:  # finer groups under one key: their numbers add up
            known.numbers = [
                ((was or ZERO) + (value or ZERO)) if adds else was
                for was, value, adds in zip(known.numbers, numbers, _ADDED_UP, strict=True)
            ]
            continue
        groups[key] = _GroupState(
            key_values, row[_NAME_AT], row[_REPORT_AT], row[_ERROR_AT], numbers, datasets_of(row[-1])
        )
    return groups


def declaration_state(*, declaration: Declaration, groups: Iterable[tuple] | None = None) -> dict:
    """The numbers of a declaration as they stand, per group key, in one query.

    ``groups`` gives the groups just written instead of reading them back: tuples of
    :data:`STATE_FIELDS` with numbers as the database keeps them (:func:`stored_number`) and the
    ``datasets`` dict last. The datasets are otherwise read as text and each distinct text parsed once.
    """
    if groups is None:
        rows = (
            declaration.groups.annotate(datasets_text=Cast("datasets", TextField()))
            .values_list(*STATE_FIELDS, "datasets_text")
            .order_by("pk")  # the order they were written in
        )
        parsed: dict[str | None, list[str]] = {}

        def datasets_of(text):
            labels = parsed.get(text)
            if labels is None:
                labels = parsed[text] = _dataset_labels(json.loads(text) if text else None)
            return labels

        state = _state_groups(rows.iterator(chunk_size=5000), datasets_of)
    else:
        seen: dict[int, tuple[object, list[str]]] = {}

        def datasets_of(datasets):
            known = seen.get(id(datasets))
            if known is None or known[0] is not datasets:
                known = seen[id(datasets)] = (datasets, _dataset_labels(datasets))
            return known[1]

        state = _state_groups(groups, datasets_of, number=None)  # already as stored
    return {
        "computed": declaration.computed_at is not None,
        "groups": state,
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
        if was is not None and now is not None and was.same_as(now):
            continue
        was = was.entry() if was is not None else None
        now = now.entry() if now is not None else None
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


def declaration_change_record(
    *, declaration: Declaration, before: dict, groups: Iterable[tuple] | None = None
) -> DeclarationChange:
    """Compare the declaration with ``before`` and keep what changed (same transaction as the
    recalculation). Called by the recalculation itself, after the new groups are written;
    ``groups`` are those groups as :func:`declaration_state` takes them (else they are read back)."""
    after = declaration_state(declaration=declaration, groups=groups)
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
