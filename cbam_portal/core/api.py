"""Background jobs over the API: clients poll a job they started, then fetch its result file."""

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action

from cbam_portal.accounts.api_base import TenantScopedReadOnlyViewSet

from .jobs import hidden_kinds_for, job_label
from .models import Job


class JobSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    result_file_url = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "kind_label", "status", "progress", "total", "percent", "message", "error",
            "result", "result_file_url", "result_file_name", "created_by", "created_at", "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_kind_label(self, job: Job) -> str:
        return job_label(job.kind)

    @extend_schema_field(OpenApiTypes.URI)
    def get_result_file_url(self, job: Job) -> str | None:
        """The authenticated download URL (never a public media URL)."""
        if not job.result_file:
            return None
        url = reverse("api:job-download", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class JobViewSet(TenantScopedReadOnlyViewSet):
    """The organisation's background jobs: status, progress and result."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at", "-pk"]

    def base_queryset(self):
        return Job.objects.select_related("created_by").exclude(kind__in=hidden_kinds_for(self.access))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The job's result file."""
        job = self.get_object()
        if not job.result_file:
            raise Http404("This job has no result file.")
        try:
            handle = job.result_file.open("rb")
        except FileNotFoundError:
            raise Http404("The result file is no longer available.") from None
        return FileResponse(handle, as_attachment=True, filename=job.result_file_name or "result")
