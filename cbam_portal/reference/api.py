"""Read-only API of the reference data. Reference data is public law, not tenant-owned, so these are
plain DRF viewsets; the project defaults still require authentication (API key or session).

Every table endpoint reads the current dataset of its kind unless `?dataset=<id>` pins one.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors
from .codes import CnCodeError, format_cn, parse_cn, prefixes
from .models import (
    Benchmark,
    BenchmarkColumn,
    CbamFactor,
    CertificatePrice,
    CnGood,
    Country,
    Cscf,
    Dataset,
    DatasetKind,
    DefaultValue,
    Sector,
)

# ---------------------------------------------------------------- serializers


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id",
            "kind",
            "legal_act",
            "version",
            "source",
            "sha256",
            "loaded_at",
            "is_current",
            "provisional",
            "notes",
            "row_count",
        ]


class CnGoodSerializer(serializers.ModelSerializer):
    cn8_display = serializers.CharField(read_only=True)

    class Meta:
        model = CnGood
        fields = [
            "dataset",
            "cn8",
            "cn8_display",
            "description",
            "sector",
            "aggregated_category",
            "annex_ii_direct_only",
            "functional_unit",
            "ghg",
        ]


class DefaultValueSerializer(serializers.ModelSerializer):
    cn_code_display = serializers.SerializerMethodField()

    class Meta:
        model = DefaultValue
        fields = [
            "id",
            "dataset",
            "country_code",
            "country_name",
            "cn_code",
            "cn_code_display",
            "description",
            "sector",
            "variant",
            "route",
            "direct",
            "indirect",
            "indirect_applicable",
            "total",
            "total_2026",
            "total_2027",
            "total_2028_onwards",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_cn_code_display(self, obj) -> str:
        return format_cn(obj.cn_code)


class BenchmarkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Benchmark
        fields = [
            "id",
            "dataset",
            "cn_code",
            "description",
            "sector",
            "column",
            "route",
            "production_years",
            "value",
        ]


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = [
            "iso2",
            "name",
            "official_name",
            "is_eu",
            "cbam_excluded",
            "exclusion_note",
            "default_values_name",
        ]


class CbamFactorSerializer(serializers.ModelSerializer):
    class Meta:
        model = CbamFactor
        fields = ["dataset", "year", "factor"]


class CscfSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cscf
        fields = ["dataset", "year", "value"]


class CertificatePriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = CertificatePrice
        fields = [
            "dataset",
            "period_start",
            "period_end",
            "price_eur",
            "source",
            "provisional",
            "published_on",
        ]


# ---------------------------------------------------------------- filters


def _cn8_or_error(value: str, field: str = "cn") -> str:
    try:
        return parse_cn(value).cn8
    except CnCodeError as exc:
        raise exceptions.ValidationError({field: [str(exc)]}) from exc


class DatasetScopedFilterSet(django_filters.FilterSet):
    """Rows of the current dataset of `dataset_kind`, or of the dataset named by `?dataset=`."""

    dataset_kind: str = ""
    dataset = django_filters.NumberFilter(
        method="filter_dataset", label="Dataset id (default: the current dataset of this kind)"
    )

    def filter_queryset(self, queryset):
        if self.form.cleaned_data.get("dataset") is None:
            try:
                current = selectors.dataset_get(self.dataset_kind)
            except selectors.DatasetMissing as exc:
                raise exceptions.NotFound(str(exc)) from exc
            queryset = queryset.filter(dataset=current)
        return super().filter_queryset(queryset)

    def filter_dataset(self, queryset, name, value):
        try:
            dataset = selectors.dataset_get(self.dataset_kind, int(value))
        except selectors.DatasetMissing as exc:
            raise exceptions.NotFound(str(exc)) from exc
        return queryset.filter(dataset=dataset)


class CnGoodFilter(DatasetScopedFilterSet):
    dataset_kind = DatasetKind.CN_GOODS
    sector = django_filters.ChoiceFilter(choices=Sector.choices)
    annex_ii_direct_only = django_filters.BooleanFilter()
    code = django_filters.CharFilter(method="filter_code", label="8-digit CN or 10-digit TARIC code")

    class Meta:
        model = CnGood
        fields = ["dataset", "sector", "annex_ii_direct_only", "code"]

    def filter_code(self, queryset, name, value):
        return queryset.filter(cn8=_cn8_or_error(value, "code"))


class DefaultValueFilter(DatasetScopedFilterSet):
    dataset_kind = DatasetKind.DEFAULT_VALUES
    cn = django_filters.CharFilter(
        method="filter_cn",
        label="8-digit CN or 10-digit TARIC code: rows keyed at any of its 4/6/8-digit prefixes",
    )
    country = django_filters.CharFilter(
        field_name="country_code", lookup_expr="iexact", label="ISO alpha-2 (ZZ = other)"
    )

    class Meta:
        model = DefaultValue
        fields = ["dataset", "cn", "country"]

    def filter_cn(self, queryset, name, value):
        return queryset.filter(cn_code__in=prefixes(_cn8_or_error(value)))


class BenchmarkFilter(DatasetScopedFilterSet):
    dataset_kind = DatasetKind.BENCHMARKS
    cn = django_filters.CharFilter(method="filter_cn", label="8-digit CN or 10-digit TARIC code")
    column = django_filters.ChoiceFilter(choices=BenchmarkColumn.choices)
    route = django_filters.CharFilter(field_name="route", lookup_expr="iexact")

    class Meta:
        model = Benchmark
        fields = ["dataset", "cn", "column", "route"]

    def filter_cn(self, queryset, name, value):
        return queryset.filter(cn_code=_cn8_or_error(value))


class CbamFactorFilter(DatasetScopedFilterSet):
    dataset_kind = DatasetKind.CBAM_FACTOR

    class Meta:
        model = CbamFactor
        fields = ["dataset", "year"]


class CscfFilter(DatasetScopedFilterSet):
    dataset_kind = DatasetKind.CSCF

    class Meta:
        model = Cscf
        fields = ["dataset", "year"]


class CertificatePriceFilter(DatasetScopedFilterSet):
    dataset_kind = DatasetKind.CERTIFICATE_PRICES

    class Meta:
        model = CertificatePrice
        fields = ["dataset"]


class CountryFilter(django_filters.FilterSet):
    class Meta:
        model = Country
        fields = ["is_eu", "cbam_excluded"]


class DatasetFilter(django_filters.FilterSet):
    class Meta:
        model = Dataset
        fields = ["kind", "is_current"]


# ---------------------------------------------------------------- views


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    """Loaded reference datasets (all versions; `is_current` marks the one in force per kind)."""

    queryset = Dataset.objects.all()
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    ordering_fields = ["loaded_at", "kind", "id"]


class CnGoodViewSet(viewsets.ReadOnlyModelViewSet):
    """Annex I CN codes. Retrieve by 8-digit CN or 10-digit TARIC code: 404 means not covered by CBAM."""

    queryset = CnGood.objects.all()
    serializer_class = CnGoodSerializer
    filterset_class = CnGoodFilter
    lookup_field = "cn8"
    lookup_value_regex = r"[0-9]{8}(?:[0-9]{2})?"
    ordering_fields = ["cn8"]

    def get_object(self):
        cn8 = _cn8_or_error(self.kwargs["cn8"], "code")
        try:
            dataset = selectors.dataset_get(DatasetKind.CN_GOODS, self._dataset_param())
        except selectors.DatasetMissing as exc:
            raise exceptions.NotFound(str(exc)) from exc
        good = CnGood.objects.filter(dataset=dataset, cn8=cn8).first()
        if good is None:
            raise exceptions.NotFound(
                _("%(code)s is not covered by CBAM (Annex I).") % {"code": format_cn(cn8)}
            )
        return good

    def _dataset_param(self) -> int | None:
        raw = self.request.query_params.get("dataset")
        if raw in (None, ""):
            return None
        if not raw.isdigit():
            raise exceptions.ValidationError({"dataset": [_("Enter a dataset id.")]})
        return int(raw)

    @extend_schema(parameters=[OpenApiParameter("dataset", OpenApiTypes.INT, description="Dataset id")])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


class DefaultValueViewSet(viewsets.ReadOnlyModelViewSet):
    """Default values of IR 2025/2621 Annex I, rows as keyed (4/6/8 digits). Use `lookup` to apply the
    longest-prefix match and the "Other countries and territories" fallback."""

    queryset = DefaultValue.objects.all()
    serializer_class = DefaultValueSerializer
    filterset_class = DefaultValueFilter
    ordering_fields = ["country_code", "cn_code"]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "cn", OpenApiTypes.STR, required=True, description="8-digit CN or 10-digit TARIC code"
            ),
            OpenApiParameter(
                "country", OpenApiTypes.STR, required=True, description="ISO alpha-2 country of origin"
            ),
            OpenApiParameter("variant", OpenApiTypes.STR, description="e.g. 'Grey clinker'"),
            OpenApiParameter("dataset", OpenApiTypes.INT, description="Dataset id (default: current)"),
        ],
        responses=inline_serializer(
            "DefaultValueLookup",
            {
                "cn8": serializers.CharField(),
                "requested_country": serializers.CharField(),
                "country_used": serializers.CharField(),
                "used_fallback": serializers.BooleanField(),
                "matched_code": serializers.CharField(allow_null=True),
                "reason": serializers.CharField(),
                "dataset": serializers.IntegerField(),
                "rows": DefaultValueSerializer(many=True),
            },
        ),
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def lookup(self, request):
        """Default values for a CN code and country of origin, with the rule that found them."""
        params = request.query_params
        errors = {}
        if not params.get("cn"):
            errors["cn"] = [_("This parameter is required.")]
        country = (params.get("country") or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            errors["country"] = [_("Enter a two-letter country code.")]
        if errors:
            raise exceptions.ValidationError(errors)
        cn8 = _cn8_or_error(params["cn"])
        dataset_id = params.get("dataset")
        if dataset_id not in (None, "") and not dataset_id.isdigit():
            raise exceptions.ValidationError({"dataset": [_("Enter a dataset id.")]})
        try:
            match = selectors.default_values_for(
                cn8,
                country,
                dataset_id=int(dataset_id) if dataset_id else None,
                variant=params.get("variant"),
            )
        except selectors.DatasetMissing as exc:
            raise exceptions.NotFound(str(exc)) from exc
        return Response(
            {
                "cn8": match.cn8,
                "requested_country": match.requested_country,
                "country_used": match.country_used,
                "used_fallback": match.used_fallback,
                "matched_code": match.matched_code,
                "reason": match.reason,
                "dataset": match.dataset.pk,
                "rows": DefaultValueSerializer(match.rows, many=True).data,
            }
        )


class BenchmarkViewSet(viewsets.ReadOnlyModelViewSet):
    """CBAM benchmarks of IR 2025/2620 (Column A: actual data; Column B: default values)."""

    queryset = Benchmark.objects.all()
    serializer_class = BenchmarkSerializer
    filterset_class = BenchmarkFilter
    ordering_fields = ["cn_code", "column", "route"]


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    """Countries and territories with EU membership and Annex III (outside CBAM) flags."""

    queryset = Country.objects.all()
    serializer_class = CountrySerializer
    filterset_class = CountryFilter
    lookup_field = "iso2"
    lookup_value_regex = r"[A-Za-z]{2}"
    ordering_fields = ["iso2", "name"]

    def get_object(self):
        self.kwargs["iso2"] = self.kwargs["iso2"].upper()
        return super().get_object()


class CbamFactorViewSet(viewsets.ReadOnlyModelViewSet):
    """CBAM factor per year (Directive 2003/87/EC Art 10a(1a))."""

    queryset = CbamFactor.objects.all()
    serializer_class = CbamFactorSerializer
    filterset_class = CbamFactorFilter
    pagination_class = None


class CscfViewSet(viewsets.ReadOnlyModelViewSet):
    """Cross-sectoral correction factor per year."""

    queryset = Cscf.objects.all()
    serializer_class = CscfSerializer
    filterset_class = CscfFilter
    pagination_class = None


class CertificatePriceViewSet(viewsets.ReadOnlyModelViewSet):
    """Published CBAM certificate prices."""

    queryset = CertificatePrice.objects.all()
    serializer_class = CertificatePriceSerializer
    filterset_class = CertificatePriceFilter
    pagination_class = None
