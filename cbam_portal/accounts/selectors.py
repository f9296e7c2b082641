"""Reads for the accounts area, always scoped to one organisation (404 for anything else)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import ApiKey, Invitation, Membership, Organisation, Representation


def membership_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__email")


def membership_get(*, organisation: Organisation, pk) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organisation"), organisation=organisation, pk=pk
    )


def invitation_list_pending(*, organisation: Organisation) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            organisation=organisation,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitation_get(*, organisation: Organisation, pk) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("organisation"), organisation=organisation, pk=pk
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    from .services import hash_invitation_token

    return (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=hash_invitation_token(token))
        .first()
    )


def api_key_list(*, organisation: Organisation) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(organisation=organisation)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at")
    )


def api_key_get(*, organisation: Organisation, pk) -> ApiKey:
    return get_object_or_404(ApiKey.objects.select_related("organisation"), organisation=organisation, pk=pk)


def representation_list(*, organisation: Organisation) -> QuerySet[Representation]:
    return (
        Representation.objects.filter(representative=organisation)
        .select_related("importer")
        .order_by("importer__name")
    )


def representation_get(*, organisation: Organisation, pk) -> Representation:
    return get_object_or_404(
        Representation.objects.select_related("importer", "representative"),
        representative=organisation,
        pk=pk,
    )
