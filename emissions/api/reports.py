"""API: emissions reports of the active operator — create, read with rows and results, edit the
rows of a draft, submit, verify, correct, and the computed SEE per good with its trace."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api import service_errors
from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..models import (
    CarbonPriceDue,
    EmissionsReport,
    GoodResult,
    InternalPrecursor,
    ProcessGood,
    ProductionProcess,
    PurchasedPrecursor,
    ReportSource,
)
from ..see import quantise
from ..selectors.installations import installation_get
from ..services import reports as services

# --- serializers ---------------------------------------------------------------------------


class GoodSerializer(serializers.ModelSerializer):
    cn_code = serializers.CharField(max_length=13, help_text="8-digit CN code of an Annex I good.")
    qualifying_parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )

    class Meta:
        model = ProcessGood
        fields = ["id", "cn_code", "product_name", "qualifying_parameters"]
        read_only_fields = ["id"]


class PurchasedPrecursorSerializer(serializers.ModelSerializer):
    cn_code = serializers.CharField(max_length=13, required=False, allow_blank=True)
    fill_defaults = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Fill SEE direct/indirect with the country's default values (with the year's mark-up).",
    )

    class Meta:
        model = PurchasedPrecursor
        fields = ["id", *services.PURCHASED_FIELDS, "fill_defaults"]
        read_only_fields = ["id"]
        extra_kwargs = {"see_direct": {"required": False}, "see_indirect": {"required": False}}


class InternalPrecursorSerializer(serializers.ModelSerializer):
    source_process = serializers.IntegerField(
        source="source_process_id", help_text="Id of a process of the same report."
    )
    source_process_key = serializers.CharField(source="source_process.key", read_only=True)

    class Meta:
        model = InternalPrecursor
        fields = ["id", "source_process", "source_process_key", "quantity"]
        read_only_fields = ["id"]


class ProcessSerializer(serializers.ModelSerializer):
    not_available = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Field name -> reason, for values the supplier cannot give (they count as 0).",
    )
    goods = GoodSerializer(many=True, read_only=True)
    purchased_precursors = PurchasedPrecursorSerializer(many=True, read_only=True)
    internal_precursors = InternalPrecursorSerializer(many=True, read_only=True)

    class Meta:
        model = ProductionProcess
        fields = [
            "id",
            *services.PROCESS_FIELDS,
            "not_available",
            "goods",
            "purchased_precursors",
            "internal_precursors",
        ]
        read_only_fields = ["id"]


class CarbonPriceSerializer(serializers.ModelSerializer):
    cn_codes = serializers.ListField(child=serializers.CharField(max_length=13), required=False)

    class Meta:
        model = CarbonPriceDue
        fields = ["id", *services.CARBON_PRICE_FIELDS]
        read_only_fields = ["id"]


def _see(value) -> str | None:
    return None if value is None else str(quantise(value))


class OperatorGoodResultSerializer(serializers.ModelSerializer):
    """SEE per good to 5 decimals (IR 2025/2547 Annex II A.1(8)), with the trace of the computation."""

    process = serializers.CharField(source="process.key")
    see_direct = serializers.SerializerMethodField()
    see_indirect = serializers.SerializerMethodField()
    see_total = serializers.SerializerMethodField()
    default_share = serializers.SerializerMethodField()
    embedded_electricity_mwh_per_unit = serializers.SerializerMethodField()
    see_obligation = serializers.SerializerMethodField()

    class Meta:
        model = GoodResult
        fields = [
            "process",
            "cn_code",
            "see_direct",
            "see_indirect",
            "see_total",
            "default_share",
            "embedded_electricity_mwh_per_unit",
            "annex_ii",
            "see_obligation",
            "template_see_direct",
            "template_see_indirect",
            "template_see_total",
            "trace",
        ]

    def get_see_direct(self, obj) -> str:
        return _see(obj.see_direct)

    def get_see_indirect(self, obj) -> str:
        return _see(obj.see_indirect)

    def get_see_total(self, obj) -> str:
        return _see(obj.see_total)

    def get_default_share(self, obj) -> str:
        return _see(obj.default_share)

    def get_embedded_electricity_mwh_per_unit(self, obj) -> str:
        return _see(obj.embedded_electricity_mwh_per_unit)

    def get_see_obligation(self, obj) -> str | None:
        return _see(obj.see_obligation)


class ReportSerializer(serializers.ModelSerializer):
    installation_name = serializers.CharField(source="installation.__str__", read_only=True)

    class Meta:
        model = EmissionsReport
        fields = [
            "id",
            "installation",
            "installation_name",
            "year",
            "version",
            "status",
            "source",
            "supersedes",
            "created_at",
            "submitted_at",
            "verified_at",
            "verifier_name",
            "verifier_accreditation_number",
            "verification_date",
            "verification_report_name",
            "computed_at",
            "computation_error",
        ]
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    processes = ProcessSerializer(many=True, read_only=True)
    carbon_prices = CarbonPriceSerializer(many=True, read_only=True)
    results = OperatorGoodResultSerializer(many=True, read_only=True)

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "processes", "carbon_prices", "results"]
        read_only_fields = fields


class ReportCreateSerializer(serializers.Serializer):
    installation = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2023, max_value=2100)


class VerifySerializer(serializers.Serializer):
    verifier_name = serializers.CharField(max_length=200)
    verifier_accreditation_number = serializers.CharField(max_length=60)
    verification_date = serializers.DateField()
    verification_report = serializers.FileField()


# --- views ---------------------------------------------------------------------------------


def _detail_queryset():
    """A report with all its rows and results in a fixed number of queries."""
    return EmissionsReport.objects.select_related("installation").prefetch_related(
        Prefetch(
            "processes",
            ProductionProcess.objects.order_by("key").prefetch_related(
                "goods",
                "purchased_precursors",
                Prefetch("internal_precursors", InternalPrecursor.objects.select_related("source_process")),
            ),
        ),
        "carbon_prices",
        Prefetch("results", GoodResult.objects.select_related("process").order_by("process__key", "cn_code")),
    )


ROW = r"(?P<row_pk>[0-9]+)"


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Emissions reports. Rows of a draft are edited through the nested routes; a submitted or
    verified report is immutable (edits answer 400) and is corrected by `correct` (version n+1)."""

    queryset = EmissionsReport.objects.all()
    serializer_class = ReportSerializer
    required_kinds = ("operator",)
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_fields = ["installation", "year", "status"]
    ordering_fields = ["year", "version", "created_at"]
    ordering = ["installation__name", "-year", "-version"]
    action_capabilities = {"submit": Capability.SUBMIT, "verify": Capability.SUBMIT}

    def base_queryset(self):
        if self.action in ("retrieve", "results"):
            return _detail_queryset()
        return EmissionsReport.objects.select_related("installation")

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer

    def _actor(self):
        return Actor.from_request(self.request)

    def _detail(self, report, code=status.HTTP_200_OK):
        # `report` came through the sealed, tenant-scoped get_object() (or was just created in it).
        report = _detail_queryset().get(pk=report.pk)
        return Response(
            ReportDetailSerializer(report, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            installation = installation_get(self.access, data.validated_data["installation"])
        except Http404:
            raise ValidationError({"installation": ["No such installation in this organisation."]}) from None
        with service_errors():
            report = services.report_create(
                actor=self._actor(),
                installation=installation,
                year=data.validated_data["year"],
                source=ReportSource.API,
            )
        return self._detail(report, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OperatorGoodResultSerializer(many=True))
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """The computed SEE of every good (5 decimals) with its trace."""
        report = self.get_object()
        return Response(OperatorGoodResultSerializer(report.results.all(), many=True).data)

    @extend_schema(request=None, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        report = self.get_object()
        with service_errors():
            services.report_submit(actor=self._actor(), report=report)
        return self._detail(report)

    @extend_schema(request={"multipart/form-data": VerifySerializer}, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        report = self.get_object()
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            services.report_verify(actor=self._actor(), report=report, **data.validated_data)
        return self._detail(report)

    @extend_schema(request=None, responses={201: ReportDetailSerializer})
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        report = self.get_object()
        with service_errors():
            new = services.report_correct(actor=self._actor(), report=report)
        return self._detail(new, status.HTTP_201_CREATED)

    # --- processes ---

    @extend_schema(request=ProcessSerializer, responses={201: ProcessSerializer})
    @action(detail=True, methods=["post"], url_path="processes")
    def process_create(self, request, pk=None):
        report = self.get_object()
        data = ProcessSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            process = services.process_save(actor=self._actor(), report=report, **data.validated_data)
        return Response(ProcessSerializer(process).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ProcessSerializer,
        responses=ProcessSerializer,
        parameters=[OpenApiParameter("row_pk", int, "path")],
    )
    @action(detail=True, methods=["patch", "delete"], url_path=f"processes/{ROW}")
    def process_detail(self, request, pk=None, row_pk=None):
        report = self.get_object()
        process = get_object_or_404(ProductionProcess, report=report, pk=row_pk)
        if request.method == "DELETE":
            with service_errors():
                services.process_delete(actor=self._actor(), process=process)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = ProcessSerializer(process, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_errors():
            process = services.process_save(
                actor=self._actor(), report=report, process=process, **data.validated_data
            )
        return Response(ProcessSerializer(process).data)

    # --- goods ---

    @extend_schema(
        request=GoodSerializer,
        responses={201: GoodSerializer},
        parameters=[OpenApiParameter("row_pk", int, "path")],
    )
    @action(detail=True, methods=["post"], url_path=f"processes/{ROW}/goods")
    def good_create(self, request, pk=None, row_pk=None):
        report = self.get_object()
        process = get_object_or_404(ProductionProcess, report=report, pk=row_pk)
        data = GoodSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            good = services.good_save(actor=self._actor(), process=process, **data.validated_data)
        return Response(GoodSerializer(good).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=GoodSerializer, responses=GoodSerializer, parameters=[OpenApiParameter("row_pk", int, "path")]
    )
    @action(detail=True, methods=["patch", "delete"], url_path=f"goods/{ROW}")
    def good_detail(self, request, pk=None, row_pk=None):
        report = self.get_object()
        good = get_object_or_404(
            ProcessGood.objects.select_related("process"), process__report=report, pk=row_pk
        )
        if request.method == "DELETE":
            with service_errors():
                services.good_delete(actor=self._actor(), good=good)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = GoodSerializer(good, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {
            "cn_code": good.cn_code,
            "product_name": good.product_name,
            "qualifying_parameters": good.qualifying_parameters,
            **data.validated_data,
        }
        with service_errors():
            good = services.good_save(actor=self._actor(), process=good.process, good=good, **fields)
        return Response(GoodSerializer(good).data)

    # --- purchased precursors ---

    @extend_schema(
        request=PurchasedPrecursorSerializer,
        responses={201: PurchasedPrecursorSerializer},
        parameters=[OpenApiParameter("row_pk", int, "path")],
    )
    @action(detail=True, methods=["post"], url_path=f"processes/{ROW}/purchased-precursors")
    def purchased_create(self, request, pk=None, row_pk=None):
        report = self.get_object()
        process = get_object_or_404(ProductionProcess, report=report, pk=row_pk)
        data = PurchasedPrecursorSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            precursor = services.purchased_precursor_save(
                actor=self._actor(), process=process, **data.validated_data
            )
        return Response(PurchasedPrecursorSerializer(precursor).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PurchasedPrecursorSerializer,
        responses=PurchasedPrecursorSerializer,
        parameters=[OpenApiParameter("row_pk", int, "path")],
    )
    @action(detail=True, methods=["patch", "delete"], url_path=f"purchased-precursors/{ROW}")
    def purchased_detail(self, request, pk=None, row_pk=None):
        report = self.get_object()
        precursor = get_object_or_404(
            PurchasedPrecursor.objects.select_related("process"), process__report=report, pk=row_pk
        )
        if request.method == "DELETE":
            with service_errors():
                services.purchased_precursor_delete(actor=self._actor(), precursor=precursor)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = PurchasedPrecursorSerializer(precursor, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_errors():
            precursor = services.purchased_precursor_save(
                actor=self._actor(), process=precursor.process, precursor=precursor, **data.validated_data
            )
        return Response(PurchasedPrecursorSerializer(precursor).data)

    # --- internal precursors ---

    @extend_schema(
        request=InternalPrecursorSerializer,
        responses={201: InternalPrecursorSerializer},
        parameters=[OpenApiParameter("row_pk", int, "path")],
    )
    @action(detail=True, methods=["post"], url_path=f"processes/{ROW}/internal-precursors")
    def internal_create(self, request, pk=None, row_pk=None):
        report = self.get_object()
        process = get_object_or_404(ProductionProcess, report=report, pk=row_pk)
        data = InternalPrecursorSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = ProductionProcess.objects.filter(
            report=report, pk=data.validated_data["source_process_id"]
        ).first()
        if source is None:
            raise ValidationError({"source_process": ["Choose a process of this report."]})
        with service_errors():
            link = services.internal_precursor_save(
                actor=self._actor(),
                process=process,
                source_process=source,
                quantity=data.validated_data["quantity"],
            )
        return Response(InternalPrecursorSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[OpenApiParameter("row_pk", int, "path")])
    @action(detail=True, methods=["delete"], url_path=f"internal-precursors/{ROW}")
    def internal_detail(self, request, pk=None, row_pk=None):
        report = self.get_object()
        link = get_object_or_404(
            InternalPrecursor.objects.select_related("process"), process__report=report, pk=row_pk
        )
        with service_errors():
            services.internal_precursor_delete(actor=self._actor(), precursor=link)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- carbon price due ---

    @extend_schema(request=CarbonPriceSerializer, responses={201: CarbonPriceSerializer})
    @action(detail=True, methods=["post"], url_path="carbon-prices")
    def carbon_price_create(self, request, pk=None):
        report = self.get_object()
        data = CarbonPriceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            price = services.carbon_price_save(actor=self._actor(), report=report, **data.validated_data)
        return Response(CarbonPriceSerializer(price).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CarbonPriceSerializer,
        responses=CarbonPriceSerializer,
        parameters=[OpenApiParameter("row_pk", int, "path")],
    )
    @action(detail=True, methods=["patch", "delete"], url_path=f"carbon-prices/{ROW}")
    def carbon_price_detail(self, request, pk=None, row_pk=None):
        report = self.get_object()
        price = get_object_or_404(CarbonPriceDue, report=report, pk=row_pk)
        if request.method == "DELETE":
            with service_errors():
                services.carbon_price_delete(actor=self._actor(), carbon_price=price)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = CarbonPriceSerializer(price, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with service_errors():
            price = services.carbon_price_save(
                actor=self._actor(), report=report, carbon_price=price, **data.validated_data
            )
        return Response(CarbonPriceSerializer(price).data)


router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")

urlpatterns = router.urls
