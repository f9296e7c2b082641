"""API: carbon price paid abroad claims of a declaration ([R956] Art 9)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.urls import include, path
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..models import CarbonPriceClaim, CarbonPriceCoverage
from ..selectors import declarations as selectors
from ..services import carbon_prices as services
from .declarations import django_errors

KINDS = ("declarant",)
DECIMAL = {"max_digits": 20, "decimal_places": 8}


class CarbonPriceClaimSerializer(serializers.ModelSerializer):
    coverage = serializers.CharField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    has_evidence = serializers.SerializerMethodField()

    class Meta:
        model = CarbonPriceClaim
        fields = [
            "id", "declaration", "cn_code", "country", "installation", "quarter", "paid_in_country", "instrument",
            "price_per_t_co2e", "currency", "currency_per_eur", "rebate_per_t_co2e", "coverage", "share_covered",
            "covered_t_co2e", "certifier_name", "legal_act_reference", "payment_reference", "evidence_name",
            "has_evidence", "note", "created_by", "created_at", "is_active", "withdrawn_by", "withdrawn_at",
            "withdrawal_reason",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence)


class CarbonPriceClaimCreateSerializer(serializers.Serializer):
    group = serializers.IntegerField(help_text="Id of a group of the declaration whose source is actual.")
    paid_in_country = serializers.CharField(max_length=2)
    instrument = serializers.CharField(max_length=200)
    price_per_t_co2e = serializers.DecimalField(
        **DECIMAL, help_text="Carbon price paid per tCO2e, in currency."
    )
    currency = serializers.CharField(max_length=3, default="EUR")
    currency_per_eur = serializers.DecimalField(
        **DECIMAL,
        required=False,
        allow_null=True,
        help_text="Units of the currency for 1 EUR (yearly average).",
    )
    rebate_per_t_co2e = serializers.DecimalField(**DECIMAL, required=False, default=0)
    coverage = serializers.ChoiceField(choices=CarbonPriceCoverage.values)
    share_covered = serializers.DecimalField(**DECIMAL, required=False, allow_null=True)
    covered_t_co2e = serializers.DecimalField(**DECIMAL, required=False, allow_null=True)
    certifier_name = serializers.CharField(max_length=200)
    legal_act_reference = serializers.CharField(max_length=300)
    payment_reference = serializers.CharField(max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.FileField(
        help_text="PDF or image certified by an independent person, at most 10 MB."
    )


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CarbonPriceClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Carbon price claims of one declaration: record (draft only, actual-data groups only),
    list, withdraw, and download the evidence. Applied by the recalculation; provisional method
    until the implementing act under Art 9(5) is adopted."""

    queryset = CarbonPriceClaim.objects.all()
    serializer_class = CarbonPriceClaimSerializer
    required_kinds = KINDS
    organisation_field = "declaration__organisation"
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    action_capabilities = {"create": Capability.EDIT, "withdraw": Capability.EDIT}

    def _declaration(self):
        return selectors.declaration_get(self.access, self.kwargs["declaration_pk"])

    def base_queryset(self):
        return (
            CarbonPriceClaim.objects.filter(declaration=self._declaration())
            .select_related("installation")
            .order_by("cn_code", "country", "quarter", "pk")
        )

    @extend_schema(
        request={"multipart/form-data": CarbonPriceClaimCreateSerializer},
        responses={201: CarbonPriceClaimSerializer},
    )
    def create(self, request, declaration_pk=None):
        declaration = self._declaration()
        data = CarbonPriceClaimCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        group_id = fields.pop("group")
        evidence = fields.pop("evidence")
        try:
            claim = services.carbon_price_claim_create(
                actor=Actor.from_request(request),
                declaration=declaration,
                group_id=group_id,
                evidence=evidence,
                **fields,
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(CarbonPriceClaimSerializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WithdrawSerializer, responses={200: CarbonPriceClaimSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, declaration_pk=None, pk=None):
        claim = self.get_object()
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            claim = services.carbon_price_claim_withdraw(
                actor=Actor.from_request(request),
                declaration=claim.declaration,
                claim_id=claim.pk,
                reason=data.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(CarbonPriceClaimSerializer(claim).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def evidence(self, request, declaration_pk=None, pk=None):
        claim = self.get_object()
        if not claim.evidence:
            raise Http404("No evidence document is attached.")
        return FileResponse(
            claim.evidence.open("rb"),
            as_attachment=True,
            filename=claim.evidence_name or "carbon-price-evidence",
        )


router = SimpleRouter()
router.register(
    r"declarations/(?P<declaration_pk>\d+)/carbon-price-claims",
    CarbonPriceClaimViewSet,
    basename="carbon-price-claim",
)

urlpatterns = [path("", include(router.urls))]
