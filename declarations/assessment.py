"""Quick assessment of one good: reference data in, the declaration's liability engine out.

This module only gathers inputs from the versioned reference data (CN list, default values,
benchmarks, CBAM factor, CSCF, certificate prices, countries) and hands them to
:func:`declarations.liability.group_obligation`, the same engine the annual declaration uses.
It writes nothing. Every refusal raises :class:`AssessmentError` naming the input field, so the
page, the API and the command give the same messages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

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
from emissions.see import CALC_CONTEXT, EUR_PLACES, PrecursorShare, TraceStep, quantise

from .liability import (
    FIRST_YEAR,
    ActualSource,
    DefaultSource,
    GoodsGroup,
    GroupLiability,
    LiabilityInputError,
    group_obligation,
)
from .reference_cache import LiveReference

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
    "see_obligation",
)

_RULE_SCOPE = "Reg (EU) 2023/956 Art 2(1), Annex I; Annex III point 1"
_RULE_FUNCTIONAL_UNIT = "[IR2547] Art 4 (functional unit)"
_RULE_DEFAULT_LOOKUP = (
    "[IR2621] Annex I; Reg (EU) 2023/956 Annex IV pt 4.1 (as amended by Reg (EU) 2025/2083): "
    "“Other countries and territories” where the country has no value"
)
_RULE_BENCHMARK = "[IR2620] Annex points 3–5 (Column A with actual data, Column B with default values)"
_RULE_PRECURSOR_SEFA = "[IR2620] Annex 4, Eq. 4–5 (SEFA of a complex good includes its precursors)"
_RULE_FACTORS = "Directive 2003/87/EC Art 10a(1a) (CBAM factor); Art 10a(5) (CSCF); [IR2620] Annex 3.1"
_RULE_PRICE = (
    "Reg (EU) 2023/956 Art 21(1a) (as amended by Reg (EU) 2025/2083 Art 1(17)): quarterly price for 2026"
)
_RULE_PRICE_WEEKLY = (
    "Reg (EU) 2023/956 Art 21(1)–(2) (as amended by Reg (EU) 2025/2083): from 2027 the price of the "
    "calendar week, applying from its publication until the next one"
)
_RULE_OBLIGATION_SEE = (
    "[IR2547] Annex I point 3.1 (precursor cross-over); Reg (EU) 2023/956 Annex II (direct emissions only): "
    "SEE for the obligation computed by the operator's report"
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
    #: The operator's SEE counted for the obligation (tCO2e per functional unit), already applying
    #: the Annex II (direct only) and precursor cross-over rules; used instead of direct/indirect.
    see_obligation: Decimal | None = None
    #: The date of release for free circulation, whose certificate price applies (from 2027: the
    #: price period covering it; called ``release_date`` in the form, the API and the command).
    price_day: dt.date | None = None
    #: With actual data for a complex good: the specific mass of each precursor (m_i) from the
    #: operator's report, so that the SEFA adds the precursors' benchmarks ([IR2620] Annex 4, Eq. 4).
    precursors: tuple[PrecursorShare, ...] = ()


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


#: Labels of the numeric inputs, translated only when a message names them.
_LABELS = {
    "mass": gettext_noop("Net mass"),
    "functional_unit_mass": gettext_noop("Functional-unit quantity"),
    "price": gettext_noop("Certificate price"),
    "see_direct": gettext_noop("Actual SEE (direct)"),
    "see_indirect": gettext_noop("Actual SEE (indirect)"),
    "carbon_price_paid": gettext_noop("Carbon price paid"),
    "see_obligation": gettext_noop("SEE for the obligation"),
}


def _positive(value: Decimal | None, name: str, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        label = _(_LABELS[name])
        raise AssessmentError(
            name,
            _("%(label)s must be greater than zero.") % {"label": label}
            if not allow_zero
            else _("%(label)s must not be negative.") % {"label": label},
        )


def _check_input(data: AssessmentInput) -> None:
    _positive(data.mass, "mass")
    _positive(data.functional_unit_mass, "functional_unit_mass")
    _positive(data.price, "price")
    _positive(data.see_direct, "see_direct", allow_zero=True)
    _positive(data.see_indirect, "see_indirect", allow_zero=True)
    _positive(data.carbon_price_paid, "carbon_price_paid", allow_zero=True)
    _positive(data.see_obligation, "see_obligation", allow_zero=True)
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
    if data.price_day is not None:
        if data.price_day.year != data.year:
            raise AssessmentError(
                "release_date",
                _("The date of release %(day)s is not in %(year)s, the year of import.")
                % {"day": data.price_day.isoformat(), "year": data.year},
            )
        if data.quarter is not None and data.quarter != (data.price_day.month - 1) // 3 + 1:
            raise AssessmentError(
                "quarter",
                _("Q%(q)s does not contain the date of release %(day)s.")
                % {"q": data.quarter, "day": data.price_day.isoformat()},
            )
    if data.see_indirect is not None and data.see_direct is None:
        raise AssessmentError(
            "see_direct", _("Give the actual direct SEE together with the actual indirect SEE.")
        )
    if data.see_obligation is not None and data.see_direct is None:
        raise AssessmentError(
            "see_direct", _("Give the actual direct SEE together with the SEE for the obligation.")
        )


def _good(raw_cn: str, datasets: dict[str, Dataset], reference: LiveReference) -> tuple[CnGood, Dataset]:
    try:
        lookup = reference.cn_lookup(raw_cn, dataset=datasets.get(DatasetKind.CN_GOODS))
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


def _country(iso2: str, reference: LiveReference) -> Country:
    code = (iso2 or "").strip().upper()
    country = reference.country(code) if len(code) == 2 else None
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
    if unit == "kg N":
        # The nitrogen content is the declared quantity of these fertilisers, but the default values
        # ([IR2621] Annex I) and benchmarks ([IR2620], e.g. urea Column B 0.902 = its ammonia content
        # x the ammonia benchmark) are given per tonne of product: emissions follow the net mass.
        step = TraceStep(
            rule=_RULE_FUNCTIONAL_UNIT,
            description=_(
                "%(code)s is declared in kg of nitrogen contained (%(n)s kg N); default values and "
                "benchmarks are per tonne of product, so embedded emissions use the net mass."
            )
            % {"code": good.cn8_display, "n": decimal_text(data.functional_unit_mass)},
            inputs={"nitrogen contained (kg N)": data.functional_unit_mass, "net mass (t)": data.mass},
            result=data.mass,
        )
        return data.mass, step
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


def _weekly_price(
    data: AssessmentInput, dataset: Dataset | None, reference: LiveReference
) -> tuple[Decimal | None, str, Dataset | None]:
    """From 2027: the price of the period (calendar week) covering the release date ([R956] Art 21(1))."""
    day = data.price_day
    price = reference.price_on(day, dataset=dataset) if dataset is not None else None
    if price is None:
        return (
            None,
            _(
                "No certificate price is published yet for imports released on %(day)s "
                "(from 2027 the price of the calendar week applies); no cost until it is loaded."
            )
            % {"day": day.isoformat()},
            None,
        )
    text = _("published price for %(start)s to %(end)s: EUR %(price)s") % {
        "start": price.period_start.isoformat(),
        "end": price.period_end.isoformat(),
        "price": price.price_eur,
    }
    if price.provisional:
        text += " " + _("(provisional)")
    return price.price_eur, text, dataset


def _price(
    data: AssessmentInput, dataset: Dataset | None, reference: LiveReference
) -> tuple[Decimal | None, str, Dataset | None]:
    if data.price is not None:
        return data.price, _("price given (EUR %(price)s)") % {"price": data.price}, None
    if data.year >= 2027 and data.price_day is not None:
        return _weekly_price(data, dataset, reference)
    if data.year != 2026:
        return (
            None,
            _("From 2027 the certificate price is a weekly average (Art 21(1)); give a price to see a cost."),
            None,
        )
    if data.quarter is None:
        return None, _("Give the quarter of import to use the published quarterly price for 2026."), None
    day = dt.date(data.year, 3 * data.quarter - 2, 1)
    price = reference.price_on(day, dataset=dataset) if dataset is not None else None
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


@dataclass(frozen=True)
class _PreparedGood:
    """What an assessment reads from the reference data for a good in a year, whatever the period."""

    column: BenchmarkColumn
    benchmark: Decimal
    bm_route: str
    source: DefaultSource | None
    source_detail: str
    route: str
    variant: str
    country_used: str
    used_fallback: bool
    factor: Decimal
    cscf: Decimal
    refs: tuple[DatasetRef, ...]
    default_step: TraceStep | None
    tail: tuple[TraceStep, ...]  # benchmark, factors
    scope_description: str


@dataclass(frozen=True)
class _Prepared:
    """What an assessment reads from the reference data, the same for every quantity of a good."""

    column: BenchmarkColumn
    benchmark: Decimal
    bm_route: str
    source: DefaultSource | None  # None with actual values (they come with each good)
    source_detail: str
    route: str
    variant: str
    country_used: str
    used_fallback: bool
    factor: Decimal
    cscf: Decimal
    price: Decimal | None
    price_source: str
    refs: tuple[DatasetRef, ...]
    default_step: TraceStep | None
    tail: tuple[TraceStep, ...]  # benchmark, factors, price
    scope_description: str
    scope_inputs: dict


def _prepare_good(
    data: AssessmentInput, good: CnGood, cn_dataset: Dataset, country: Country, reference: LiveReference
) -> _PreparedGood:
    """Benchmark, default values, CBAM factor and CSCF of one good in one year (no quantity, no price)."""
    current = reference.current()
    year = data.year
    code = good.cn8_display
    actual = data.see_direct is not None
    used: list[Dataset] = [cn_dataset]
    bm_dataset = current.get(DatasetKind.BENCHMARKS)
    if bm_dataset is None:
        raise AssessmentError("cn", _("No CBAM benchmarks are loaded: run `manage.py load_reference_data`."))
    used.append(bm_dataset)
    benchmarks = reference.benchmarks(good.cn8, dataset=bm_dataset)

    country_used, used_fallback, variant = country.iso2, False, ""
    default_step = None
    source: DefaultSource | None = None
    if actual:
        column = BenchmarkColumn.A
        benchmark, bm_route, bm_step = _pick_benchmark(
            benchmarks, column=column, route=data.route, year=year, code=code
        )
        source_detail = _("actual values given (verified SEE of the installation)")
        route = data.route.strip().upper() or bm_route
    else:
        column = BenchmarkColumn.B
        try:
            dv_dataset = current.get(DatasetKind.DEFAULT_VALUES)
            match = reference.default_values(good.cn8, country.iso2, dataset=dv_dataset)
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
        default_step = TraceStep(
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
    tail = [bm_step]

    factor_dataset, factors = reference.cbam_factors()
    cscf_dataset, cscf_rows = reference.cscf_values()
    factor = _year_value(factors, year, _("CBAM factor"), factor_dataset, "factor")
    cscf = _year_value(cscf_rows, year, _("cross-sectoral correction factor"), cscf_dataset, "value")
    used += [d for d in (factor_dataset, cscf_dataset) if d is not None]
    tail.append(
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

    scope_description = _(
        "%(code)s is a CBAM good (%(sector)s); functional unit %(unit)s; origin %(country)s."
    ) % {
        "code": code,
        "sector": good.get_sector_display(),
        "unit": good.functional_unit,
        "country": country.name,
    }
    return _PreparedGood(
        column=column,
        benchmark=benchmark,
        bm_route=bm_route,
        source=source,
        source_detail=source_detail,
        route=route,
        variant=variant,
        country_used=country_used,
        used_fallback=used_fallback,
        factor=factor,
        cscf=cscf,
        refs=tuple(DatasetRef.of(d) for d in used),
        default_step=default_step,
        tail=tuple(tail),
        scope_description=scope_description,
    )


def _prepare_price(data: AssessmentInput, reference: LiveReference) -> tuple:
    """Certificate price of the import period, its source text, datasets and trace step."""
    year, quarter = data.year, data.quarter
    price, price_source, price_dataset = _price(
        data, reference.current().get(DatasetKind.CERTIFICATE_PRICES), reference
    )
    weekly = year >= 2027 and data.price_day is not None and data.price is None
    price_inputs = {"year": str(year), "quarter": f"Q{quarter}" if quarter else "–"}
    if weekly:
        price_inputs["release date"] = data.price_day.isoformat()
    step = TraceStep(
        rule=_RULE_PRICE_WEEKLY if weekly else _RULE_PRICE,
        description=_("Certificate price: %(source)s.") % {"source": price_source},
        inputs=price_inputs,
        result=price if price is not None else ZERO,
    )
    refs = (DatasetRef.of(price_dataset),) if price_dataset is not None else ()
    return price, price_source, refs, step


def _prepare(
    data: AssessmentInput, good: CnGood, cn_dataset: Dataset, country: Country, reference: LiveReference
) -> _Prepared:
    """Benchmark, default values, CBAM factor, CSCF and price of one good (no quantity involved)."""
    actual = data.see_direct is not None
    base: _PreparedGood = reference.remember(
        ("good-year", good.cn8, country.iso2, data.year, actual, data.route),
        lambda: _prepare_good(data, good, cn_dataset, country, reference),
    )
    price, price_source, price_refs, price_step = reference.remember(
        ("price", data.year, data.quarter, data.price, data.price_day),
        lambda: _prepare_price(data, reference),
    )
    refs = base.refs + price_refs
    tail = (*base.tail, price_step)
    scope_inputs = {
        "Annex II (direct only)": "yes" if good.annex_ii_direct_only else "no",
        **{f"dataset {r.kind}": r.label for r in refs},
    }
    reference.keep((base.default_step, *tail, refs))
    return _Prepared(
        column=base.column,
        benchmark=base.benchmark,
        bm_route=base.bm_route,
        source=base.source,
        source_detail=base.source_detail,
        route=base.route,
        variant=base.variant,
        country_used=base.country_used,
        used_fallback=base.used_fallback,
        factor=base.factor,
        cscf=base.cscf,
        price=price,
        price_source=price_source,
        refs=refs,
        default_step=base.default_step,
        tail=tail,
        scope_description=base.scope_description,
        scope_inputs=scope_inputs,
    )


def _obligation_step(data: AssessmentInput, good: CnGood) -> TraceStep:
    return TraceStep(
        rule=_RULE_OBLIGATION_SEE,
        description=_(
            "SEE for the obligation given by the operator (%(value)s tCO2e per %(unit)s), used "
            "instead of the direct and indirect SEE: it already applies the Annex II rule "
            "(direct emissions only) and the precursor cross-over rule."
        )
        % {"value": decimal_text(data.see_obligation), "unit": good.functional_unit},
        inputs={
            "SEE direct": data.see_direct,
            "SEE indirect": data.see_indirect or ZERO,
            "Annex II (direct only)": "yes" if good.annex_ii_direct_only else "no",
            "SEE for the obligation": data.see_obligation,
        },
        result=data.see_obligation,
    )


def _precursor_benchmark(
    share: PrecursorShare, year: int, dataset: Dataset, reference: LiveReference
) -> tuple[Decimal, str]:
    """BM_i of one precursor per tonne of precursor, and how it was chosen ([IR2620] Annex 4).

    A precursor made in the installation with actual data takes its own Column A (process)
    benchmark plus, recursively, those of its precursors (Eq. 4). A purchased precursor takes the
    Column B benchmark, which already includes its own precursors: with default values that is the
    rule ([IR2620] Annex 3.3(2)); with the supplier's actual data the portal does not know the
    supplier's precursor chain, so Column B stands in for it. Where a CN code carries several
    benchmarks (routes, steel grades) and the route is not known, the highest applies ([IR2620]
    Annex 5.1). A precursor without a CN code or without a published benchmark adds nothing.
    """
    if not share.cn_code:
        return ZERO, _("no CN code reported: no benchmark added")
    column = BenchmarkColumn.A if share.source == "internal" and not share.is_default else BenchmarkColumn.B
    rows = [b for b in reference.benchmarks(share.cn_code, dataset=dataset) if b.column == column]
    in_year = [b for b in rows if _years_match(b, year)]
    if not in_year and rows:
        latest = max(b.production_years for b in rows)
        in_year = [b for b in rows if b.production_years == latest]
    route = route_code(share.route)
    chosen = [b for b in in_year if b.route == route] or in_year
    if not chosen:
        return ZERO, _("no benchmark published for %(code)s: none added") % {"code": format_cn(share.cn_code)}
    own = max(b.value for b in chosen)
    how = _("%(code)s Column %(column)s %(value)s") % {
        "code": format_cn(share.cn_code),
        "column": column.value,
        "value": decimal_text(own),
    }
    if column == BenchmarkColumn.A and share.precursors:
        extra, _parts = _precursors_benchmark(share.precursors, year, dataset, reference)
        with localcontext(CALC_CONTEXT):
            own += extra
        how += " + " + _("its precursors %(extra)s") % {"extra": decimal_text(extra)}
    return own, how


def _precursors_benchmark(
    shares: tuple[PrecursorShare, ...], year: int, dataset: Dataset, reference: LiveReference
) -> tuple[Decimal, dict[str, str]]:
    """Σ m_i × BM_i over the precursors of a good, and the trace inputs explaining each term."""
    total = ZERO
    parts: dict[str, str] = {}
    for i, share in enumerate(shares, start=1):
        value, how = _precursor_benchmark(share, year, dataset, reference)
        with localcontext(CALC_CONTEXT):
            term = share.mass_per_unit * value
            total += term
        parts[f"precursor {i}: {share.name}"] = (
            f"m = {decimal_text(quantise(share.mass_per_unit, 6))} t/t × BM {how} = {decimal_text(quantise(term, 6))}"
        )
    return total, parts


_ROUTE_IN_TEXT = re.compile(r"\(([A-Z]{1,2})\)")


def route_code(text: str) -> str:
    """The benchmark route indicator of a production route as reported: "K" or
    "Primary aluminium, electrolysis (K)" give "K" ([IR2620] Annex 5.3); "" when none is named."""
    text = (text or "").strip().upper()
    if 0 < len(text) <= 2:
        return text
    found = _ROUTE_IN_TEXT.search(text)
    return found.group(1) if found else ""


def _complex_good_benchmark(
    data: AssessmentInput, own: Decimal, reference: LiveReference
) -> tuple[Decimal, TraceStep | None]:
    """BM* of the good plus Σ m_i × BM_i of its precursors ([IR2620] Annex 4, Eq. 2–5): the SEFA of
    a complex good with actual data is CBAM factor × CSCF × (BM* + Σ m_i × BM_i)."""
    if not data.precursors:
        return own, None
    dataset = reference.current().get(DatasetKind.BENCHMARKS)
    if dataset is None:
        return own, None
    extra, parts = reference.remember(
        ("precursor-benchmarks", data.precursors, data.year),
        lambda: _precursors_benchmark(data.precursors, data.year, dataset, reference),
    )
    with localcontext(CALC_CONTEXT):
        effective = own + extra
    step = TraceStep(
        rule=_RULE_PRECURSOR_SEFA,
        description=_(
            "Complex good with actual data: the benchmarks of its precursors are added per tonne "
            "(m_i = precursor mass per tonne of good, from the operator's report)."
        ),
        inputs={"BM* of the good (Column A)": own, **parts, "Σ m_i × BM_i": extra},
        result=effective,
    )
    return effective, step


def assess_good(
    data: AssessmentInput, *, reference: LiveReference | None = None, trace: bool = True
) -> Assessment:
    """Certificates due for one good, by the declaration's engine ([R956] Art 6(2)(c), 7, 9, 21, 31).

    Default values (with the year's mark-up, [IR2621] Annex I) and the Column B benchmark of the
    default route unless actual SEE is given, then the Column A benchmark ([IR2620] Annex 3–5).
    Reads only current, public reference datasets and pins their versions in the trace; pass a
    :class:`~declarations.reference_cache.ReferenceSnapshot` as ``reference`` to read them once for
    many goods (the declaration): the same values and trace, without a query per good, and what
    does not depend on the quantity worked out once per good, country and period. Without
    ``trace``, the same numbers without the steps that explain them (a draft's recalculation, which
    stores none).
    """
    _check_input(data)
    if data.quarter is None and data.price_day is not None:
        data = replace(data, quarter=(data.price_day.month - 1) // 3 + 1)  # the quarter of release
    reference = reference if reference is not None else LiveReference()
    good, cn_dataset, country = reference.remember(
        ("good", data.cn, data.country),
        lambda: (*_good(data.cn, reference.current(), reference), _country(data.country, reference)),
    )
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

    steps: list[TraceStep] | None = [] if trace else None
    quantity, unit_step = _quantity(data, good)
    if unit_step is not None and steps is not None:
        steps.append(unit_step)

    actual = data.see_direct is not None
    if data.carbon_price_paid and not actual:
        raise AssessmentError(
            "carbon_price_paid",
            _(
                "A carbon price paid abroad can only be deducted with actual emissions data, not with "
                "default values (Reg 2023/956 Art 9(1)); give the actual SEE or leave it empty."
            ),
        )
    key = ("prepared", good.cn8, country.iso2, year, quarter, data.price, data.price_day, actual, data.route)
    prepared: _Prepared = reference.remember(
        key, lambda: _prepare(data, good, cn_dataset, country, reference)
    )
    benchmark = prepared.benchmark
    precursor_step = None
    if actual:
        benchmark, precursor_step = _complex_good_benchmark(data, prepared.benchmark, reference)
        source: ActualSource | DefaultSource = ActualSource(
            see_direct=data.see_direct,
            see_indirect=data.see_indirect or ZERO,
            benchmark_column_a=benchmark,
            see_for_obligation=data.see_obligation,
        )
        if data.see_obligation is not None and steps is not None:
            steps.append(_obligation_step(data, good))
    else:
        source = prepared.source
        if steps is not None:
            steps.append(prepared.default_step)
    if steps is not None:
        steps.extend(prepared.tail)
        if precursor_step is not None:
            steps.append(precursor_step)
    price = prepared.price

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
        cbam_factor=prepared.factor,
        cscf=prepared.cscf,
        certificate_price_eur=price if price is not None else ZERO,
        carbon_price_paid_eur=carbon_paid_eur,
    )
    try:
        result = group_obligation(group, trace=trace)
    except LiabilityInputError as exc:
        raise AssessmentError("cn", str(exc)) from exc

    if steps is not None:
        steps.insert(
            0,
            TraceStep(
                rule=_RULE_SCOPE,
                description=prepared.scope_description,
                inputs=prepared.scope_inputs,
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
        source_detail=prepared.source_detail,
        country_used=prepared.country_used,
        used_fallback=prepared.used_fallback,
        route=prepared.route,
        variant=prepared.variant,
        quantity=quantity,
        functional_unit=good.functional_unit,
        benchmark=benchmark,
        benchmark_column=prepared.column.value,
        benchmark_route=prepared.bm_route,
        cbam_factor=prepared.factor,
        cscf=prepared.cscf,
        certificate_price_eur=price,
        price_source=prepared.price_source,
        result=result,
        datasets=prepared.refs,
        trace=(*steps, *result.trace) if steps is not None else (),
    )


def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as plain text without exponent or trailing zeros ("217.025"), None kept."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _step_as_dict(step: TraceStep) -> dict:
    return {
        "rule": step.rule,
        "description": step.description,
        "inputs": {k: decimal_text(v) if isinstance(v, Decimal) else v for k, v in step.inputs.items()},
        "result": decimal_text(step.result),
    }


def _datasets_as_dict(refs: tuple[DatasetRef, ...]) -> dict:
    return {r.kind: {"id": r.id, "version": r.version, "legal_act": r.legal_act} for r in refs}


def trace_as_dicts(assessment: Assessment, reference: LiveReference | None = None) -> tuple[list[dict], dict]:
    """The trace and the datasets of an assessment as in :func:`assessment_as_dict`; the steps a
    snapshot ``reference`` already converted for another good are reused, not converted again."""
    if reference is None:
        return [_step_as_dict(s) for s in assessment.trace], _datasets_as_dict(assessment.datasets)
    steps = [reference.converted(s, _step_as_dict) for s in assessment.trace]
    return steps, reference.converted(assessment.datasets, _datasets_as_dict)


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
