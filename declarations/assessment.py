"""Quick assessment of one good: reference data in, the declaration's liability engine out.

This module only gathers inputs from the versioned reference data (CN list, default values,
benchmarks, CBAM factor, CSCF, certificate prices, countries) and hands them to
:func:`declarations.liability.group_obligation`, the same engine the annual declaration uses.
It writes nothing. Every refusal raises :class:`AssessmentError` naming the input field, so the
page, the API and the command give the same messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.utils.translation import gettext as _

from cbam_portal.reference import selectors
from cbam_portal.reference.codes import OTHER_COUNTRIES_NAME, CnCodeError, format_cn
from cbam_portal.reference.models import (
    Benchmark,
    BenchmarkColumn,
    CnGood,
    Country,
    Dataset,
    DatasetKind,
    DefaultValue,
)
from emissions.see import CALC_CONTEXT, EUR_PLACES, TraceStep, quantise

from .liability import (
    FIRST_YEAR,
    ActualSource,
    DefaultSource,
    GoodsGroup,
    GroupLiability,
    LiabilityInputError,
    group_obligation,
)

ZERO = Decimal(0)

#: Goods whose functional unit is not the net mass of the goods ([IR2547] Art 4).
FUNCTIONAL_UNITS_NOT_MASS = frozenset({"t clinker", "kg N"})
#: Clinker itself: the tonnes of clinker contained are the net mass.
CLINKER_CN = "25231000"

#: Input field names shared by the form, the serializer and the command (``--see-direct`` etc.).
FIELDS = (
    "cn",
    "country",
    "mass",
    "year",
    "quarter",
    "price",
    "see_direct",
    "see_indirect",
    "route",
    "carbon_price_paid",
    "functional_unit_mass",
)

_RULE_SCOPE = "Reg (EU) 2023/956 Art 2(1), Annex I; Annex III point 1"
_RULE_FUNCTIONAL_UNIT = "[IR2547] Art 4 (functional unit)"
_RULE_DEFAULT_LOOKUP = (
    "[IR2621] Annex I; Reg (EU) 2023/956 Annex IV pt 4.1 (as amended by Reg (EU) 2025/2083): "
    "“Other countries and territories” where the country has no value"
)
_RULE_BENCHMARK = "[IR2620] Annex points 3–5 (Column A with actual data, Column B with default values)"
_RULE_FACTORS = "Directive 2003/87/EC Art 10a(1a) (CBAM factor); Art 10a(5) (CSCF); [IR2620] Annex 3.1"
_RULE_PRICE = (
    "Reg (EU) 2023/956 Art 21(1a) (as amended by Reg (EU) 2025/2083 Art 1(17)): quarterly price for 2026"
)


class AssessmentError(ValueError):
    """Input the assessment refuses; ``field`` is the input it concerns (one of :data:`FIELDS`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AssessmentInput:
    """One good to assess. Quantities in tonnes (``mass``) or in the functional unit."""

    cn: str
    country: str
    mass: Decimal
    year: int
    quarter: int | None = None
    price: Decimal | None = None
    see_direct: Decimal | None = None
    see_indirect: Decimal | None = None
    route: str = ""
    carbon_price_paid: Decimal | None = None  # EUR per tonne of goods (functional unit)
    functional_unit_mass: Decimal | None = None


@dataclass(frozen=True)
class DatasetRef:
    kind: str
    id: int
    version: str
    legal_act: str

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetRef:
        return cls(kind=dataset.kind, id=dataset.pk, version=dataset.version, legal_act=dataset.legal_act)

    @property
    def label(self) -> str:
        name = self.legal_act if self.version in self.legal_act else f"{self.legal_act} {self.version}"
        return f"{name} (#{self.id})"


@dataclass(frozen=True)
class Assessment:
    """Outcome of one assessment. ``in_scope`` False: origin outside CBAM, nothing computed."""

    cn8: str
    country: str
    country_name: str
    year: int
    quarter: int | None
    in_scope: bool = True
    message: str = ""
    good: CnGood | None = None
    source: str = ""  # "default" or "actual"
    source_detail: str = ""
    country_used: str = ""
    used_fallback: bool = False
    route: str = ""
    variant: str = ""
    quantity: Decimal = ZERO
    functional_unit: str = ""
    benchmark: Decimal | None = None
    benchmark_column: str = ""
    benchmark_route: str = ""
    cbam_factor: Decimal | None = None
    cscf: Decimal | None = None
    certificate_price_eur: Decimal | None = None
    price_source: str = ""
    result: GroupLiability | None = None
    datasets: tuple[DatasetRef, ...] = ()
    trace: tuple[TraceStep, ...] = field(default_factory=tuple)

    @property
    def cn_display(self) -> str:
        return format_cn(self.cn8)

    @property
    def cost_eur(self) -> Decimal | None:
        """Cost at the certificate price, rounded to cents; None when no price is known."""
        if self.result is None or self.certificate_price_eur is None:
            return None
        return quantise(self.result.cost_eur, EUR_PLACES)


def _positive(value: Decimal | None, name: str, label: str, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise AssessmentError(
            name,
            _("%(label)s must be greater than zero.") % {"label": label}
            if not allow_zero
            else _("%(label)s must not be negative.") % {"label": label},
        )


def _check_input(data: AssessmentInput) -> None:
    _positive(data.mass, "mass", _("Net mass"))
    _positive(data.functional_unit_mass, "functional_unit_mass", _("Functional-unit quantity"))
    _positive(data.price, "price", _("Certificate price"))
    _positive(data.see_direct, "see_direct", _("Actual SEE (direct)"), allow_zero=True)
    _positive(data.see_indirect, "see_indirect", _("Actual SEE (indirect)"), allow_zero=True)
    _positive(data.carbon_price_paid, "carbon_price_paid", _("Carbon price paid"), allow_zero=True)
    if data.year < FIRST_YEAR:
        raise AssessmentError(
            "year",
            _(
                "%(year)s is before the definitive period; CBAM certificates are due for imports from %(first)s."
            )
            % {"year": data.year, "first": FIRST_YEAR},
        )
    if data.quarter is not None and data.quarter not in (1, 2, 3, 4):
        raise AssessmentError("quarter", _("Quarter must be 1, 2, 3 or 4."))
    if data.see_indirect is not None and data.see_direct is None:
        raise AssessmentError(
            "see_direct", _("Give the actual direct SEE together with the actual indirect SEE.")
        )


def _good(raw_cn: str, datasets: dict[str, Dataset]) -> tuple[CnGood, Dataset]:
    try:
        lookup = selectors.cn_lookup(raw_cn, dataset=datasets.get(DatasetKind.CN_GOODS))
    except CnCodeError as exc:
        raise AssessmentError("cn", str(exc)) from exc
    except selectors.DatasetMissing as exc:
        raise AssessmentError("cn", str(exc)) from exc
    if lookup.good is None:
        raise AssessmentError(
            "cn",
            _("%(code)s is not a CBAM good: it is not listed in Annex I of Regulation (EU) 2023/956.")
            % {"code": lookup.code.display},
        )
    return lookup.good, lookup.dataset


def _country(iso2: str) -> Country:
    code = (iso2 or "").strip().upper()
    country = selectors.country_get(code) if len(code) == 2 else None
    if country is None:
        raise AssessmentError(
            "country", _("“%(code)s” is not a known ISO 3166 alpha-2 country code.") % {"code": iso2}
        )
    return country


def _quantity(data: AssessmentInput, good: CnGood) -> tuple[Decimal, TraceStep | None]:
    unit = good.functional_unit
    if unit not in FUNCTIONAL_UNITS_NOT_MASS or good.cn8 == CLINKER_CN:
        if data.functional_unit_mass is not None and good.cn8 != CLINKER_CN:
            raise AssessmentError(
                "functional_unit_mass",
                _(
                    "%(code)s is declared in %(unit)s (its net mass); leave the functional-unit quantity empty."
                )
                % {"code": good.cn8_display, "unit": unit},
            )
        quantity = data.functional_unit_mass if data.functional_unit_mass is not None else data.mass
        return quantity, None
    if data.functional_unit_mass is None:
        what = _("tonnes of clinker contained") if unit == "t clinker" else _("kg of nitrogen contained")
        raise AssessmentError(
            "functional_unit_mass",
            _(
                "%(code)s is declared in its functional unit (%(unit)s), not in net mass: "
                "give the %(what)s (functional-unit quantity)."
            )
            % {"code": good.cn8_display, "unit": unit, "what": what},
        )
    step = TraceStep(
        rule=_RULE_FUNCTIONAL_UNIT,
        description=_("Quantity in the functional unit (%(unit)s) of %(code)s, used instead of the net mass.")
        % {"unit": unit, "code": good.cn8_display},
        inputs={"net mass (t)": data.mass, "functional unit": unit},
        result=data.functional_unit_mass,
    )
    return data.functional_unit_mass, step


def _row_key(row: DefaultValue) -> str:
    return row.route or row.variant


def _row_label(row: DefaultValue) -> str:
    if row.route and row.variant:
        return f"{row.route} ({row.variant})"
    return row.route or row.variant or "–"


def _pick_default_row(rows: list[DefaultValue], route: str, code: str) -> DefaultValue:
    wanted = route.strip().lower()
    if len(rows) == 1 and (not wanted or not _row_key(rows[0]) or wanted in _matches(rows[0])):
        return rows[0]
    chosen = [r for r in rows if wanted and wanted in _matches(r)]
    choices = ", ".join(_row_label(r) for r in rows)
    if not wanted:
        raise AssessmentError(
            "route",
            _("Default values for %(code)s depend on the production route: choose one of %(choices)s.")
            % {"code": code, "choices": choices},
        )
    if len(chosen) != 1:
        raise AssessmentError(
            "route",
            _("No default value for %(code)s with route “%(route)s”: choose one of %(choices)s.")
            % {"code": code, "route": route, "choices": choices},
        )
    return chosen[0]


def _matches(row: DefaultValue) -> set[str]:
    return {v.lower() for v in (row.route, row.variant) if v}


def _year_column(row: DefaultValue, year: int) -> Decimal | None:
    if year == 2026:
        return row.total_2026
    if year == 2027:
        return row.total_2027
    return row.total_2028_onwards


def _years_match(benchmark: Benchmark, year: int) -> bool:
    if not benchmark.production_years:
        return True
    first, _sep, last = benchmark.production_years.partition("-")
    return int(first) <= year <= int(last)


def _pick_benchmark(
    benchmarks: list[Benchmark], *, column: str, route: str, year: int, code: str
) -> tuple[Decimal, str, TraceStep]:
    """Benchmark of ``column`` for the route; the highest where several grades share it ([IR2620] Annex 5.1)."""
    in_column = [b for b in benchmarks if b.column == column]
    rows = [b for b in in_column if _years_match(b, year)]
    if not rows and in_column:
        # Past the last published period: the latest period's values are the only ones known.
        latest = max(b.production_years for b in in_column)
        rows = [b for b in in_column if b.production_years == latest]
    column_label = BenchmarkColumn(column).label
    if not rows:
        raise AssessmentError(
            "cn",
            _("No %(column)s benchmark is published for %(code)s.") % {"column": column_label, "code": code},
        )
    routes = sorted({b.route for b in rows})
    wanted = route.strip().upper()
    if wanted and wanted in routes:
        chosen = [b for b in rows if b.route == wanted]
    elif routes == [""] or not wanted and len(routes) == 1:
        chosen = rows
    else:
        choices = ", ".join(r or "–" for r in routes)
        if wanted:
            message = _(
                "No %(column)s benchmark for %(code)s with route “%(route)s”: choose one of %(choices)s."
            )
        else:
            message = _(
                "The %(column)s benchmark of %(code)s depends on the production route: choose one of %(choices)s."
            )
        raise AssessmentError(
            "route", message % {"column": column_label, "code": code, "route": route, "choices": choices}
        )
    best = max(chosen, key=lambda b: b.value)
    description = _("%(column)s benchmark of %(code)s for route %(route)s.") % {
        "column": column_label,
        "code": code,
        "route": best.route or "–",
    }
    if len(chosen) > 1:
        description += " " + _("Several values share this code and route: the highest applies.")
    step = TraceStep(
        rule=_RULE_BENCHMARK,
        description=description,
        inputs={
            "column": column,
            "route": best.route or "–",
            "production years": best.production_years or "all",
            "candidates": ", ".join(str(b.value) for b in chosen),
        },
        result=best.value,
    )
    return best.value, best.route, step


def _year_value(rows, year: int, what: str, dataset: Dataset | None, attr: str) -> Decimal:
    for row in rows:
        if row.year == year:
            return getattr(row, attr)
    where = f" ({dataset.legal_act} {dataset.version})" if dataset else ""
    raise AssessmentError(
        "year",
        _("No %(what)s for %(year)s is published%(where)s.")
        % {
            "what": what,
            "year": year,
            "where": where,
        },
    )


def _price(data: AssessmentInput, dataset: Dataset | None) -> tuple[Decimal | None, str, Dataset | None]:
    if data.price is not None:
        return data.price, _("price given (EUR %(price)s)") % {"price": data.price}, None
    if data.year != 2026:
        return (
            None,
            _("From 2027 the certificate price is a weekly average (Art 21(1)); give a price to see a cost."),
            None,
        )
    if data.quarter is None:
        return None, _("Give the quarter of import to use the published quarterly price for 2026."), None
    day = dt.date(data.year, 3 * data.quarter - 2, 1)
    price = selectors.certificate_price_on(day, dataset_id=dataset.pk) if dataset is not None else None
    if price is None:
        return (
            None,
            _("No certificate price is published for %(year)s Q%(q)s yet; give a price to see a cost.")
            % {
                "year": data.year,
                "q": data.quarter,
            },
            None,
        )
    text = _("published price for %(year)s Q%(q)s: EUR %(price)s") % {
        "year": data.year,
        "q": data.quarter,
        "price": price.price_eur,
    }
    if price.provisional:
        text += " " + _("(provisional)")
    return price.price_eur, text, dataset


def assess_good(data: AssessmentInput) -> Assessment:
    """Certificates due for one good, by the declaration's engine ([R956] Art 6(2)(c), 7, 9, 21, 31).

    Default values (with the year's mark-up, [IR2621] Annex I) and the Column B benchmark of the
    default route unless actual SEE is given, then the Column A benchmark ([IR2620] Annex 3–5).
    Reads only current, public reference datasets and pins their versions in the trace.
    """
    _check_input(data)
    current = selectors.current_datasets_by_kind()
    good, cn_dataset = _good(data.cn, current)
    country = _country(data.country)
    year, quarter = data.year, data.quarter
    code = good.cn8_display
    if country.cbam_excluded or country.is_eu:
        reason = (
            _(
                "%(name)s is outside CBAM (Annex III of Regulation (EU) 2023/956): goods originating there are out of scope."
            )
            if country.cbam_excluded
            else _("%(name)s is an EU member state: goods of EU origin are not CBAM goods.")
        ) % {"name": country.name}
        return Assessment(
            cn8=good.cn8,
            country=country.iso2,
            country_name=country.name,
            year=year,
            quarter=quarter,
            in_scope=False,
            message=reason,
            good=good,
            datasets=(DatasetRef.of(cn_dataset),),
            trace=(
                TraceStep(
                    rule=_RULE_SCOPE, description=reason, inputs={"country": country.iso2}, result=ZERO
                ),
            ),
        )

    trace: list[TraceStep] = []
    used: list[Dataset] = [cn_dataset]
    quantity, unit_step = _quantity(data, good)
    if unit_step is not None:
        trace.append(unit_step)

    actual = data.see_direct is not None
    if data.carbon_price_paid and not actual:
        raise AssessmentError(
            "carbon_price_paid",
            _(
                "A carbon price paid abroad can only be deducted with actual emissions data, not with "
                "default values (Reg 2023/956 Art 9(1)); give the actual SEE or leave it empty."
            ),
        )

    bm_dataset = current.get(DatasetKind.BENCHMARKS)
    if bm_dataset is None:
        raise AssessmentError("cn", _("No CBAM benchmarks are loaded: run `manage.py load_reference_data`."))
    used.append(bm_dataset)
    benchmarks = selectors.benchmarks_for(good.cn8, dataset=bm_dataset)

    country_used, used_fallback, variant = country.iso2, False, ""
    if actual:
        column = BenchmarkColumn.A
        source: ActualSource | DefaultSource
        benchmark, bm_route, bm_step = _pick_benchmark(
            benchmarks, column=column, route=data.route, year=year, code=code
        )
        source = ActualSource(
            see_direct=data.see_direct, see_indirect=data.see_indirect or ZERO, benchmark_column_a=benchmark
        )
        source_detail = _("actual values given (verified SEE of the installation)")
        route = data.route.strip().upper() or bm_route
    else:
        column = BenchmarkColumn.B
        try:
            dv_dataset = current.get(DatasetKind.DEFAULT_VALUES)
            match = selectors.default_values_for(
                good.cn8, country.iso2, dataset_id=dv_dataset.pk if dv_dataset else None
            )
        except selectors.DatasetMissing as exc:
            raise AssessmentError("cn", str(exc)) from exc
        if match.dataset is not None:
            used.append(match.dataset)
        if not match.found:
            raise AssessmentError(
                "cn",
                _("No default value is published for %(code)s (not for %(country)s, nor for %(other)s).")
                % {"code": code, "country": country.name, "other": OTHER_COUNTRIES_NAME},
            )
        row = _pick_default_row(match.rows, data.route, code)
        country_used, used_fallback, variant = match.country_used, match.used_fallback, row.variant
        route = row.route
        if used_fallback:
            source_detail = _(
                "default value of %(other)s (%(country)s has no value), with the %(year)s mark-up"
            ) % {
                "other": OTHER_COUNTRIES_NAME,
                "country": country.name,
                "year": year,
            }
        else:
            source_detail = _("default value of %(country)s, with the %(year)s mark-up") % {
                "country": country.name,
                "year": year,
            }
        trace.append(
            TraceStep(
                rule=_RULE_DEFAULT_LOOKUP,
                description=(
                    match.reason
                    or _("Country-specific default value of %(country)s.") % {"country": country.name}
                )
                + " "
                + _("Row keyed %(key)s, route %(route)s.")
                % {"key": format_cn(match.matched_code or ""), "route": _row_label(row)},
                inputs={
                    "country requested": country.iso2,
                    "country used": row.country_name,
                    "direct": row.direct if row.direct is not None else "–",
                    "indirect": row.indirect if row.indirect is not None else "N/A",
                    "total": row.total,
                    "dataset": DatasetRef.of(match.dataset).label if match.dataset else "–",
                },
                result=row.total,
            )
        )
        benchmark, bm_route, bm_step = _pick_benchmark(
            benchmarks, column=column, route=row.route or data.route, year=year, code=code
        )
        published = _year_column(row, year)
        indirect_counts = row.indirect is not None and row.indirect != 0
        if good.annex_ii_direct_only and indirect_counts:
            # The published total includes indirect emissions that do not count for Annex II goods.
            source = DefaultSource(benchmark_column_b=benchmark, direct=row.direct, total=row.total)
        elif published is not None:
            source = DefaultSource(benchmark_column_b=benchmark, marked_up_value=published)
        else:
            source = DefaultSource(
                benchmark_column_b=benchmark, direct=row.direct, indirect=row.indirect, total=row.total
            )
    trace.append(bm_step)

    factor_dataset, factors = selectors.cbam_factors()
    cscf_dataset, cscf_rows = selectors.cscf_values()
    factor = _year_value(factors, year, _("CBAM factor"), factor_dataset, "factor")
    cscf = _year_value(cscf_rows, year, _("cross-sectoral correction factor"), cscf_dataset, "value")
    used += [d for d in (factor_dataset, cscf_dataset) if d is not None]
    trace.append(
        TraceStep(
            rule=_RULE_FACTORS,
            description=_("CBAM factor and CSCF of %(year)s from the reference data.") % {"year": year},
            inputs={
                "CBAM factor": factor,
                "CSCF": cscf,
                "CBAM factor dataset": DatasetRef.of(factor_dataset).label if factor_dataset else "–",
                "CSCF dataset": DatasetRef.of(cscf_dataset).label if cscf_dataset else "–",
            },
            result=factor * cscf,
        )
    )

    price, price_source, price_dataset = _price(data, current.get(DatasetKind.CERTIFICATE_PRICES))
    if price_dataset is not None:
        used.append(price_dataset)
    trace.append(
        TraceStep(
            rule=_RULE_PRICE,
            description=_("Certificate price: %(source)s.") % {"source": price_source},
            inputs={"year": str(year), "quarter": f"Q{quarter}" if quarter else "–"},
            result=price if price is not None else ZERO,
        )
    )
    carbon_paid_eur = ZERO
    if data.carbon_price_paid:
        with localcontext(CALC_CONTEXT):
            carbon_paid_eur = data.carbon_price_paid * quantity
        if price is None:
            raise AssessmentError(
                "price",
                _(
                    "A certificate price is needed to convert the carbon price paid into certificates: give a price."
                ),
            )

    group = GoodsGroup(
        label=f"{code} {country.iso2} {year}",
        cn_code=good.cn8,
        sector=good.sector,
        annex_ii=good.annex_ii_direct_only,
        net_mass=quantity,
        year=year,
        quarter=quarter,
        source=source,
        cbam_factor=factor,
        cscf=cscf,
        certificate_price_eur=price if price is not None else ZERO,
        carbon_price_paid_eur=carbon_paid_eur,
    )
    try:
        result = group_obligation(group)
    except LiabilityInputError as exc:
        raise AssessmentError("cn", str(exc)) from exc

    refs = tuple(DatasetRef.of(d) for d in used)
    trace.insert(
        0,
        TraceStep(
            rule=_RULE_SCOPE,
            description=_(
                "%(code)s is a CBAM good (%(sector)s); functional unit %(unit)s; origin %(country)s."
            )
            % {
                "code": code,
                "sector": good.get_sector_display(),
                "unit": good.functional_unit,
                "country": country.name,
            },
            inputs={
                "Annex II (direct only)": "yes" if good.annex_ii_direct_only else "no",
                **{f"dataset {r.kind}": r.label for r in refs},
            },
            result=quantity,
        ),
    )
    return Assessment(
        cn8=good.cn8,
        country=country.iso2,
        country_name=country.name,
        year=year,
        quarter=quarter,
        good=good,
        source="actual" if actual else "default",
        source_detail=source_detail,
        country_used=country_used,
        used_fallback=used_fallback,
        route=route,
        variant=variant,
        quantity=quantity,
        functional_unit=good.functional_unit,
        benchmark=benchmark,
        benchmark_column=column.value,
        benchmark_route=bm_route,
        cbam_factor=factor,
        cscf=cscf,
        certificate_price_eur=price,
        price_source=price_source,
        result=result,
        datasets=refs,
        trace=(*trace, *result.trace),
    )


def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as plain text without exponent or trailing zeros ("217.025"), None kept."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def assessment_as_dict(assessment: Assessment) -> dict:
    """JSON-ready view of an assessment: decimals as strings (the API and ``--json`` output)."""
    a = assessment
    base = {
        "in_scope": a.in_scope,
        "message": a.message,
        "cn": a.cn8,
        "cn_display": a.cn_display,
        "country": a.country,
        "year": a.year,
        "quarter": a.quarter,
        "datasets": {
            r.kind: {"id": r.id, "version": r.version, "legal_act": r.legal_act} for r in a.datasets
        },
        "dataset_ids": [r.id for r in a.datasets],
        "trace": [
            {
                "rule": s.rule,
                "description": s.description,
                "inputs": {k: decimal_text(v) if isinstance(v, Decimal) else v for k, v in s.inputs.items()},
                "result": decimal_text(s.result),
            }
            for s in a.trace
        ],
    }
    r = a.result
    if r is None:
        return base
    base.update(
        {
            "sector": a.good.sector if a.good else "",
            "annex_ii_direct_only": bool(a.good and a.good.annex_ii_direct_only),
            "functional_unit": a.functional_unit,
            "quantity": decimal_text(a.quantity),
            "source": a.source,
            "source_detail": a.source_detail,
            "country_used": a.country_used,
            "used_other_countries": a.used_fallback,
            "route": a.route,
            "variant": a.variant,
            "see_used": decimal_text(r.see_used),
            "embedded_emissions": decimal_text(r.embedded_tco2e),
            "benchmark": decimal_text(a.benchmark),
            "benchmark_column": a.benchmark_column,
            "benchmark_route": a.benchmark_route,
            "cbam_factor": decimal_text(a.cbam_factor),
            "cscf": decimal_text(a.cscf),
            "sefa": decimal_text(r.sefa),
            "free_allocation_adjustment": decimal_text(r.faa_tco2e),
            "carbon_price_deduction": decimal_text(r.carbon_price_deduction_tco2e),
            "net_emissions": decimal_text(r.net_tco2e),
            "certificates_due": decimal_text(r.certificates),
            "certificate_price_eur": decimal_text(a.certificate_price_eur),
            "price_source": a.price_source,
            "cost_eur": decimal_text(a.cost_eur) if a.cost_eur is None else format(a.cost_eur, "f"),
        }
    )
    return base
