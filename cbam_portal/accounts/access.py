"""Access resolution: which organisations a user may act in, and with which capabilities.

A user reaches an organisation either through a direct `Membership`, or through a membership
of a customs representative that represents it (`Representation`). Acting through a
representation grants the representative role's capabilities minus administration of the
represented organisation.

Helpers follow one convention everywhere: outsiders get 404 (never reveal existence),
members lacking a capability get 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ApiKey, Membership, Organisation, Representation
from .policy import ROLE_CAPABILITIES, Capability

ADMINISTRATIVE = frozenset(
    {Capability.MANAGE_MEMBERS, Capability.MANAGE_API_KEYS, Capability.MANAGE_ORGANISATION}
)


@dataclass(frozen=True)
class Access:
    """What one principal may do in one organisation."""

    organisation: Organisation
    role: str
    via: Organisation | None = None  # the representative organisation, when acting for an importer
    api_key: ApiKey | None = None
    capabilities: frozenset[Capability] = field(default=frozenset())

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise PermissionDenied(f"Your role does not allow this ({capability}).")

    @property
    def label(self) -> str:
        if self.via is not None:
            return f"{self.via.name} for {self.organisation.name}"
        return self.organisation.name


def _access(organisation: Organisation, role: str, via: Organisation | None = None, api_key: ApiKey | None = None) -> Access:
    caps = ROLE_CAPABILITIES.get(role, frozenset())
    if via is not None:
        caps = caps - ADMINISTRATIVE
    return Access(organisation=organisation, role=role, via=via, api_key=api_key, capabilities=caps)


def access_for_api_key(api_key: ApiKey) -> Access:
    return _access(api_key.organisation, api_key.role, api_key=api_key)


def accesses_for_user(user) -> list[Access]:
    """Every organisation the user can act in, direct memberships first. Two queries."""
    if not getattr(user, "is_authenticated", False):
        return []
    memberships = list(Membership.objects.filter(user=user).select_related("organisation"))
    result = [_access(m.organisation, m.role) for m in memberships]
    direct_ids = {m.organisation_id for m in memberships}
    rep_roles = {m.organisation_id: m.role for m in memberships if m.organisation.is_representative}
    if rep_roles:
        reps = (
            Representation.objects.filter(representative_id__in=rep_roles)
            .select_related("importer", "representative")
            .order_by("importer__name")
        )
        for r in reps:
            if r.importer_id not in direct_ids:
                result.append(_access(r.importer, rep_roles[r.representative_id], via=r.representative))
                direct_ids.add(r.importer_id)
    return result


def access_for(user, organisation_id: int | str | None) -> Access | None:
    """The user's access to one organisation, or None when the user is an outsider."""
    if organisation_id is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        organisation_id = int(organisation_id)
    except (TypeError, ValueError):
        return None
    membership = (
        Membership.objects.filter(user=user, organisation_id=organisation_id).select_related("organisation").first()
    )
    if membership is not None:
        return _access(membership.organisation, membership.role)
    rep = (
        Membership.objects.filter(
            user=user,
            organisation__representations__importer_id=organisation_id,
        )
        .select_related("organisation")
        .first()
    )
    if rep is not None:
        importer = Organisation.objects.get(pk=organisation_id)
        return _access(importer, rep.role, via=rep.organisation)
    return None


def organisation_access_or_404(user, organisation_id, capability: Capability = Capability.VIEW) -> Access:
    access = access_for(user, organisation_id)
    if access is None:
        raise Http404("No such organisation.")
    access.require(capability)
    return access
