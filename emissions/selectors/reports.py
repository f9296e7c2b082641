"""Reads: emissions reports of the active operator organisation, with everything the report page
shows in a bounded number of queries (outsiders get 404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access
from cbam_portal.reference.models import CnGood, Dataset, DatasetKind

from ..models import (
    EmissionsReport,
    GoodResult,
    Installation,
    InternalPrecursor,
    ProductionProcess,
    ReportStatus,
)


def report_list(
    access: Access,
    installation: Installation | None = None,
    *,
    status: str | None = None,
    year: int | None = None,
) -> QuerySet[EmissionsReport]:
    qs = EmissionsReport.objects.filter(organisation=access.organisation).select_related("installation")
    if installation is not None:
        qs = qs.filter(installation=installation)
    if status:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("installation__name", "-year", "-version")


def aggregated_categories() -> list[str]:
    """The aggregated goods categories of the current Annex I list (for the process form)."""
    dataset = Dataset.objects.filter(kind=DatasetKind.CN_GOODS, is_current=True).first()
    if dataset is None:
        return []
    return sorted(set(CnGood.objects.filter(dataset=dataset).values_list("aggregated_category", flat=True)))


def report_get(access: Access, pk: int) -> EmissionsReport:
    """One report with its installation, processes (goods, precursors), carbon prices and results
    prefetched: a fixed number of queries whatever the number of processes."""
    qs = (
        EmissionsReport.objects.filter(organisation=access.organisation)
        .select_related("installation", "supersedes", "submitted_by", "created_by")
        .prefetch_related(
            Prefetch(
                "processes",
                ProductionProcess.objects.order_by("key").prefetch_related(
                    "goods",
                    "purchased_precursors",
                    Prefetch(
                        "internal_precursors", InternalPrecursor.objects.select_related("source_process")
                    ),
                ),
            ),
            "carbon_prices",
            Prefetch(
                "results", GoodResult.objects.select_related("process").order_by("process__key", "cn_code")
            ),
        )
    )
    return get_object_or_404(qs, pk=pk)


def report_get_for_edit(access: Access, pk: int) -> EmissionsReport:
    """A report without prefetching (for forms and actions)."""
    return get_object_or_404(
        EmissionsReport.objects.filter(organisation=access.organisation).select_related("installation"), pk=pk
    )


def process_get(report: EmissionsReport, pk: int) -> ProductionProcess:
    return get_object_or_404(ProductionProcess.objects.filter(report=report), pk=pk)


def report_versions(report: EmissionsReport) -> list[EmissionsReport]:
    """Every version of the same installation and year, newest first."""
    return list(
        EmissionsReport.objects.filter(
            organisation_id=report.organisation_id, installation_id=report.installation_id, year=report.year
        ).order_by("-version")
    )


def has_draft(report: EmissionsReport) -> bool:
    return EmissionsReport.objects.filter(
        installation_id=report.installation_id, year=report.year, status=ReportStatus.DRAFT
    ).exists()


def not_available_items(report: EmissionsReport) -> list[dict]:
    """Every value declared "not available" on the report, with its process and reason
    (from the prefetched processes)."""
    items = []
    for process in report.processes.all():
        for name, reason in sorted(process.not_available.items()):
            items.append(
                {
                    "process": process,
                    "field": name,
                    "label": ProductionProcess._meta.get_field(name).verbose_name,
                    "reason": reason,
                }
            )
    return items
