"""Writes: the annual CBAM declaration of an importer — drafting, computing, review and filing.

The declaration groups the importer's in-scope customs lines of the year by CN code, country
(of production, else of origin), installation and quarter of release, and computes each group
with the same engine as the quick assessment (:func:`declarations.assessment.assess_good`, which
feeds :func:`declarations.liability.group_obligation`):

- actual data when a submitted or verified report of the installation for the year, shared with
  the importer by an active grant, has a result for the CN code; default values with the year's
  mark-up otherwise ([R956] Art 7(2), Annex IV pt 4.1; [IR2621] Annex I);
- returned goods count with zero embedded emissions ([R956] Art 6(5));
- certificates are floored at zero per group, never offset between goods ([QA] 4.32).

Workflow: draft → in review → approved (never by whoever prepared or submitted it) → filed
(frozen snapshot) → amended into the next version. Approved and filed declarations are immutable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    ForeignKey,
    IntegerField,
    JSONField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractQuarter, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation
from cbam_portal.core.actor import Actor
from cbam_portal.core.db import postgresql_settings
from cbam_portal.core.services import audit_record, job_enqueue
from cbam_portal.reference.models import CertificatePrice, DatasetKind
from emissions.models import EmissionsReport, GoodResult, ReportStatus, SharingGrant
from emissions.see import PrecursorShare, TraceStep

from ..assessment import (
    AssessmentError,
    AssessmentInput,
    _datasets_as_dict,
    assess_good,
    decimal_text,
    route_code,
)
from ..models import (
    GROUP_TABLE_ORDER,
    ChangeTrigger,
    Declaration,
    DeclarationComment,
    DeclarationGroup,
    DeclarationStatus,
    EmissionsSource,
    FiledGroup,
    ImportLine,
    Procedure,
)
from ..reference_cache import LiveReference, ReferenceSnapshot
from .carbon_prices import (
    carbon_price_claim_apply,
    carbon_price_claims_copy,
    carbon_price_claims_for_groups,
    carbon_price_claims_snapshot,
)
from .changes import KEY_FIELDS, declaration_change_record, declaration_totals, recompute_cause

ZERO = Decimal(0)
#: From 2027 the certificate price is the weekly average ([R956] Art 21(1) as amended by [OMN]).
WEEKLY_PRICES_FROM = 2027
#: Rows written per INSERT when a declaration's groups are replaced; from this many groups,
#: PostgreSQL gets them in one COPY instead (:class:`_GroupWriter`).
GROUP_BATCH_SIZE = 1000
#: Memory PostgreSQL may use for the line aggregation of a recomputation: with the default 4 MB
#: the sort of a million lines spills to disk; with this the groups are summed in an in-memory
#: hash table (2.1 s -> 1.6 s for a million lines and 54,000 groups, `make bench-declaration`).
LINE_AGGREGATION_WORK_MEM = "64MB"
RECOMPUTE_KIND = "declarations.declaration_recompute"
SHARED_STATUSES = (ReportStatus.SUBMITTED, ReportStatus.VERIFIED)
OPEN_STATUSES = (
    DeclarationStatus.DRAFT,
    DeclarationStatus.IN_REVIEW,
    DeclarationStatus.APPROVED,
    DeclarationStatus.FILED,
)
_RULE_RETURNED = (
    "Reg (EU) 2023/956 Art 6(5); Commission CBAM Q&A 7.20 (returned goods: zero embedded emissions)"
)
_RULE_ACTUAL_SOURCE = (
    "Reg (EU) 2023/956 Art 7(1), Art 10(5); [IR2547] Art 5 (actual data communicated by the operator)"
)
_RULE_OVERRIDE = (
    "Reg (EU) 2023/956 Art 7(2), Annex IV pt 4.1 (default values may be used instead of actual data)"
)
_RULE_OBLIGATION_SEE = (
    "[IR2547] Annex I point 3.1 (precursor cross-over); SEE computed by the operator's report"
)
_RULE_CARBON_PRICE = "Reg (EU) 2023/956 Art 9(1)–(3), (5) (as amended by Reg (EU) 2025/2083 Art 1(8))"
_RULE_WEEKLY_PRICE = (
    "Reg (EU) 2023/956 Art 21(1)–(2) (as amended by Reg (EU) 2025/2083): weekly price from 2027"
)

_Q = DecimalField(max_digits=20, decimal_places=6)


def _refuse(message: str, field: str | None = None) -> None:
    raise ValidationError({field: message} if field else message)


def _require_status(declaration: Declaration, *allowed: str, action: str) -> None:
    if declaration.status not in allowed:
        _refuse(
            _("This declaration is %(status)s: it cannot be %(action)s.")
            % {"status": declaration.get_status_display().lower(), "action": action}
        )


def _lock(declaration: Declaration) -> Declaration:
    return Declaration.objects.select_for_update().get(pk=declaration.pk)


def _state(declaration: Declaration) -> dict:
    return {"status": declaration.status, "version": declaration.version, "year": declaration.year}


# --------------------------------------------------------------------------------------------
# Inputs: import lines aggregated in SQL, reports shared with the importer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineGroup:
    """Summed import lines of one good (CN code, country, installation, quarter)."""

    cn_code: str
    country: str
    installation_id: int | None
    quarter: int
    mass_tonnes: Decimal
    functional_quantity: Decimal
    returned_tonnes: Decimal
    returned_functional: Decimal
    lines: int
    #: From 2027: the certificate-price period (calendar week) of release, None for 2026 and for
    #: imports whose price is not published yet ([R956] Art 21(1)).
    price_period_start: dt.date | None = None
    price_period_end: dt.date | None = None
    #: From 2027: the first and last release dates of the group (to explain a missing price).
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    @property
    def key(self) -> tuple:
        """CN code, country, installation and quarter (how claims are keyed)."""
        return (self.cn_code, self.country, self.installation_id, self.quarter)

    @property
    def group_key(self) -> tuple:
        """What tells one group from another: :attr:`key` and, from 2027, the price period."""
        return (*self.key, self.price_period_start)


def grouped_lines(*, organisation: Organisation, year: int):
    """The in-scope import lines of ``year`` with the key they are grouped by: ``group_country``
    (the country of production where recorded, else of origin) and ``group_quarter``."""
    return ImportLine.objects.filter(
        organisation=organisation,
        in_scope=True,
        released_on__gte=dt.date(year, 1, 1),
        released_on__lte=dt.date(year, 12, 31),
    ).annotate(
        group_country=Case(
            When(production_country="", then=F("origin_country")),
            default=F("production_country"),
            output_field=CharField(),
        ),
        group_quarter=ExtractQuarter("released_on"),
    )


def line_groups(*, organisation: Organisation, year: int, lines: Q | None = None) -> list[LineGroup]:
    """The in-scope lines of ``year`` (those matching ``lines`` too, if given) summed per CN code,
    country, installation and quarter, in one query.

    The country is the country of production where recorded, else the country of origin: default
    values are those of the country where the good was produced (Commission CBAM Q&A 7.21–7.22).
    From 2027 the certificate price is that of the calendar week ([R956] Art 21(1)): lines are also
    grouped by the period of the current certificate-price dataset that covers their release date
    (none where no price is loaded yet); the quarter stays recorded.
    """
    mass = Coalesce(F("net_mass_tonnes"), F("quantity_mwh"), Value(ZERO), output_field=_Q)
    functional = Coalesce(F("functional_unit_quantity"), Value(ZERO), output_field=_Q)
    returned = Q(procedure=Procedure.RETURNED_GOODS)
    keys = ["cn_code", "group_country", "installation_id", "group_quarter"]
    rows = grouped_lines(organisation=organisation, year=year)
    lines = rows.filter(lines) if lines is not None else rows
    extra = {}
    if year >= WEEKLY_PRICES_FROM:
        periods = CertificatePrice.objects.filter(
            dataset__kind=DatasetKind.CERTIFICATE_PRICES,
            dataset__is_current=True,
            period_start__lte=OuterRef("released_on"),
            period_end__gte=OuterRef("released_on"),
        ).order_by("period_start")
        lines = lines.annotate(
            price_start=Subquery(periods.values("period_start")[:1]),
            price_end=Subquery(periods.values("period_end")[:1]),
        )
        keys += ["price_start", "price_end"]
        extra = {"first_day": Min("released_on"), "last_day": Max("released_on")}
    rows = (
        lines.values(*keys)
        .annotate(
            mass=Sum(mass),
            functional=Sum(functional),
            returned_mass=Sum(mass, filter=returned),
            returned_functional=Sum(functional, filter=returned),
            lines=Count("pk"),
            **extra,
        )
        .order_by(*keys)
    )
    with postgresql_settings(work_mem=LINE_AGGREGATION_WORK_MEM, jit="off"):
        rows = list(rows)
    return [
        LineGroup(
            cn_code=r["cn_code"],
            country=r["group_country"],
            installation_id=r["installation_id"],
            quarter=int(r["group_quarter"]),
            mass_tonnes=r["mass"] or ZERO,
            functional_quantity=r["functional"] or ZERO,
            returned_tonnes=r["returned_mass"] or ZERO,
            returned_functional=r["returned_functional"] or ZERO,
            lines=int(r["lines"] or 0),
            price_period_start=r.get("price_start"),
            price_period_end=r.get("price_end"),
            first_day=r.get("first_day"),
            last_day=r.get("last_day"),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class SharedResult:
    report_id: int
    report_version: int
    report_status: str
    installation_id: int
    cn_code: str
    see_direct: Decimal
    see_indirect: Decimal
    see_obligation: Decimal | None
    route: str
    carbon_prices: tuple[str, ...] = ()
    #: Specific masses of the good's precursors, for the SEFA of a complex good ([IR2620] Annex 4).
    precursors: tuple[PrecursorShare, ...] = ()


def shared_results(
    *, organisation: Organisation, year: int, installation_ids
) -> dict[tuple[int, str], SharedResult]:
    """SEE per (installation, CN code) from the latest submitted or verified report of ``year``
    that the operator shares with ``organisation`` through an active grant ([R956] Art 10(5))."""
    ids = [i for i in installation_ids if i is not None]
    if not ids:
        return {}
    active_grant = SharingGrant.objects.filter(
        installation=OuterRef("report__installation"), declarant=organisation, revoked_at__isnull=True
    )
    results = (
        GoodResult.objects.filter(
            report__installation_id__in=ids, report__year=year, report__status__in=SHARED_STATUSES
        )
        .filter(Exists(active_grant))
        .select_related("report", "process")
        .only(  # not the results' and reports' traces: only what the declaration reads
            "report_id",
            "process_id",
            "cn_code",
            "see_direct",
            "see_indirect",
            "see_obligation",
            "precursors",
            "report__installation_id",
            "report__version",
            "report__status",
            "process__route",
        )
        .prefetch_related("report__carbon_prices")
        .order_by("report__installation_id", "cn_code", "-report__version", "-report__pk")
    )
    found: dict[tuple[int, str], SharedResult] = {}
    for r in results:
        key = (r.report.installation_id, r.cn_code)
        if key in found:
            continue  # an older version, or a second process making the same good
        found[key] = SharedResult(
            report_id=r.report_id,
            report_version=r.report.version,
            report_status=r.report.status,
            installation_id=r.report.installation_id,
            cn_code=r.cn_code,
            see_direct=r.see_direct,
            see_indirect=r.see_indirect,
            see_obligation=r.see_obligation,
            route=route_code(r.process.route),
            precursors=tuple(PrecursorShare.from_dict(p) for p in r.precursors or ()),
            carbon_prices=tuple(
                f"{c.instrument}: {decimal_text(c.amount_per_t)} {c.currency}/tCO2e, "
                f"{decimal_text(c.share_covered)} covered, rebate {decimal_text(c.rebate_per_t)}"
                for c in r.report.carbon_prices.all()
                if not c.cn_codes or r.cn_code in c.cn_codes
            ),
        )
    return found


# --------------------------------------------------------------------------------------------
# One group
# --------------------------------------------------------------------------------------------


def _step(step: TraceStep) -> dict:
    return {
        "rule": step.rule,
        "description": step.description,
        "inputs": {k: decimal_text(v) if isinstance(v, Decimal) else v for k, v in step.inputs.items()},
        "result": decimal_text(step.result),
    }


def _no_weekly_price_step(group: LineGroup, year: int) -> TraceStep:
    first, last = group.first_day, group.last_day
    days = first.isoformat() if first == last or last is None else f"{first.isoformat()} – {last.isoformat()}"
    return TraceStep(
        rule=_RULE_WEEKLY_PRICE,
        description=_(
            "No certificate price is published yet for the release dates of these imports "
            "(%(days)s, %(year)s Q%(q)s): no cost until the weekly price is loaded."
        )
        % {"days": days if first else "–", "year": year, "q": group.quarter},
        inputs={"released": days if first else "–", "quarter": f"Q{group.quarter}"},
        result=ZERO,
    )


def _actual_source_steps(shared: SharedResult) -> tuple[TraceStep, ...]:
    """Where the actual SEE of a group comes from, and the carbon price its operator reports."""
    steps = [
        TraceStep(
            rule=_RULE_ACTUAL_SOURCE,
            description=_(
                "Actual SEE from emissions report #%(id)s (version %(version)s, %(status)s) shared by the operator."
            )
            % {
                "id": shared.report_id,
                "version": shared.report_version,
                "status": shared.report_status,
            },
            inputs={
                "SEE direct": shared.see_direct,
                "SEE indirect": shared.see_indirect,
                "route": shared.route or "–",
            },
            result=shared.see_direct + shared.see_indirect,
        )
    ]
    if shared.carbon_prices:
        # Art 9 needs independent evidence of payment and a conversion method still to be adopted
        # (Art 9(5)); the reported price is shown, not deducted, until a claim is recorded.
        steps.append(
            TraceStep(
                rule=_RULE_CARBON_PRICE,
                description=_(
                    "The operator reports a carbon price due; it is not deducted without a documented claim."
                ),
                inputs={f"price {i + 1}": text for i, text in enumerate(shared.carbon_prices)},
                result=ZERO,
            )
        )
    return tuple(steps)


def compute_group(
    *,
    group: LineGroup,
    year: int,
    shared: SharedResult | None,
    override_source: str = "",
    claim=None,
    reference: LiveReference | None = None,
) -> dict:
    """Field values of one :class:`DeclarationGroup`; see :func:`_group_values`."""
    values = _group_values(
        group=group,
        year=year,
        shared=shared,
        override_source=override_source,
        claim=claim,
        reference=reference,
    )
    values["trace"] = _trace_dicts(values["trace"], reference)
    return values


def _trace_dicts(steps: list, reference: LiveReference | None) -> list[dict]:
    """Trace steps as JSON-ready dicts (those a snapshot keeps converted once)."""
    if reference is None:
        return [step if isinstance(step, dict) else _step(step) for step in steps]
    return [step if isinstance(step, dict) else reference.converted(step, _step) for step in steps]


def _group_values(
    *,
    group: LineGroup,
    year: int,
    shared: SharedResult | None,
    override_source: str = "",
    claim=None,
    reference: LiveReference | None = None,
    trace: bool = True,
) -> dict:
    """Field values of one :class:`DeclarationGroup` ([R956] Art 6(2)(c), 7, 9, 21, 31).

    Actual data when ``shared`` covers the group, unless the declarant chose default values;
    returned goods are taken out of the quantity that carries emissions ([R956] Art 6(5)).
    ``reference`` is the reference data read once for the whole declaration
    (:class:`~declarations.reference_cache.ReferenceSnapshot`); without it each group reads its own.
    The trace is left as steps (:class:`TraceStep`, or dicts already converted) for the caller to
    convert, to dicts (:func:`compute_group`) or straight to JSON text (the COPY of many groups).
    Without ``trace`` the engine leaves out its steps (the numbers are the same).
    """
    source = EmissionsSource.ACTUAL if shared is not None else EmissionsSource.DEFAULT
    use = override_source or source
    values: dict = {
        "source": source,
        "report_id": shared.report_id if shared is not None and use == EmissionsSource.ACTUAL else None,
        "mass_tonnes": group.functional_quantity or group.mass_tonnes,
        "returned_tonnes": group.returned_functional or group.returned_tonnes,
        "lines": group.lines,
        "see_used": None,
        "embedded_t_co2e": ZERO,
        "benchmark": None,
        "column": "",
        "route": "",
        "sefa": ZERO,
        "faa": ZERO,
        "carbon_price_deduction": ZERO,
        "certificates": ZERO,
        "price_eur": None,
        "cost_eur": ZERO,
        "error": "",
        "trace": [],
        "datasets": {},
    }
    pre: list[TraceStep | dict] = []
    mass = group.mass_tonnes - group.returned_tonnes
    functional = group.functional_quantity - group.returned_functional
    if group.returned_tonnes:
        pre.append(
            TraceStep(
                rule=_RULE_RETURNED,
                description=_("Returned goods are declared with zero embedded emissions."),
                inputs={"returned (t)": group.returned_tonnes, "total (t)": group.mass_tonnes},
                result=mass,
            )
        )
    if mass <= 0:
        values["trace"] = pre
        return values

    see_direct = see_indirect = see_obligation = None
    route = ""
    if use == EmissionsSource.ACTUAL and shared is not None:
        see_direct, see_indirect, route = shared.see_direct, shared.see_indirect, shared.route
        # The same steps for every group of the report's good: made (and converted) once.
        if reference is not None:
            key = ("declaration-actual-source", shared.report_id, shared.installation_id, shared.cn_code)
            steps = reference.remember(key, lambda: _actual_source_steps(shared))
            reference.keep(steps)
        else:
            steps = _actual_source_steps(shared)
        pre += steps
        # The SEE for the obligation (Annex II and precursor cross-over rules already applied by the
        # operator's report) goes to the engine as such; the assessment's trace says it is used.
        see_obligation = shared.see_obligation
    elif override_source == EmissionsSource.DEFAULT and shared is not None:
        pre.append(
            TraceStep(
                rule=_RULE_OVERRIDE,
                description=_(
                    "Default values chosen by the declarant although report #%(id)s covers this good."
                )
                % {"id": shared.report_id},
                inputs={},
                result=ZERO,
            )
        )
    data = AssessmentInput(
        cn=group.cn_code,
        country=group.country,
        mass=mass,
        functional_unit_mass=functional if functional > 0 else None,
        year=year,
        quarter=group.quarter,
        see_direct=see_direct,
        see_indirect=see_indirect,
        see_obligation=see_obligation,
        route=route,
        precursors=shared.precursors if see_direct is not None and shared is not None else (),
        price_day=group.price_period_start if year >= WEEKLY_PRICES_FROM else None,
    )
    if year >= WEEKLY_PRICES_FROM and group.price_period_start is None:
        pre.append(_no_weekly_price_step(group, year))
    try:
        assessment = assess_good(data, reference=reference, trace=trace)
        assessment, claim_trace = carbon_price_claim_apply(
            claim=claim,
            data=data,
            assessment=assessment,
            use=use,
            assess=lambda d: assess_good(d, reference=reference, trace=trace),
        )
        pre += claim_trace
    except AssessmentError as exc:
        values["error"] = f"{exc.field}: {exc.message}"
        values["trace"] = pre
        return values
    values["trace"] = [*pre, *assessment.trace]
    values["datasets"] = (
        reference.converted(assessment.datasets, _datasets_as_dict)
        if reference is not None
        else _datasets_as_dict(assessment.datasets)
    )
    result = assessment.result
    if result is None:  # origin outside CBAM
        values["error"] = assessment.message
        return values
    values.update(
        {
            "mass_tonnes": group.functional_quantity or group.mass_tonnes,
            "see_used": result.see_used,
            "embedded_t_co2e": result.embedded_tco2e,
            "benchmark": assessment.benchmark,
            "column": assessment.benchmark_column,
            "route": assessment.route or assessment.benchmark_route,
            "sefa": result.sefa,
            "faa": result.faa_tco2e,
            "carbon_price_deduction": result.carbon_price_deduction_tco2e,
            "certificates": result.certificates,
            "price_eur": assessment.certificate_price_eur,
            "cost_eur": result.cost_eur if assessment.certificate_price_eur is not None else ZERO,
        }
    )
    return values


# --------------------------------------------------------------------------------------------
# Drafting and computing
# --------------------------------------------------------------------------------------------


def _copy_text(value: str) -> str:
    """Text escaped for PostgreSQL's COPY text format."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value or "\r" in value or "\t" in value:
        value = value.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return value


class _JsonText:
    """JSON text of trace steps and dataset lists, for COPY: the strings that repeat from group to
    group (rules, descriptions, input names) are encoded once, and so are the steps and dataset
    lists a snapshot ``reference`` keeps (shared by many groups)."""

    def __init__(self, reference: LiveReference, encoder=None) -> None:
        self.reference = reference
        self.encoder = encoder
        self.strings: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.heads: dict[tuple[str, str], str] = {}

    def string(self, value: str) -> str:
        text = self.strings.get(value)
        if text is None:
            text = self.strings[value] = json.dumps(value, cls=self.encoder)
        return text

    def value(self, value) -> str:
        if isinstance(value, Decimal):
            return f'"{decimal_text(value)}"'
        if isinstance(value, str):
            return self.string(value)
        return json.dumps(value, cls=self.encoder)

    def step(self, step: TraceStep) -> str:
        """As ``json.dumps(_step(step))``."""
        head = self.heads.get((step.rule, step.description))
        if head is None:
            head = self.heads[(step.rule, step.description)] = (
                f'{{"rule": {self.string(step.rule)}, "description": {self.string(step.description)}, '
                '"inputs": {'
            )
        keys, strings = self.keys, self.strings
        parts = []
        for name, value in step.inputs.items():
            key = keys.get(name)
            if key is None:
                key = keys[name] = f"{self.string(name)}: "
            if type(value) is Decimal:
                parts.append(f'{key}"{decimal_text(value)}"')
            elif type(value) is str:
                parts.append(key + (strings.get(value) or self.string(value)))
            else:
                parts.append(key + self.value(value))
        result = decimal_text(step.result)
        result = "null" if result is None else f'"{result}"'
        return f'{head}{", ".join(parts)}}}, "result": {result}}}'

    def encode(self, value) -> str:
        return json.dumps(value, cls=self.encoder)

    def __call__(self, value) -> str:
        if value is None:
            return "null"
        if isinstance(value, list):  # a trace: steps (most of them shared) or dicts
            converted = self.reference.converted
            return (
                "["
                + ", ".join(
                    [
                        converted(v, self.step) if isinstance(v, TraceStep) else converted(v, self.encode)
                        for v in value
                    ]
                )
                + "]"
            )
        return self.reference.converted(value, self.encode)


def _copy_value(field, reference: LiveReference):
    """How a field's value goes into COPY (text format): as the model field would prepare it for
    an INSERT; JSON (traces as steps) through :class:`_JsonText`."""
    if isinstance(field, JSONField):
        as_json = _JsonText(reference, field.encoder)
        return lambda value: "\\N" if value is None else _copy_text(as_json(value))
    if isinstance(field, CharField | TextField):
        return lambda value: "\\N" if value is None else _copy_text(str(value))
    if isinstance(field, DecimalField | IntegerField | ForeignKey):
        return lambda value: "\\N" if value is None else str(value)
    if isinstance(field, DateField) and not isinstance(field, DateTimeField):
        return lambda value: "\\N" if value is None else value.isoformat()

    def prepared(value):
        value = field.get_db_prep_save(value, connection)
        return "\\N" if value is None else _copy_text(str(value))

    return prepared


class _GroupWriter:
    """Writes new groups (field values by attribute name, the trace as steps; the other fields take
    their defaults) as they are computed, in a ``with`` block.

    On PostgreSQL, from :data:`GROUP_BATCH_SIZE` groups, rows stream through COPY (text format)
    while the next ones are computed, so the server stores them meanwhile and memory stays flat.
    Should a query be needed before the last group (reference data outside the snapshot), the
    COPY is finished first and a new one started after it. Otherwise batched INSERTs.
    """

    LINES_PER_WRITE = 200

    def __init__(self, *, count: int, reference: LiveReference) -> None:
        self.reference = reference
        self.copy = connection.vendor == "postgresql" and count >= GROUP_BATCH_SIZE
        self.batch: list = []
        self._wrapper = None
        self._copying = None  # the COPY under way: its context manager and its Copy
        if self.copy:
            self.fields = [f for f in DeclarationGroup._meta.concrete_fields if not f.primary_key]
            self.prepared = [(f.attname, _copy_value(f, reference)) for f in self.fields]
            self.defaults: dict | None = None
            quote = connection.ops.quote_name
            self.statement = "COPY {} ({}) FROM STDIN".format(
                quote(DeclarationGroup._meta.db_table), ", ".join(quote(f.column) for f in self.fields)
            )

    def __enter__(self) -> _GroupWriter:
        if self.copy:
            self._wrapper = connection.execute_wrapper(self._before_query)
            self._wrapper.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc is None:
                self._flush()
        except BaseException as error:
            self._end_copy(error)  # aborted
            raise
        else:
            self._end_copy(exc)
        finally:
            if self._wrapper is not None:
                self._wrapper.__exit__(None, None, None)
                self._wrapper = None

    def add(self, row: dict) -> None:
        if not self.copy:
            if row["trace"] is not None:
                row["trace"] = _trace_dicts(row["trace"], self.reference)
            self.batch.append(DeclarationGroup(**row))
            if len(self.batch) >= GROUP_BATCH_SIZE:
                self._flush()
            return
        if self.defaults is None:
            missing = [f for f in self.fields if f.attname not in row]
            self.defaults = {f.attname: f.pre_save(DeclarationGroup(), True) for f in missing}
        defaults = self.defaults
        self.batch.append(
            "\t".join(
                [convert(row[name] if name in row else defaults[name]) for name, convert in self.prepared]
            )
        )
        if len(self.batch) >= self.LINES_PER_WRITE:
            self._flush()

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        if not self.copy:
            DeclarationGroup.objects.bulk_create(batch)
            return
        if self._copying is None:
            manager = self._copy_block()
            self._copying = (manager, manager.__enter__())
        batch.append("")
        self._copying[1].write("\n".join(batch))

    @contextlib.contextmanager
    def _copy_block(self) -> Iterator:
        with connection.cursor() as cursor, cursor.copy(self.statement) as copy:
            yield copy

    def _end_copy(self, error: BaseException | None = None) -> None:
        if self._copying is None:
            return
        manager, self._copying = self._copying[0], None
        if error is None:
            manager.__exit__(None, None, None)
        else:
            manager.__exit__(type(error), error, error.__traceback__)

    def _before_query(self, execute, sql, params, many, context):
        self._end_copy()  # the connection is free for the query; the next rows start a new COPY
        return execute(sql, params, many, context)


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Cyclic garbage collection held off while a declaration is recomputed: the tens of thousands
    of objects a recomputation allocates (groups, trace steps, states), none in a cycle, would
    trigger collection after collection over everything alive. Reference counting still frees
    them; collection resumes (as it was) at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _compute_into(declaration: Declaration, *, traces: bool = False) -> None:
    """Replace the groups of a draft by freshly computed ones, keeping the declarant's overrides.

    A draft keeps no trace: its groups' "why?" is derived from the current inputs when asked for
    (:mod:`.traces`), which spares every recalculation the writing of some kilobytes of JSON per
    group. ``traces`` stores them (the declaration leaves draft: what the reviewer sees is frozen).
    """
    with _collection_paused():
        _recompute(declaration, traces=traces)


@dataclass(frozen=True)
class Computation:
    """What the groups of a declaration are computed from, read once: its line groups (of its
    ``lines`` only, if given), the reports shared with the importer, the carbon price claims and
    the reference data. The recalculation and the derived traces (:mod:`.traces`) both take
    their numbers from :meth:`values`."""

    year: int
    groups: list[LineGroup]
    shared: dict[tuple[int, str], SharedResult]
    claims: dict
    reference: ReferenceSnapshot

    @classmethod
    def read(cls, declaration: Declaration, *, lines: Q | None = None) -> Computation:
        groups = line_groups(organisation=declaration.organisation, year=declaration.year, lines=lines)
        return cls(
            year=declaration.year,
            groups=groups,
            shared=shared_results(
                organisation=declaration.organisation,
                year=declaration.year,
                installation_ids={g.installation_id for g in groups},
            ),
            claims=carbon_price_claims_for_groups(declaration=declaration, groups=groups),
            # The reference data of every group, read once (a fixed number of queries, whatever the groups).
            reference=ReferenceSnapshot(
                cn_codes={g.cn_code for g in groups},
                countries={g.country for g in groups},
                years=[declaration.year],
            ),
        )

    def values(self, group: LineGroup, *, override_source: str = "", trace: bool = True) -> dict:
        """The field values of ``group`` (:func:`_group_values`: the trace as steps; none of the
        engine's without ``trace``)."""
        return _group_values(
            group=group,
            year=self.year,
            shared=self.shared.get((group.installation_id, group.cn_code)) if group.installation_id else None,
            override_source=override_source,
            claim=self.claims.get(group.group_key),
            reference=self.reference,
            trace=trace,
        )


def stored_group_key(group: DeclarationGroup) -> tuple:
    """The key of a stored group, as :attr:`LineGroup.group_key` gives it for its lines."""
    return tuple(getattr(group, f) for f in KEY_FIELDS)


def group_overrides(declaration: Declaration) -> dict[tuple, tuple[str, str]]:
    """The declarant's choice of source and its justification, per group key."""
    return {
        stored_group_key(g): (g.override_source, g.override_reason)
        for g in declaration.groups.exclude(override_source="").only(*KEY_FIELDS, "override_source", "override_reason")
    }


def _recompute(declaration: Declaration, *, traces: bool) -> None:
    # What changed: the new groups are written beside the old ones (ids up to ``previous``),
    # compared with them in SQL, then the old ones are deleted.
    before = declaration_totals(declaration)
    previous = declaration.groups.aggregate(last=Max("pk"))["last"] or 0
    overrides = group_overrides(declaration)
    computation = Computation.read(declaration)
    quantity = embedded = certificates = cost = ZERO
    errors = []
    with _GroupWriter(count=len(computation.groups), reference=computation.reference) as writer:
        for g in computation.groups:
            override, reason = overrides.get(g.group_key, ("", ""))
            values = computation.values(g, override_source=override, trace=traces)
            writer.add(
                {
                    "declaration_id": declaration.pk,
                    "cn_code": g.cn_code,
                    "country": g.country,
                    "installation_id": g.installation_id,
                    "quarter": g.quarter,
                    "price_period_start": g.price_period_start,
                    "price_period_end": g.price_period_end,
                    "override_source": override,
                    "override_reason": reason,
                    **values,
                    "trace": values["trace"] if traces else None,
                }
            )
            quantity += values["mass_tonnes"]
            embedded += values["embedded_t_co2e"]
            certificates += values["certificates"]
            cost += values["cost_eur"]
            if values["error"]:
                errors.append(f"{g.cn_code} {g.country} Q{g.quarter}: {values['error']}")
    declaration.quantity_tonnes = quantity
    declaration.embedded_t_co2e = embedded
    declaration.certificates = certificates
    declaration.cost_eur = cost
    declaration.computation_error = "\n".join(errors)
    declaration.computed_at = timezone.now()
    declaration.save()
    declaration_change_record(declaration=declaration, before=before, previous_up_to=previous)
    declaration.groups.filter(pk__lte=previous).delete()


@transaction.atomic
def declaration_create(*, actor: Actor, organisation: Organisation, year: int) -> Declaration:
    """Draft the annual declaration of ``organisation`` for ``year`` and compute it ([R956] Art 6)."""
    if year < 2026:
        _refuse(_("Annual declarations start with imports of 2026."), "year")
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    if Declaration.objects.filter(organisation=organisation, year=year, status__in=OPEN_STATUSES).exists():
        _refuse(
            _("A declaration for %(year)s already exists: open it, or amend the filed one.") % {"year": year},
            "year",
        )
    last = Declaration.objects.filter(organisation=organisation, year=year).order_by("-version").first()
    declaration = Declaration.objects.create(
        organisation=organisation,
        year=year,
        version=(last.version + 1) if last else 1,
        prepared_by=actor.user,
    )
    with recompute_cause(trigger=ChangeTrigger.CREATED, actor=actor):
        _compute_into(declaration)
    audit_record(
        actor=actor,
        verb="declaration.created",
        organisation=organisation,
        target=declaration,
        after=_state(declaration),
    )
    return declaration


@transaction.atomic
def declaration_compute(
    *, actor: Actor, declaration: Declaration, trigger: str = ChangeTrigger.MANUAL, job=None
) -> Declaration:
    """Recompute a draft from the current import lines, shared reports and reference data."""
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.DRAFT, action=_("recomputed"))
    before = {"certificates": declaration.certificates, "cost_eur": declaration.cost_eur}
    with recompute_cause(trigger=trigger, actor=actor, job=job):
        _compute_into(declaration)
    audit_record(
        actor=actor,
        verb="declaration.computed",
        organisation=declaration.organisation,
        target=declaration,
        before=before,
        after={"certificates": declaration.certificates, "cost_eur": declaration.cost_eur},
    )
    return declaration


def declaration_recompute_enqueue(
    *, actor: Actor, declaration: Declaration, trigger: str = ChangeTrigger.MANUAL
):
    """Recompute a draft in the background (its inputs changed)."""
    _require_status(declaration, DeclarationStatus.DRAFT, action=_("recomputed"))
    return job_enqueue(
        actor=actor,
        organisation=declaration.organisation,
        kind=RECOMPUTE_KIND,
        params={"declaration": declaration.pk, "trigger": str(trigger)},
    )


def declarations_inputs_changed(
    *, actor: Actor, organisation: Organisation, trigger: str = ChangeTrigger.INPUTS
) -> list:
    """Queue a recomputation of every draft of ``organisation`` (its lines or shared reports changed)."""
    return [
        declaration_recompute_enqueue(actor=actor, declaration=d, trigger=trigger)
        for d in Declaration.objects.filter(organisation=organisation, status=DeclarationStatus.DRAFT)
    ]


@transaction.atomic
def declaration_group_override(
    *, actor: Actor, declaration: Declaration, group_id: int, source: str, reason: str
) -> DeclarationGroup:
    """Choose the source of emissions of one group, with a justification kept in the audit trail.

    Default values may always replace actual data ([R956] Art 7(2)); actual data can be chosen
    only where a shared, submitted report covers the group. ``source`` "" goes back to the
    portal's choice.
    """
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.DRAFT, action=_("changed"))
    group = declaration.groups.filter(pk=group_id).first()
    if group is None:
        _refuse(_("This group is not part of the declaration."), "group")
    reason = (reason or "").strip()
    if source not in ("", *EmissionsSource.values):
        _refuse(_("Choose actual or default values."), "source")
    if source and not reason:
        _refuse(_("A justification is required to override the source of emissions."), "reason")
    if source == EmissionsSource.ACTUAL and group.source != EmissionsSource.ACTUAL:
        _refuse(
            _("No shared, submitted operator report covers this good: actual data cannot be used."), "source"
        )
    before = {"override_source": group.override_source, "override_reason": group.override_reason}
    override = "" if source == group.source and not reason else source
    group.override_source = override
    group.override_reason = reason if override else ""
    group.save(update_fields=["override_source", "override_reason"])
    with recompute_cause(trigger=ChangeTrigger.OVERRIDE, actor=actor):
        _compute_into(declaration)
    group = declaration.groups.get(
        cn_code=group.cn_code,
        country=group.country,
        installation_id=group.installation_id,
        quarter=group.quarter,
        price_period_start=group.price_period_start,
    )
    audit_record(
        actor=actor,
        verb="declaration.source_overridden",
        organisation=declaration.organisation,
        target=declaration,
        before={"group": str(group), **before},
        after={
            "group": str(group),
            "override_source": group.override_source,
            "override_reason": group.override_reason,
        },
    )
    return group


# --------------------------------------------------------------------------------------------
# Review workflow (four eyes)
# --------------------------------------------------------------------------------------------


@transaction.atomic
def declaration_submit_for_review(*, actor: Actor, declaration: Declaration) -> Declaration:
    """Hand a computed draft to a reviewer: recalculated one last time from the current inputs,
    with the trace of every group stored, so that the numbers reviewed, approved and filed keep
    the steps they were computed with."""
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.DRAFT, action=_("submitted for review"))
    if declaration.computed_at is None:
        _refuse(_("Compute the declaration before submitting it for review."))
    with recompute_cause(trigger=ChangeTrigger.REVIEW, actor=actor):
        _compute_into(declaration, traces=True)
    if declaration.computation_error:
        _refuse(_("Some goods could not be calculated: fix them before submitting for review."))
    declaration.status = DeclarationStatus.IN_REVIEW
    declaration.submitted_for_review_by = actor.user
    declaration.submitted_for_review_at = timezone.now()
    declaration.save()
    audit_record(
        actor=actor,
        verb="declaration.submitted_for_review",
        organisation=declaration.organisation,
        target=declaration,
        after=_state(declaration),
    )
    return declaration


@transaction.atomic
def declaration_return_to_draft(*, actor: Actor, declaration: Declaration, reason: str) -> Declaration:
    """Send a declaration in review back to its preparer, with the reason as a comment."""
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.IN_REVIEW, action=_("returned to draft"))
    reason = (reason or "").strip()
    if not reason:
        _refuse(_("Say what needs changing."), "reason")
    declaration.status = DeclarationStatus.DRAFT
    declaration.save()
    DeclarationComment.objects.create(declaration=declaration, author=actor.user, text=reason)
    audit_record(
        actor=actor,
        verb="declaration.returned_to_draft",
        organisation=declaration.organisation,
        target=declaration,
        after={**_state(declaration), "reason": reason},
    )
    return declaration


@transaction.atomic
def declaration_approve(*, actor: Actor, declaration: Declaration) -> Declaration:
    """Approve a declaration in review — never by whoever prepared it or submitted it for review."""
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.IN_REVIEW, action=_("approved"))
    user_id = getattr(actor.user, "pk", None)
    if user_id is None or user_id in (declaration.prepared_by_id, declaration.submitted_for_review_by_id):
        _refuse(_("Four eyes: a declaration must be approved by someone who did not prepare or submit it."))
    declaration.status = DeclarationStatus.APPROVED
    declaration.approved_by = actor.user
    declaration.approved_at = timezone.now()
    declaration.save()
    audit_record(
        actor=actor,
        verb="declaration.approved",
        organisation=declaration.organisation,
        target=declaration,
        after=_state(declaration),
    )
    return declaration


#: The fields of a group as filed (``FiledGroup.data``), in this order.
FILED_FIELDS = (
    "cn_code",
    "country",
    "installation_id",
    "quarter",
    "source",
    "override_source",
    "override_reason",
    "report_id",
    "mass_tonnes",
    "returned_tonnes",
    "lines",
    "see_used",
    "embedded_t_co2e",
    "benchmark",
    "column",
    "route",
    "sefa",
    "faa",
    "carbon_price_deduction",
    "certificates",
    "price_eur",
    "cost_eur",
    "datasets",
)
_DECIMAL_FIELDS = {f.name for f in DeclarationGroup._meta.get_fields() if isinstance(f, DecimalField)}


def _group_snapshot(g: DeclarationGroup) -> dict:
    """The figures and dataset versions of a group as filed (its trace is kept beside them)."""
    return {f: (decimal_text(v) if isinstance(v, Decimal) else v) for f in FILED_FIELDS for v in (getattr(g, f),)}


def _filed_groups_sql() -> str:
    """PostgreSQL: the groups of a declaration copied as filed inside the server, as
    :func:`_group_snapshot` makes them (decimals as plain text without trailing zeros), with the
    traces they store. A large declaration's groups and traces are hundreds of megabytes of JSON
    that would otherwise be decoded into Python and encoded again (54,448 groups: 26 s)."""
    quote = connection.ops.quote_name
    column = lambda name: "g.id" if name == "pk" else f"g.{quote(DeclarationGroup._meta.get_field(name).column)}"  # noqa: E731
    table = quote(DeclarationGroup._meta.db_table)
    pairs = ", ".join(
        f"'{name}', " + (f"trim_scale({column(name)})::text" if name in _DECIMAL_FIELDS else column(name))
        for name in FILED_FIELDS
    )
    order = ", ".join(column(name) for name in GROUP_TABLE_ORDER)
    # Names from the models only; the declaration id is a parameter.
    return (
        f"INSERT INTO {FiledGroup._meta.db_table} (declaration_id, position, data, trace) "  # noqa: S608
        f"SELECT g.declaration_id, row_number() OVER (ORDER BY {order}) - 1, jsonb_build_object({pairs}), g.trace "
        f"FROM {table} g WHERE g.declaration_id = %s"
    )


def _file_groups(declaration: Declaration) -> int:
    """Write the groups of ``declaration`` as filed (:class:`FiledGroup` rows, in table order)
    and return their number: traces as stored since the review (derived, should one be missing).
    In SQL on PostgreSQL; elsewhere in batches as they are read, never all in memory at once."""
    groups = declaration.groups.order_by(*GROUP_TABLE_ORDER)
    if connection.vendor == "postgresql" and not groups.filter(trace__isnull=True).exists():
        with connection.cursor() as cursor:
            cursor.execute(_filed_groups_sql(), [declaration.pk])
            return cursor.rowcount
    from .traces import TraceDeriver  # reads the computation defined here

    derive = TraceDeriver(declaration)
    batch: list[FiledGroup] = []
    count = 0
    for position, g in enumerate(groups.iterator(chunk_size=GROUP_BATCH_SIZE)):
        batch.append(FiledGroup(declaration=declaration, position=position, data=_group_snapshot(g), trace=derive(g)))
        count = position + 1
        if len(batch) >= GROUP_BATCH_SIZE:
            FiledGroup.objects.bulk_create(batch)
            batch.clear()
    FiledGroup.objects.bulk_create(batch)
    return count


def _lines_digest(declaration: Declaration) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    lines = (
        ImportLine.objects.filter(organisation=declaration.organisation, in_scope=True)
        .annotate(y=ExtractYear("released_on"))
        .filter(y=declaration.year)
        .order_by("pk")
        .values_list(
            "pk",
            "mrn",
            "line_no",
            "released_on",
            "cn_code",
            "origin_country",
            "production_country",
            "net_mass_tonnes",
            "quantity_mwh",
            "functional_unit_quantity",
            "procedure",
            "installation_id",
        )
    )
    for row in lines.iterator(chunk_size=5000):
        digest.update(json.dumps(row, default=str).encode())
        count += 1
    return count, digest.hexdigest()


def _reports_snapshot(report_ids) -> list[dict]:
    reports = EmissionsReport.objects.filter(pk__in=report_ids).prefetch_related("results")
    return [
        {
            "id": r.pk,
            "installation_id": r.installation_id,
            "year": r.year,
            "version": r.version,
            "status": r.status,
            "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
            "results": [
                {
                    "cn_code": x.cn_code,
                    "see_direct": decimal_text(x.see_direct),
                    "see_indirect": decimal_text(x.see_indirect),
                    "see_obligation": decimal_text(x.see_obligation),
                }
                for x in r.results.all()
            ],
        }
        for r in reports
    ]


@transaction.atomic
def declaration_file(*, actor: Actor, declaration: Declaration) -> Declaration:
    """File an approved declaration: freeze a snapshot of every input and dataset version used
    ([R956] Art 6(2); kept for the review period of Art 19)."""
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.APPROVED, action=_("filed"))
    count = _file_groups(declaration)
    datasets: dict = {}
    report_ids: set[int] = set()
    for group_datasets, report_id in declaration.groups.order_by(*GROUP_TABLE_ORDER).values_list("datasets", "report_id").iterator(
        chunk_size=GROUP_BATCH_SIZE
    ):
        datasets.update(group_datasets or {})
        if report_id:
            report_ids.add(report_id)
    line_count, line_digest = _lines_digest(declaration)
    now = timezone.now()
    declaration.snapshot = {
        "year": declaration.year,
        "version": declaration.version,
        "filed_at": now.isoformat(),
        "totals": {
            "quantity_tonnes": decimal_text(declaration.quantity_tonnes),
            "embedded_t_co2e": decimal_text(declaration.embedded_t_co2e),
            "certificates": decimal_text(declaration.certificates),
            "cost_eur": decimal_text(declaration.cost_eur),
        },
        "group_count": count,  # the groups: FiledGroup rows (declaration.filed_groups)
        "datasets": datasets,
        "reports": _reports_snapshot(report_ids),
        "import_lines": {"count": line_count, "sha256": line_digest},
        "carbon_price_claims": carbon_price_claims_snapshot(declaration=declaration),
    }
    declaration.status = DeclarationStatus.FILED
    declaration.filed_by = actor.user
    declaration.filed_at = now
    declaration.save()
    audit_record(
        actor=actor,
        verb="declaration.filed",
        organisation=declaration.organisation,
        target=declaration,
        after={**_state(declaration), "certificates": declaration.certificates},
    )
    return declaration


@transaction.atomic
def declaration_amend(*, actor: Actor, declaration: Declaration) -> Declaration:
    """Open version n+1 of a filed declaration as a draft; the filed one stays as it was, superseded."""
    declaration = _lock(declaration)
    _require_status(declaration, DeclarationStatus.FILED, action=_("amended"))
    declaration.status = DeclarationStatus.AMENDED
    declaration.save(update_fields=["status", "updated_at"])
    amendment = Declaration.objects.create(
        organisation=declaration.organisation,
        year=declaration.year,
        version=declaration.version + 1,
        prepared_by=actor.user,
        supersedes=declaration,
    )
    for g in declaration.groups.exclude(override_source=""):
        DeclarationGroup.objects.create(
            declaration=amendment,
            cn_code=g.cn_code,
            country=g.country,
            installation_id=g.installation_id,
            quarter=g.quarter,
            price_period_start=g.price_period_start,
            price_period_end=g.price_period_end,
            source=g.source,
            override_source=g.override_source,
            override_reason=g.override_reason,
        )
    carbon_price_claims_copy(source=declaration, target=amendment)
    with recompute_cause(trigger=ChangeTrigger.AMENDED, actor=actor):
        _compute_into(amendment)
    audit_record(
        actor=actor,
        verb="declaration.amended",
        organisation=declaration.organisation,
        target=amendment,
        before=_state(declaration),
        after=_state(amendment),
    )
    return amendment


@transaction.atomic
def declaration_comment_add(*, actor: Actor, declaration: Declaration, text: str) -> DeclarationComment:
    """Comment on a declaration until it is filed: a filed (or superseded) version is frozen."""
    _require_status(
        declaration,
        DeclarationStatus.DRAFT,
        DeclarationStatus.IN_REVIEW,
        DeclarationStatus.APPROVED,
        action=_("commented"),
    )
    text = (text or "").strip()
    if not text:
        _refuse(_("Write a comment."), "text")
    comment = DeclarationComment.objects.create(declaration=declaration, author=actor.user, text=text[:5000])
    audit_record(
        actor=actor,
        verb="declaration.commented",
        organisation=declaration.organisation,
        target=declaration,
        after={"comment": comment.pk},
    )
    return comment
