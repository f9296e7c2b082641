"""Reference data for the liability engine: read live, or once for a whole declaration.

:func:`declarations.assessment.assess_good` asks one object for every reference value it needs
(CN good, country, default values, benchmarks, CBAM factor, CSCF, certificate price).
:class:`LiveReference` answers through the selectors, query by query (the quick assessment of one
good). :class:`ReferenceSnapshot` reads the current datasets once — a fixed handful of queries
whatever the number of goods — and answers from memory with the same rules
(:func:`cbam_portal.reference.selectors.default_values_match` and friends), so a declaration of
tens of thousands of groups makes no query per group and gives the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar

from cbam_portal.reference import selectors
from cbam_portal.reference.codes import parse_cn
from cbam_portal.reference.models import (
    Benchmark,
    CbamFactor,
    CertificatePrice,
    CnGood,
    Country,
    Cscf,
    Dataset,
    DatasetKind,
)

T = TypeVar("T")


class LiveReference:
    """Reference data read from the database at each question (a single assessment)."""

    def remember(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()``; a snapshot keeps the answer (or the error) for the next identical question."""
        return compute()

    def keep(self, objects: Iterable[object]) -> None:
        """Objects shared by many assessments (trace steps, dataset lists): a snapshot converts each once."""

    def converted(self, obj: object, convert: Callable[[object], T]) -> T:
        """``convert(obj)``, remembered by a snapshot for the objects it keeps."""
        return convert(obj)

    def current(self) -> dict[str, Dataset]:
        return selectors.current_datasets_by_kind()

    def cn_lookup(self, raw_code: str, *, dataset: Dataset | None) -> selectors.CnLookup:
        return selectors.cn_lookup(raw_code, dataset=dataset)

    def country(self, iso2: str) -> Country | None:
        return selectors.country_get(iso2)

    def default_values(
        self, cn8: str, country: str, *, dataset: Dataset | None
    ) -> selectors.DefaultValueMatch:
        return selectors.default_values_for(cn8, country, dataset_id=dataset.pk if dataset else None)

    def benchmarks(self, cn8: str, *, dataset: Dataset) -> list[Benchmark]:
        return selectors.benchmarks_for(cn8, dataset=dataset)

    def cbam_factors(self) -> tuple[Dataset | None, Iterable[CbamFactor]]:
        return selectors.cbam_factors()

    def cscf_values(self) -> tuple[Dataset | None, Iterable[Cscf]]:
        return selectors.cscf_values()

    def price_on(self, day: dt.date, *, dataset: Dataset) -> CertificatePrice | None:
        return selectors.certificate_price_on(day, dataset=dataset)


class ReferenceSnapshot(LiveReference):
    """The current reference datasets read once, for the CN codes and countries of a declaration.

    ``cn_codes``/``countries`` bound what is read (None reads every CN good; countries are always
    read whole, the table is small); a question outside those bounds falls back to a live query,
    so the snapshot is never wrong, only slower. Prices are read for ``years`` (all when None).
    """

    def __init__(
        self,
        *,
        cn_codes: Iterable[str] | None = None,
        countries: Iterable[str] = (),
        years: Iterable[int] | None = None,
    ) -> None:
        self._current = selectors.current_datasets_by_kind()
        self._cn_scope = None if cn_codes is None else {c for c in cn_codes}
        self._country_scope = {c.upper() for c in countries}
        cn_dataset = self._current.get(DatasetKind.CN_GOODS)
        self._goods: dict[str, CnGood] = (
            selectors.cn_goods_by_code(dataset=cn_dataset, cn_codes=self._cn_scope) if cn_dataset else {}
        )
        self._countries = selectors.countries_by_code()
        codes = set(self._goods)
        dv_dataset = self._current.get(DatasetKind.DEFAULT_VALUES)
        self._dv_rows = (
            selectors.default_values_for_pairs(codes, self._country_scope, dataset=dv_dataset)
            if dv_dataset and self._country_scope
            else []
        )
        self._dv_by_prefix: dict[str, list] = {}
        for row in self._dv_rows:
            self._dv_by_prefix.setdefault(row.cn_code, []).append(row)
        self._dv_cache: dict[tuple[str, str], selectors.DefaultValueMatch] = {}
        bm_dataset = self._current.get(DatasetKind.BENCHMARKS)
        self._benchmarks = selectors.benchmarks_for_codes(codes, dataset=bm_dataset) if bm_dataset else {}
        self._factors = self._rows(DatasetKind.CBAM_FACTOR, CbamFactor)
        self._cscf = self._rows(DatasetKind.CSCF, Cscf)
        price_dataset = self._current.get(DatasetKind.CERTIFICATE_PRICES)
        self._prices: list[CertificatePrice] = []
        if price_dataset is not None:
            span = sorted(set(years)) if years is not None else None
            first = dt.date(span[0], 1, 1) if span else dt.date.min
            last = dt.date(span[-1], 12, 31) if span else dt.date.max
            self._prices = selectors.certificate_prices_between(first, last, dataset=price_dataset)
            self._price_span = (first, last)
        self._price_cache: dict[dt.date, CertificatePrice | None] = {}
        self._memo: dict[tuple, tuple] = {}
        self._kept: dict[int, list] = {}

    def remember(self, key: tuple, compute: Callable[[], T]) -> T:
        try:
            value, error = self._memo[key]
        except KeyError:
            try:
                value, error = compute(), None
            except Exception as exc:  # noqa: BLE001 - the same question gives the same refusal
                value, error = None, exc
            self._memo[key] = (value, error)
        if error is not None:
            raise error
        return value

    def _rows(self, kind: str, model) -> tuple[Dataset | None, list]:
        dataset = self._current.get(kind)
        if dataset is None:
            return None, []
        return dataset, list(model.objects.filter(dataset=dataset))

    def current(self) -> dict[str, Dataset]:
        return dict(self._current)

    def _is_current(self, kind: str, dataset: Dataset | None) -> bool:
        here = self._current.get(kind)
        return dataset is not None and here is not None and dataset.pk == here.pk

    def keep(self, objects: Iterable[object]) -> None:
        for obj in objects:
            if obj is not None and id(obj) not in self._kept:
                self._kept[id(obj)] = (obj, {})  # kept alive here, so its id stays its own

    def converted(self, obj: object, convert: Callable[[object], T]) -> T:
        entry = self._kept.get(id(obj))
        if entry is None or entry[0] is not obj:
            return convert(obj)
        done = entry[1]  # per conversion (dicts, JSON text)
        if convert not in done:
            done[convert] = value = convert(obj)
            if isinstance(value, dict | list):
                self.keep((value,))  # shared too: its own conversions are done once
        return done[convert]

    def cn_lookup(self, raw_code: str, *, dataset: Dataset | None) -> selectors.CnLookup:
        code = parse_cn(raw_code)
        in_scope = self._cn_scope is None or code.cn8 in self._cn_scope
        if not (in_scope and self._is_current(DatasetKind.CN_GOODS, dataset)):
            return super().cn_lookup(raw_code, dataset=dataset)
        return selectors.CnLookup(code=code, dataset=dataset, good=self._goods.get(code.cn8))

    def country(self, iso2: str) -> Country | None:
        return self._countries.get(iso2.upper())

    def default_values(
        self, cn8: str, country: str, *, dataset: Dataset | None
    ) -> selectors.DefaultValueMatch:
        country = country.upper()
        if not (
            cn8 in self._goods
            and country in self._country_scope
            and self._is_current(DatasetKind.DEFAULT_VALUES, dataset)
        ):
            return super().default_values(cn8, country, dataset=dataset)
        key = (cn8, country)
        match = self._dv_cache.get(key)
        if match is None:
            candidates = [
                row for prefix in {cn8[:8], cn8[:6], cn8[:4]} for row in self._dv_by_prefix.get(prefix, ())
            ]
            candidates.sort(key=lambda r: r.pk)
            match = selectors.default_values_match(cn8, country, candidates, dataset)
            self._dv_cache[key] = match
        return match

    def benchmarks(self, cn8: str, *, dataset: Dataset) -> list[Benchmark]:
        if cn8 not in self._benchmarks or not self._is_current(DatasetKind.BENCHMARKS, dataset):
            return super().benchmarks(cn8, dataset=dataset)
        return self._benchmarks[cn8]

    def cbam_factors(self) -> tuple[Dataset | None, list[CbamFactor]]:
        return self._factors

    def cscf_values(self) -> tuple[Dataset | None, list[Cscf]]:
        return self._cscf

    def price_on(self, day: dt.date, *, dataset: Dataset) -> CertificatePrice | None:
        if not self._is_current(DatasetKind.CERTIFICATE_PRICES, dataset) or not (
            self._price_span[0] <= day <= self._price_span[1]
        ):
            return super().price_on(day, dataset=dataset)
        if day not in self._price_cache:
            self._price_cache[day] = next(
                (p for p in self._prices if p.period_start <= day <= p.period_end), None
            )
        return self._price_cache[day]

    def price_periods(self) -> list[CertificatePrice]:
        """Every price read, in period order (the weekly periods of a year from 2027)."""
        return list(self._prices)
