"""Writes: importing the Commission's communication template into a draft emissions report, and
writing a report back to the template's ``Summary_Communication`` layout.

The upload is parsed in a background job (job kind ``emissions_template_import``, see
:mod:`emissions.jobs`): read and validate the whole workbook first, then write the installation
(when none is given), the draft report and every row in one transaction, compute SEE with the
portal's own engine and set the template's values next to it ([IR2547] Art 10, Annex IV 1.2).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.core.actor import Actor
from cbam_portal.core.errors import UserFacingError
from cbam_portal.core.models import Job
from cbam_portal.core.services import audit_record, job_enqueue
from emissions.see import CORR_ETA_WASTE_GAS, EF_NATURAL_GAS_TCO2_PER_TJ, quantise
from emissions.template import (
    GoodsCategory,
    InstallationSummary,
    ParsedTemplate,
    Problem,
    ProcessSummary,
    ProductRow,
    SummaryCommunication,
    TemplateError,
    export_summary,
    read_template,
)
from emissions.template.compare import DEFAULT_TOLERANCE

from ..models import (
    CarbonPriceDue,
    EmissionsReport,
    GoodResult,
    InternalPrecursor,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
    ReportSource,
    ReportStatus,
)

logger = logging.getLogger(__name__)

KIND = "emissions_template_import"
UPLOAD_DIR = "emissions/imports"
QUANTITY_STEP = Decimal("0.000001")
INTENSITY_STEP = Decimal("0.0000000001")
ZERO = Decimal(0)

#: Qualifying parameters of a product line kept with the good ([IR2547] Annex IV point 2).
QUALIFYING_ATTRS = (
    "reducing_agent",
    "steel_mill_id",
    "mn_pct",
    "cr_pct",
    "ni_pct",
    "other_alloys_pct",
    "carbon_pct",
    "scrap_t_per_t_steel",
    "other_materials_pct",
    "pre_consumer_scrap_pct",
    "scrap_t_per_t_aluminium",
    "non_aluminium_pct",
    "clinker_factor",
    "calcined",
    "hydrous_concentration",
    "nitric_acid_pct",
    "urea_pct",
    "n_contained_pct",
    "n_ammonium_pct",
    "n_nitrate_pct",
    "n_urea_pct",
    "n_other_pct",
)

#: Installation fields and the ``A_InstData`` field they are read from (to point at the cell).
_INSTALLATION_SOURCES = {
    "name": "name",
    "name_en": "name_english",
    "street": "street",
    "postcode": "post_code",
    "po_box": "po_box",
    "city": "city",
    "country": "country_code",
    "unlocode": "unlocode",
    "latitude": "latitude",
    "longitude": "longitude",
    "economic_activity": "economic_activity",
    "representative_name": "authorised_representative",
    "contact_email": "email",
    "contact_phone": "telephone",
}


# ---------------------------------------------------------------------------------------------
# Reference lists (Annex I / Annex II), from the database when loaded, else from opencbam
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CnLists:
    annex_i: frozenset[str]
    annex_ii: frozenset[str]
    source: str


def cn_lists() -> CnLists:
    """The Annex I CN list of Reg (EU) 2023/956 (and its Annex II subset, direct emissions only).

    Uses the current reference dataset when one is loaded; otherwise (e.g. a fresh machine
    without a database) the list shipped in the opencbam package, so that checking a template
    never depends on a database.
    """
    try:
        from cbam_portal.reference.models import CnGood, DatasetKind

        rows = list(
            CnGood.objects.filter(dataset__kind=DatasetKind.CN_GOODS, dataset__is_current=True).values_list(
                "cn8", "annex_ii_direct_only"
            )
        )
    except DatabaseError:  # no database, or not migrated
        rows = []
    if rows:
        return CnLists(
            annex_i=frozenset(cn for cn, _ii in rows),
            annex_ii=frozenset(cn for cn, ii in rows if ii),
            source="reference data",
        )
    from cbam_portal.reference.loaders.opencbam import parse_cn_goods

    parsed = parse_cn_goods()
    return CnLists(
        annex_i=frozenset(r["cn8"] for r in parsed.rows),
        annex_ii=frozenset(r["cn8"] for r in parsed.rows if r["annex_ii_direct_only"]),
        source=parsed.version if "opencbam" in parsed.version else f"opencbam {parsed.version}",
    )


def problems_as_dicts(problems) -> list[dict]:
    return [
        {"sheet": p.sheet, "cell": p.cell, "field": p.field, "message": p.message, "text": str(p)}
        for p in problems
    ]


def decimal_str(value: Decimal | None, places: int = 5) -> str | None:
    """A Decimal as a string with `places` decimals (half-up), or None."""
    if value is None:
        return None
    return str(quantise(Decimal(value), places))


# ---------------------------------------------------------------------------------------------
# Enqueue
# ---------------------------------------------------------------------------------------------


def validate_upload(uploaded_file) -> None:
    """Refuse what cannot be a template before storing anything: wrong type, empty, too big."""
    name = getattr(uploaded_file, "name", "") or ""
    if PurePath(name).suffix.lower() != ".xlsx":
        raise ValidationError(
            {
                "file": _(
                    "Only .xlsx files (the Commission communication template) are accepted; got “%(name)s”."
                )
                % {"name": PurePath(name).name or "?"}
            }
        )
    size = getattr(uploaded_file, "size", None)
    if not size:
        raise ValidationError({"file": _("The file is empty.")})
    limit = settings.CBAM_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": round(size / 1_048_576, 1), "limit": round(limit / 1_048_576, 1)}
            }
        )


@transaction.atomic
def template_import_enqueue(
    *, actor: Actor, organisation: Organisation, uploaded_file, installation=None
) -> Job:
    """Store the upload and start parsing it in the background (job kind ``emissions_template_import``)."""
    if organisation.kind != OrganisationKind.OPERATOR:
        raise ValidationError(_("Only operators upload communication templates."))
    if installation is not None and installation.organisation_id != organisation.pk:
        raise ValidationError({"installation": _("This installation belongs to another organisation.")})
    validate_upload(uploaded_file)
    original = PurePath(uploaded_file.name).name[:200]
    uploaded_file.seek(0)
    stored = default_storage.save(
        f"{UPLOAD_DIR}/{secrets.token_urlsafe(16)}.xlsx", ContentFile(uploaded_file.read())
    )
    job = job_enqueue(
        actor=actor,
        organisation=organisation,
        kind=KIND,
        params={
            "file": stored,
            "file_name": original,
            "installation": installation.pk if installation is not None else None,
        },
    )
    audit_record(
        actor=actor,
        verb="emissions_template.uploaded",
        organisation=organisation,
        target=job,
        after={"file_name": original, "installation": installation.pk if installation is not None else None},
    )
    return job


# ---------------------------------------------------------------------------------------------
# The import itself (run by the job)
# ---------------------------------------------------------------------------------------------


def _q(value: Decimal | None, step: Decimal = QUANTITY_STEP) -> Decimal:
    if value is None:
        return ZERO
    return Decimal(value).quantize(step, rounding=ROUND_HALF_UP)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def _installation_fields(parsed: ParsedTemplate) -> dict:
    data = parsed.installation
    summary = parsed.summary.installation
    if data is None:
        fields = {
            "name": summary.name,
            "street": summary.street,
            "city": summary.city,
            "country": summary.country_code,
            "unlocode": summary.unlocode,
            "latitude": summary.latitude,
            "longitude": summary.longitude,
            "economic_activity": summary.economic_activity,
        }
    else:
        fields = {model_field: getattr(data, attr) for model_field, attr in _INSTALLATION_SOURCES.items()}
        fields["verifier_name"] = data.verifier.company_name
        fields["verifier_accreditation_number"] = data.verifier.registration_number
        fields["verifier_accreditation_country"] = (data.verifier.accreditation_member_state or "")[:2]
        contact = ", ".join(x for x in (data.verifier.representative_name, data.verifier.email) if x)
        fields["verifier_contact"] = contact[:200]
    if not fields.get("name"):
        fields["name"] = fields.get("name_en") or ""
    for coordinate in ("latitude", "longitude"):
        if fields.get(coordinate) is not None:
            fields[coordinate] = _q(fields[coordinate])
    return {k: ("" if v is None and k not in ("latitude", "longitude") else v) for k, v in fields.items()}


def _installation_problems(parsed: ParsedTemplate, error: ValidationError) -> list[Problem]:
    cells = parsed.installation.cells if parsed.installation is not None else {}
    problems = []
    for model_field, messages in error.message_dict.items():
        source = _INSTALLATION_SOURCES.get(model_field, model_field)
        ref = cells.get(source, "A_InstData")
        for message in messages:
            problems.append(Problem.at(ref, message, source))
    return problems


def _report_year(parsed: ParsedTemplate) -> int:
    start = (
        parsed.installation.period_start if parsed.installation else None
    ) or parsed.summary.installation.period_start
    end = (
        parsed.installation.period_end if parsed.installation else None
    ) or parsed.summary.installation.period_end
    day = start or end
    if day is None:
        cells = parsed.installation.cells if parsed.installation else {}
        raise TemplateError(
            Problem.at(
                cells.get("period_start", "A_InstData"),
                "the reporting period is missing.",
                "reporting period",
            )
        )
    return day.year


def _qualifying(product: ProductRow) -> dict:
    params = {}
    for attr in QUALIFYING_ATTRS:
        value = getattr(product, attr)
        if value not in (None, ""):
            params[attr] = _jsonable(value)
    return params


@dataclass
class ImportResult:
    report: EmissionsReport
    created_installation: bool
    parsed: ParsedTemplate


def _create_rows(*, report: EmissionsReport, parsed: ParsedTemplate) -> None:
    """Processes, goods, precursors and carbon prices of the template as report rows."""
    processes: dict[str, ProductionProcess] = {}
    for p in parsed.processes:
        produced = p.electricity_exported_mwh or ZERO
        produced_ef = p.electricity_exported_ef_tco2_per_mwh or ZERO
        waste_in = (p.waste_gas_imported_tj or ZERO) * EF_NATURAL_GAS_TCO2_PER_TJ  # Eq. 57, no correction
        waste_out = (p.waste_gas_exported_tj or ZERO) * EF_NATURAL_GAS_TCO2_PER_TJ * CORR_ETA_WASTE_GAS
        processes[p.name] = ProductionProcess.objects.create(
            report=report,
            key=p.id[:20],
            name=p.name[:200],
            aggregated_category=p.aggregated_good[:60],
            route=", ".join(r.route for r in p.production_by_route if r.amount)[:120],
            is_joint=len({prod.cn_code for prod in parsed.summary.products if prod.process_name == p.name})
            > 1,
            activity_level=_q(p.activity_level),
            direct_emissions_t_co2e=_q(p.direct_emissions_tco2e),
            heat_imported_tj=_q(p.heat_imported_tj),
            heat_imported_ef_t_co2_per_tj=_q(p.heat_imported_ef_tco2_per_tj, INTENSITY_STEP),
            heat_exported_tj=_q(p.heat_exported_tj),
            heat_exported_ef_t_co2_per_tj=_q(p.heat_exported_ef_tco2_per_tj, INTENSITY_STEP),
            waste_gas_imported_t_co2e=_q(waste_in),
            waste_gas_exported_t_co2e=_q(waste_out),
            electricity_consumed_mwh=_q(p.electricity_consumed_mwh),
            electricity_ef_t_co2_per_mwh=_q(p.electricity_ef_tco2_per_mwh, INTENSITY_STEP),
            electricity_ef_source=p.electricity_ef_source[:120],
            electricity_produced_t_co2e=_q(produced * produced_ef),
            electricity_exported_mwh=_q(produced),
        )
    by_id = {p.id: processes[p.name] for p in parsed.processes}

    internal = []
    for source in parsed.processes:
        for use in source.consumed_in_processes:
            if use.quantity and use.quantity > 0 and use.process_name in processes:
                internal.append(
                    InternalPrecursor(
                        process=processes[use.process_name],
                        source_process=processes[source.name],
                        quantity=_q(use.quantity),
                    )
                )
    InternalPrecursor.objects.bulk_create(internal)

    countries = {}
    if parsed.installation is not None:
        countries = {d.id: d.country_code for d in parsed.installation.purchased_precursors}
    purchased = []
    for pp in parsed.purchased_precursors:
        if pp.electricity_mwh_per_t is not None and pp.electricity_ef_tco2_per_mwh is not None:
            see_indirect = pp.electricity_mwh_per_t * pp.electricity_ef_tco2_per_mwh
        else:
            see_indirect = pp.see_indirect or ZERO
        for use in pp.consumption:
            if not use.quantity or use.quantity <= 0 or use.process_name not in processes:
                continue
            purchased.append(
                PurchasedPrecursor(
                    process=processes[use.process_name],
                    name=pp.name[:200],
                    country=(countries.get(pp.id) or "")[:2],
                    quantity=_q(use.quantity),
                    see_direct=_q(pp.see_direct, INTENSITY_STEP),
                    see_indirect=_q(see_indirect, INTENSITY_STEP),
                    electricity_mwh_per_unit=_q(pp.electricity_mwh_per_t, INTENSITY_STEP),
                    is_default=pp.is_default,
                )
            )
    PurchasedPrecursor.objects.bulk_create(purchased)

    goods: dict[tuple[int, str], ProcessGood] = {}
    prices = []
    for product in parsed.summary.products:
        process = processes.get(product.process_name) or by_id.get(product.process_name)
        if process is None:
            continue
        key = (process.pk, product.cn_code)
        if key in goods:  # one good per CN code and process; keep every product name
            good = goods[key]
            if product.product_name and product.product_name not in good.product_name:
                good.product_name = f"{good.product_name}; {product.product_name}"[:200]
            continue
        goods[key] = ProcessGood(
            process=process,
            cn_code=product.cn_code,
            product_name=product.product_name[:200],
            qualifying_parameters=_qualifying(product),
        )
        if product.carbon_price_instrument and product.carbon_price_due is not None:
            prices.append(
                CarbonPriceDue(
                    report=report,
                    instrument=product.carbon_price_instrument[:120],
                    cn_codes=[product.cn_code],
                    amount_per_t=_q(product.carbon_price_due),
                    currency=(product.currency or "")[:3],
                    share_covered=_q(min(product.carbon_price_share_covered or ZERO, Decimal(1))),
                    rebate_per_t=_q(product.rebate_amount),
                    rebate_description=product.rebate_type[:300],
                )
            )
    ProcessGood.objects.bulk_create(goods.values())
    CarbonPriceDue.objects.bulk_create(prices)


def _comparison(parsed: ParsedTemplate, report: EmissionsReport) -> dict:
    """Template SEE next to the portal's, per product line; every difference beyond 0.000005
    (SEE are communicated with 5 decimals, [IR2547] Annex II A.1(8))."""
    results = {
        (r.process.name, r.cn_code): r
        for r in GoodResult.objects.filter(report=report).select_related("process")
    }
    rows, differences, updates = [], [], {}
    for product in parsed.summary.products:
        result = results.get((product.process_name, product.cn_code))
        row = {
            "process": product.process_name,
            "cn_code": product.cn_code,
            "product_name": product.product_name,
            "cell": product.cells.get("see_total", ""),
        }
        for attr in ("see_direct", "see_indirect", "see_total"):
            template_value = getattr(product, attr)
            computed = getattr(result, attr) if result is not None else None
            row[attr] = decimal_str(computed)
            row[f"template_{attr}"] = decimal_str(template_value)
            if (
                computed is None
                or template_value is None
                or abs(computed - template_value) > DEFAULT_TOLERANCE
            ):
                differences.append(
                    {
                        "cn_code": product.cn_code,
                        "product_name": product.product_name,
                        "field": attr,
                        "cell": product.cells.get(attr, ""),
                        "template": decimal_str(template_value),
                        "computed": decimal_str(computed),
                        "delta": decimal_str(computed - template_value)
                        if computed is not None and template_value is not None
                        else None,
                    }
                )
        row["matches"] = not any(
            d["cn_code"] == product.cn_code and d["product_name"] == product.product_name for d in differences
        )
        rows.append(row)
        if result is not None and result.pk not in updates:
            result.template_see_direct = product.see_direct
            result.template_see_indirect = product.see_indirect
            result.template_see_total = product.see_total
            updates[result.pk] = result
    GoodResult.objects.bulk_update(
        updates.values(), ["template_see_direct", "template_see_indirect", "template_see_total"]
    )
    return {"rows": rows, "differences": differences, "matches": not differences}


def _read_summary(parsed: ParsedTemplate) -> dict:
    """What was read, for the user to check against the file."""
    inst = parsed.installation
    summary = parsed.summary.installation
    return {
        "template_version": parsed.template_version,
        "installation": {
            "name": (inst.name or inst.name_english) if inst else summary.name,
            "city": inst.city if inst else summary.city,
            "country": inst.country_code if inst else summary.country_code,
            "unlocode": inst.unlocode if inst else summary.unlocode,
            "period_start": str((inst.period_start if inst else summary.period_start) or ""),
            "period_end": str((inst.period_end if inst else summary.period_end) or ""),
        },
        "processes": [
            {
                "id": p.id,
                "name": p.name,
                "aggregated_good": p.aggregated_good,
                "activity_level": decimal_str(p.activity_level, 3),
                "direct_emissions_tco2e": decimal_str(p.direct_emissions_tco2e, 3),
                "electricity_consumed_mwh": decimal_str(p.electricity_consumed_mwh, 3),
                "consumed_in": [
                    {"process": use.process_name, "quantity": decimal_str(use.quantity, 3)}
                    for use in p.consumed_in_processes
                    if use.quantity
                ],
            }
            for p in parsed.processes
        ],
        "purchased_precursors": [
            {
                "id": pp.id,
                "name": pp.name,
                "see_direct": decimal_str(pp.see_direct),
                "source": pp.see_direct_source,
                "quantity": decimal_str(sum((u.quantity for u in pp.consumption), ZERO), 3),
            }
            for pp in parsed.purchased_precursors
        ],
        "goods": len(parsed.summary.products),
    }


def template_parse(data: bytes, *, file_name: str = "") -> ParsedTemplate:
    """Parse and check a template completely (nothing written): TemplateError lists every problem."""
    lists = cn_lists()
    parsed = read_template(
        data, max_bytes=settings.CBAM_MAX_UPLOAD_BYTES, annex_i_cn_codes=set(lists.annex_i)
    )
    if not parsed.processes:
        from emissions.template import to_see_inputs

        to_see_inputs(parsed)  # raises the "no D_Processes" problem
    return parsed


def template_import(
    *,
    actor: Actor,
    organisation: Organisation,
    data: bytes,
    file_name: str,
    installation=None,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Parse a communication template and create a draft report from it (all or nothing).

    Raises UserFacingError naming every problem (sheet and cell) when the file cannot be used;
    nothing is written then.
    """
    from . import reports as report_services

    step = progress or (lambda done, total, message: None)
    step(0, 4, _("Reading the workbook…"))
    try:
        parsed = template_parse(data, file_name=file_name)
        year = _report_year(parsed)
        from emissions.template import to_see_inputs

        to_see_inputs(parsed, annex_ii_cn_codes=cn_lists().annex_ii)  # consistency of the input sheets
    except TemplateError as exc:
        raise UserFacingError(_template_error_message(exc.problems)) from exc
    step(1, 4, _("Saving the report…"))
    try:
        with transaction.atomic():
            result = _import_rows(
                actor=actor,
                organisation=organisation,
                parsed=parsed,
                year=year,
                data=data,
                file_name=file_name,
                installation=installation,
            )
            step(2, 4, _("Computing SEE…"))
            try:
                report_services.report_compute(report=result.report)
            except ValidationError as exc:
                raise UserFacingError(
                    _("The portal could not compute SEE from this template: %(error)s")
                    % {"error": "; ".join(exc.messages)}
                ) from exc
            step(3, 4, _("Comparing with the template's values…"))
            comparison = _comparison(parsed, result.report)
            # The file last: nothing else can fail after it is written.
            result.report.source_file.save(f"{secrets.token_urlsafe(12)}.xlsx", ContentFile(data), save=True)
            audit_record(
                actor=actor,
                verb="emissions_report.imported",
                organisation=organisation,
                target=result.report,
                after={
                    "file_name": file_name,
                    "installation": result.report.installation_id,
                    "year": year,
                    "goods": len(comparison["rows"]),
                    "differences": len(comparison["differences"]),
                },
            )
    except TemplateError as exc:
        raise UserFacingError(_template_error_message(exc.problems)) from exc
    report = result.report
    return {
        "report_id": report.pk,
        "report": str(report),
        "installation_id": report.installation_id,
        "installation": str(report.installation),
        "created_installation": result.created_installation,
        "year": year,
        "version": report.version,
        "file_name": file_name,
        "read": _read_summary(parsed),
        **comparison,
    }


def _template_error_message(problems) -> str:
    lines = [str(p) for p in problems]
    head = _("The communication template cannot be imported; nothing was saved. Problems found:")
    return head + "\n" + "\n".join(f"- {line}" for line in lines)


def _matching_installation(organisation: Organisation, fields: dict):
    """The operator's installation the template describes (same UN/LOCODE and name), so that next
    year's template lands on the same installation instead of a duplicate."""
    from ..models import Installation

    unlocode = (fields.get("unlocode") or "").strip().upper()
    names = {n.strip() for n in (fields.get("name"), fields.get("name_en")) if n and n.strip()}
    if not unlocode or not names:
        return None
    return (
        Installation.objects.filter(organisation=organisation, unlocode=unlocode)
        .filter(Q(name__in=names) | Q(name_en__in=names))
        .order_by("pk")
        .first()
    )


def _import_rows(*, actor, organisation, parsed, year, data, file_name, installation) -> ImportResult:
    from . import installations as installation_services

    created = False
    if installation is None:
        installation = _matching_installation(organisation, _installation_fields(parsed))
    if installation is None:
        try:
            installation = installation_services.installation_create(
                actor=actor, organisation=organisation, **_installation_fields(parsed)
            )
        except ValidationError as exc:
            raise TemplateError(_installation_problems(parsed, exc)) from exc
        created = True
    existing = (
        EmissionsReport.objects.filter(installation=installation, year=year).order_by("-version").first()
    )
    if existing is not None:
        raise UserFacingError(
            _(
                "%(installation)s already has a report for %(year)s (version %(version)s, %(status)s). "
                "Upload into a correction of that report, or delete the draft first."
            )
            % {
                "installation": installation,
                "year": year,
                "version": existing.version,
                "status": existing.get_status_display(),
            }
        )
    report = EmissionsReport(
        organisation=organisation,
        installation=installation,
        year=year,
        version=1,
        status=ReportStatus.DRAFT,
        source=ReportSource.TEMPLATE,
        source_file_name=file_name[:255],
        created_by=actor.user,
        notes=_("Imported from the communication template “%(name)s”.") % {"name": file_name},
    )
    report.save()
    audit_record(
        actor=actor,
        verb="emissions_report.created",
        organisation=organisation,
        target=report,
        after={"installation": installation.pk, "year": year, "version": 1, "source": ReportSource.TEMPLATE},
    )
    _create_rows(report=report, parsed=parsed)
    return ImportResult(report=report, created_installation=created, parsed=parsed)


# ---------------------------------------------------------------------------------------------
# Export to the template layout
# ---------------------------------------------------------------------------------------------


def report_summary(report: EmissionsReport) -> SummaryCommunication:
    """The report as the template's ``Summary_Communication`` ([IR2547] Annex IV 1.2).

    Reads the processes, goods and computed results (three queries)."""
    installation = report.installation
    processes = list(report.processes.all().prefetch_related("goods"))
    results = list(report.results.all().select_related("process"))
    goods_by_key = {(g.process_id, g.cn_code): g for p in processes for g in p.goods.all()}
    categories: list[str] = []
    for p in processes:
        if p.aggregated_category not in categories:
            categories.append(p.aggregated_category)
    products = []
    for r in results:
        good = goods_by_key.get((r.process_id, r.cn_code))
        params = good.qualifying_parameters if good is not None else {}
        qualifying = {}
        for attr in QUALIFYING_ATTRS:
            if attr in params:
                value = params[attr]
                qualifying[attr] = (
                    value if attr in ("reducing_agent", "steel_mill_id", "calcined") else Decimal(str(value))
                )
        products.append(
            ProductRow(
                process_name=r.process.name,
                aggregated_good=r.process.aggregated_category,
                cn_code=r.cn_code,
                product_name=good.product_name if good is not None else "",
                see_direct=r.see_direct,
                see_indirect=r.see_indirect,
                see_total=r.see_total,
                unit=f"tCO2e/{r.process.activity_unit}",
                default_share=r.default_share,
                electricity_ef_source=r.process.electricity_ef_source,
                embedded_electricity_mwh_per_t=r.embedded_electricity_mwh_per_unit,
                electricity_ef_tco2_per_mwh=r.process.electricity_ef_t_co2_per_mwh,
                **qualifying,
            )
        )
    direct = sum((p.direct_emissions_t_co2e for p in processes), ZERO)
    indirect = sum((p.electricity_consumed_mwh * p.electricity_ef_t_co2_per_mwh for p in processes), ZERO)
    return SummaryCommunication(
        installation=InstallationSummary(
            name=installation.name_en or installation.name,
            street=installation.street,
            economic_activity=installation.economic_activity,
            city=installation.city,
            country_code=installation.country,
            unlocode=installation.unlocode,
            latitude=installation.latitude,
            longitude=installation.longitude,
            period_start=date(report.year, 1, 1),
            period_end=date(report.year, 12, 31),
        ),
        goods=tuple(GoodsCategory(id=f"G{i}", category=c) for i, c in enumerate(categories, start=1)),
        processes=tuple(
            ProcessSummary(id=p.key, name=p.name, category=p.aggregated_category) for p in processes
        ),
        total_direct_tco2e=direct,
        total_indirect_tco2e=indirect,
        total_tco2e=direct + indirect,
        products=tuple(products),
    )


def report_export_file_name(report: EmissionsReport) -> str:
    stamp = timezone.now().strftime("%Y%m%d")
    return f"Summary_Communication_{report.installation_id}_{report.year}_v{report.version}_{stamp}.xlsx"


def report_export_xlsx(report: EmissionsReport) -> bytes:
    """The filled ``Summary_Communication`` sheet of a report, as ``.xlsx`` bytes."""
    return export_summary(report_summary(report))
