"""API: historic transitional quarterly reports (QReport XML): upload (multipart → background
job), the uploads and their problems, the imported reports and the emissions they reported."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import include, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.core.actor import Actor
from cbam_portal.core.api import JobSerializer

from ..models import HistoricEmission, HistoricReport, HistoricReportUpload
from ..services.qreports import MAX_FILES, historic_report_uploads_create, max_upload_bytes

KINDS = ("declarant",)
MULTIPART_SLACK_BYTES = 64 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class HistoricReportSerializer(serializers.ModelSerializer):
    period = serializers.CharField(read_only=True)
    superseded_by = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The corrected report (same ReportId) that replaced this one.",
    )

    class Meta:
        model = HistoricReport
        fields = [
            "id",
            "period",
            "year",
            "quarter",
            "report_id",
            "draft_report_id",
            "submission_date",
            "file_name",
            "sha256",
            "declarant_eori",
            "declarant_name",
            "importer_eori",
            "importer_name",
            "goods_count",
            "emissions_count",
            "imported_net_mass_total",
            "embedded_emissions_total",
            "header_total_imported",
            "header_total_emissions",
            "schema_validated",
            "uploaded_at",
            "superseded_by",
            "superseded_at",
        ]
        read_only_fields = fields


class HistoricEmissionSerializer(serializers.ModelSerializer):
    report = serializers.PrimaryKeyRelatedField(read_only=True)
    supplier = serializers.PrimaryKeyRelatedField(read_only=True)
    installation = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = HistoricEmission
        fields = [
            "id",
            "report",
            "item_number",
            "sequence_number",
            "cn_code",
            "description",
            "origin_country",
            "production_country",
            "imported_net_mass",
            "imported_unit",
            "produced_net_mass",
            "produced_unit",
            "supplier",
            "operator_id",
            "operator_name",
            "installation",
            "installation_code",
            "installation_name",
            "unlocode",
            "latitude",
            "longitude",
            "see_direct",
            "see_indirect",
            "see_unit",
            "direct_determination_type",
            "indirect_determination_type",
            "installation_emissions_total",
            "qualifying_params",
            "carbon_price_due",
            "path",
        ]
        read_only_fields = fields


class ProblemSerializer(serializers.Serializer):
    path = serializers.CharField(
        help_text="Location of the element, e.g. /QReport/ImportedGood[1]/CommodityCode."
    )
    line = serializers.IntegerField(allow_null=True)
    column = serializers.IntegerField(allow_null=True, required=False)
    message = serializers.CharField()


class HistoricReportUploadSerializer(serializers.ModelSerializer):
    problems = ProblemSerializer(many=True, read_only=True)
    report = serializers.PrimaryKeyRelatedField(read_only=True)
    job = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = HistoricReportUpload
        fields = [
            "id",
            "file_name",
            "sha256",
            "size_bytes",
            "status",
            "problem_count",
            "problems",
            "schema_validated",
            "report",
            "job",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class HistoricReportUploadInputSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=MAX_FILES,
        help_text="One or several QReport XML files (repeat the `files` part).",
    )


class HistoricReportBatchSerializer(serializers.Serializer):
    job = JobSerializer(
        allow_null=True, help_text="The import job (null when every file was already imported)."
    )
    uploads = HistoricReportUploadSerializer(many=True)


INCLUDE_SUPERSEDED = OpenApiParameter(
    "include_superseded",
    bool,
    description="Also list what corrected reports (same ReportId) replaced; by default only current reports count.",
)


def _include_superseded(request) -> bool:
    return str(request.query_params.get("include_superseded", "")).lower() in ("1", "true", "yes")


@extend_schema_view(list=extend_schema(parameters=[INCLUDE_SUPERSEDED]))
class HistoricReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Transitional quarterly reports the organisation imported, with their totals as reported."""

    queryset = HistoricReport.objects.all()
    serializer_class = HistoricReportSerializer
    required_kinds = KINDS
    filterset_fields = ["year", "quarter"]
    ordering = ["-year", "-quarter", "-pk"]

    def base_queryset(self):
        qs = HistoricReport.objects.order_by("-year", "-quarter", "-pk")
        if self.action == "list" and not _include_superseded(self.request):
            qs = qs.filter(superseded_by__isnull=True)
        return qs


@extend_schema_view(list=extend_schema(parameters=[INCLUDE_SUPERSEDED]))
class HistoricEmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Emissions reported per imported good and installation in the organisation's transitional
    reports (values and unit codes as reported)."""

    queryset = HistoricEmission.objects.all()
    serializer_class = HistoricEmissionSerializer
    required_kinds = KINDS
    filterset_fields = ["report", "supplier", "installation", "cn_code", "origin_country"]
    ordering = ["report", "item_number", "sequence_number", "pk"]

    def base_queryset(self):
        qs = HistoricEmission.objects.order_by("report", "item_number", "sequence_number", "pk")
        if (
            self.action == "list"
            and not self.request.query_params.get("report")
            and not _include_superseded(self.request)
        ):
            qs = qs.filter(report__superseded_by__isnull=True)
        return qs


class HistoricReportUploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Uploads of quarterly report files: POST files (multipart) to start an import job (202), then
    poll the uploads or the job. Each file is imported whole or rejected with its problems; a file
    already imported is recognised (status `duplicate`) and changes nothing."""

    queryset = HistoricReportUpload.objects.all()
    serializer_class = HistoricReportUploadSerializer
    required_kinds = KINDS
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["status"]
    ordering = ["-created_at", "-pk"]

    def base_queryset(self):
        return HistoricReportUpload.objects.order_by("-created_at", "-pk")

    def initial(self, request, *args, **kwargs):
        # Refuse an oversize body from its Content-Length, before anything reads it.
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > max_upload_bytes() * MAX_FILES + MULTIPART_SLACK_BYTES:
                raise PayloadTooLarge(
                    _("The upload is %(size)s; the limit is %(limit)s per file.")
                    % {"size": filesizeformat(length), "limit": filesizeformat(max_upload_bytes())}
                )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": HistoricReportUploadInputSerializer},
        responses={202: HistoricReportBatchSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = HistoricReportUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            uploads, job = historic_report_uploads_create(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                uploaded_files=data.validated_data["files"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"files": exc.messages}
            ) from None
        uploads = list(self.get_queryset().filter(pk__in=[u.pk for u in uploads]).order_by("pk"))
        if job is not None:
            job.refresh_from_db()
        body = HistoricReportBatchSerializer(
            {"job": job, "uploads": uploads}, context={"request": request}
        ).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("historic-reports", HistoricReportViewSet, basename="historic-report")
router.register("historic-emissions", HistoricEmissionViewSet, basename="historic-emission")
router.register("historic-report-uploads", HistoricReportUploadViewSet, basename="historic-report-upload")

urlpatterns = [path("", include(router.urls))]
