"""API: installations of the active operator organisation (list, read, register, change)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api import service_errors
from cbam_portal.accounts.api_base import TenantScopedViewSet
from cbam_portal.core.actor import Actor

from ..models import Installation
from ..services import installations as services
from ..services.installations import INSTALLATION_FIELDS


class InstallationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Installation
        fields = ["id", *INSTALLATION_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class InstallationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    """Installations (Reg (EU) 2023/956 Art 10(2)). Changes are kept in the audit trail with the
    values before and after."""

    queryset = Installation.objects.all()
    serializer_class = InstallationSerializer
    required_kinds = ("operator",)
    filterset_fields = ["country"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            installation = services.installation_create(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                **serializer.validated_data,
            )
        return Response(self.get_serializer(installation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InstallationSerializer, responses=InstallationSerializer)
    def update(self, request, *args, **kwargs):
        installation = self.get_object()
        serializer = self.get_serializer(
            installation, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        with service_errors():
            installation = services.installation_update(
                actor=Actor.from_request(request), installation=installation, **serializer.validated_data
            )
        return Response(self.get_serializer(installation).data)


router = SimpleRouter()
router.register("installations", InstallationViewSet, basename="installation")

urlpatterns = router.urls
