"""Reads: annual declarations of the active organisation (404 for anything else)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access

from ..models import Declaration, DeclarationComment, DeclarationGroup


def declaration_list(access: Access) -> QuerySet[Declaration]:
    """The organisation's declarations, without their filed snapshots (read when used: a large
    declaration's list of operator reports alone is a megabyte of JSON)."""
    return (
        Declaration.objects.filter(organisation=access.organisation)
        .select_related("prepared_by", "approved_by")
        .defer("snapshot")
    )


def declaration_get(access: Access, pk) -> Declaration:
    return get_object_or_404(
        declaration_list(access).select_related("submitted_for_review_by", "filed_by", "supersedes"), pk=pk
    )


def declaration_groups(declaration: Declaration) -> QuerySet[DeclarationGroup]:
    return declaration.groups.select_related("installation").order_by("cn_code", "country", "quarter", "pk")


def declaration_group_rows(declaration: Declaration) -> QuerySet[DeclarationGroup]:
    """The groups as the declaration's goods table lists them: without their traces (a large
    declaration has tens of thousands; each group's "why?" page reads its own)."""
    return declaration_groups(declaration).defer("trace", "datasets")


def declaration_group_get(declaration: Declaration, pk) -> DeclarationGroup:
    return get_object_or_404(declaration_groups(declaration), pk=pk)


def declaration_filed_groups(declaration: Declaration) -> list[dict]:
    """The groups of a filed declaration as filed, in table order: figures, dataset versions and
    ``trace`` (empty before filing). For a few groups; an export walks them in chunks."""
    return [
        {**data, "trace": trace}
        for data, trace in declaration.filed_groups.order_by("position").values_list("data", "trace")
    ]


def declaration_comments(declaration: Declaration) -> QuerySet[DeclarationComment]:
    return declaration.comments.select_related("author")
