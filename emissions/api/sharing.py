"""API: sharing grants and the access log (operators), reports shared with the active
organisation (declarants, read-only), and data requests received (operators)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedReadOnlyViewSet, TenantScopedViewSet
from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..models import (
    DataRequest,
    DataRequestEvent,
    EmissionsReport,
    GoodResult,
    Installation,
    ReportAccess,
    SharingGrant,
)
from ..selectors.sharing import SHARED_STATUSES, declarant_search
from ..services import data_requests as data_request_services
from ..services import sharing as services
from ..services.template_import import report_export_file_name, report_export_xlsx
from .template_import import django_errors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DeclarantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "eori", "country"]
        read_only_fields = fields


class GrantSerializer(serializers.ModelSerializer):
    declarant = DeclarantSerializer(read_only=True)
    declarant_id = serializers.PrimaryKeyRelatedField(
        source="declarant",
        write_only=True,
        queryset=Organisation.objects.filter(kind=OrganisationKind.DECLARANT),
        help_text="Id of the declarant organisation (find it with GET grants/declarants/?q=name-or-EORI).",
    )
    installation = serializers.PrimaryKeyRelatedField(queryset=Installation.objects.none())
    granted_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    revoked_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = SharingGrant
        fields = [
            "id",
            "installation",
            "declarant",
            "declarant_id",
            "granted_by",
            "granted_at",
            "revoked_at",
            "revoked_by",
            "is_active",
        ]
        read_only_fields = ["id", "granted_by", "granted_at", "revoked_at", "revoked_by", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        access = getattr(request, "access", None)
        if access is not None:
            self.fields["installation"].queryset = Installation.objects.filter(
                organisation=access.organisation
            )

    def get_is_active(self, grant: SharingGrant) -> bool:
        return grant.revoked_at is None


class ReportAccessSerializer(serializers.ModelSerializer):
    declarant = serializers.CharField(source="declarant.name", read_only=True)
    user = serializers.SlugRelatedField(slug_field="email", read_only=True)
    installation = serializers.IntegerField(source="report.installation_id", read_only=True)
    year = serializers.IntegerField(source="report.year", read_only=True)
    version = serializers.IntegerField(source="report.version", read_only=True)

    class Meta:
        model = ReportAccess
        fields = ["id", "report", "installation", "year", "version", "declarant", "user", "at", "via"]
        read_only_fields = fields


class GrantViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """Grants of the operator's installations to declarants. POST creates (or reuses the active)
    grant; POST grants/{id}/revoke/ ends it."""

    queryset = SharingGrant.objects.all()
    serializer_class = GrantSerializer
    required_kinds = ("operator",)
    filterset_fields = ["installation", "declarant"]
    ordering = ["revoked_at", "-granted_at"]

    def base_queryset(self):
        return SharingGrant.objects.select_related("declarant", "granted_by", "revoked_by")

    def perform_create(self, serializer):
        try:
            serializer.instance = services.grant_create(
                actor=Actor.from_request(self.request),
                installation=serializer.validated_data["installation"],
                declarant=serializer.validated_data["declarant"],
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None

    @extend_schema(request=None, responses=GrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        grant = self.get_object()
        try:
            grant = services.grant_revoke(actor=Actor.from_request(request), grant=grant)
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return Response(GrantSerializer(grant, context=self.get_serializer_context()).data)

    @extend_schema(responses=DeclarantSerializer(many=True))
    @action(detail=False, methods=["get"])
    def declarants(self, request):
        """Declarant organisations by name (part) or EORI (beginning): `?q=`."""
        return Response(
            DeclarantSerializer(declarant_search(request.query_params.get("q", "")), many=True).data
        )

    @extend_schema(responses=ReportAccessSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="access-log")
    def access_log(self, request):
        """Who of which declarant opened which report (`?installation=` to narrow), newest first."""
        qs = ReportAccess.objects.filter(report__organisation=self.access.organisation)
        installation = request.query_params.get("installation", "")
        if installation.isdigit():
            qs = qs.filter(report__installation_id=int(installation))
        page = self.paginate_queryset(qs.select_related("report", "declarant", "user").order_by("-at"))
        return self.get_paginated_response(ReportAccessSerializer(page, many=True).data)


class GoodResultSerializer(serializers.ModelSerializer):
    process = serializers.CharField(source="process.key", read_only=True)
    process_name = serializers.CharField(source="process.name", read_only=True)

    class Meta:
        model = GoodResult
        fields = [
            "cn_code",
            "process",
            "process_name",
            "see_direct",
            "see_indirect",
            "see_total",
            "default_share",
            "embedded_electricity_mwh_per_unit",
            "trace",
        ]
        read_only_fields = fields


class SharedInstallationSerializer(serializers.ModelSerializer):
    operator = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Installation
        fields = [
            "id",
            "name",
            "name_en",
            "operator",
            "street",
            "postcode",
            "city",
            "country",
            "unlocode",
            "latitude",
            "longitude",
            "economic_activity",
            "registry_id",
        ]
        read_only_fields = fields


class SharedReportSerializer(serializers.ModelSerializer):
    installation = SharedInstallationSerializer(read_only=True)

    class Meta:
        model = EmissionsReport
        fields = [
            "id",
            "installation",
            "year",
            "version",
            "status",
            "submitted_at",
            "verified_at",
            "verifier_name",
            "verifier_accreditation_number",
            "verification_date",
        ]
        read_only_fields = fields


class SharedReportDetailSerializer(SharedReportSerializer):
    results = GoodResultSerializer(many=True, read_only=True)

    class Meta(SharedReportSerializer.Meta):
        fields = [*SharedReportSerializer.Meta.fields, "results"]
        read_only_fields = fields


class SharedReportViewSet(TenantScopedReadOnlyViewSet):
    """Submitted and verified reports shared with the active (declarant) organisation. Reading
    one is logged for the operator."""

    # Scoped by the grants to the active organisation; base_queryset keeps only active grants.
    organisation_field = "installation__grants__declarant"
    queryset = EmissionsReport.objects.all()
    serializer_class = SharedReportSerializer
    required_kinds = ("declarant",)
    ordering = ["installation__name", "-year", "-version"]
    filterset_fields = ["year", "status", "installation"]

    def base_queryset(self):
        active = SharingGrant.objects.filter(
            installation=OuterRef("installation"), declarant=self.access.organisation, revoked_at__isnull=True
        )
        qs = (
            EmissionsReport.objects.filter(status__in=SHARED_STATUSES)
            .filter(Exists(active))
            .select_related("installation", "installation__organisation")
            .distinct()
        )
        if self.action in ("retrieve", "export"):
            qs = qs.prefetch_related(
                Prefetch(
                    "results",
                    GoodResult.objects.select_related("process").order_by("process__key", "cn_code"),
                )
            )
        return qs

    def get_serializer_class(self):
        return SharedReportDetailSerializer if self.action == "retrieve" else SharedReportSerializer

    def retrieve(self, request, *args, **kwargs):
        report = self.get_object()
        services.report_access_record(
            report=report, declarant=self.access.organisation, user=request.user, via="api"
        )
        return Response(self.get_serializer(report).data)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """The report's filled Summary_Communication sheet (.xlsx)."""
        report = self.get_object()
        services.report_access_record(
            report=report, declarant=self.access.organisation, user=request.user, via="api"
        )
        response = HttpResponse(report_export_xlsx(report), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{report_export_file_name(report)}"'
        return response


class DataRequestEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataRequestEvent
        fields = ["kind", "at", "actor_label", "note"]
        read_only_fields = fields


class DataRequestSerializer(serializers.ModelSerializer):
    declarant = DeclarantSerializer(read_only=True)
    events = DataRequestEventSerializer(many=True, read_only=True)

    class Meta:
        model = DataRequest
        fields = [
            "id",
            "declarant",
            "supplier_name",
            "cn_codes",
            "year",
            "period_start",
            "period_end",
            "due_date",
            "message",
            "status",
            "installation",
            "answer_grant",
            "created_at",
            "answered_at",
            "claimed_at",
            "cancelled_at",
            "cancel_reason",
            "events",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    installation = serializers.PrimaryKeyRelatedField(queryset=Installation.objects.none())

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installation"].queryset = Installation.objects.filter(organisation=organisation)


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ClaimSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token at the end of the link in the request e-mail.")


class DataRequestViewSet(TenantScopedReadOnlyViewSet):
    """Data requests addressed to the operator; answer by sharing an installation, or decline."""

    organisation_field = "operator"
    queryset = DataRequest.objects.all()
    serializer_class = DataRequestSerializer
    required_kinds = ("operator",)
    action_capabilities = {"answer": Capability.EDIT, "decline": Capability.EDIT, "claim": Capability.EDIT}
    filterset_fields = ["status", "year"]
    ordering = ["due_date", "pk"]

    def base_queryset(self):
        return DataRequest.objects.select_related("declarant").prefetch_related("events")

    def _done(self, request_obj):
        request_obj = self.base_queryset().get(pk=request_obj.pk)
        return Response(DataRequestSerializer(request_obj, context=self.get_serializer_context()).data)

    @extend_schema(request=AnswerSerializer, responses=DataRequestSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        data_request = self.get_object()
        body = AnswerSerializer(data=request.data, organisation=self.access.organisation)
        body.is_valid(raise_exception=True)
        try:
            data_request = services.data_request_answer(
                actor=Actor.from_request(request),
                request=data_request,
                installation=body.validated_data["installation"],
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return self._done(data_request)

    @extend_schema(request=ClaimSerializer, responses=DataRequestSerializer)
    @action(detail=False, methods=["post"])
    def claim(self, request):
        """Claim a request e-mailed to the organisation before it was on the portal (single use)."""
        body = ClaimSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            data_request = data_request_services.data_request_claim(
                actor=Actor.from_request(request), token=body.validated_data["token"], operator=self.access.organisation
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return self._done(data_request)

    @extend_schema(request=DeclineSerializer, responses=DataRequestSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        data_request = self.get_object()
        body = DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            data_request = services.data_request_decline(
                actor=Actor.from_request(request), request=data_request, reason=body.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return self._done(data_request)


router = SimpleRouter()
router.register("grants", GrantViewSet, basename="grant")
router.register("shared-reports", SharedReportViewSet, basename="shared-report")
router.register("data-requests", DataRequestViewSet, basename="data-request")

urlpatterns = router.urls
