"""Writes: yearly emissions reports of an installation, their rows, the SEE computation and the
lifecycle draft -> submitted -> verified, corrections (IR 2025/2547 Art 7, Art 10, Annex IV).

Only drafts are edited; a submitted report is immutable and corrected by a new version n+1
that copies every row (the old version becomes "superseded" when the new one is submitted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record
from cbam_portal.reference.codes import CnCodeError
from cbam_portal.reference.models import CnGood, Dataset, DatasetKind
from cbam_portal.reference.selectors import (
    DatasetMissing,
    cn_lookup,
    default_values_for,
    precursor_defaults_for,
)

from .. import see
from ..models import (
    CarbonPriceDue,
    EmissionsReport,
    GoodResult,
    Installation,
    InternalPrecursor,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
    ReportSource,
    ReportStatus,
)
from .notify import declarants_recompute_on_commit, grantee_ids

ZERO = Decimal(0)

PROCESS_FIELDS = (
    "key",
    "name",
    "aggregated_category",
    "route",
    "is_joint",
    "activity_level",
    "activity_unit",
    "direct_emissions_t_co2e",
    "heat_imported_tj",
    "heat_imported_ef_t_co2_per_tj",
    "heat_exported_tj",
    "heat_exported_ef_t_co2_per_tj",
    "waste_gas_imported_t_co2e",
    "waste_gas_exported_t_co2e",
    "electricity_consumed_mwh",
    "electricity_ef_t_co2_per_mwh",
    "electricity_ef_source",
    "electricity_produced_t_co2e",
    "electricity_exported_mwh",
)

#: Monitored values a supplier may declare "not available" (with a reason) instead of a made-up
#: figure; they count as 0 in the computation and are listed on the report. The activity level
#: is never optional: SEE divides by it (IR 2025/2547 Annex III A.3 Eq. 58).
NOT_AVAILABLE_FIELDS = (
    "direct_emissions_t_co2e",
    "heat_imported_tj",
    "heat_imported_ef_t_co2_per_tj",
    "heat_exported_tj",
    "heat_exported_ef_t_co2_per_tj",
    "waste_gas_imported_t_co2e",
    "waste_gas_exported_t_co2e",
    "electricity_consumed_mwh",
    "electricity_ef_t_co2_per_mwh",
    "electricity_produced_t_co2e",
    "electricity_exported_mwh",
)

#: Plausibility ceilings: values above these are almost certainly a unit mistake (kg for t,
#: kgCO2 for tCO2). Grid factors stay below ~1.3 tCO2/MWh; fuel factors below ~110 tCO2/TJ.
PLAUSIBLE_MAX = {
    "electricity_ef_t_co2_per_mwh": Decimal("3"),
    "heat_imported_ef_t_co2_per_tj": Decimal("500"),
    "heat_exported_ef_t_co2_per_tj": Decimal("500"),
}
SEE_PLAUSIBLE_MAX = Decimal("100")  # tCO2e per unit; aluminium/ferro-alloys stay far below

#: Sector-specific qualifying parameters of IR 2025/2547 Annex IV point 2 (keys stored on the good).
#: Values are numbers unless listed in TEXT_PARAMETERS.
QUALIFYING_PARAMETERS: dict[str, tuple[tuple[str, str], ...]] = {
    "cement": (
        ("clinker_factor", "Clinker-to-cement ratio (t clinker / t cement)"),
        ("calcined", "Calcined clay: calcined or not"),
    ),
    "fertilisers": (
        ("n_content_pct", "% N contained"),
        ("n_as_ammonium_pct", "% N as ammonium (NH4+)"),
        ("n_as_nitrate_pct", "% N as nitrate (NO3-)"),
        ("n_as_urea_pct", "% N as urea"),
        ("n_other_pct", "% N in other forms"),
        ("concentration_pct", "Concentration (hydrous ammonia, nitric acid) %"),
        ("urea_pct", "% urea"),
    ),
    "iron_steel": (
        ("main_reducing_agent", "Main reducing agent"),
        ("steel_mill_id", "Steel mill identification number"),
        ("mn_pct", "% Mn"),
        ("cr_pct", "% Cr"),
        ("ni_pct", "% Ni"),
        ("other_alloys_pct", "% other alloys"),
        ("carbon_pct", "% carbon"),
        ("scrap_t_per_t", "t scrap per t steel"),
        ("pre_consumer_scrap_pct", "% pre-consumer scrap"),
        ("other_materials_pct", "% other materials"),
    ),
    "aluminium": (
        ("scrap_t_per_t", "t scrap per t aluminium"),
        ("pre_consumer_scrap_pct", "% pre-consumer scrap"),
        ("non_aluminium_pct", "% non-aluminium elements"),
    ),
    "hydrogen": (),
    "electricity": (),
}
TEXT_PARAMETERS = frozenset({"main_reducing_agent", "steel_mill_id", "calcined"})
PERCENT_PARAMETERS_SUFFIX = "_pct"

CARBON_PRICE_FIELDS = (
    "instrument",
    "legal_act",
    "cn_codes",
    "amount_per_t",
    "currency",
    "share_covered",
    "rebate_per_t",
    "rebate_description",
)
PURCHASED_FIELDS = (
    "name",
    "cn_code",
    "country",
    "quantity",
    "see_direct",
    "see_indirect",
    "electricity_mwh_per_unit",
    "is_default",
)
VERIFICATION_EXTENSIONS = (".pdf", ".docx", ".xlsx", ".odt")


# --- helpers -------------------------------------------------------------------------------


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _snapshot(obj: models.Model, names) -> dict:
    snap = {}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = value.pk
        snap[name] = _json(value)
    return snap


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    changed = [k for k in after if after.get(k) != before.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _locked_report(report: EmissionsReport) -> EmissionsReport:
    return EmissionsReport.objects.select_for_update().select_related("installation").get(pk=report.pk)


def _require_draft(report: EmissionsReport) -> EmissionsReport:
    """Lock the report and refuse unless it is a draft: nothing submitted is edited in place
    (IR 2025/2547 Art 10; a correction is a new version)."""
    report = _locked_report(report)
    if report.status != ReportStatus.DRAFT:
        raise ValidationError(
            _(
                "Version %(version)s of this report is %(status)s and can no longer be changed; "
                "create a correction (a new version) instead."
            )
            % {"version": report.version, "status": report.get_status_display().lower()}
        )
    return report


def _full_clean(obj: models.Model, exclude: list[str]) -> None:
    obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def _cn_good(raw: str, field: str = "cn_code") -> CnGood:
    """The Annex I entry of a CN code, or a ValidationError on `field` (Reg 2023/956 Annex I)."""
    try:
        found = cn_lookup(raw)
    except CnCodeError as exc:
        raise ValidationError({field: str(exc)}) from None
    except DatasetMissing as exc:
        raise ValidationError({field: str(exc)}) from None
    if not found.covered:
        raise ValidationError(
            {
                field: _(
                    "CN %(code)s is not a CBAM good (not listed in Annex I of Regulation (EU) 2023/956)."
                )
                % {"code": found.code.display}
            }
        )
    return found.good


def _refresh(report: EmissionsReport) -> None:
    """Recompute after an edit so results never go stale; a failure is kept on the report."""
    with contextlib.suppress(ValidationError):
        report_compute(report=report)


# --- reports -------------------------------------------------------------------------------


def _row_for_edit(row, *, new, belongs, wrong_parent: str, allowed, snapshot_fields, fields: dict):
    """Start editing a row of a draft report: refuse fields that cannot be set, make a new row or
    check that the given one belongs here, snapshot it for the audit, and apply the fields
    (text stripped). Returns (row, before)."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    if row is None:
        row, before = new(), {}
    else:
        if not belongs(row):
            raise ValidationError(wrong_parent)
        before = _snapshot(row, snapshot_fields)
    for name, value in fields.items():
        setattr(row, name, value.strip() if isinstance(value, str) else value)
    return row, before


def _audit_saved(
    *, actor: Actor, report: EmissionsReport, row: models.Model, kind: str, created: bool, before, after
) -> None:
    """Audit a row of a draft report that was created or changed (only the fields that changed)."""
    audit_record(
        actor=actor,
        verb=f"emissions_{kind}.{'created' if created else 'updated'}",
        organisation=report.organisation,
        target=row,
        before=before or None,
        after=after,
    )


def _delete_row(
    *, actor: Actor, report: EmissionsReport, row: models.Model, kind: str, before: dict, recompute: bool = True
) -> None:
    """Audit and delete a row of a draft report, then recompute it unless the row does not enter the SEE."""
    audit_record(
        actor=actor, verb=f"emissions_{kind}.deleted", organisation=report.organisation, target=row, before=before
    )
    row.delete()
    if recompute:
        _refresh(report)


@transaction.atomic
def report_create(
    *, actor: Actor, installation: Installation, year: int, source: str = ReportSource.FORM
) -> EmissionsReport:
    """Start the emissions report of an installation for a reporting year (IR 2025/2547 Art 7:
    the reporting period is the calendar year). Refuses when the year already has a report."""
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": _("Enter a year, e.g. 2026.")}) from None
    if not 2023 <= year <= 2100:
        raise ValidationError({"year": _("The reporting year must be between 2023 and 2100.")})
    if source not in ReportSource.values:
        raise ValidationError({"source": _("Unknown source.")})
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    if EmissionsReport.objects.filter(installation=installation, year=year).exists():
        raise ValidationError(
            {
                "year": _(
                    "%(installation)s already has a report for %(year)s; open it, or correct it if it was submitted."
                )
                % {"installation": installation, "year": year}
            }
        )
    report = EmissionsReport.objects.create(
        organisation=installation.organisation,
        installation=installation,
        year=year,
        version=1,
        source=source,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        verb="emissions_report.created",
        organisation=report.organisation,
        target=report,
        after={"installation": installation.pk, "year": year, "version": 1, "source": source},
    )
    return report


# --- processes -----------------------------------------------------------------------------


@transaction.atomic
def process_save(
    *, actor: Actor, report: EmissionsReport, process: ProductionProcess | None = None, **fields
) -> ProductionProcess:
    """Create or change a production process of a draft (IR 2025/2547 Art 4, Annex III A.3).

    ``not_available`` maps field names to the supplier's reason; those fields are stored as 0,
    count as 0 in the computation and are shown as "not available" on the report.
    """
    report = _require_draft(report)
    not_available = fields.pop("not_available", None)
    if process is not None:
        process = ProductionProcess.objects.get(pk=process.pk)  # fresh values for the audit's "before"
    process, before = _row_for_edit(
        process,
        new=lambda: ProductionProcess(report=report),
        belongs=lambda row: row.report_id == report.pk,
        wrong_parent=_("This process belongs to another report."),
        allowed=PROCESS_FIELDS,
        snapshot_fields=(*PROCESS_FIELDS, "not_available"),
        fields=fields,
    )
    if not_available is not None:
        if not isinstance(not_available, dict):
            raise ValidationError({"not_available": _("Give a mapping of field name to reason.")})
        cleaned = {}
        for name, reason in not_available.items():
            if name not in NOT_AVAILABLE_FIELDS:
                raise ValidationError(
                    {"not_available": _("%(field)s cannot be declared not available.") % {"field": name}}
                )
            reason = str(reason or "").strip()
            if not reason:
                raise ValidationError({name: _("Give the reason why this value is not available.")})
            cleaned[name] = reason[:300]
        process.not_available = cleaned
    for name in process.not_available:
        setattr(process, name, ZERO)

    process.key = (process.key or "").strip()
    _full_clean(process, exclude=["report"])
    errors: dict[str, list[str]] = {}
    if process.activity_level is not None and process.activity_level <= 0:
        errors["activity_level"] = [
            _("The activity level must be greater than zero: SEE is emissions divided by the activity level.")
        ]
    for name in PROCESS_FIELDS:
        value = getattr(process, name)
        if isinstance(value, Decimal):
            if value < 0:
                errors.setdefault(name, []).append(_("Must not be negative."))
            elif name in PLAUSIBLE_MAX and value > PLAUSIBLE_MAX[name]:
                errors.setdefault(name, []).append(
                    _("%(value)s is implausibly high (more than %(max)s); check the unit.")
                    % {"value": value, "max": PLAUSIBLE_MAX[name]}
                )
    clash = ProductionProcess.objects.filter(report=report, key=process.key).exclude(pk=process.pk)
    if clash.exists():
        errors.setdefault("key", []).append(
            _("Another process of this report is already called %(key)s.") % {"key": process.key}
        )
    if errors:
        raise ValidationError(errors)
    created = process.pk is None
    process.save()
    after = _snapshot(process, (*PROCESS_FIELDS, "not_available"))
    before, after = _changes(before, after)
    _audit_saved(
        actor=actor, report=report, row=process, kind="process", created=created, before=before, after=after
    )
    _refresh(report)
    return process


@transaction.atomic
def process_delete(*, actor: Actor, process: ProductionProcess) -> None:
    report = _require_draft(process.report)
    snapshot = _snapshot(process, ("key", "name"))
    _delete_row(actor=actor, report=report, row=process, kind="process", before=snapshot)


# --- goods ---------------------------------------------------------------------------------


def qualifying_parameters_for(sector: str) -> tuple[tuple[str, str], ...]:
    return QUALIFYING_PARAMETERS.get(sector, ())


def _clean_parameters(sector: str, raw: dict | None) -> dict:
    """Check the qualifying parameters against the sector's list (IR 2025/2547 Annex IV point 2)."""
    allowed = dict(qualifying_parameters_for(sector))
    cleaned = {}
    errors = []
    for key, value in (raw or {}).items():
        value = str(value if value is not None else "").strip()
        if not value:
            continue
        if key not in allowed:
            errors.append(
                _("%(key)s is not a qualifying parameter of the %(sector)s sector (allowed: %(allowed)s).")
                % {"key": key, "sector": sector, "allowed": ", ".join(allowed) or "none"}
            )
            continue
        if key not in TEXT_PARAMETERS:
            try:
                number = Decimal(value.replace(",", "."))
            except ArithmeticError:
                errors.append(
                    _("%(label)s: “%(value)s” is not a number.") % {"label": allowed[key], "value": value}
                )
                continue
            if (
                not number.is_finite()
                or number < 0
                or (key.endswith(PERCENT_PARAMETERS_SUFFIX) and number > 100)
            ):
                errors.append(
                    _("%(label)s: %(value)s is out of range.") % {"label": allowed[key], "value": value}
                )
                continue
            value = str(number)
        cleaned[key] = value[:200]
    if errors:
        raise ValidationError({"qualifying_parameters": errors})
    return cleaned


@transaction.atomic
def good_save(
    *,
    actor: Actor,
    process: ProductionProcess,
    good: ProcessGood | None = None,
    cn_code: str,
    product_name: str = "",
    qualifying_parameters: dict | None = None,
) -> ProcessGood:
    """Add or change a good (CN code) produced by a process; only Annex I goods are accepted
    (Reg (EU) 2023/956 Art 2(1), Annex I)."""
    report = _require_draft(process.report)
    cn = _cn_good(cn_code)
    if good is None:
        good = ProcessGood(process=process)
        before = {}
    else:
        if good.process_id != process.pk:
            raise ValidationError(_("This good belongs to another process."))
        before = _snapshot(good, ("cn_code", "product_name", "qualifying_parameters"))
    good.cn_code = cn.cn8
    good.product_name = (product_name or "").strip()
    good.qualifying_parameters = _clean_parameters(cn.sector, qualifying_parameters)
    _full_clean(good, exclude=["process"])
    if ProcessGood.objects.filter(process=process, cn_code=good.cn_code).exclude(pk=good.pk).exists():
        raise ValidationError(
            {
                "cn_code": _("%(process)s already lists CN %(code)s.")
                % {"process": process.key, "code": cn.cn8_display}
            }
        )
    created = good.pk is None
    good.save()
    before, after = _changes(before, _snapshot(good, ("cn_code", "product_name", "qualifying_parameters")))
    _audit_saved(
        actor=actor, report=report, row=good, kind="good", created=created, before=before, after=after
    )
    _refresh(report)
    return good


@transaction.atomic
def good_delete(*, actor: Actor, good: ProcessGood) -> None:
    report = _require_draft(good.process.report)
    before = {"process": good.process.key, "cn_code": good.cn_code}
    _delete_row(actor=actor, report=report, row=good, kind="good", before=before)


# --- purchased precursors ------------------------------------------------------------------


def default_mark_up_total(row, year: int) -> Decimal | None:
    """The default total including the year's mark-up (IR 2025/2621 Annex I: +10 % 2026, +20 % 2027,
    +30 % from 2028; fertilisers +1 %); before 2026 the plain value (no mark-up)."""
    if year < 2026:
        return getattr(row, "total", None) if hasattr(row, "total") else getattr(row, "highest", None)
    if year == 2026:
        return row.total_2026
    if year == 2027:
        return row.total_2027
    return row.total_2028_onwards


def precursor_default_values(*, cn_code: str, country: str, year: int) -> dict:
    """Default SEE of a purchased precursor for the report's year, with where it came from.

    Country known: its IR 2025/2621 Annex I row (or "Other countries and territories"); the
    year's marked-up total is split over direct and indirect in the published proportion.
    Country unknown: the "highest default value" table (IR 2025/2621 Art 1(5), Annex IV), all
    direct. Raises ValidationError naming the field when nothing is published.
    """
    if not cn_code:
        raise ValidationError({"cn_code": _("Enter the precursor's CN code to look up its default values.")})
    cn = _cn_good(cn_code)
    try:
        if country:
            match = default_values_for(cn.cn8, country)
            if not match.found:
                raise ValidationError(
                    {
                        "cn_code": _("No default value is published for CN %(code)s.")
                        % {"code": cn.cn8_display}
                    }
                )
            row = match.rows[0]
            total = row.total or ZERO
            marked = default_mark_up_total(row, year) or total
            factor = marked / total if total else Decimal(1)
            direct = (row.direct or ZERO) * factor
            indirect = (row.indirect or ZERO) * factor if row.indirect_applicable else ZERO
            source = _("IR 2025/2621 Annex I, %(country)s, %(code)s%(variant)s, %(year)s incl. mark-up") % {
                "country": row.country_name,
                "code": row.cn_code,
                "variant": f" ({row.variant})" if row.variant else "",
                "year": year,
            }
            if match.reason:
                source += f" — {match.reason}"
        else:
            key, rows = precursor_defaults_for(cn.cn8)
            rows = [r for r in rows if r.highest is not None]
            if not rows:
                raise ValidationError(
                    {
                        "cn_code": _("No highest default value is published for CN %(code)s.")
                        % {"code": cn.cn8_display}
                    }
                )
            row = rows[0]
            direct = default_mark_up_total(row, year) or row.highest
            indirect = ZERO
            source = _("IR 2025/2621 Annex IV (country unknown), highest value for %(code)s, %(year)s") % {
                "code": key,
                "year": year,
            }
    except DatasetMissing as exc:
        raise ValidationError({"cn_code": str(exc)}) from None
    places = Decimal("0.0000000001")
    return {
        "see_direct": direct.quantize(places),
        "see_indirect": indirect.quantize(places),
        "source": source,
    }


@transaction.atomic
def purchased_precursor_save(
    *,
    actor: Actor,
    process: ProductionProcess,
    precursor: PurchasedPrecursor | None = None,
    fill_defaults: bool = False,
    **fields,
) -> PurchasedPrecursor:
    """Add or change a precursor bought in (IR 2025/2547 Annex III B, Eq. 59–63).

    ``fill_defaults`` replaces SEE direct/indirect with the default values of the country of
    production for the report's year (with mark-up) and marks the precursor as default-based.
    """
    report = _require_draft(process.report)
    precursor, before = _row_for_edit(
        precursor,
        new=lambda: PurchasedPrecursor(process=process),
        belongs=lambda row: row.process_id == process.pk,
        wrong_parent=_("This precursor belongs to another process."),
        allowed=PURCHASED_FIELDS,
        snapshot_fields=PURCHASED_FIELDS,
        fields=fields,
    )
    precursor.country = (precursor.country or "").upper()
    precursor.cn_code = (precursor.cn_code or "").replace(" ", "")
    if precursor.cn_code:
        precursor.cn_code = _cn_good(precursor.cn_code).cn8
    default_source = ""
    if fill_defaults:
        values = precursor_default_values(
            cn_code=precursor.cn_code, country=precursor.country, year=report.year
        )
        precursor.see_direct = values["see_direct"]
        precursor.see_indirect = values["see_indirect"]
        precursor.is_default = True
        default_source = values["source"]
    if precursor.see_indirect in (None, ""):
        precursor.see_indirect = ZERO
    if precursor.electricity_mwh_per_unit in (None, ""):
        precursor.electricity_mwh_per_unit = ZERO
    _full_clean(precursor, exclude=["process"])
    errors: dict[str, list[str]] = {}
    for name in ("quantity", "see_direct", "see_indirect", "electricity_mwh_per_unit"):
        value = getattr(precursor, name)
        if value < 0:
            errors[name] = [_("Must not be negative.")]
        elif name.startswith("see_") and value > SEE_PLAUSIBLE_MAX:
            errors[name] = [
                _("%(value)s tCO2e per unit is implausibly high; check the unit.") % {"value": value}
            ]
    if errors:
        raise ValidationError(errors)
    created = precursor.pk is None
    precursor.save()
    before, after = _changes(before, _snapshot(precursor, PURCHASED_FIELDS))
    if fill_defaults:
        after = {**after, "default_values_source": default_source}
    _audit_saved(
        actor=actor, report=report, row=precursor, kind="precursor", created=created, before=before, after=after
    )
    _refresh(report)
    precursor.default_source = default_source  # where the defaults came from, for the caller's message
    return precursor


@transaction.atomic
def purchased_precursor_delete(*, actor: Actor, precursor: PurchasedPrecursor) -> None:
    report = _require_draft(precursor.process.report)
    before = _snapshot(precursor, PURCHASED_FIELDS)
    _delete_row(actor=actor, report=report, row=precursor, kind="precursor", before=before)


# --- internal precursors -------------------------------------------------------------------


def _would_cycle(
    report: EmissionsReport, consumer_id: int, source_id: int, exclude_pk: int | None
) -> list[int] | None:
    """The chain of process ids that would close a cycle if `consumer` used goods of `source`."""
    edges: dict[int, set[int]] = {}
    links = InternalPrecursor.objects.filter(process__report=report).exclude(pk=exclude_pk)
    for consumer, source in links.values_list("process_id", "source_process_id"):
        edges.setdefault(consumer, set()).add(source)
    edges.setdefault(consumer_id, set()).add(source_id)
    # Walk upstream from the source; reaching the consumer again closes a cycle.
    stack = [(source_id, [consumer_id, source_id])]
    seen = set()
    while stack:
        node, path = stack.pop()
        if node == consumer_id:
            return path
        if node in seen:
            continue
        seen.add(node)
        for upstream in edges.get(node, ()):
            stack.append((upstream, [*path, upstream]))
    return None


@transaction.atomic
def internal_precursor_save(
    *,
    actor: Actor,
    process: ProductionProcess,
    precursor: InternalPrecursor | None = None,
    source_process: ProductionProcess,
    quantity,
) -> InternalPrecursor:
    """Goods of another process of the same report used as a precursor (IR 2025/2547 Annex III B:
    the precursor takes that process's SEE; precursors made within the same process are not added)."""
    report = _require_draft(process.report)
    if source_process.report_id != report.pk:
        raise ValidationError({"source_process": _("Choose a process of this report.")})
    if source_process.pk == process.pk:
        raise ValidationError(
            {
                "source_process": _(
                    "A process cannot use its own goods as a precursor (IR 2025/2547 Annex III B)."
                )
            }
        )
    if precursor is None:
        precursor = InternalPrecursor(process=process)
        before = {}
    else:
        if precursor.process_id != process.pk:
            raise ValidationError(_("This precursor belongs to another process."))
        before = {"source_process": precursor.source_process_id, "quantity": _json(precursor.quantity)}
    precursor.source_process = source_process
    precursor.quantity = quantity
    _full_clean(precursor, exclude=["process", "source_process"])
    if precursor.quantity <= 0:
        raise ValidationError({"quantity": _("The quantity must be greater than zero.")})
    if (
        InternalPrecursor.objects.filter(process=process, source_process=source_process)
        .exclude(pk=precursor.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "source_process": _("%(process)s already uses goods of %(source)s.")
                % {"process": process.key, "source": source_process.key}
            }
        )
    cycle = _would_cycle(report, process.pk, source_process.pk, precursor.pk)
    if cycle:
        keys = dict(ProductionProcess.objects.filter(pk__in=cycle).values_list("pk", "key"))
        raise ValidationError(
            {
                "source_process": _(
                    "This would make processes use each other's goods in a cycle: %(chain)s. "
                    "Merge these processes or remove one link."
                )
                % {"chain": " → ".join(keys[pk] for pk in reversed(cycle))}
            }
        )
    created = precursor.pk is None
    precursor.save()
    after = {"source_process": source_process.pk, "quantity": _json(precursor.quantity)}
    before, after = _changes(before, after)
    _audit_saved(
        actor=actor, report=report, row=precursor, kind="internal_precursor", created=created, before=before, after=after
    )
    _refresh(report)
    return precursor


@transaction.atomic
def internal_precursor_delete(*, actor: Actor, precursor: InternalPrecursor) -> None:
    report = _require_draft(precursor.process.report)
    before = {
        "process": precursor.process_id,
        "source_process": precursor.source_process_id,
        "quantity": _json(precursor.quantity),
    }
    _delete_row(actor=actor, report=report, row=precursor, kind="internal_precursor", before=before)


# --- carbon price due ----------------------------------------------------------------------


@transaction.atomic
def carbon_price_save(
    *, actor: Actor, report: EmissionsReport, carbon_price: CarbonPriceDue | None = None, **fields
) -> CarbonPriceDue:
    """A carbon price due in the country of production (Reg (EU) 2023/956 Art 9; template F_Tools)."""
    import pycountry

    report = _require_draft(report)
    carbon_price, before = _row_for_edit(
        carbon_price,
        new=lambda: CarbonPriceDue(report=report),
        belongs=lambda row: row.report_id == report.pk,
        wrong_parent=_("This carbon price belongs to another report."),
        allowed=CARBON_PRICE_FIELDS,
        snapshot_fields=CARBON_PRICE_FIELDS,
        fields=fields,
    )
    carbon_price.currency = (carbon_price.currency or "").upper()
    if carbon_price.rebate_per_t in (None, ""):
        carbon_price.rebate_per_t = ZERO
    errors: dict[str, list[str]] = {}
    if pycountry.currencies.get(alpha_3=carbon_price.currency) is None:
        errors["currency"] = [
            _("%(value)s is not an ISO 4217 currency code.") % {"value": carbon_price.currency or "''"}
        ]
    codes = []
    for raw in carbon_price.cn_codes or []:
        try:
            codes.append(_cn_good(str(raw), field="cn_codes").cn8)
        except ValidationError as exc:
            errors.setdefault("cn_codes", []).extend(exc.message_dict["cn_codes"])
    carbon_price.cn_codes = codes
    try:
        _full_clean(carbon_price, exclude=["report", *errors])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    for name in ("amount_per_t", "rebate_per_t"):
        value = getattr(carbon_price, name)
        if name not in errors and isinstance(value, Decimal) and value < 0:
            errors[name] = [_("Must not be negative.")]
    if errors:
        raise ValidationError(errors)
    created = carbon_price.pk is None
    carbon_price.save()
    before, after = _changes(before, _snapshot(carbon_price, CARBON_PRICE_FIELDS))
    _audit_saved(
        actor=actor, report=report, row=carbon_price, kind="carbon_price", created=created, before=before, after=after
    )
    return carbon_price


@transaction.atomic
def carbon_price_delete(*, actor: Actor, carbon_price: CarbonPriceDue) -> None:
    report = _require_draft(carbon_price.report)
    # Carbon price due does not enter the SEE: no recomputation.
    before = _snapshot(carbon_price, CARBON_PRICE_FIELDS)
    _delete_row(actor=actor, report=report, row=carbon_price, kind="carbon_price", before=before, recompute=False)


# --- computation ---------------------------------------------------------------------------


def _annex_ii_by_cn(cn_codes: set[str]) -> dict[str, bool]:
    """Annex II flag (direct emissions only) per CN code from the current Annex I list (one query)."""
    if not cn_codes:
        return {}
    dataset = Dataset.objects.filter(kind=DatasetKind.CN_GOODS, is_current=True).first()
    if dataset is None:
        return {}
    return dict(
        CnGood.objects.filter(dataset=dataset, cn8__in=cn_codes).values_list("cn8", "annex_ii_direct_only")
    )


def _flow(amount: Decimal, factor: Decimal) -> see.EmissionsFlow | None:
    if not amount and not factor:
        return None
    return see.EmissionsFlow(amount=amount, factor_tco2e_per_unit=factor)


def _emissions(value: Decimal) -> see.EmissionsFlow | None:
    return see.EmissionsFlow(emissions_tco2e=value) if value else None


def _waste_gas(value: Decimal) -> see.WasteGasFlow | None:
    return see.WasteGasFlow(emissions_tco2e=value) if value else None


def _process_rows(report: EmissionsReport) -> list[ProductionProcess]:
    return list(
        ProductionProcess.objects.filter(report=report)
        .order_by("key")
        .prefetch_related(
            "goods",
            "purchased_precursors",
            models.Prefetch(
                "internal_precursors", InternalPrecursor.objects.select_related("source_process")
            ),
        )
    )


def _value(process: ProductionProcess, name: str) -> Decimal:
    """A monitored value, 0 when declared not available."""
    return ZERO if name in process.not_available else getattr(process, name)


def see_inputs_from_rows(
    processes: list[ProductionProcess], annex_ii: dict[str, bool]
) -> list[see.ProcessInput]:
    """The SEE engine's inputs from prefetched rows (pure: no query)."""
    inputs = []
    for p in processes:
        goods = list(p.goods.all())
        flags = [annex_ii[g.cn_code] for g in goods if g.cn_code in annex_ii]
        inputs.append(
            see.ProcessInput(
                process_id=p.key,
                activity_level=p.activity_level,
                direct_emissions_tco2e=_value(p, "direct_emissions_t_co2e"),
                heat_imported=_flow(
                    _value(p, "heat_imported_tj"), _value(p, "heat_imported_ef_t_co2_per_tj")
                ),
                heat_exported=_flow(
                    _value(p, "heat_exported_tj"), _value(p, "heat_exported_ef_t_co2_per_tj")
                ),
                waste_gas_imported=_waste_gas(_value(p, "waste_gas_imported_t_co2e")),
                waste_gas_exported=_waste_gas(_value(p, "waste_gas_exported_t_co2e")),
                electricity_produced=_emissions(_value(p, "electricity_produced_t_co2e")),
                electricity_consumed_mwh=_value(p, "electricity_consumed_mwh"),
                electricity_ef_tco2e_per_mwh=_value(p, "electricity_ef_t_co2_per_mwh"),
                purchased_precursors=tuple(
                    see.PurchasedPrecursor(
                        name=pp.name,
                        quantity=pp.quantity,
                        see_direct=pp.see_direct,
                        see_indirect=pp.see_indirect,
                        is_default=pp.is_default,
                        is_annex_ii=annex_ii.get(pp.cn_code, False),
                        electricity_mwh_per_unit=pp.electricity_mwh_per_unit,
                        cn_code=pp.cn_code,
                    )
                    for pp in p.purchased_precursors.all()
                ),
                internal_precursors=tuple(
                    see.InternalPrecursor(process_id=ip.source_process.key, quantity=ip.quantity)
                    for ip in p.internal_precursors.all()
                ),
                annex_ii=bool(flags) and all(flags),
            )
        )
    return inputs


def _cn_codes(processes: list[ProductionProcess]) -> set[str]:
    codes = set()
    for p in processes:
        codes.update(g.cn_code for g in p.goods.all())
        codes.update(pp.cn_code for pp in p.purchased_precursors.all() if pp.cn_code)
    return codes


def report_see_inputs(report: EmissionsReport) -> list[see.ProcessInput]:
    """The report's rows as inputs of :func:`emissions.see.calculate_installation` (one query per
    table; the Annex II flags of goods and precursors from the current Annex I list)."""
    processes = _process_rows(report)
    return see_inputs_from_rows(processes, _annex_ii_by_cn(_cn_codes(processes)))


def _trace_json(steps) -> list[dict]:
    return [
        {
            "rule": s.rule,
            "description": s.description,
            "inputs": _json(dict(s.inputs)),
            "result": _json(s.result),
        }
        for s in steps
    ]


def report_compute(*, report: EmissionsReport) -> list[GoodResult]:
    """Compute SEE direct/indirect/total, default share and embedded electricity of every good
    (Reg (EU) 2023/956 Annex IV pts 2–3; IR 2025/2547 Annex III A.3, B) and replace the
    report's results. On bad input the message is kept on the report and raised as a
    ValidationError; the stale results are removed."""
    processes = _process_rows(report)
    annex_ii = _annex_ii_by_cn(_cn_codes(processes))
    now = timezone.now()
    try:
        inputs = see_inputs_from_rows(processes, annex_ii)
        result = see.calculate_installation(inputs)
    except see.SeeInputError as exc:
        with transaction.atomic():
            GoodResult.objects.filter(report=report).delete()
            EmissionsReport.objects.filter(pk=report.pk).update(computation_error=str(exc), computed_at=now)
        report.computation_error, report.computed_at = str(exc), now
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        # The template's own SEE (set by the template import) survives a recomputation.
        kept = {
            (r["process_id"], r["cn_code"]): r
            for r in GoodResult.objects.filter(report=report, template_see_total__isnull=False).values(
                "process_id", "cn_code", "template_see_direct", "template_see_indirect", "template_see_total"
            )
        }
        GoodResult.objects.filter(report=report).delete()
        rows = []
        cn_by_process = {p.key: min((g.cn_code for g in p.goods.all()), default="") for p in processes}
        route_by_process = {p.key: p.route for p in processes}
        name_by_process = {p.key: p.name or p.key for p in processes}
        for p in processes:
            r = result[p.key]
            shares = [
                s.as_dict()
                for s in see.precursor_shares(
                    inputs,
                    p.key,
                    cn_by_process=cn_by_process,
                    route_by_process=route_by_process,
                    name_by_process=name_by_process,
                )
            ]
            obligation = see.obligation_see(result, p.key)
            trace = _trace_json(r.trace)
            for name, reason in sorted(p.not_available.items()):
                trace.insert(
                    0,
                    {
                        "rule": "IR 2025/2547 Annex IV 1.2",
                        "description": f"{ProductionProcess._meta.get_field(name).verbose_name} of {p.key} "
                        f"not available: {reason}; counted as 0.",
                        "inputs": {},
                        "result": "0",
                    },
                )
            trace += _trace_json(obligation.trace)
            for g in p.goods.all():
                rows.append(
                    GoodResult(
                        report=report,
                        process=p,
                        cn_code=g.cn_code,
                        see_direct=r.see_direct,
                        see_indirect=r.see_indirect,
                        see_total=r.see_total,
                        default_share=r.default_share,
                        embedded_electricity_mwh_per_unit=r.embedded_electricity_mwh_per_unit,
                        annex_ii=annex_ii.get(g.cn_code, False),
                        see_obligation=obligation.see,
                        trace=trace,
                        precursors=shares,
                        template_see_direct=kept.get((p.pk, g.cn_code), {}).get("template_see_direct"),
                        template_see_indirect=kept.get((p.pk, g.cn_code), {}).get("template_see_indirect"),
                        template_see_total=kept.get((p.pk, g.cn_code), {}).get("template_see_total"),
                    )
                )
        # Stored with the field's places; the unrounded values stay in the trace.
        for row in rows:
            for name in (
                "see_direct",
                "see_indirect",
                "see_total",
                "embedded_electricity_mwh_per_unit",
                "see_obligation",
            ):
                setattr(row, name, getattr(row, name).quantize(Decimal("1e-10")))
            row.default_share = row.default_share.quantize(Decimal("1e-10"))
        created = GoodResult.objects.bulk_create(rows)
        EmissionsReport.objects.filter(pk=report.pk).update(computation_error="", computed_at=now)
        report.computation_error, report.computed_at = "", now
    return created


# --- lifecycle -----------------------------------------------------------------------------


@transaction.atomic
def report_submit(*, actor: Actor, report: EmissionsReport) -> EmissionsReport:
    """Submit a draft: it is computed and becomes immutable (IR 2025/2547 Art 10). Submitting a
    correction marks the version it corrects as superseded."""
    report = _require_draft(report)
    processes = list(ProductionProcess.objects.filter(report=report).prefetch_related("goods"))
    if not processes:
        raise ValidationError(_("Add at least one production process with its goods before submitting."))
    missing = [p.key for p in processes if not p.goods.all()]
    if missing:
        raise ValidationError(
            _("Add the goods (CN codes) produced by %(keys)s before submitting.")
            % {"keys": ", ".join(missing)}
        )
    report_compute(report=report)
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = actor.user
    report.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    superseded = None
    if report.supersedes_id:
        superseded = EmissionsReport.objects.select_for_update().get(pk=report.supersedes_id)
        before_status = superseded.status
        superseded.status = ReportStatus.SUPERSEDED
        superseded.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            verb="emissions_report.superseded",
            organisation=report.organisation,
            target=superseded,
            before={"status": before_status},
            after={"status": ReportStatus.SUPERSEDED, "superseded_by": report.pk},
        )
    audit_record(
        actor=actor,
        verb="emissions_report.submitted",
        organisation=report.organisation,
        target=report,
        before={"status": ReportStatus.DRAFT},
        after={
            "status": ReportStatus.SUBMITTED,
            "version": report.version,
            "supersedes": report.supersedes_id,
        },
    )
    declarants_recompute_on_commit(actor=actor, declarant_ids=grantee_ids(report.installation_id))
    return report


@transaction.atomic
def report_verify(
    *,
    actor: Actor,
    report: EmissionsReport,
    verifier_name: str,
    verifier_accreditation_number: str,
    verification_date: dt.date,
    verification_report,
) -> EmissionsReport:
    """Attach the verification of a submitted report: verifier, accreditation number, date and the
    verification report (Reg (EU) 2023/956 Art 8; IR 2025/2546)."""
    report = _locked_report(report)
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError(
            _("Only a submitted report can be verified; this one is %(status)s.")
            % {"status": report.get_status_display().lower()}
        )
    errors: dict[str, list[str]] = {}
    verifier_name = (verifier_name or "").strip()
    verifier_accreditation_number = (verifier_accreditation_number or "").strip()
    if not verifier_name:
        errors["verifier_name"] = [_("Name the verifier.")]
    if not verifier_accreditation_number:
        errors["verifier_accreditation_number"] = [_("Give the verifier's accreditation number.")]
    if not isinstance(verification_date, dt.date):
        errors["verification_date"] = [_("Give the date of the verification report.")]
    elif verification_date > timezone.localdate():
        errors["verification_date"] = [_("The verification date cannot be in the future.")]
    elif verification_date.year < report.year:
        errors["verification_date"] = [_("The verification cannot predate the reporting year.")]
    if verification_report is None:
        errors["verification_report"] = [_("Attach the verification report.")]
    else:
        name = getattr(verification_report, "name", "") or ""
        if not name.lower().endswith(VERIFICATION_EXTENSIONS):
            errors["verification_report"] = [
                _("The verification report must be one of: %(ext)s.")
                % {"ext": ", ".join(VERIFICATION_EXTENSIONS)}
            ]
        elif verification_report.size > settings.CBAM_MAX_UPLOAD_BYTES:
            errors["verification_report"] = [_("The file is too large.")]
        elif verification_report.size == 0:
            errors["verification_report"] = [_("The file is empty.")]
        elif name.lower().endswith(".pdf"):
            head = verification_report.read(5)
            verification_report.seek(0)
            if head != b"%PDF-":
                errors["verification_report"] = [_("This file is not a PDF document.")]
    if errors:
        raise ValidationError(errors)
    original = verification_report.name.rsplit("/", 1)[-1][:255]
    report.verification_report.save(original, verification_report, save=False)
    report.verification_report_name = original
    report.verifier_name = verifier_name[:200]
    report.verifier_accreditation_number = verifier_accreditation_number[:60]
    report.verification_date = verification_date
    report.verified_at = timezone.now()
    report.status = ReportStatus.VERIFIED
    report.save()
    audit_record(
        actor=actor,
        verb="emissions_report.verified",
        organisation=report.organisation,
        target=report,
        before={"status": ReportStatus.SUBMITTED},
        after={
            "status": ReportStatus.VERIFIED,
            "verifier_name": report.verifier_name,
            "verifier_accreditation_number": report.verifier_accreditation_number,
            "verification_date": verification_date,
            "verification_report": original,
        },
    )
    declarants_recompute_on_commit(actor=actor, declarant_ids=grantee_ids(report.installation_id))
    return report


@transaction.atomic
def report_correct(*, actor: Actor, report: EmissionsReport) -> EmissionsReport:
    """Start version n+1 of a submitted or verified report, copying every row; version n stays
    as it is until the correction is submitted (then it becomes superseded)."""
    report = _locked_report(report)
    if report.status not in (ReportStatus.SUBMITTED, ReportStatus.VERIFIED):
        raise ValidationError(
            _("Only a submitted or verified report can be corrected; edit the draft instead.")
        )
    if EmissionsReport.objects.filter(
        installation=report.installation, year=report.year, status=ReportStatus.DRAFT
    ).exists():
        raise ValidationError(
            _("A draft for %(year)s already exists; finish or edit that one.") % {"year": report.year}
        )
    if EmissionsReport.objects.filter(supersedes=report).exists():
        raise ValidationError(_("This version has already been corrected; correct the latest version."))
    version = (
        EmissionsReport.objects.filter(installation=report.installation, year=report.year).aggregate(
            v=Max("version")
        )["v"]
        or 0
    ) + 1
    new = EmissionsReport.objects.create(
        organisation=report.organisation,
        installation=report.installation,
        year=report.year,
        version=version,
        source=report.source,
        supersedes=report,
        notes=report.notes,
        created_by=actor.user,
    )
    processes = _process_rows(report)
    mapping: dict[int, ProductionProcess] = {}
    for p in processes:
        copy = ProductionProcess(report=new, **{f: getattr(p, f) for f in (*PROCESS_FIELDS, "not_available")})
        copy.save()
        mapping[p.pk] = copy
    ProcessGood.objects.bulk_create(
        ProcessGood(
            process=mapping[p.pk],
            cn_code=g.cn_code,
            product_name=g.product_name,
            qualifying_parameters=g.qualifying_parameters,
        )
        for p in processes
        for g in p.goods.all()
    )
    PurchasedPrecursor.objects.bulk_create(
        PurchasedPrecursor(process=mapping[p.pk], **{f: getattr(pp, f) for f in PURCHASED_FIELDS})
        for p in processes
        for pp in p.purchased_precursors.all()
    )
    InternalPrecursor.objects.bulk_create(
        InternalPrecursor(
            process=mapping[p.pk], source_process=mapping[ip.source_process_id], quantity=ip.quantity
        )
        for p in processes
        for ip in p.internal_precursors.all()
    )
    CarbonPriceDue.objects.bulk_create(
        CarbonPriceDue(report=new, **{f: getattr(c, f) for f in CARBON_PRICE_FIELDS})
        for c in CarbonPriceDue.objects.filter(report=report)
    )
    audit_record(
        actor=actor,
        verb="emissions_report.correction_started",
        organisation=report.organisation,
        target=new,
        after={"version": version, "supersedes": report.pk, "processes": len(processes)},
    )
    _refresh(new)
    return new
