"""Reads: the active declarant's suppliers, their installation mappings, the data requests sent
to them and the evidence log of every request, reminder and answer. Scoped to the active
organisation: another organisation's supplier or request is a 404."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cbam_portal.accounts.access import Access
from cbam_portal.accounts.models import Organisation, OrganisationKind
from emissions.models import OPEN_REQUEST_STATUSES, DataRequest, DataRequestEvent, Installation

from ..models import Supplier, SupplierInstallationMapping
from ..services.suppliers import shared_installations_q

SEARCH_LIMIT = 20
REQUEST_FILTERS = ("sent", "opened", "answered", "declined", "cancelled", "overdue", "open")


def supplier_list_for(access: Access) -> QuerySet[Supplier]:
    """The organisation's suppliers with their line count and open request count."""
    lines = Supplier.objects.filter(pk=OuterRef("pk")).annotate(n=Count("import_lines")).values("n")
    return (
        Supplier.objects.filter(organisation=access.organisation)
        .select_related("operator_org")
        .annotate(
            line_count=Subquery(lines),
            open_request_count=Count(
                "data_request_links",
                filter=Q(data_request_links__data_request__status__in=OPEN_REQUEST_STATUSES),
                distinct=True,
            ),
        )
        .order_by("name", "pk")
    )


def supplier_get(access: Access, pk) -> Supplier:
    return get_object_or_404(supplier_list_for(access), pk=pk)


def operator_search(query: str) -> list[Organisation]:
    """Operator organisations on the portal whose name contains `query` (2 characters or more)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    return list(
        Organisation.objects.filter(kind=OrganisationKind.OPERATOR, name__icontains=query).order_by("name")[:SEARCH_LIMIT]
    )


def mapping_list_for(access: Access, supplier: Supplier) -> list[SupplierInstallationMapping]:
    return list(
        SupplierInstallationMapping.objects.filter(organisation=access.organisation, supplier=supplier)
        .select_related("installation", "installation__organisation")
        .order_by("cn_code", "pk")
    )


def mapping_get(access: Access, pk) -> SupplierInstallationMapping:
    return get_object_or_404(
        SupplierInstallationMapping.objects.filter(organisation=access.organisation).select_related("supplier"), pk=pk
    )


def mappable_installations_for(access: Access, supplier: Supplier | None = None) -> QuerySet[Installation]:
    """Installations shared with the organisation (of the supplier's operator when it is linked)."""
    qs = shared_installations_q(access.organisation).select_related("organisation")
    if supplier is not None and supplier.operator_org_id:
        qs = qs.filter(organisation_id=supplier.operator_org_id)
    return qs.order_by("name", "pk")


def unlinked_line_count(access: Access, supplier: Supplier) -> int:
    return supplier.import_lines.filter(organisation=access.organisation, installation__isnull=True).count()


def data_request_list_for(
    access: Access, *, status: str = "", supplier: Supplier | None = None, today: dt.date | None = None
) -> QuerySet[DataRequest]:
    """Requests the organisation sent, with their supplier and the time of the last reminder."""
    today = today or timezone.localdate()
    qs = (
        DataRequest.objects.filter(declarant=access.organisation)
        .select_related("operator", "installation", "supplier_link__supplier")
        .annotate(
            last_reminded_at=Subquery(
                DataRequestEvent.objects.filter(request=OuterRef("pk"), kind="reminded")
                .order_by("-at")
                .values("at")[:1]
            )
        )
    )
    if supplier is not None:
        qs = qs.filter(supplier_link__supplier=supplier)
    if status == "overdue":
        qs = qs.filter(status__in=OPEN_REQUEST_STATUSES, due_date__lt=today)
    elif status == "open":
        qs = qs.filter(status__in=OPEN_REQUEST_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("due_date", "pk")


def data_request_get(access: Access, pk) -> DataRequest:
    return get_object_or_404(data_request_list_for(access), pk=pk)


def evidence_log_for(access: Access, supplier: Supplier) -> QuerySet[DataRequestEvent]:
    """Every event of every request to the supplier, oldest first: the 'all possible efforts' log."""
    return (
        DataRequestEvent.objects.filter(
            request__declarant=access.organisation,
            request__supplier_link__supplier=supplier,
            request__supplier_link__organisation=access.organisation,
        )
        .select_related("request")
        .order_by("at", "pk")
    )

