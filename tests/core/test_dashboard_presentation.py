"""The dashboard as a declarant reads it: a card for every area, jobs by their outcome, activity in words."""

import re

import pytest
from django.urls import reverse

from cbam_portal.core.models import JobStatus
from cbam_portal.core.templatetags.portal import audit_verb, humanise_verb, job_outcome
from tests.conftest import login
from tests.factories import MembershipFactory, RepresentationFactory

from .factories import AuditEventFactory, JobFactory

pytestmark = pytest.mark.django_db

DECLARANT_AREAS = {
    "declarations:declaration_list": "Declarations",
    "declarations:import_list": "Imports",
    "declarations:threshold": "Threshold",
    "declarations:supplier_list": "Suppliers",
    "declarations:historic_report_list": "Transitional reports",
    "emissions:shared_list": "Shared with us",
}


def _cards(html: str) -> dict[str, str]:
    section = re.search(r'data-testid="where-to-go">(.*?)</section>', html, re.S).group(1)
    return {
        href: title
        for href, title in re.findall(
            r'<a class="card card-link h-100" href="([^"]+)">\s*<div class="card-body">\s*<h3[^>]*>([^<]+)</h3>',
            section,
        )
    }


def test_a_declarant_finds_a_card_for_each_of_its_areas(personas):
    html = login(personas.viewer, personas.organisation).get(reverse("core:dashboard")).content.decode()

    cards = _cards(html)
    for url_name, label in DECLARANT_AREAS.items():
        assert cards.get(reverse(url_name)) == label
    assert cards[reverse("reference:index")] == "Reference data"
    assert "Upload customs extracts and check the imported lines." in html


def test_a_representative_acting_for_an_importer_gets_the_importers_cards(personas):
    representation = RepresentationFactory(importer=personas.organisation)
    agent = MembershipFactory(organisation=representation.representative).user

    html = login(agent, personas.organisation).get(reverse("core:dashboard")).content.decode()

    assert reverse("declarations:declaration_list") in _cards(html)


def test_an_operator_gets_no_declarant_cards(operator_personas):
    html = (
        login(operator_personas.owner, operator_personas.organisation)
        .get(reverse("core:dashboard"))
        .content.decode()
    )

    cards = _cards(html)
    assert reverse("declarations:declaration_list") not in cards
    assert cards.get(reverse("emissions:installation_list")) == "Installations"


def test_a_rejected_upload_job_reads_as_rejected_not_done(personas, test_job_kinds):
    rejected = JobFactory(
        organisation=personas.organisation,
        status=JobStatus.DONE,
        result={"status": "rejected", "rejected_rows": 1},
    )
    done = JobFactory(
        organisation=personas.organisation, status=JobStatus.DONE, result={"status": "imported"}
    )
    client = login(personas.owner, personas.organisation)

    assert job_outcome(rejected) == "refused" and job_outcome(done) == "success"
    html = client.get(reverse("core:dashboard")).content.decode()
    badges = re.findall(r'job-outcome-(\w+) (text-bg-\w+)" data-testid="job-badge">([^<]+)<', html)
    assert sorted(badges) == [
        ("refused", "text-bg-warning", "Rejected"),
        ("success", "text-bg-success", "Done"),
    ]

    progress = client.get(reverse("core:job_progress", args=[rejected.pk])).content.decode()
    assert 'data-job-status="done" data-job-outcome="refused"' in progress
    assert "progress-bar bg-warning" in progress


def test_failed_and_running_jobs_keep_their_colours(personas, test_job_kinds):
    assert job_outcome(JobFactory(organisation=personas.organisation, status=JobStatus.FAILED)) == "failed"
    assert job_outcome(JobFactory(organisation=personas.organisation, status=JobStatus.RUNNING)) == "pending"
    assert (
        job_outcome(JobFactory(organisation=personas.organisation, status=JobStatus.DONE, result={}))
        == "success"
    )


def test_recent_activity_is_told_in_words(personas):
    AuditEventFactory(organisation=personas.organisation, verb="import_upload.imported")
    AuditEventFactory(organisation=personas.organisation, verb="something_new.got_done")

    html = login(personas.owner, personas.organisation).get(reverse("core:dashboard")).content.decode()

    verbs = re.findall(r'title="([^"]+)" data-testid="verb">([^<]+)<', html)
    assert ("import_upload.imported", "Customs extract imported") in verbs
    assert ("something_new.got_done", "Something new: got done") in verbs


def test_every_verb_has_a_readable_label():
    assert audit_verb("declaration.filed") == "Declaration filed"
    assert humanise_verb("job.enqueued") == "Job: enqueued"
    assert humanise_verb("single") == "Single"
