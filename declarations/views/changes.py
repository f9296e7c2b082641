"""Pages: what each recalculation of a declaration changed."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from cbam_portal.accounts.decorators import org_required

from ..selectors import changes as change_selectors
from ..selectors import declarations as selectors
from .declarations import KINDS

PAGE_SIZE = 50


@org_required(kinds=KINDS)
@require_GET
def declaration_change_list(request, pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    page = Paginator(change_selectors.declaration_changes(declaration), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "declarations/declaration/changes.html",
        {"declaration": declaration, "page": page, "changes": list(page.object_list)},
    )


@org_required(kinds=KINDS)
@require_GET
def declaration_change_detail(request, pk: int, change_pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    change = change_selectors.declaration_change_get(declaration, change_pk)
    return render(
        request,
        "declarations/declaration/change.html",
        {"declaration": declaration, "change": change, "groups": change.differences.get("groups", [])},
    )


urlpatterns = [
    path("annual/<int:pk>/changes/", declaration_change_list, name="declaration_changes"),
    path("annual/<int:pk>/changes/<int:change_pk>/", declaration_change_detail, name="declaration_change"),
]
