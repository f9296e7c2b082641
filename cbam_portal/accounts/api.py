"""API for the active organisation: details, members, invitations, API keys, represented importers.

Serializers validate shape; services apply the rules. A service's ValidationError becomes a 400 with
field paths, like a serializer's.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cbam_portal.core.actor import Actor

from . import services
from .api_base import TenantScopedViewSet
from .models import ApiKey, Invitation, Membership, Organisation, OrganisationKind, Representation
from .policy import API_KEY_ROLES, Capability, Role
from .validators import normalise_eori


@contextmanager
def service_errors():
    """Turn a service's Django ValidationError into DRF's (400, JSON with field paths)."""
    try:
        yield
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError(exc.message_dict) from None
        raise ValidationError({"non_field_errors": exc.messages}) from None


class EoriSerializerField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return normalise_eori(super().to_internal_value(data))


# --- organisation --------------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    eori = EoriSerializerField(required=False, allow_blank=True)

    class Meta:
        model = Organisation
        fields = ["id", "kind", "name", "country", "eori", "registration_number", "address", "created_at"]
        read_only_fields = ["id", "kind", "created_at"]
        # The service validates EORI format and uniqueness with the portal's messages.
        extra_kwargs = {"country": {"validators": []}}


@extend_schema_view(
    retrieve=extend_schema(summary="The active organisation"),
    partial_update=extend_schema(summary="Change the active organisation's details (administrators)"),
)
class CurrentOrganisationViewSet(TenantScopedViewSet):
    queryset = Organisation.objects.none()
    serializer_class = OrganisationSerializer
    write_capability = Capability.MANAGE_ORGANISATION
    pagination_class = None

    def get_object(self):
        # The object is the caller's active organisation itself, as resolved by the sealed access check.
        return Organisation.objects.get(pk=self.access.organisation.pk)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, *args, **kwargs):
        organisation = self.get_object()
        serializer = self.get_serializer(organisation, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            organisation = services.organisation_update(
                actor=Actor.from_request(request), organisation=organisation, **serializer.validated_data
            )
        return Response(self.get_serializer(organisation).data)


# --- members -------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "created_at"]
        read_only_fields = ["id", "email", "full_name", "created_at"]


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Members of the active organisation. Administrators change roles and remove members; any
    member may remove their own membership (leave), unless they are the last administrator."""

    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    write_capability = Capability.MANAGE_MEMBERS
    action_capabilities = {"destroy": Capability.VIEW}  # checked per object below
    filterset_fields = ["role"]
    ordering_fields = ["created_at", "role"]

    def base_queryset(self):
        return self.queryset.select_related("user").order_by("user__email")

    @extend_schema(request=MembershipRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            membership = services.membership_change_role(
                actor=Actor.from_request(request),
                membership=membership,
                role=serializer.validated_data["role"],
            )
        return Response(MembershipSerializer(membership).data)

    def destroy(self, request, *args, **kwargs):
        membership = self.get_object()
        leaving = self.access.api_key is None and membership.user_id == request.user.pk
        if not leaving:
            self.access.require(Capability.MANAGE_MEMBERS)
        with service_errors():
            services.membership_remove(actor=Actor.from_request(request), membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invitations ---------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]


class InvitationCreatedSerializer(InvitationSerializer):
    accept_url = serializers.SerializerMethodField()

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "accept_url"]

    def get_accept_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("accounts:invitation_accept", kwargs={"token": self.context["token"]})
        )


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Invitations of the active organisation (administrators). The accept link is e-mailed and also
    returned once in the creation response."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    write_capability = Capability.MANAGE_MEMBERS

    def base_queryset(self):
        return self.queryset.select_related("invited_by").order_by("-created_at")

    @extend_schema(responses={201: InvitationCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            invitation, token = services.invitation_create(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                **serializer.validated_data,
            )
        data = InvitationCreatedSerializer(invitation, context={"request": request, "token": token}).data
        return Response(data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        return self.revoke(request, *args, **kwargs)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        invitation = self.get_object()
        with service_errors():
            invitation = services.invitation_revoke(actor=Actor.from_request(request), invitation=invitation)
        if request.method == "DELETE":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(InvitationSerializer(invitation).data)


# --- API keys ------------------------------------------------------------------------------


class ApiKeySerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=[(r.value, r.label) for r in API_KEY_ROLES], default=Role.PREPARER)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, default=None)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "role",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = [
            "id",
            "prefix",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.SerializerMethodField(help_text="The full key. Shown in this response only.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]

    def get_key(self, obj) -> str:
        return self.context["key"]


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = ApiKey.objects.all()
    serializer_class = ApiKeySerializer
    write_capability = Capability.MANAGE_API_KEYS

    def base_queryset(self):
        return self.queryset.select_related("created_by").order_by("revoked_at", "-created_at")

    @extend_schema(responses={201: ApiKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            api_key, full_key = services.api_key_create(
                actor=Actor.from_request(request),
                organisation=self.access.organisation,
                **serializer.validated_data,
            )
        return Response(
            ApiKeyCreatedSerializer(api_key, context={"key": full_key}).data, status=status.HTTP_201_CREATED
        )

    def destroy(self, request, *args, **kwargs):
        return self.revoke(request, *args, **kwargs)

    @extend_schema(request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        api_key = services.api_key_revoke(actor=Actor.from_request(request), api_key=self.get_object())
        if request.method == "DELETE":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ApiKeySerializer(api_key).data)


# --- represented importers -----------------------------------------------------------------


class ImporterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "eori", "country"]


class RepresentationSerializer(serializers.ModelSerializer):
    importer = ImporterSerializer(read_only=True)

    class Meta:
        model = Representation
        fields = ["id", "importer", "created_at"]


class RepresentationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    eori = EoriSerializerField()
    country = serializers.CharField(max_length=2)


class RepresentationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Importers the active customs representative acts for (Reg. 2023/956 Art 5(5))."""

    queryset = Representation.objects.all()
    serializer_class = RepresentationSerializer
    organisation_field = "representative"
    required_kinds = (OrganisationKind.REPRESENTATIVE,)
    write_capability = Capability.MANAGE_ORGANISATION

    def base_queryset(self):
        return self.queryset.select_related("importer").order_by("importer__name")

    @extend_schema(request=RepresentationCreateSerializer, responses={201: RepresentationSerializer})
    def create(self, request, *args, **kwargs):
        serializer = RepresentationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            importer = services.representation_create(
                actor=Actor.from_request(request),
                representative=self.access.organisation,
                **serializer.validated_data,
            )
        representation = self.get_queryset().get(importer=importer)
        return Response(RepresentationSerializer(representation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.representation_remove(actor=Actor.from_request(request), representation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
