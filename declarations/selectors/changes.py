"""Reads: what each recalculation of a declaration changed (the declaration is already scoped)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from ..models import Declaration, DeclarationChange


def declaration_changes(declaration: Declaration) -> QuerySet[DeclarationChange]:
    return declaration.changes.select_related("actor", "job").order_by("-at", "-pk")


def declaration_change_latest(declaration: Declaration) -> DeclarationChange | None:
    return declaration_changes(declaration).first()


def declaration_change_get(declaration: Declaration, pk) -> DeclarationChange:
    return get_object_or_404(declaration_changes(declaration), pk=pk)
