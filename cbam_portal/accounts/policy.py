"""Who may do what: roles mapped to capabilities, in one place.

Views, API views and services ask `access.can(Capability.X)`; nothing else in the code base
compares role names.
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    PREPARER = "preparer", _("Preparer")
    REVIEWER = "reviewer", _("Reviewer")
    VIEWER = "viewer", _("Viewer")


class Capability(StrEnum):
    VIEW = "view"  # read the organisation's data
    EDIT = "edit"  # create and change drafts, upload files, start jobs
    REVIEW = "review"  # comment on and review drafts
    APPROVE = "approve"  # approve another person's work (four eyes)
    SUBMIT = "submit"  # file declarations, submit reports
    VIEW_AUDIT = "view_audit"  # read the organisation's audit log
    MANAGE_MEMBERS = "manage_members"  # invite, change roles, remove members
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_ORGANISATION = "manage_organisation"  # edit details, represented importers


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.PREPARER: frozenset({Capability.VIEW, Capability.EDIT, Capability.SUBMIT}),
    Role.REVIEWER: frozenset(
        {Capability.VIEW, Capability.REVIEW, Capability.APPROVE, Capability.SUBMIT, Capability.VIEW_AUDIT}
    ),
    Role.VIEWER: frozenset({Capability.VIEW}),
}

# API keys act for the organisation without a person behind each call; they never administer it.
API_KEY_ROLES = (Role.PREPARER, Role.VIEWER)


def role_can(role: str, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())
