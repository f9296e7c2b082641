"""API: import lines (list, read, create one) and bulk uploads (multipart file → background job)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.core.actor import Actor
from cbam_portal.core.api import JobSerializer
from cbam_portal.core.pagination import IdFirstPagination

from ..ingest.fields import FIELD_KEYS
from ..models import ImportLine, ImportUpload, Procedure, Supplier
from ..services.imports import (
    import_line_create,
    import_upload_submit,
    max_upload_bytes,
    upload_too_large_message,
)

KINDS = ("declarant",)
QUANTITY = {"max_digits": 20, "decimal_places": 6, "required": False, "allow_null": True, "min_value": 0}
MULTIPART_SLACK_BYTES = 64 * 1024


def django_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class ImportLineSerializer(serializers.ModelSerializer):
    supplier = serializers.PrimaryKeyRelatedField(read_only=True)
    installation = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ImportLine
        fields = [
            "id", "mrn", "line_no", "released_on", "cn_code", "taric_code", "origin_country", "production_country",
            "net_mass_tonnes", "quantity_mwh", "supplementary_quantity", "functional_unit_quantity", "procedure",
            "supplier", "installation", "in_scope", "out_of_scope_reason", "upload", "created_at",
        ]
        read_only_fields = fields


class ImportLineInputSerializer(serializers.Serializer):
    mrn = serializers.CharField(max_length=18)
    line_no = serializers.IntegerField(min_value=1, max_value=99999)
    released_on = serializers.DateField()
    cn_code = serializers.CharField(max_length=13, help_text="8-digit CN code or 10-digit TARIC code.")
    origin_country = serializers.CharField(max_length=2)
    production_country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    net_mass_tonnes = serializers.DecimalField(**QUANTITY)
    quantity_mwh = serializers.DecimalField(**QUANTITY)
    supplementary_quantity = serializers.DecimalField(**QUANTITY)
    functional_unit_quantity = serializers.DecimalField(**QUANTITY)
    procedure = serializers.ChoiceField(choices=Procedure.choices, default=Procedure.FREE_CIRCULATION)
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.none(), required=False, allow_null=True)

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(organisation=organisation)


class ImportLineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The organisation's import lines. POST one line; bulk data goes through import-uploads."""

    queryset = ImportLine.objects.all()
    serializer_class = ImportLineSerializer
    pagination_class = IdFirstPagination  # an importer may hold millions of lines
    required_kinds = KINDS
    filterset_fields = ["in_scope", "cn_code", "origin_country", "procedure", "upload"]
    ordering_fields = ["released_on", "mrn"]
    ordering = ["-released_on", "mrn", "line_no"]

    def base_queryset(self):
        return ImportLine.objects.order_by("-released_on", "mrn", "line_no")

    @extend_schema(request=ImportLineInputSerializer, responses={201: ImportLineSerializer})
    def create(self, request, *args, **kwargs):
        data = ImportLineInputSerializer(data=request.data, organisation=self.access.organisation)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k != "supplier"}
        values["released_on"] = values["released_on"].isoformat()
        try:
            line = import_line_create(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                values=values,
                supplier=data.validated_data.get("supplier"),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        return Response(ImportLineSerializer(line).data, status=status.HTTP_201_CREATED)


class ImportUploadSerializer(serializers.ModelSerializer):
    job = JobSerializer(read_only=True)

    class Meta:
        model = ImportUpload
        fields = [
            "id", "file_name", "sha256", "size_bytes", "format", "encoding", "delimiter", "columns", "mapping",
            "status", "rows_total", "rows_imported", "rows_out_of_scope", "rows_rejected", "notices", "job",
            "created_at", "finished_at",
        ]
        read_only_fields = fields


class ImportUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV or XLSX customs extract with a header row.")
    mapping = serializers.CharField(
        required=False,
        help_text=(
            "JSON object {field: column}; fields: " + ", ".join(FIELD_KEYS)
            + ". Omit to use the organisation's saved mapping or columns named like the fields."
        ),
    )

    def validate_mapping(self, value: str) -> dict:
        try:
            mapping = json.loads(value)
        except ValueError:
            raise ValidationError("Not valid JSON.") from None
        if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            raise ValidationError("A JSON object of field names to column names.")
        return mapping


class ImportUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Bulk uploads of import lines: POST a file (multipart) to start one, then poll it (or its job).
    All or nothing: a rejected upload's job offers the CSV of rejected rows."""

    queryset = ImportUpload.objects.all()
    serializer_class = ImportUploadSerializer
    required_kinds = KINDS
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering = ["-created_at", "-pk"]

    def base_queryset(self):
        return ImportUpload.objects.select_related("job", "job__created_by")

    def initial(self, request, *args, **kwargs):
        # Refuse an oversize body from its Content-Length, before anything reads it.
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > max_upload_bytes() + MULTIPART_SLACK_BYTES:
                raise PayloadTooLarge(upload_too_large_message(length))
        super().initial(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": ImportUploadInputSerializer}, responses={202: ImportUploadSerializer})
    def create(self, request, *args, **kwargs):
        data = ImportUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            upload = import_upload_submit(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                uploaded_file=data.validated_data["file"],
                mapping=data.validated_data.get("mapping"),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        upload = self.base_queryset().get(pk=upload.pk)
        return Response(ImportUploadSerializer(upload, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


router = SimpleRouter()
router.register("import-lines", ImportLineViewSet, basename="import-line")
router.register("import-uploads", ImportUploadViewSet, basename="import-upload")

urlpatterns = [path("", include(router.urls))]
