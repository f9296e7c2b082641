"""Reads of reference data. Always against the current dataset of a kind unless a dataset id is given.

Reference data is public and not tenant-owned, so nothing here is scoped to an organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from .codes import OTHER_COUNTRIES, OTHER_COUNTRIES_NAME, ParsedCode, longest_prefix, parse_cn, prefixes
from .models import (
    Benchmark,
    CbamFactor,
    CertificatePrice,
    CnGood,
    Country,
    Cscf,
    Dataset,
    DatasetKind,
    DefaultValue,
    PrecursorDefault,
)


class DatasetMissing(LookupError):
    """No dataset of the kind is loaded (or the given id is not one of that kind)."""


def dataset_get(kind: str, dataset_id: int | None = None) -> Dataset:
    """The current dataset of `kind`, or the one with `dataset_id` (which must be of that kind)."""
    qs = Dataset.objects.filter(kind=kind)
    dataset = (
        qs.filter(pk=dataset_id).first() if dataset_id is not None else qs.filter(is_current=True).first()
    )
    if dataset is None:
        label = DatasetKind(kind).label
        if dataset_id is not None:
            raise DatasetMissing(f"No {label} dataset #{dataset_id}.")
        raise DatasetMissing(f"No {label} dataset is loaded: run `manage.py load_reference_data`.")
    return dataset


def _resolve(kind: str, dataset_id: int | None, dataset: Dataset | None) -> Dataset:
    """The dataset to read: one already fetched by the caller (checked to be of `kind`), else by id/current."""
    if dataset is not None:
        if dataset.kind != kind:
            raise DatasetMissing(f"Dataset #{dataset.pk} is not a {DatasetKind(kind).label} dataset.")
        return dataset
    return dataset_get(kind, dataset_id)


def current_datasets_by_kind() -> dict[str, Dataset]:
    """Every dataset in force, keyed by kind (one query; pass them on to the selectors)."""
    return {d.kind: d for d in Dataset.objects.filter(is_current=True)}


def dataset_list_current() -> list[Dataset]:
    order = {kind: i for i, kind in enumerate(DatasetKind.values)}
    return sorted(Dataset.objects.filter(is_current=True), key=lambda d: order.get(d.kind, 99))


def dataset_list() -> QuerySet[Dataset]:
    return Dataset.objects.all()


@dataclass(frozen=True)
class CnLookup:
    """What Annex I says about a code: covered or not, and the good's attributes if covered."""

    code: ParsedCode
    dataset: Dataset
    good: CnGood | None

    @property
    def covered(self) -> bool:
        return self.good is not None


def cn_lookup(raw_code: str, *, dataset_id: int | None = None, dataset: Dataset | None = None) -> CnLookup:
    """Look up an 8-digit CN code or a 10-digit TARIC code (spaces allowed) in the Annex I list.

    Raises `codes.CnCodeError` for malformed input and `DatasetMissing` when no CN list is loaded.
    Coverage per Regulation (EU) 2023/956 Annex I; Annex II flag and functional unit as stored.
    """
    code = parse_cn(raw_code)
    dataset = _resolve(DatasetKind.CN_GOODS, dataset_id, dataset)
    good = CnGood.objects.filter(dataset=dataset, cn8=code.cn8).first()
    return CnLookup(code=code, dataset=dataset, good=good)


def cn_goods_list(*, dataset_id: int | None = None, sector: str | None = None) -> QuerySet[CnGood]:
    dataset = dataset_get(DatasetKind.CN_GOODS, dataset_id)
    qs = CnGood.objects.filter(dataset=dataset)
    if sector:
        qs = qs.filter(sector=sector)
    return qs


@dataclass
class DefaultValueMatch:
    """Default values for one CN code and country of origin, and how they were found.

    IR 2025/2621 Annex I keys rows at 4, 6 or 8 digits (longest prefix wins). Where the country
    has no row, or its row is "–", the values of "Other countries and territories" apply.
    """

    cn8: str
    requested_country: str
    country_used: str
    matched_code: str | None
    rows: list[DefaultValue] = field(default_factory=list)
    dataset: Dataset | None = None
    reason: str = ""

    @property
    def used_fallback(self) -> bool:
        return self.country_used != self.requested_country

    @property
    def found(self) -> bool:
        return bool(self.rows)


def _rows_with_values(rows: list[DefaultValue]) -> list[DefaultValue]:
    return [r for r in rows if r.has_values]


def default_values_for(
    cn8: str,
    country_code: str,
    *,
    dataset_id: int | None = None,
    variant: str | None = None,
    dataset: Dataset | None = None,
) -> DefaultValueMatch:
    """Default values for `cn8` from `country_code`, falling back to "Other countries and territories"
    ([IR2621] Annex I; "–" = no country-specific value). `variant` narrows e.g. to "Grey clinker"."""
    dataset = _resolve(DatasetKind.DEFAULT_VALUES, dataset_id, dataset)
    country_code = country_code.upper()
    candidates = list(
        DefaultValue.objects.filter(
            dataset=dataset, country_code__in={country_code, OTHER_COUNTRIES}, cn_code__in=prefixes(cn8)
        ).order_by("pk")
    )
    return default_values_match(cn8, country_code, candidates, dataset, variant=variant)


def default_values_match(
    cn8: str,
    country_code: str,
    candidates: list[DefaultValue],
    dataset: Dataset,
    *,
    variant: str | None = None,
) -> DefaultValueMatch:
    """The rule of :func:`default_values_for` applied to rows already read (in primary-key order);
    rows of other countries or of codes that are no prefix of `cn8` are ignored."""
    country_code = country_code.upper()

    def match(country: str) -> tuple[str | None, list[DefaultValue]]:
        key, rows = longest_prefix(cn8, [(r.cn_code, r) for r in candidates if r.country_code == country])
        if variant:
            rows = [r for r in rows if r.variant.lower() == variant.lower()]
        return key, rows

    key, rows = match(country_code)
    with_values = _rows_with_values(rows)
    if with_values and country_code != OTHER_COUNTRIES:
        return DefaultValueMatch(cn8, country_code, country_code, key, with_values, dataset)
    if rows:
        reason = f"{country_code} has no value for {key} (“–”): {OTHER_COUNTRIES_NAME} applies."
    else:
        reason = f"{country_code} has no row for {cn8}: {OTHER_COUNTRIES_NAME} applies."
    if country_code == OTHER_COUNTRIES:
        reason = ""
    other_key, other_rows = match(OTHER_COUNTRIES)
    return DefaultValueMatch(
        cn8, country_code, OTHER_COUNTRIES, other_key, _rows_with_values(other_rows), dataset, reason
    )


def default_values_for_pairs(
    cn_codes: Iterable[str], country_codes: Iterable[str], *, dataset: Dataset
) -> list[DefaultValue]:
    """Every row of `dataset` that can answer :func:`default_values_for` for any of `cn_codes` from any
    of `country_codes` (their 8-, 6- and 4-digit keys; the countries and "Other countries"), in
    primary-key order, in one query. Feed them to :func:`default_values_match`."""
    keys = {p for code in cn_codes for p in prefixes(code)}
    countries = {c.upper() for c in country_codes} | {OTHER_COUNTRIES}
    if not keys:
        return []
    return list(
        DefaultValue.objects.filter(dataset=dataset, country_code__in=countries, cn_code__in=keys).order_by(
            "pk"
        )
    )


@dataclass(frozen=True)
class CountryDefaultValues:
    country_code: str
    country_name: str
    matched_code: str
    rows: list[DefaultValue]


def default_values_by_country(
    cn8: str,
    *,
    dataset_id: int | None = None,
    dataset: Dataset | None = None,
    country_code: str | None = None,
) -> list[CountryDefaultValues]:
    """For the CN detail page: per country, the rows of the longest keyed prefix of `cn8` (one query)."""
    dataset = _resolve(DatasetKind.DEFAULT_VALUES, dataset_id, dataset)
    qs = DefaultValue.objects.filter(dataset=dataset, cn_code__in=prefixes(cn8))
    if country_code:
        qs = qs.filter(country_code__in={country_code.upper(), OTHER_COUNTRIES})
    by_country: dict[str, list[DefaultValue]] = {}
    for row in qs.order_by("country_name", "pk"):
        by_country.setdefault(row.country_code, []).append(row)
    result = []
    for code, rows in by_country.items():
        key, best = longest_prefix(cn8, [(r.cn_code, r) for r in rows])
        result.append(CountryDefaultValues(code, best[0].country_name, key or "", best))
    # "Other countries and territories" last, the rest alphabetically.
    result.sort(key=lambda c: (c.country_code == OTHER_COUNTRIES, c.country_name.lower()))
    return result


def benchmarks_for(
    cn8: str, *, dataset_id: int | None = None, dataset: Dataset | None = None
) -> list[Benchmark]:
    """CBAM benchmarks of `cn8`, Column A and Column B with routes and production years ([IR2620] Annex)."""
    dataset = _resolve(DatasetKind.BENCHMARKS, dataset_id, dataset)
    return list(Benchmark.objects.filter(dataset=dataset, cn_code=cn8))


def benchmarks_for_codes(cn_codes: Iterable[str], *, dataset: Dataset) -> dict[str, list[Benchmark]]:
    """:func:`benchmarks_for` of many codes in one query, keyed by CN code (same order per code)."""
    found: dict[str, list[Benchmark]] = {code: [] for code in cn_codes}
    if not found:
        return found
    for row in Benchmark.objects.filter(dataset=dataset, cn_code__in=list(found)):
        found[row.cn_code].append(row)
    return found


def precursor_defaults_for(
    cn8: str, *, dataset_id: int | None = None, dataset: Dataset | None = None
) -> tuple[str | None, list[PrecursorDefault]]:
    """Highest default values published for `cn8` as a precursor (IR 2025/2621), longest keyed prefix."""
    dataset = _resolve(DatasetKind.PRECURSOR_DEFAULTS, dataset_id, dataset)
    rows = PrecursorDefault.objects.filter(dataset=dataset, cn_code__in=prefixes(cn8)).order_by("pk")
    return longest_prefix(cn8, [(r.cn_code, r) for r in rows])


def _current_rows(model, kind: str):
    dataset = Dataset.objects.filter(kind=kind, is_current=True).first()
    if dataset is None:
        return None, model.objects.none()
    return dataset, model.objects.filter(dataset=dataset)


def cbam_factors() -> tuple[Dataset | None, QuerySet[CbamFactor]]:
    return _current_rows(CbamFactor, DatasetKind.CBAM_FACTOR)


def cscf_values() -> tuple[Dataset | None, QuerySet[Cscf]]:
    return _current_rows(Cscf, DatasetKind.CSCF)


def certificate_prices() -> tuple[Dataset | None, QuerySet[CertificatePrice]]:
    return _current_rows(CertificatePrice, DatasetKind.CERTIFICATE_PRICES)


def certificate_price_on(
    day: dt.date, *, dataset_id: int | None = None, dataset: Dataset | None = None
) -> CertificatePrice | None:
    """The certificate price whose period contains `day` (Art 21 Reg 2023/956), if published."""
    dataset = _resolve(DatasetKind.CERTIFICATE_PRICES, dataset_id, dataset)
    return CertificatePrice.objects.filter(
        dataset=dataset, period_start__lte=day, period_end__gte=day
    ).first()


def country_list() -> QuerySet[Country]:
    return Country.objects.all()


def country_get(iso2: str) -> Country | None:
    return Country.objects.filter(iso2=iso2.upper()).first()


def certificate_prices_between(first: dt.date, last: dt.date, *, dataset: Dataset) -> list[CertificatePrice]:
    """Prices of `dataset` whose period overlaps `first`–`last`, in period order (one query)."""
    return list(
        CertificatePrice.objects.filter(dataset=dataset, period_start__lte=last, period_end__gte=first)
    )


def countries_by_code() -> dict[str, Country]:
    """Every country keyed by ISO alpha-2 code (one query)."""
    return {c.iso2: c for c in Country.objects.all()}


def cn_goods_by_code(*, dataset: Dataset, cn_codes: Iterable[str] | None = None) -> dict[str, CnGood]:
    """Annex I goods of `dataset` keyed by 8-digit code, all of them or those of `cn_codes` (one query)."""
    qs = CnGood.objects.filter(dataset=dataset)
    if cn_codes is not None:
        qs = qs.filter(cn8__in=list(set(cn_codes)))
    return {g.cn8: g for g in qs}
