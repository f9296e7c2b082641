"""Writes: what a recalculation of a declaration changed.

Every recalculation of a draft (:func:`declarations.services.declarations._compute_into`) writes
the new groups beside the old ones, compares the two sets in one SQL query (only the groups that
differ come back to Python) and then deletes the old ones, in the same transaction. The
comparison is kept as one :class:`DeclarationChange` row: per group key
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
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from cbam_portal.core.db import postgresql_settings
from emissions.models import Installation

from ..assessment import decimal_text
from ..models import ChangeTrigger, Declaration, DeclarationChange, DeclarationGroup

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


#: What the comparison query gives of each side of a group, in this order (then its datasets).
STATE_FIELDS = (*KEY_FIELDS, "installation_name", "report_id", "error", *NUMBER_FIELDS)
_KEY_COUNT = len(KEY_FIELDS)
_NAME_AT = _KEY_COUNT
_REPORT_AT, _ERROR_AT = _KEY_COUNT + 1, _KEY_COUNT + 2
_NUMBERS_AT = _KEY_COUNT + 3


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
) -> dict[str, _GroupState]:
    """Per group key text, the state of ``rows`` (tuples of :data:`STATE_FIELDS` then the
    datasets, as ``datasets_of`` reads them)."""
    groups: dict[str, _GroupState] = {}
    for row in rows:
        key_values = row[:_KEY_COUNT]
        key = "|".join(["" if v is None else str(v) for v in key_values])
        groups[key] = _GroupState(
            key_values,
            row[_NAME_AT],
            row[_REPORT_AT],
            row[_ERROR_AT],
            [_number(v) for v in row[_NUMBERS_AT:-1]],
            datasets_of(row[-1]),
        )
    return groups


def declaration_totals(declaration: Declaration) -> dict:
    """The totals of a declaration as they stand; its groups are compared in SQL once the new
    ones are written (:func:`declaration_change_record`)."""
    return {
        "computed": declaration.computed_at is not None,
        "totals": {f: _number(getattr(declaration, f)) for f in TOTAL_FIELDS},
        "error": declaration.computation_error or "",
    }


def _differences_sql() -> str:
    """SQL comparing the groups of one declaration, the older ones (``id`` up to a bound) with
    the newer ones, per group key: only the keys whose numbers, report, error or datasets differ,
    or that one side lacks. The groups that did not change never travel to Python. (A key names
    one group: the lines are summed per key, :func:`~declarations.services.declarations.line_groups`.)"""
    quote = connection.ops.quote_name
    group_meta, installation_meta = DeclarationGroup._meta, Installation._meta
    column = {f.name: quote(f.column) for f in group_meta.concrete_fields}
    compared = {"report": column["report"], "error": column["error"], **{f: column[f] for f in NUMBER_FIELDS}}
    side = ", ".join(
        [
            f"g.{column['id']}",
            *(
                f"g.{column[f]}"
                for f in ("cn_code", "country", "installation", "quarter", "price_period_start")
            ),
            *(f"g.{c} AS {name}" for name, c in compared.items()),
            f"CAST(g.{column['datasets']} AS TEXT) AS datasets",
            f"i.{quote(installation_meta.get_field('name').column)} AS installation_name",
        ]
    )
    keys = [column[f] for f in ("cn_code", "country", "quarter")]
    on = [
        *(f"o.{k} = n.{k}" for k in keys),
        f"COALESCE(o.{column['installation']}, 0) = COALESCE(n.{column['installation']}, 0)",
        f"COALESCE(o.{column['price_period_start']}, '0001-01-01') = "
        f"COALESCE(n.{column['price_period_start']}, '0001-01-01')",
    ]
    differ = [
        f"o.{column['id']} IS NULL",
        f"n.{column['id']} IS NULL",
        "o.error <> n.error",
        *(f"o.{name} IS DISTINCT FROM n.{name}" for name in compared if name != "error"),
        "o.datasets <> n.datasets",  # then compared in Python as labels: kinds and ids
    ]
    state = [
        *(column[f] for f in ("cn_code", "country", "installation", "quarter", "price_period_start")),
        "installation_name",
        *compared,
        "datasets",
    ]
    installations = f"{quote(installation_meta.db_table)} i ON i.{quote(installation_meta.pk.column)}"
    table, declaration = quote(group_meta.db_table), column["declaration"]
    return f"""
        SELECT {", ".join(f"o.{c}" for c in state)}, {", ".join(f"n.{c}" for c in state)}
        FROM (
            SELECT {side} FROM {table} g LEFT JOIN {installations} = g.{column["installation"]}
            WHERE g.{declaration} = %(declaration)s AND g.{column["id"]} <= %(previous)s
        ) o
        FULL OUTER JOIN (
            SELECT {side} FROM {table} g LEFT JOIN {installations} = g.{column["installation"]}
            WHERE g.{declaration} = %(declaration)s AND g.{column["id"]} > %(previous)s
        ) n ON {" AND ".join(on)}
        WHERE {" OR ".join(differ)}
    """  # noqa: S608 (names from the models' metadata, values as parameters)


def _differing_groups(declaration: Declaration, previous_up_to: int) -> tuple[dict, dict]:
    """Before and after: the states of the groups that differ between the older groups of
    ``declaration`` (``id`` up to ``previous_up_to``) and the newer ones, in one query."""
    parsed: dict[object, list[str]] = {}

    def datasets_of(text):
        labels = parsed.get(text)
        if labels is None:
            labels = parsed[text] = _dataset_labels(json.loads(text) if text else None)
        return labels

    # The groups were just written: their statistics are not known yet, and a merge join of two
    # sorted sides would cost several times the hash join.
    with (
        postgresql_settings(work_mem="64MB", jit="off", enable_mergejoin="off"),
        connection.cursor() as cursor,
    ):
        cursor.execute(_differences_sql(), {"declaration": declaration.pk, "previous": previous_up_to})
        rows = cursor.fetchall()
    width = len(STATE_FIELDS) + 1  # the key, installation name, report, error, numbers and datasets
    old = _state_groups((r[:width] for r in rows if r[0] is not None), datasets_of)
    new = _state_groups((r[width:] for r in rows if r[width] is not None), datasets_of)
    return old, new


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


def _causes(was: _GroupState, now: _GroupState) -> set[str]:
    """What the differences between two states of one group point to (:data:`NUMBER_FIELDS`)."""
    causes = {"report"} if was.report_id != now.report_id else set()
    for cause, before, after in zip(NUMBER_FIELDS.values(), was.numbers, now.numbers, strict=True):
        if cause and before != after:
            causes.add(cause)
    if was.datasets != now.datasets:
        causes.add("reference")
    return causes


def state_differences(before: dict, after: dict, *, limit: int | None = None) -> dict:
    """Per group key: numbers that moved, groups added and removed, totals, and what moved.
    Every group counts; only the first ``limit`` (in key order) are listed."""
    old, new = before["groups"], after["groups"]
    entries: list[dict] = []
    causes: set[str] = set()
    counts = {"changed": 0, "added": 0, "removed": 0}
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        if was is not None and now is not None and was.same_as(now):
            continue
        status = "added" if was is None else "removed" if now is None else "changed"
        counts[status] += 1
        causes |= {"lines"} if status != "changed" else _causes(was, now)
        if limit is not None and len(entries) >= limit:
            continue  # counted, not listed
        was = was.entry() if was is not None else None
        now = now.entry() if now is not None else None
        if was is None:
            entries.append(
                {"key": now["key"], "label": _label(now), "status": "added", "fields": _values(now, side="after")}
            )
            continue
        if now is None:
            entries.append(
                {"key": was["key"], "label": _label(was), "status": "removed", "fields": _values(was, side="before")}
            )
            continue
        fields = {}
        for f in (*TEXT_FIELDS, *NUMBER_FIELDS):
            if was.get(f) != now.get(f):
                fields[f] = _pair(was.get(f), now.get(f))
                if f in TEXT_FIELDS:
                    fields[f].pop("delta", None)
        if was["datasets"] != now["datasets"]:
            fields["datasets"] = {"before": ", ".join(was["datasets"]), "after": ", ".join(now["datasets"])}
        entries.append({"key": now["key"], "label": _label(now), "status": "changed", "fields": fields})
    totals = {f: _pair(before["totals"][f], after["totals"][f]) for f in TOTAL_FIELDS}
    totals_moved = any(before["totals"][f] != after["totals"][f] for f in TOTAL_FIELDS)
    errors_moved = before["error"] != after["error"]
    changed = any(counts.values()) or totals_moved or errors_moved
    return {
        "changed": changed,
        "counts": counts,
        "causes": sorted(causes),
        "groups": entries,
        "totals": totals,
        "errors": {"before": before["error"], "after": after["error"]} if errors_moved else {},
    }


def declaration_change_record(
    *, declaration: Declaration, before: dict, previous_up_to: int
) -> DeclarationChange:
    """Compare the declaration with ``before`` (:func:`declaration_totals`, taken before the
    recalculation) and keep what changed, in the same transaction. Called by the recalculation
    itself once the new groups are written and before the old ones (``id`` up to
    ``previous_up_to``) are deleted: the two sets of groups are compared in SQL."""
    old, new = _differing_groups(declaration, previous_up_to)
    before = {**before, "groups": old}
    after = {**declaration_totals(declaration), "groups": new}
    diff = state_differences(before, after, limit=MAX_GROUP_ENTRIES)
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
        "groups": entries,
        "groups_left_out": sum(diff["counts"].values()) - len(entries),
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
