"""The declaration as one plain, versioned document: the content of [R956] Art 6(2) as amended.

Every export format renders this document, so a PDF, a spreadsheet and the JSON file always
show the same figures. Its structure is the JSON export (schema ``cbam-portal/declaration/1.1``,
documented field by field in ``docs/declaration-json.md`` and ``declaration.schema.json``).

A filed (or superseded) declaration is read from its frozen snapshot, never from live groups:
the figures, the trace, the dataset versions and the operator reports are those that were
filed. Descriptive master data that the snapshot keeps only by id (installation names, the CN
description) is looked up by that id; supplier evidence is cut at the filing time.

Decimals are strings without exponent ("167.575"), as the portal stores them: no float ever.

The document is a plain dict except for its ``groups``, a :class:`GroupSequence` that formats
each group as it is walked (``list()`` it for a plain list): the groups of a large declaration
with their traces are gigabytes as Python objects, while every format writes them one after the
other. What the document says of all groups (totals per good and per installation, datasets,
counts) comes from one walk without traces (:class:`_Scan`).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from cbam_portal.reference.models import CnGood, Dataset
from emissions.models import DataRequest, DataRequestEvent, EmissionsReport, Installation

from ..assessment import decimal_text
from ..models import GROUP_TABLE_ORDER, Declaration, DeclarationStatus, FiledGroup
from ..services.declarations import FILED_FIELDS
from ..services.traces import TraceDeriver, declaration_group_traces

SCHEMA_ID = "cbam-portal/declaration"
SCHEMA_VERSION = "1.1"
SCHEMA = f"{SCHEMA_ID}/{SCHEMA_VERSION}"
ELECTRICITY_PREFIX = "2716"
ZERO = Decimal(0)

# Group figures kept as Decimal strings, in the order of the CSV columns.
GROUP_FIGURES = (
    "quantity",
    "returned_quantity",
    "see_used_t_co2e_per_unit",
    "embedded_emissions_t_co2e",
    "benchmark",
    "sefa",
    "free_allocation_adjustment_t_co2e",
    "carbon_price_deduction_t_co2e",
    "certificates",
    "certificate_price_eur",
    "cost_eur",
)
_SUMMED = (
    "quantity",
    "embedded_emissions_t_co2e",
    "free_allocation_adjustment_t_co2e",
    "carbon_price_deduction_t_co2e",
    "certificates",
    "cost_eur",
)
#: Counts kept beside the sums: the groups summed, and those whose period has no published price.
_COUNTED = ("groups", "groups_without_price")

_CACHE_ATTR = "_export_document"


def document_for(declaration: Declaration, *, traces: bool = True) -> dict:
    """The export document of ``declaration`` (built once per instance, then reused).

    ``traces=False``: every group's ``trace`` left empty, for the formats that do not show it
    (a draft's traces are derived when walked, which is most of the time of an export). A
    document with traces serves both (``document["groups"].without_traces()``)."""
    cached = getattr(declaration, _CACHE_ATTR, None)
    if cached is None or (traces and not cached[1]):
        cached = (build_document(declaration, traces=traces), traces)
        setattr(declaration, _CACHE_ATTR, cached)
    return cached[0]


def _text(value) -> str | None:
    if value is None or value == "":
        return None if value is None else value
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def _dec(value) -> Decimal:
    return ZERO if value in (None, "") else Decimal(str(value))


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _who(user) -> str | None:
    return getattr(user, "email", None) or None


def is_frozen_snapshot(declaration: Declaration) -> bool:
    return declaration.snapshot is not None and declaration.status in (
        DeclarationStatus.FILED,
        DeclarationStatus.AMENDED,
    )


#: The stored fields of a group that the document reads: those kept when it is filed, and its error.
_RAW_FIELDS = (*FILED_FIELDS, "error")
#: Groups read from the database at a time.
CHUNK = 1000


class _LiveGroups:
    """A draft's (or a declaration in review's) groups as stored, in table order, read in chunks
    each time they are walked; the traces as stored since the review, else derived one group at
    a time (:class:`~declarations.services.traces.TraceDeriver`)."""

    def __init__(self, declaration: Declaration):
        self.declaration = declaration

    def _rows(self):
        return self.declaration.groups.order_by(*GROUP_TABLE_ORDER)

    @staticmethod
    def _raw(group, trace) -> dict:
        return {**{f: getattr(group, f) for f in _RAW_FIELDS}, "trace": trace}

    def walk(self, *, traces: bool):
        if not traces:
            for group in self._rows().defer("trace").iterator(chunk_size=CHUNK):
                yield self._raw(group, [])
            return
        derive = TraceDeriver(self.declaration)
        for group in self._rows().iterator(chunk_size=CHUNK):
            yield self._raw(group, derive(group))

    def traced(self, positions: set[int]) -> dict[int, dict]:
        """The groups at ``positions`` (0-based, in table order) with their traces."""
        pks = list(self._rows().values_list("pk", flat=True))
        wanted = {pks[p]: p for p in positions if p < len(pks)}
        groups = list(self.declaration.groups.filter(pk__in=wanted))
        traces = declaration_group_traces(self.declaration, groups)
        return {wanted[g.pk]: self._raw(g, traces[g.pk]) for g in groups}


class _FrozenGroups:
    """The groups of a filed declaration as filed (:class:`~declarations.models.FiledGroup`
    rows, in table order), read in chunks each time they are walked."""

    def __init__(self, declaration: Declaration):
        self.declaration = declaration

    def _rows(self):
        return FiledGroup.objects.filter(declaration=self.declaration).order_by("position")

    def walk(self, *, traces: bool):
        if not traces:
            for data in self._rows().values_list("data", flat=True).iterator(chunk_size=CHUNK):
                yield data
            return
        for data, trace in self._rows().values_list("data", "trace").iterator(chunk_size=CHUNK):
            yield {**data, "trace": trace}

    def traced(self, positions: set[int]) -> dict[int, dict]:
        rows = self._rows().filter(position__in=positions).values_list("position", "data", "trace")
        return {position: {**data, "trace": trace} for position, data, trace in rows}


class GroupSequence:
    """The ``groups`` of an export document: formatted (:func:`_group`) as they are walked, never
    all held at once. The groups of a large declaration with their traces are gigabytes as
    Python objects (54,448 groups: 1.5 GB for the JSON export), while every format writes them one
    after the other. It can be walked any number of times (each walk reads them again), has a
    ``len()``, and :meth:`without_traces` gives the same groups without their traces, cheaply.
    ``list(sequence)`` makes it a plain list (for ``json.dumps`` of the whole document)."""

    def __init__(self, source, count: int, installations: dict, goods: dict, *, traces: bool):
        self._source = source
        self._count = count
        self._installations = installations
        self._goods = goods
        self.traces = traces

    def __iter__(self):
        for raw in self._source.walk(traces=self.traces):
            yield _group(raw, self._installations, self._goods, self.traces)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def without_traces(self) -> GroupSequence:
        return GroupSequence(self._source, self._count, self._installations, self._goods, traces=False)

    def traced(self, positions) -> dict[int, dict]:
        """The groups at ``positions`` (0-based, in table order), formatted with their traces:
        some groups' traces without deriving everyone's (the PDF's trace annex)."""
        raws = self._source.traced(set(positions)) if self.traces else {}
        return {p: _group(raw, self._installations, self._goods, True) for p, raw in raws.items()}


def _live_reports(report_ids) -> list[dict]:
    reports = EmissionsReport.objects.filter(pk__in=report_ids).prefetch_related("results").order_by("pk")
    return [
        {
            "id": r.pk,
            "installation_id": r.installation_id,
            "year": r.year,
            "version": r.version,
            "status": r.status,
            "submitted_at": _when(r.submitted_at),
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


def _verification(report_ids) -> dict[int, dict]:
    """Verification details of the reports used. A verified report is immutable, so these
    details are the same as at filing time."""
    found = {}
    for r in EmissionsReport.objects.filter(pk__in=report_ids).only(
        "pk",
        "status",
        "verified_at",
        "verifier_name",
        "verifier_accreditation_number",
        "verification_date",
        "verification_report_name",
    ):
        found[r.pk] = {
            "verifier_name": r.verifier_name or None,
            "verifier_accreditation_number": r.verifier_accreditation_number or None,
            "verification_date": _when(r.verification_date),
            "verified_at": _when(r.verified_at),
            "verification_report_file": r.verification_report_name or None,
        }
    return found


def _cn_goods(codes: set[str], dataset_ids: set[int]) -> dict[str, CnGood]:
    if not codes:
        return {}
    qs = CnGood.objects.filter(cn8__in=codes)
    qs = qs.filter(dataset_id__in=dataset_ids) if dataset_ids else qs.filter(dataset__is_current=True)
    return {
        g.cn8: g for g in qs.only("cn8", "description", "aggregated_category", "functional_unit", "sector")
    }


def _unit(cn_code: str, good: CnGood | None) -> str:
    """Tonnes for goods, MWh for electricity ([R956] Art 6(2)(a) as amended)."""
    if cn_code.startswith(ELECTRICITY_PREFIX):
        return "MWh"
    unit = (good.functional_unit if good is not None else "") or "t"
    return "t" if unit.lower() in ("t", "tonne", "tonnes") else unit


def _group(raw: dict, installations: dict, goods: dict, traces: bool = True) -> dict:
    good = goods.get(raw["cn_code"])
    installation = installations.get(raw.get("installation_id"))
    override = raw.get("override_source") or ""
    return {
        "cn_code": raw["cn_code"],
        "unit": _unit(raw["cn_code"], good),
        "country": raw["country"],
        "installation": installation,
        "quarter": int(raw["quarter"]),
        "source": raw["source"],
        "override_source": override or None,
        "override_reason": raw.get("override_reason") or None,
        "effective_source": override or raw["source"],
        "operator_report_id": raw.get("report_id"),
        "import_lines": int(raw.get("lines") or 0),
        "quantity": _text(_dec(raw.get("mass_tonnes"))),
        "returned_quantity": _text(_dec(raw.get("returned_tonnes"))),
        "see_used_t_co2e_per_unit": _text(raw.get("see_used")),
        "embedded_emissions_t_co2e": _text(_dec(raw.get("embedded_t_co2e"))),
        "benchmark": _text(raw.get("benchmark")),
        "benchmark_column": raw.get("column") or None,
        "route": raw.get("route") or None,
        "sefa": _text(_dec(raw.get("sefa"))),
        "free_allocation_adjustment_t_co2e": _text(_dec(raw.get("faa"))),
        "carbon_price_deduction_t_co2e": _text(_dec(raw.get("carbon_price_deduction"))),
        "certificates": _text(_dec(raw.get("certificates"))),
        "certificate_price_eur": _text(raw.get("price_eur")),
        "cost_eur": _text(_dec(raw.get("cost_eur"))),
        "error": raw.get("error") or None,
        "trace": [
            {
                "rule": str(step.get("rule", "")),
                "description": str(step.get("description", "")),
                "inputs": {
                    str(k): (v if v is None or isinstance(v, bool) else str(v))
                    for k, v in (step.get("inputs") or {}).items()
                },
                "result": None if step.get("result") is None else str(step.get("result")),
            }
            for step in ((raw.get("trace") or []) if traces else [])
        ],
        "datasets": _datasets(raw),
    }


def _datasets(raw: dict) -> dict:
    return {
        kind: {
            "id": d.get("id"),
            "legal_act": d.get("legal_act") or None,
            "version": str(d.get("version") or ""),
        }
        for kind, d in sorted((raw.get("datasets") or {}).items())
    }


#: The stored field of each summed figure.
_SUMMED_FROM = {
    "quantity": "mass_tonnes",
    "embedded_emissions_t_co2e": "embedded_t_co2e",
    "free_allocation_adjustment_t_co2e": "faa",
    "carbon_price_deduction_t_co2e": "carbon_price_deduction",
    "certificates": "certificates",
    "cost_eur": "cost_eur",
}


class _Scan:
    """One walk over a declaration's groups (without traces) for what the document says of them
    all: their number, the installations, CN codes, reports and datasets they name, and the sums
    per CN code and per installation, country and CN code."""

    def __init__(self, raws):
        self.count = 0
        self.without_price = 0
        self.installation_ids: set = set()
        self.cn_codes: set[str] = set()
        self.pinned_cn: set = set()
        self.report_ids: set = set()
        self.datasets: dict[str, dict] = {}
        self.by_cn: dict[tuple, dict] = {}
        self.by_installation: dict[tuple, dict] = {}
        for raw in raws:
            self._add(raw)

    @staticmethod
    def _sum_into(sums: dict, key: tuple, figures: dict, *, priced: bool) -> None:
        row = sums.get(key)
        if row is None:
            row = sums[key] = {**{f: ZERO for f in _SUMMED}, **dict.fromkeys(_COUNTED, 0)}
        for f, value in figures.items():
            row[f] += value
        row["groups"] += 1
        if not priced:
            row["groups_without_price"] += 1

    def _add(self, raw: dict) -> None:
        self.count += 1
        priced = raw.get("price_eur") is not None
        if not priced:
            self.without_price += 1
        self.installation_ids.add(raw.get("installation_id"))
        self.cn_codes.add(raw["cn_code"])
        if raw.get("report_id"):
            self.report_ids.add(raw["report_id"])
        for kind, d in _datasets(raw).items():
            self.datasets.setdefault(f"{kind}#{d['id']}", {"kind": kind, **d})
            if kind == "cn_goods" and d.get("id"):
                self.pinned_cn.add(d["id"])
        figures = {f: _dec(raw.get(source)) for f, source in _SUMMED_FROM.items()}
        self._sum_into(self.by_cn, (raw["cn_code"],), figures, priced=priced)
        key = (raw.get("installation_id"), raw["country"], raw["cn_code"])
        self._sum_into(self.by_installation, key, figures, priced=priced)

    def summed(self) -> dict:
        return {f: sum((row[f] for row in self.by_cn.values()), ZERO) for f in _SUMMED}

    def per_installation(self, installations: dict) -> dict[tuple, dict]:
        """The sums per (installation id, country, CN code); groups of an installation no longer
        found count under id 0."""
        folded: dict[tuple, dict] = {}
        for (installation_id, country, cn), row in self.by_installation.items():
            key = (installation_id if installation_id in installations else 0, country, cn)
            if key in folded:
                for f in (*_SUMMED, *_COUNTED):
                    folded[key][f] += row[f]
            else:
                folded[key] = dict(row)
        return folded


def _sorted_sums(sums: dict[tuple, dict]) -> list[tuple[tuple, dict]]:
    return sorted(sums.items(), key=lambda item: tuple("" if x is None else str(x) for x in item[0]))


def _evidence(declaration: Declaration, frozen: bool) -> list[dict]:
    """Per supplier: the data requests sent for the year, reminders, answers and declines
    (IR 2025/2547 Art 4(3): 'all possible efforts' to obtain actual data)."""
    cut = declaration.filed_at if frozen else None
    events = DataRequestEvent.objects.order_by("at", "pk")
    if cut is not None:
        events = events.filter(at__lte=cut)
    requests = (
        DataRequest.objects.filter(declarant_id=declaration.organisation_id, year=declaration.year)
        .select_related("supplier_link__supplier", "installation")
        .prefetch_related(Prefetch("events", queryset=events, to_attr="export_events"))
        .order_by("supplier_name", "pk")
    )
    if cut is not None:
        requests = requests.filter(created_at__lte=cut)
    suppliers: dict[tuple, dict] = {}
    for r in requests:
        link = getattr(r, "supplier_link", None)
        supplier = link.supplier if link is not None else None
        name = supplier.name if supplier is not None else r.supplier_name
        country = supplier.country if supplier is not None else None
        entry = suppliers.setdefault(
            (name, country or ""), {"name": name, "country": country, "requests": []}
        )
        counts = defaultdict(int)
        for e in r.export_events:
            counts[e.kind] += 1
        entry["requests"].append(
            {
                "id": r.pk,
                "installation": r.installation.name if r.installation_id else None,
                "cn_codes": list(r.cn_codes or []),
                "period_start": _when(r.period_start),
                "period_end": _when(r.period_end),
                "due_date": _when(r.due_date),
                "status": r.status,
                "sent_at": _when(r.created_at),
                "reminders": counts.get("reminded", 0),
                "answered_at": _when(r.answered_at),
                "events": [
                    {
                        "at": _when(e.at),
                        "kind": e.kind,
                        "label": e.kind_label,
                        "by": e.actor_label or None,
                        "note": e.note or None,
                    }
                    for e in r.export_events
                ],
            }
        )
    return [suppliers[k] for k in sorted(suppliers, key=lambda k: (k[0].lower(), k[1]))]


def build_document(declaration: Declaration, *, traces: bool = True) -> dict:
    """The export document of ``declaration``: see the module docstring (``traces``: see
    :func:`document_for`)."""
    frozen = is_frozen_snapshot(declaration)
    org = declaration.organisation
    if frozen:
        snap = declaration.snapshot
        source = _FrozenGroups(declaration)
    else:
        source = _LiveGroups(declaration)
    scan = _Scan(source.walk(traces=False))
    if frozen:
        reports = snap.get("reports") or []
        import_lines = snap.get("import_lines")
    else:
        reports = _live_reports(scan.report_ids)
        import_lines = None

    installation_ids = scan.installation_ids | {r["installation_id"] for r in reports}
    installations = {
        i.pk: {
            "id": i.pk,
            "name": i.name_en or i.name,
            "country": i.country,
            "unlocode": i.unlocode or None,
            "operator": i.organisation.name,
        }
        for i in Installation.objects.filter(pk__in=[i for i in installation_ids if i]).select_related(
            "organisation"
        )
    }
    goods = _cn_goods(scan.cn_codes, scan.pinned_cn)
    groups = GroupSequence(source, scan.count, installations, goods, traces=traces)

    titles = {d.pk: d for d in Dataset.objects.filter(pk__in=[d["id"] for d in scan.datasets.values() if d["id"]])}
    dataset_list = [
        {
            **d,
            "source": (titles[d["id"]].source or None) if d["id"] in titles else None,
            "sha256": (titles[d["id"]].sha256 or None) if d["id"] in titles else None,
        }
        for _, d in sorted(scan.datasets.items())
    ]

    verification = _verification([r["id"] for r in reports])
    operator_reports = [
        {
            "id": r["id"],
            "installation": installations.get(r["installation_id"]),
            "year": r["year"],
            "version": r["version"],
            "status": r["status"],
            "submitted_at": r.get("submitted_at"),
            "verified": r["status"] == "verified",
            "verification": verification.get(r["id"]) if r["status"] == "verified" else None,
            "results": [
                {
                    "cn_code": x["cn_code"],
                    "see_direct_t_co2e_per_unit": x.get("see_direct"),
                    "see_indirect_t_co2e_per_unit": x.get("see_indirect"),
                    "see_obligation_t_co2e_per_unit": x.get("see_obligation"),
                }
                for x in r.get("results") or []
            ],
        }
        for r in reports
    ]

    goods_totals = [
        {
            "cn_code": cn,
            "description": (goods[cn].description if cn in goods else "") or None,
            "aggregated_category": (goods[cn].aggregated_category if cn in goods else "") or None,
            "unit": _unit(cn, goods.get(cn)),
            **{f: row[f] for f in _COUNTED},
            **{f: decimal_text(row[f]) for f in _SUMMED},
        }
        for (cn,), row in _sorted_sums(scan.by_cn)
    ]
    per_installation = [
        {
            "installation": installations.get(installation_id),
            "country": country,
            "cn_code": cn,
            "unit": _unit(cn, goods.get(cn)),
            **{f: row[f] for f in _COUNTED},
            **{f: decimal_text(row[f]) for f in _SUMMED},
        }
        for (installation_id, country, cn), row in _sorted_sums(scan.per_installation(installations))
    ]
    summed = scan.summed()
    if frozen:
        totals = {
            "embedded_emissions_t_co2e": snap["totals"]["embedded_t_co2e"],
            "certificates": snap["totals"]["certificates"],
            "cost_eur": snap["totals"]["cost_eur"],
        }
    else:
        totals = {
            "embedded_emissions_t_co2e": decimal_text(declaration.embedded_t_co2e),
            "certificates": decimal_text(declaration.certificates),
            "cost_eur": decimal_text(declaration.cost_eur),
        }
    totals = {
        **totals,
        "free_allocation_adjustment_t_co2e": decimal_text(summed["free_allocation_adjustment_t_co2e"]),
        "carbon_price_deduction_t_co2e": decimal_text(summed["carbon_price_deduction_t_co2e"]),
        "groups": scan.count,
        "groups_without_price": scan.without_price,
    }

    return {
        "schema": SCHEMA,
        "generated_at": timezone.now().isoformat(),
        "data_source": "filed_snapshot" if frozen else "live",
        "declaration": {
            "id": declaration.pk,
            "year": declaration.year,
            "version": declaration.version,
            "status": declaration.status,
            "is_draft": declaration.status != DeclarationStatus.FILED
            and declaration.status != DeclarationStatus.AMENDED,
            "supersedes_version": declaration.supersedes.version if declaration.supersedes_id else None,
            "computation_error": declaration.computation_error or None,
        },
        "declarant": {"name": org.name, "eori": org.eori or None, "country": org.country or None},
        "dates": {
            "created_at": _when(declaration.created_at),
            "computed_at": _when(declaration.computed_at),
            "prepared_by": _who(declaration.prepared_by),
            "submitted_for_review_by": _who(declaration.submitted_for_review_by),
            "submitted_for_review_at": _when(declaration.submitted_for_review_at),
            "approved_by": _who(declaration.approved_by),
            "approved_at": _when(declaration.approved_at),
            "filed_by": _who(declaration.filed_by),
            "filed_at": _when(declaration.filed_at),
        },
        "totals": totals,
        "goods": goods_totals,
        "installations": per_installation,
        "groups": groups,
        "datasets": dataset_list,
        "operator_reports": operator_reports,
        "import_lines": import_lines,
        "supplier_evidence": _evidence(declaration, frozen),
    }
