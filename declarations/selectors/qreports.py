"""Reads: the active declarant's historic quarterly reports, their uploads, the emissions they
reported and what they say about one supplier. Scoped to the active organisation: another
organisation's report, upload or supplier is a 404."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cbam_portal.accounts.access import Access

from ..models import HistoricEmission, HistoricInstallation, HistoricReport, HistoricReportUpload, Supplier


def historic_report_list_for(access: Access, *, include_superseded: bool = False) -> QuerySet[HistoricReport]:
    """The organisation's current reports; with `include_superseded`, also those replaced by a
    corrected report (same ReportId), kept for the audit trail."""
    qs = HistoricReport.objects.filter(organisation=access.organisation)
    if not include_superseded:
        qs = qs.filter(superseded_by__isnull=True)
    return qs.select_related("uploaded_by", "superseded_by").order_by("-year", "-quarter", "-pk")


def historic_report_get(access: Access, pk) -> HistoricReport:
    return get_object_or_404(historic_report_list_for(access, include_superseded=True), pk=pk)


def historic_emission_list_for(
    access: Access, *, report: HistoricReport | None = None, supplier: Supplier | None = None
) -> QuerySet[HistoricEmission]:
    qs = HistoricEmission.objects.filter(organisation=access.organisation).select_related(
        "report", "supplier", "installation"
    )
    # One report's emissions even when superseded; otherwise only those of current reports.
    qs = qs.filter(report=report) if report is not None else qs.filter(report__superseded_by__isnull=True)
    if supplier is not None:
        qs = qs.filter(supplier=supplier)
    return qs.order_by("report__year", "report__quarter", "report_id", "item_number", "sequence_number", "pk")


def historic_upload_list_for(access: Access) -> QuerySet[HistoricReportUpload]:
    return (
        HistoricReportUpload.objects.filter(organisation=access.organisation)
        .select_related("report", "job", "created_by")
        .order_by("-created_at", "-pk")
    )


def historic_upload_get(access: Access, pk) -> HistoricReportUpload:
    return get_object_or_404(historic_upload_list_for(access), pk=pk)


@dataclass
class InstallationHistory:
    """One installation of a supplier and what was reported for it, per CN code and quarter."""

    installation: HistoricInstallation | None
    rows: list[HistoricEmission] = field(default_factory=list)


@dataclass
class SupplierHistory:
    installations: list[InstallationHistory]
    cn_codes: list[str]

    def __bool__(self) -> bool:
        return bool(self.installations)


def supplier_history_for(access: Access, supplier: Supplier) -> SupplierHistory:
    """What the organisation's transitional reports say about `supplier`: its installations with
    the SEE reported per CN code and quarter (two queries)."""
    installations = list(
        HistoricInstallation.objects.filter(organisation=access.organisation, supplier=supplier).order_by(
            "name", "pk"
        )
    )
    by_pk = {i.pk: InstallationHistory(installation=i) for i in installations}
    unattached = InstallationHistory(installation=None)
    emissions = (
        HistoricEmission.objects.filter(
            organisation=access.organisation, supplier=supplier, report__superseded_by__isnull=True
        )
        .select_related("report")
        .order_by("cn_code", "report__year", "report__quarter", "pk")
    )
    cn_codes: list[str] = []
    for emission in emissions:
        by_pk.get(emission.installation_id, unattached).rows.append(emission)
        if emission.cn_code not in cn_codes:
            cn_codes.append(emission.cn_code)
    # Installations known only from superseded reports have nothing current to show.
    result = [h for h in by_pk.values() if h.rows]
    if unattached.rows:
        result.append(unattached)
    return SupplierHistory(installations=result, cn_codes=sorted(cn_codes))
