"""API: exporting an annual declaration — the formats of the registry, and starting an export job."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.api import JobSerializer

from ..exports import exporters
from ..exports.services import declaration_export_enqueue
from ..models import Declaration

KINDS = ("declarant",)


class ExportFormatSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    media_type = serializers.CharField()
    extension = serializers.CharField()
    description = serializers.CharField()


class ExportRequestSerializer(serializers.Serializer):
    format = serializers.CharField(
        max_length=20, help_text="A key of the format list, e.g. pdf, csv, xlsx, json."
    )


def _formats() -> list[dict]:
    return [
        {
            "key": e.key,
            "label": str(e.label),
            "media_type": e.media_type,
            "extension": e.extension,
            "description": str(e.description),
        }
        for e in exporters()
    ]


class DeclarationExportViewSet(TenantScopedViewSet):
    """Exports of one declaration. Reading the declaration is enough to export it; the file is
    made by a background job and downloaded through the job's authenticated download link."""

    queryset = Declaration.objects.all()
    required_kinds = KINDS
    action_capabilities = {"formats": Capability.VIEW, "start": Capability.VIEW}

    def base_queryset(self):
        return Declaration.objects.select_related("organisation")

    @extend_schema(
        operation_id="declarations_exports_formats",
        responses={200: ExportFormatSerializer(many=True)},
    )
    def formats(self, request, pk=None):
        """The export formats (the same list for every declaration)."""
        self.get_object()  # 404 for a declaration of another organisation
        return Response(_formats())

    @extend_schema(
        operation_id="declarations_exports_start",
        request=ExportRequestSerializer,
        responses={
            202: inline_serializer(
                "DeclarationExportJob", {"job": JobSerializer(), "job_url": serializers.URLField()}
            )
        },
    )
    def start(self, request, pk=None):
        """Start exporting the declaration; poll the returned job, then fetch its result file."""
        declaration = self.get_object()
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = declaration_export_enqueue(
                actor=Actor.from_request(request),
                declaration=declaration,
                format_key=data.validated_data["format"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"format": exc.messages}
            ) from exc
        job.refresh_from_db()
        return Response(
            {
                "job": JobSerializer(job, context={"request": request}).data,
                "job_url": request.build_absolute_uri(reverse("api:job-detail", kwargs={"pk": job.pk})),
            },
            status=status.HTTP_202_ACCEPTED,
        )


urlpatterns = [
    path(
        "declarations/<int:pk>/exports/",
        DeclarationExportViewSet.as_view({"get": "formats", "post": "start"}),
        name="declaration-exports",
    ),
]
