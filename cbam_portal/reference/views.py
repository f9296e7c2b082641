"""Browse the reference data. Public: regulatory tables are published law, so no sign-in is needed."""

from __future__ import annotations

import csv

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import selectors
from .codes import OTHER_COUNTRIES, CnCodeError, format_cn, parse_cn
from .countries import ANNEX_III_TERRITORIES
from .forms import CnLookupForm, CountryFilterForm
from .models import DatasetKind

BLANK = "–"


def index(request):
    factor_dataset, factors = selectors.cbam_factors()
    cscf_dataset, cscf = selectors.cscf_values()
    price_dataset, prices = selectors.certificate_prices()
    return render(
        request,
        "reference/index.html",
        {
            "datasets": selectors.dataset_list_current(),
            "factor_dataset": factor_dataset,
            "factors": list(factors),
            "cscf_dataset": cscf_dataset,
            "cscf": list(cscf),
            "price_dataset": price_dataset,
            "prices": list(prices),
            "form": CnLookupForm(),
        },
    )


def dataset_list(request):
    return render(request, "reference/dataset_list.html", {"datasets": list(selectors.dataset_list())})


def cn_lookup(request):
    """Look up a CN/TARIC code: covered goods go to their page; others get a clear answer here."""
    form = CnLookupForm(request.GET or None)
    result = None
    missing = None
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            result = selectors.cn_lookup(code.cn8)
        except selectors.DatasetMissing as exc:
            missing = str(exc)
        else:
            if result.covered:
                return redirect("reference:cn_detail", code=code.cn8)
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "reference/cn_lookup.html",
        {"form": form, "result": result, "missing": missing},
        status=status,
    )


def _covered_good(code: str):
    try:
        parsed = parse_cn(code)
    except CnCodeError as exc:
        raise Http404(str(exc)) from exc
    try:
        lookup = selectors.cn_lookup(parsed.cn8)
    except selectors.DatasetMissing as exc:
        raise Http404(str(exc)) from exc
    if not lookup.covered:
        raise Http404(_("%(code)s is not covered by CBAM (Annex I).") % {"code": parsed.display})
    return parsed, lookup


def cn_detail(request, code: str):
    parsed, lookup = _covered_good(code)
    if code != parsed.cn8:
        return redirect("reference:cn_detail", code=parsed.cn8)
    filter_form = CountryFilterForm(request.GET or None)
    country = filter_form.cleaned_data["country"] if filter_form.is_valid() else ""
    current = selectors.current_datasets_by_kind()
    dv_dataset = current.get(DatasetKind.DEFAULT_VALUES)
    bm_dataset = current.get(DatasetKind.BENCHMARKS)
    pd_dataset = current.get(DatasetKind.PRECURSOR_DEFAULTS)
    by_country = selectors.default_values_by_country(parsed.cn8, dataset=dv_dataset) if dv_dataset else []
    benchmarks = selectors.benchmarks_for(parsed.cn8, dataset=bm_dataset) if bm_dataset else []
    precursor_rows = selectors.precursor_defaults_for(parsed.cn8, dataset=pd_dataset)[1] if pd_dataset else []
    country_choices = [(c.country_code, c.country_name) for c in by_country]
    shown = [c for c in by_country if not country or c.country_code in (country, OTHER_COUNTRIES)]
    csv_url = reverse("reference:cn_default_values_csv", kwargs={"code": parsed.cn8})
    if country:
        csv_url += "?" + urlencode({"country": country})
    return render(
        request,
        "reference/cn_detail.html",
        {
            "code": parsed,
            "good": lookup.good,
            "cn_dataset": lookup.dataset,
            "dv_dataset": dv_dataset,
            "bm_dataset": bm_dataset,
            "by_country": shown,
            "country_choices": country_choices,
            "country": country,
            "filter_form": filter_form,
            "benchmarks": benchmarks,
            "precursor_rows": precursor_rows,
            "pd_dataset": pd_dataset,
            "csv_url": csv_url,
            "other_code": OTHER_COUNTRIES,
        },
    )


def _csv_value(value) -> str:
    return "" if value is None else str(value)


def cn_default_values_csv(request, code: str):
    parsed, lookup = _covered_good(code)
    filter_form = CountryFilterForm(request.GET or None)
    country = filter_form.cleaned_data["country"] if filter_form.is_valid() else ""
    try:
        dataset = selectors.dataset_get(DatasetKind.DEFAULT_VALUES)
        by_country = selectors.default_values_by_country(parsed.cn8, country_code=country or None)
    except selectors.DatasetMissing as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="default-values-{parsed.cn8}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "country_code",
            "country",
            "cn_code_keyed",
            "description",
            "variant",
            "route",
            "direct_tco2e",
            "indirect_tco2e",
            "total_tco2e",
            "total_2026_incl_markup",
            "total_2027_incl_markup",
            "total_2028_onwards_incl_markup",
            "dataset_id",
        ]
    )
    for entry in by_country:
        for row in entry.rows:
            indirect = _csv_value(row.indirect) if row.indirect_applicable else "N/A"
            writer.writerow(
                [
                    row.country_code,
                    row.country_name,
                    format_cn(row.cn_code),
                    row.description,
                    row.variant,
                    row.route,
                    _csv_value(row.direct),
                    indirect,
                    _csv_value(row.total),
                    _csv_value(row.total_2026),
                    _csv_value(row.total_2027),
                    _csv_value(row.total_2028_onwards),
                    dataset.pk,
                ]
            )
    return response


def country_list(request):
    countries = list(selectors.country_list())
    return render(
        request,
        "reference/country_list.html",
        {"countries": countries, "territories": ANNEX_III_TERRITORIES},
    )
