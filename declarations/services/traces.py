"""The "why?" of declaration groups: every step behind their numbers (rule, inputs, result).

A draft is recalculated whenever its inputs change and stores no trace: writing some kilobytes of
JSON per group would be most of the cost of a recalculation, for steps that are read group by
group. The trace of a draft group is derived here, when asked for, by the same engine and from
the same inputs as its numbers (:class:`~.declarations.Computation`). When the declaration goes
to review its groups are recalculated once more with their traces stored
(:func:`~.declarations.declaration_submit_for_review`), so that what is reviewed, approved and
filed keeps the steps it was computed with.

Should the inputs have changed since the last recalculation of a draft (the job that follows the
change is under way), the derived steps show the current inputs, and a first step says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from ..assessment import decimal_text
from ..models import Declaration, DeclarationGroup
from .changes import STORED
from .declarations import Computation, _trace_dicts, stored_group_key

#: Below this many groups to derive, only their lines are read; above, the whole declaration's.
NARROW_UP_TO = 500
#: Numbers compared between a group as stored and as derived again.
_COMPARED = ("embedded_t_co2e", "certificates", "cost_eur")
_RULE_PENDING = "Reg (EU) 2023/956 Art 6(2); the draft is recalculated whenever its inputs change"


def _lines_of(groups: list[DeclarationGroup]) -> Q:
    """The import lines that can belong to ``groups``: their CN codes and installations."""
    installations = {g.installation_id for g in groups}
    ids = {i for i in installations if i is not None}
    where = Q(installation_id__in=ids) if ids else Q(pk__in=[])
    if None in installations:
        where |= Q(installation__isnull=True)
    return Q(cn_code__in={g.cn_code for g in groups}) & where


def _moved(group: DeclarationGroup, values: dict) -> list[str]:
    """The compared numbers that differ between ``group`` as stored and as derived again."""
    moved = []
    for name in _COMPARED:
        stored, now = getattr(group, name) or Decimal(0), values[name] or Decimal(0)
        # The stored numbers keep 6 decimal places (and, on SQLite, pass through a float).
        if abs(stored - now) > STORED + abs(now) * Decimal("1e-12"):
            moved.append(f"{name}: {decimal_text(stored)} → {decimal_text(now.quantize(STORED))}")
    return moved


def _pending_step(moved: list[str]) -> dict:
    return {
        "rule": _RULE_PENDING,
        "description": _(
            "The inputs of this group changed after the draft was last calculated: the steps below "
            "use the current inputs, and the declaration is being recalculated."
        ),
        "inputs": {f"changed {i + 1}": text for i, text in enumerate(moved)},
        "result": None,
    }


def _gone_step() -> dict:
    return {
        "rule": _RULE_PENDING,
        "description": _(
            "The import lines of this group changed after the draft was last calculated, and no "
            "longer form it: the declaration is being recalculated."
        ),
        "inputs": {},
        "result": None,
    }


class TraceDeriver:
    """The traces of groups of one declaration, one group at a time: as stored where frozen, else
    derived from the current inputs, read once on the first group that needs it (the line groups
    of ``narrow_to`` only, when given and no more than :data:`NARROW_UP_TO`; else every line of
    the declaration). An export walks tens of thousands of groups with this, holding one trace at
    a time instead of all of them."""

    def __init__(self, declaration: Declaration, *, narrow_to: list[DeclarationGroup] | None = None):
        self.declaration = declaration
        self.narrow_to = narrow_to
        self._computation: Computation | None = None
        self._line_groups: dict[tuple, object] = {}

    def _read(self) -> Computation:
        wanted = [g for g in self.narrow_to or [] if g.trace is None]
        narrow = self.narrow_to is not None and len(wanted) <= NARROW_UP_TO
        self._computation = Computation.read(self.declaration, lines=_lines_of(wanted) if narrow else None)
        self._line_groups = {line_group.group_key: line_group for line_group in self._computation.groups}
        return self._computation

    def __call__(self, group: DeclarationGroup) -> list[dict]:
        if group.trace is not None:
            return group.trace
        computation = self._computation or self._read()
        line_group = self._line_groups.get(stored_group_key(group))
        if line_group is None:
            return [_gone_step()]
        values = computation.values(line_group, override_source=group.override_source)
        steps = _trace_dicts(values["trace"], computation.reference)
        moved = _moved(group, values)
        return [_pending_step(moved), *steps] if moved else steps


def declaration_group_traces(
    declaration: Declaration, groups: Iterable[DeclarationGroup]
) -> dict[int, list[dict]]:
    """The trace of each of ``groups`` (of ``declaration``) by primary key: as stored where it
    was frozen, else derived from the current inputs (a fixed number of queries for them all)."""
    groups = list(groups)
    derive = TraceDeriver(declaration, narrow_to=groups)
    return {group.pk: derive(group) for group in groups}


def declaration_group_trace(group: DeclarationGroup) -> list[dict]:
    """The trace of one group (see :func:`declaration_group_traces`)."""
    return declaration_group_traces(group.declaration, [group])[group.pk]
