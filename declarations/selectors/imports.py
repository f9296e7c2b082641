"""Reads of import lines, uploads and suppliers, always scoped to the active organisation."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.policy import Capability

from ..models import ImportLine, ImportUpload, Supplier


@dataclass(frozen=True)
class ImportLineFilters:
    in_scope: bool | None = None
    cn: str = ""  # a CN code or its first digits
    country: str = ""  # country of origin
    year: int | None = None  # year of release


def import_lines_of(organisation, filters: ImportLineFilters | None = None) -> QuerySet[ImportLine]:
    filters = filters or ImportLineFilters()
    qs = ImportLine.objects.filter(organisation=organisation)
    if filters.in_scope is not None:
        qs = qs.filter(in_scope=filters.in_scope)
    if filters.cn:
        qs = qs.filter(cn_code__startswith=filters.cn.replace(" ", ""))
    if filters.country:
        qs = qs.filter(origin_country=filters.country.upper())
    if filters.year:
        qs = qs.filter(released_on__year=filters.year)
    return qs.select_related("supplier", "installation").order_by("-released_on", "mrn", "line_no")


def import_line_list_for(access: Access, filters: ImportLineFilters | None = None) -> QuerySet[ImportLine]:
    """The active organisation's import lines matching `filters`, newest release first."""
    access.require(Capability.VIEW)
    return import_lines_of(access.organisation, filters)


def import_upload_list_for(access: Access) -> QuerySet[ImportUpload]:
    access.require(Capability.VIEW)
    return ImportUpload.objects.filter(organisation=access.organisation).select_related("job", "created_by")


def import_upload_get_for(access: Access, pk) -> ImportUpload:
    """One upload of the active organisation; 404 for anyone else's."""
    return get_object_or_404(import_upload_list_for(access), pk=pk)


def supplier_list_for(access: Access) -> QuerySet[Supplier]:
    access.require(Capability.VIEW)
    return Supplier.objects.filter(organisation=access.organisation).order_by("name")


def installation_choices_for(access: Access):
    """Installations whose operator shares them with the active organisation (active grants)."""
    from emissions.models import Installation

    return Installation.objects.filter(
        grants__declarant=access.organisation, grants__revoked_at__isnull=True
    ).distinct().order_by("name")
