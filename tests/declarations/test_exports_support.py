"""Fixtures shared by the declaration export tests (no tests here)."""

from __future__ import annotations

import datetime as dt

import pytest

from cbam_portal.core.actor import Actor
from cbam_portal.core.models import Job
from declarations.exports import get_exporter
from declarations.exports.jobs import declarations_declaration_export
from declarations.exports.services import declaration_export_enqueue
from declarations.models import Supplier
from declarations.services import declarations as services
from declarations.services import requests as request_services
from emissions.services.sharing import data_request_decline
from tests.declarations.test_declaration_services import add_line, example_9
from tests.reference.conftest import reference_data  # noqa: F401  (module-scoped fixture)

FORMULA = "=cmd|' /C calc'!A0"


def draft_declaration(personas):
    """Example 9 (actual data, aluminium from a shared report) + example 8 (default values, steel)."""
    example_9(personas.organisation)
    add_line(personas.organisation)
    return services.declaration_create(
        actor=Actor(user=personas.preparer), organisation=personas.organisation, year=2026
    )


@pytest.fixture(name="declaration")
def declaration_fixture(reference_data, personas):  # noqa: F811
    return draft_declaration(personas)


def file_declaration(declaration, personas):
    services.declaration_submit_for_review(actor=Actor(user=personas.preparer), declaration=declaration)
    reviewer = Actor(user=personas.reviewer)
    services.declaration_approve(actor=reviewer, declaration=declaration)
    return services.declaration_file(actor=reviewer, declaration=declaration)


def supplier_with_requests(personas, *, name="Anatolia Steel Trading", decline=True):
    supplier = Supplier.objects.create(
        organisation=personas.organisation, name=name, country="TR", email="sales@anatolia.example"
    )
    (request,) = request_services.data_request_send(
        actor=Actor(user=personas.owner),
        organisation=personas.organisation,
        suppliers=[supplier],
        cn_codes="72081000",
        year=2026,
        due_date=dt.date.today() + dt.timedelta(days=14),
        message="Please share your 2026 emissions data.",
    )
    if decline:
        data_request_decline(
            actor=Actor(user=personas.outsider), request=request, reason="No data collected yet"
        )
    return supplier, request


def run_export(declaration, personas, format_key: str) -> Job:
    """Enqueue and run the export job in-process (the test transaction never commits)."""
    job = declaration_export_enqueue(
        actor=Actor(user=personas.viewer), declaration=declaration, format_key=format_key
    )
    from cbam_portal.core.jobs import job_run

    job_run(job.pk)
    job.refresh_from_db()
    return job


def render(declaration, format_key: str) -> bytes:
    """The file of one format, straight from the registry (a fresh instance: no cached document)."""
    from declarations.models import Declaration

    fresh = Declaration.objects.select_related("organisation").get(pk=declaration.pk)
    return get_exporter(format_key).content(fresh)


__all__ = [
    "FORMULA",
    "declarations_declaration_export",
    "draft_declaration",
    "file_declaration",
    "render",
    "run_export",
    "supplier_with_requests",
]
