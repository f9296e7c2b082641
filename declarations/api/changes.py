"""API: what each recalculation of a declaration changed."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cbam_portal.accounts.api_base import TenantScopedViewSet

from ..models import DeclarationChange
from ..selectors import declarations as selectors

KINDS = ("declarant",)


class DeclarationChangeSerializer(serializers.ModelSerializer):
    trigger = serializers.CharField(read_only=True)
    actor = serializers.SerializerMethodField()
    causes = serializers.ListField(child=serializers.CharField(), read_only=True)
    differences = serializers.JSONField(read_only=True)

    class Meta:
        model = DeclarationChange
        fields = [
            "id", "declaration", "trigger", "job", "actor", "at", "last_at", "repeats", "changed", "causes",
            "groups_changed", "groups_added", "groups_removed", "certificates_before", "certificates_after",
            "cost_eur_before", "cost_eur_after", "differences",
        ]  # fmt: skip
        read_only_fields = fields

    def get_actor(self, obj) -> str | None:
        return obj.actor.email if obj.actor_id else None


class DeclarationChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Recalculations of one declaration, newest first, each with the numbers that moved (per
    group key: before, after, delta), groups added and removed, and totals before and after."""

    queryset = DeclarationChange.objects.all()
    serializer_class = DeclarationChangeSerializer
    required_kinds = KINDS
    organisation_field = "declaration__organisation"

    def base_queryset(self):
        # The declaration must be the organisation's (404 otherwise); the seal filters again.
        declaration = selectors.declaration_get(self.access, self.kwargs["declaration_pk"])
        return (
            DeclarationChange.objects.filter(declaration=declaration)
            .select_related("actor")
            .order_by("-at", "-pk")
        )

    @extend_schema(responses={200: DeclarationChangeSerializer})
    @action(detail=False, methods=["get"])
    def latest(self, request, declaration_pk=None):
        change = self.get_queryset().first()
        if change is None:
            raise NotFound("No recalculation recorded yet.")
        return Response(DeclarationChangeSerializer(change).data)


router = SimpleRouter()
router.register(
    r"declarations/(?P<declaration_pk>\d+)/changes", DeclarationChangeViewSet, basename="declaration-change"
)

urlpatterns = [path("", include(router.urls))]
