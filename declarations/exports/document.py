"""The declaration as one plain, versioned document: the content of [R956] Art 6(2) as amended.

Every export format renders this document, so a PDF, a spreadsheet and the JSON file always
show the same figures. Its structure is the JSON export (schema ``cbam-portal/declaration/1.0``,
documented field by field in ``docs/declaration-json.md`` and ``declaration.schema.json``).

A filed (or superseded) declaration is read from its frozen snapshot, never from live groups:
the figures, the trace, the dataset versions and the operator reports are those that were
filed. Descriptive master data that the snapshot keeps only by id (installation names, the CN
description) is looked up by that id; supplier evidence is cut at the filing time.

Decimals are strings without exponent ("167.575"), as the portal stores them: no float ever.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from cbam_portal.reference.models import CnGood, Dataset
from emissions.models import DataRequest, DataRequestEvent, EmissionsReport, Installation

from ..assessment import decimal_text
from ..models import Declaration, DeclarationStatus
from ..services.traces import declaration_group_traces

SCHEMA_ID = "cbam-portal/declaration"
SCHEMA_VERSION = "1.0"
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

_CACHE_ATTR = "_export_document"


def document_for(declaration: Declaration, *, traces: bool = True) -> dict:
    """The export document of ``declaration`` (built once per instance, then reused).

    ``traces=False``: every group's ``trace`` left empty, for the formats that do not show it
    (a large declaration's traces are most of its size: reading and converting those of 54,000
    groups took gigabytes of memory). A document with traces serves both."""
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


def _live_groups(declaration: Declaration, *, traces: bool = True) -> list[dict]:
    rows = declaration.groups.order_by("cn_code", "country", "quarter", "pk")
    if not traces:
        rows = rows.defer("trace")
    else:  # stored once the declaration went to review, derived from the current inputs in a draft
        rows = list(rows)
        steps = declaration_group_traces(declaration, rows)
    return [
        {
            "cn_code": g.cn_code,
            "country": g.country,
            "installation_id": g.installation_id,
            "quarter": g.quarter,
            "source": g.source,
            "override_source": g.override_source,
            "override_reason": g.override_reason,
            "report_id": g.report_id,
            "mass_tonnes": g.mass_tonnes,
            "returned_tonnes": g.returned_tonnes,
            "lines": g.lines,
            "see_used": g.see_used,
            "embedded_t_co2e": g.embedded_t_co2e,
            "benchmark": g.benchmark,
            "column": g.column,
            "route": g.route,
            "sefa": g.sefa,
            "faa": g.faa,
            "carbon_price_deduction": g.carbon_price_deduction,
            "certificates": g.certificates,
            "price_eur": g.price_eur,
            "cost_eur": g.cost_eur,
            "error": g.error,
            "trace": steps[g.pk] if traces else [],
            "datasets": g.datasets or {},
        }
        for g in (rows if traces else rows.iterator(chunk_size=2000))
    ]


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
        "datasets": {
            kind: {
                "id": d.get("id"),
                "legal_act": d.get("legal_act") or None,
                "version": str(d.get("version") or ""),
            }
            for kind, d in sorted((raw.get("datasets") or {}).items())
        },
    }


def _sum_by(groups: list[dict], key) -> list[tuple[tuple, dict]]:
    sums: dict[tuple, dict] = {}
    for g in groups:
        k = key(g)
        row = sums.setdefault(k, {"first": g, **{f: ZERO for f in _SUMMED}, "groups": 0})
        for f in _SUMMED:
            row[f] += _dec(g[f])
        row["groups"] += 1
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
        raw_groups = snap.get("groups") or []
        reports = snap.get("reports") or []
        import_lines = snap.get("import_lines")
    else:
        raw_groups = _live_groups(declaration, traces=traces)
        reports = _live_reports({g["report_id"] for g in raw_groups if g.get("report_id")})
        import_lines = None

    installation_ids = {g.get("installation_id") for g in raw_groups} | {
        r["installation_id"] for r in reports
    }
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
    pinned_cn = {
        d["id"]
        for g in raw_groups
        for kind, d in (g.get("datasets") or {}).items()
        if kind == "cn_goods" and d.get("id")
    }
    goods = _cn_goods({g["cn_code"] for g in raw_groups}, pinned_cn)
    groups = [_group(g, installations, goods, traces) for g in raw_groups]

    datasets: dict[str, dict] = {}
    for g in groups:
        for kind, d in g["datasets"].items():
            datasets.setdefault(f"{kind}#{d['id']}", {"kind": kind, **d})
    titles = {d.pk: d for d in Dataset.objects.filter(pk__in=[d["id"] for d in datasets.values() if d["id"]])}
    dataset_list = [
        {
            **d,
            "source": (titles[d["id"]].source or None) if d["id"] in titles else None,
            "sha256": (titles[d["id"]].sha256 or None) if d["id"] in titles else None,
        }
        for _, d in sorted(datasets.items())
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
            "unit": row["first"]["unit"],
            "groups": row["groups"],
            **{f: decimal_text(row[f]) for f in _SUMMED},
        }
        for (cn,), row in _sum_by(groups, lambda g: (g["cn_code"],))
    ]
    per_installation = [
        {
            "installation": row["first"]["installation"],
            "country": country,
            "cn_code": cn,
            "unit": row["first"]["unit"],
            "groups": row["groups"],
            **{f: decimal_text(row[f]) for f in _SUMMED},
        }
        for (_, country, cn), row in _sum_by(
            groups, lambda g: ((g["installation"] or {}).get("id") or 0, g["country"], g["cn_code"])
        )
    ]
    summed = {f: sum((_dec(g[f]) for g in groups), ZERO) for f in _SUMMED}
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
        "groups": len(groups),
        "groups_without_price": sum(1 for g in groups if g["certificate_price_eur"] is None),
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
