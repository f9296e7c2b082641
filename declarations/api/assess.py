"""API: quick assessment of one good, ``POST /api/v1/assess/``.

It reads only public reference data and saves nothing, so anyone may call it (no organisation,
no sign-in); anonymous callers are throttled. Same engine and messages as the page and the
``assess`` command.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, throttling
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..assessment import AssessmentError, AssessmentInput, assess_good, assessment_as_dict

QUANTITY = {"max_digits": 20, "decimal_places": 6}


class AssessSerializer(serializers.Serializer):
    cn = serializers.CharField(
        max_length=20, help_text="8-digit CN code (spaces allowed) or 10-digit TARIC code."
    )
    country = serializers.CharField(max_length=2, help_text="ISO 3166 alpha-2 code of the country of origin.")
    mass = serializers.DecimalField(help_text="Net mass in tonnes.", **QUANTITY)
    year = serializers.IntegerField(max_value=2100)
    quarter = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=4)
    release_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Date of release for free circulation: from 2027 the weekly price of that date "
        "(when loaded); gives the quarter when none is given.",
    )
    price = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=2,
        help_text="Certificate price in EUR; default: the published price of the year and quarter.",
    )
    see_direct = serializers.DecimalField(
        required=False,
        allow_null=True,
        help_text="Actual direct SEE; omit to use default values.",
        **QUANTITY,
    )
    see_indirect = serializers.DecimalField(required=False, allow_null=True, **QUANTITY)
    route = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
    carbon_price_paid = serializers.DecimalField(
        required=False, allow_null=True, help_text="EUR per unit, actual data only (Art 9).", **QUANTITY
    )
    functional_unit_mass = serializers.DecimalField(
        required=False,
        allow_null=True,
        help_text="Tonnes of clinker contained (cement) or kg of nitrogen (nitrogen fertilisers).",
        **QUANTITY,
    )

    def to_input(self) -> AssessmentInput:
        data = dict(self.validated_data)
        day = data.pop("release_date", None)
        return AssessmentInput(**{**data, "route": data.get("route") or "", "price_day": day})


class AssessView(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [throttling.AnonRateThrottle, throttling.UserRateThrottle]

    @extend_schema(
        request=AssessSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="Errors keyed by field name.")},
        summary="Assess the CBAM certificates due for one good",
    )
    def post(self, request):
        serializer = AssessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            assessment = assess_good(serializer.to_input())
        except AssessmentError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response(assessment_as_dict(assessment))


urlpatterns = [
    path("assess/", AssessView.as_view(), name="assess"),
]
