"""API: suppliers (with installation mappings and evidence log) and data requests to them."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from emissions.models import OPEN_REQUEST_STATUSES, DataRequest, DataRequestEvent, Installation

from ..models import Supplier, SupplierInstallationMapping
from ..selectors import suppliers as selectors
from ..services import requests as request_services
from ..services import suppliers as services

KINDS = ("declarant",)


def django_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class SupplierSerializer(serializers.ModelSerializer):
    operator_org = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.OPERATOR), required=False, allow_null=True
    )
    line_count = serializers.IntegerField(read_only=True, default=0)
    open_request_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "country",
            "email",
            "operator_org",
            "line_count",
            "open_request_count",
            "created_at",
        ]
        read_only_fields = ["id", "line_count", "open_request_count", "created_at"]
        validators: list = []  # uniqueness is checked by the service, with a message naming the field


class SupplierMappingSerializer(serializers.ModelSerializer):
    installation = serializers.PrimaryKeyRelatedField(queryset=Installation.objects.none())
    cn_code = serializers.CharField(max_length=8, required=False, allow_blank=True, default="")

    class Meta:
        model = SupplierInstallationMapping
        fields = ["id", "installation", "cn_code", "created_at"]
        read_only_fields = ["id", "created_at"]

    def __init__(self, *args, installations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if installations is not None:
            self.fields["installation"].queryset = installations
            self.fields["installation"].error_messages["does_not_exist"] = (
                "Installation {pk_value} is not shared with you."
            )


class EvidenceEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataRequestEvent
        fields = ["id", "request", "kind", "at", "actor_label", "note"]
        read_only_fields = fields


class SupplierDataRequestSerializer(serializers.ModelSerializer):
    supplier = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = DataRequest
        fields = [
            "id",
            "supplier",
            "supplier_name",
            "supplier_email",
            "operator",
            "cn_codes",
            "year",
            "period_start",
            "period_end",
            "due_date",
            "message",
            "status",
            "overdue",
            "installation",
            "created_at",
            "answered_at",
            "claimed_at",
            "cancelled_at",
            "cancel_reason",
            "reminder_interval_days",
            "max_reminders",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_supplier(self, obj) -> int | None:
        link = getattr(obj, "supplier_link", None)
        return link.supplier_id if link is not None else None

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, obj) -> bool:
        return request_services.is_overdue(obj, today=self.context.get("today"))


class SupplierDataRequestInputSerializer(serializers.Serializer):
    suppliers = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.none(), many=True)
    cn_codes = serializers.ListField(child=serializers.CharField(max_length=20), allow_empty=False)
    year = serializers.IntegerField()
    due_date = serializers.DateField()
    message = serializers.CharField(required=False, allow_blank=True, default="")
    reminder_interval_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=365,
        help_text="Days between reminders (0: none); default: the organisation's schedule.",
    )
    max_reminders = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=52,
        help_text="At most this many reminders; default: the organisation's schedule.",
    )

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suppliers"].child_relation.queryset = Supplier.objects.filter(organisation=organisation)


class SupplierDataRequestCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    notify_supplier = serializers.BooleanField(required=False, default=False)


class SupplierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    """The organisation's suppliers; mappings to shared installations; the evidence log."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    required_kinds = KINDS

    def base_queryset(self):
        lines = Supplier.objects.filter(pk=OuterRef("pk")).annotate(n=Count("import_lines")).values("n")
        return (
            Supplier.objects.select_related("operator_org")
            .annotate(
                line_count=Subquery(lines),
                open_request_count=Count(
                    "data_request_links",
                    filter=Q(data_request_links__data_request__status__in=OPEN_REQUEST_STATUSES),
                    distinct=True,
                ),
            )
            .order_by("name", "pk")
        )

    def _write(self, serializer, supplier=None):
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if supplier is not None:
            for field in ("name", "country", "email", "operator_org"):
                data.setdefault(field, getattr(supplier, field))
        try:
            if supplier is None:
                obj = services.supplier_create(
                    actor=Actor.from_request(self.request), organisation=self.access.organisation, **data
                )
            else:
                obj = services.supplier_update(
                    actor=Actor.from_request(self.request), supplier=supplier, **data
                )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return self.get_queryset().get(pk=obj.pk)

    def create(self, request, *args, **kwargs):
        obj = self._write(self.get_serializer(data=request.data))
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        supplier = self.get_object()
        serializer = self.get_serializer(supplier, data=request.data, partial=kwargs.get("partial", False))
        obj = self._write(serializer, supplier)
        return Response(self.get_serializer(obj).data)

    @extend_schema(
        request=SupplierMappingSerializer,
        responses={200: SupplierMappingSerializer(many=True), 201: SupplierMappingSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def mappings(self, request, pk=None):
        supplier = self.get_object()
        if request.method == "GET":
            return Response(
                SupplierMappingSerializer(selectors.mapping_list_for(self.access, supplier), many=True).data
            )
        serializer = SupplierMappingSerializer(
            data=request.data, installations=selectors.mappable_installations_for(self.access, supplier)
        )
        serializer.is_valid(raise_exception=True)
        try:
            mapping = services.supplier_mapping_create(
                actor=Actor.from_request(request), supplier=supplier, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return Response(SupplierMappingSerializer(mapping).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={200: {"type": "object", "properties": {"lines_linked": {"type": "integer"}}}}
    )
    @action(detail=True, methods=["post"], url_path="apply-mappings")
    def apply_mappings(self, request, pk=None):
        supplier = self.get_object()
        changed = services.supplier_mapping_apply(actor=Actor.from_request(request), supplier=supplier)
        return Response({"lines_linked": changed})

    @extend_schema(responses={200: EvidenceEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        supplier = self.get_object()
        return Response(
            EvidenceEventSerializer(selectors.evidence_log_for(self.access, supplier), many=True).data
        )


class SupplierDataRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Requests the organisation sent to its suppliers. POST sends one request per supplier."""

    queryset = DataRequest.objects.all()
    serializer_class = SupplierDataRequestSerializer
    required_kinds = KINDS
    organisation_field = "declarant"
    filterset_fields = ["status", "year"]
    action_capabilities = {"cancel": Capability.EDIT}

    def base_queryset(self):
        return (
            DataRequest.objects.select_related("supplier_link")
            .annotate(
                last_reminded_at=Subquery(
                    DataRequestEvent.objects.filter(request=OuterRef("pk"), kind="reminded")
                    .order_by("-at")
                    .values("at")[:1]
                )
            )
            .order_by("due_date", "pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(
        request=SupplierDataRequestInputSerializer, responses={201: SupplierDataRequestSerializer(many=True)}
    )
    def create(self, request, *args, **kwargs):
        data = SupplierDataRequestInputSerializer(data=request.data, organisation=self.access.organisation)
        data.is_valid(raise_exception=True)
        try:
            created = request_services.data_request_send(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                **data.validated_data,
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        rows = self.get_queryset().filter(pk__in=[r.pk for r in created])
        return Response(self.get_serializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SupplierDataRequestCancelSerializer, responses=SupplierDataRequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an open request with a reason: reminders stop and the supplier can no longer answer."""
        data_request = self.get_object()
        body = SupplierDataRequestCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            request_services.data_request_cancel(
                actor=Actor.from_request(request), data_request=data_request, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=data_request.pk)).data)


router = SimpleRouter()
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("supplier-requests", SupplierDataRequestViewSet, basename="supplier-request")

urlpatterns = [path("", include(router.urls))]
