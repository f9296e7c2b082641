"""The one base class every tenant-owned API endpoint inherits.

`get_queryset` is sealed: it always filters by the active organisation. Subclasses shape the
query in `base_queryset()` (select_related, annotations) and never filter by tenant themselves.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, viewsets

from .access import Access, access_for, access_for_api_key
from .models import ApiKey
from .policy import Capability

ORGANISATION_HEADER = "HTTP_X_ORGANISATION"


def resolve_api_access(request) -> Access:
    """The caller's access for this API request: the API key's organisation, or the session user's
    organisation named in `X-Organisation` (default: the active one). Outsiders get 404."""
    if isinstance(request.auth, ApiKey):
        return access_for_api_key(request.auth)
    wanted = request.META.get(ORGANISATION_HEADER)
    if wanted is not None:
        access = access_for(request.user, wanted)
        if access is None:
            raise Http404(_("No such organisation."))
        return access
    access = getattr(request._request, "access", None)
    if access is None:
        raise exceptions.PermissionDenied(_("No active organisation: create one, or send the X-Organisation header."))
    return access


class TenantCapabilityPermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        access = resolve_api_access(request)
        request.access = access
        kinds = getattr(view, "required_kinds", None)
        if kinds and access.organisation.kind not in kinds:
            raise Http404(_("Not available for this kind of organisation."))
        capability = view.capability_for(request)
        if not access.can(capability):
            raise exceptions.PermissionDenied(_("Your role does not allow this (%(cap)s).") % {"cap": capability})
        return True


class TenantScopedMixin:
    """Seals tenant scoping for any DRF generic view or viewset."""

    organisation_field = "organisation"
    required_kinds: tuple[str, ...] | None = None
    read_capability = Capability.VIEW
    write_capability = Capability.EDIT
    action_capabilities: dict[str, Capability] = {}
    permission_classes = [permissions.IsAuthenticated, TenantCapabilityPermission]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); tenant scoping is sealed. Override base_queryset() instead."
            )

    def capability_for(self, request) -> Capability:
        action = getattr(self, "action", None)
        if action in self.action_capabilities:
            return self.action_capabilities[action]
        return self.read_capability if request.method in permissions.SAFE_METHODS else self.write_capability

    def base_queryset(self):
        return self.queryset.all()

    def get_queryset(self):
        return self.base_queryset().filter(**{self.organisation_field: self.request.access.organisation})

    @property
    def access(self) -> Access:
        return self.request.access


class TenantScopedViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    pass


class TenantScopedModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    pass


class TenantScopedReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
