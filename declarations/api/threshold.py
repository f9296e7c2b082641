"""API: the 50-tonne de minimis position of the organisation, ``GET /api/v1/threshold/?year=YYYY``.

Same selector and rule as the page ([OMN] Art 1(2) → [R956] Art 2a): per calendar year, the
cumulative net mass counted against the threshold, the status, the date it was crossed and the
breakdown by sector. Read-only.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cbam_portal.accounts.api_base import TenantScopedViewSet

from ..models import ImportLine
from ..selectors.threshold import threshold_years_for

KINDS = ("declarant",)
QUANTITY = {"max_digits": 20, "decimal_places": 6}


class ThresholdQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2026, max_value=2100)


class TraceStepSerializer(serializers.Serializer):
    rule = serializers.CharField()
    description = serializers.CharField()
    inputs = serializers.SerializerMethodField()
    result = serializers.DecimalField(**QUANTITY)

    def get_inputs(self, step) -> dict[str, str]:
        return {key: str(value) for key, value in step.inputs.items()}


class SectorMassSerializer(serializers.Serializer):
    sector = serializers.CharField(help_text="Annex I sector; empty when the CN code is not in the current list.")
    net_mass_t = serializers.DecimalField(**QUANTITY)
    quantity_mwh = serializers.DecimalField(**QUANTITY)
    lines = serializers.IntegerField()
    cn_codes = serializers.ListField(child=serializers.CharField())
    counts_towards_threshold = serializers.SerializerMethodField()

    def get_counts_towards_threshold(self, sector) -> bool:
        return not sector.outside_threshold


class YearThresholdSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    status = serializers.ChoiceField(
        source="state",
        choices=["exempt", "warning", "exceeded"],
        help_text="exempt; warning (exempt, at or above 90 % of the threshold); exceeded (all goods of the year in scope).",
    )
    cumulative_mass_t = serializers.DecimalField(source="status.cumulative_mass_t", **QUANTITY)
    threshold_t = serializers.DecimalField(source="status.threshold_t", **QUANTITY)
    warning_at_t = serializers.DecimalField(**QUANTITY)
    exempt = serializers.BooleanField(source="status.exempt")
    near_threshold = serializers.BooleanField(source="status.near_threshold")
    crossed_on = serializers.DateField(
        allow_null=True, help_text="Release date of the line with which the running total went above the threshold."
    )
    has_electricity_or_hydrogen = serializers.BooleanField(help_text="Those imports are never exempt (Art 2a(4)).")
    lines_counted = serializers.IntegerField()
    lines_excluded = serializers.IntegerField(help_text="Out-of-scope lines, not counted.")
    excluded_mass_t = serializers.DecimalField(**QUANTITY)
    sectors = SectorMassSerializer(many=True)
    trace = TraceStepSerializer(source="status.trace", many=True)


class ThresholdViewSet(TenantScopedViewSet):
    """The active organisation's 50 t position per calendar year, newest first."""

    queryset = ImportLine.objects.none()
    required_kinds = KINDS
    pagination_class = None
    filter_backends: list = []
    serializer_class = YearThresholdSerializer

    @extend_schema(
        parameters=[OpenApiParameter("year", int, description="One calendar year (always returned, even empty).")],
        responses=YearThresholdSerializer(many=True),
        summary="50-tonne de minimis threshold per calendar year",
    )
    def list(self, request):
        query = ThresholdQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        years = threshold_years_for(self.access, year=query.validated_data.get("year"))
        return Response(YearThresholdSerializer(years, many=True).data)


urlpatterns = [
    path("threshold/", ThresholdViewSet.as_view({"get": "list"}), name="threshold"),
]
