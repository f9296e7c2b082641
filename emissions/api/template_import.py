"""API: upload a communication template (parsed as a background job) and follow the import."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.core.actor import Actor
from cbam_portal.core.api import JobSerializer
from cbam_portal.core.models import Job

from ..models import Installation
from ..services.template_import import KIND, template_import_enqueue


def django_errors(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as a DRF one, keeping the field paths."""
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class TemplateUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The filled Commission communication template (.xlsx).")
    installation = serializers.PrimaryKeyRelatedField(
        queryset=Installation.objects.none(),
        required=False,
        allow_null=True,
        help_text="Import into this installation; omit to create one from the template's A_InstData.",
    )

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installation"].queryset = Installation.objects.filter(organisation=organisation)


class TemplateImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Template imports of the operator: POST a file (multipart) to start one, then poll it; when
    done, `result` holds the report id, what was read, the computed SEE and every difference."""

    queryset = Job.objects.filter(kind=KIND)
    serializer_class = JobSerializer
    required_kinds = ("operator",)
    parser_classes = [MultiPartParser, FormParser]
    ordering = ["-created_at", "-pk"]

    def base_queryset(self):
        return Job.objects.filter(kind=KIND).select_related("created_by").order_by("-created_at", "-pk")

    @extend_schema(request={"multipart/form-data": TemplateUploadSerializer}, responses={202: JobSerializer})
    def create(self, request, *args, **kwargs):
        upload = TemplateUploadSerializer(data=request.data, organisation=self.access.organisation)
        upload.is_valid(raise_exception=True)
        try:
            job = template_import_enqueue(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                uploaded_file=upload.validated_data["file"],
                installation=upload.validated_data.get("installation"),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from None
        job.refresh_from_db()
        return Response(
            JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


router = SimpleRouter()
router.register("template-imports", TemplateImportViewSet, basename="template-import")

urlpatterns = router.urls
