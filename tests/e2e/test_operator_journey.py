"""An operator uploads the Commission's filled cement example, checks the portal's figures against
the template's, submits the report and shares it; the importer then reads it, read-only."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cbam_portal.accounts.policy import Role
from tests.conftest import require_shared_data
from tests.e2e.conftest import ARTIFACTS
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OperatorFactory, OrganisationFactory

pytestmark = pytest.mark.django_db(transaction=True)

CEMENT = ("communication-template-examples", "1_CBAM_SEE_V2.1_Example_Cement_final.xlsx")


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/"))


def test_operator_imports_the_template_submits_and_shares_and_the_importer_reads_it(
    live_server, page, browser, screenshot
):
    template = require_shared_data(*CEMENT)
    call_command("load_reference_data", verbosity=0)
    base = live_server.url
    operator = MembershipFactory(organisation=OperatorFactory(name="Example Cement Producer"), role=Role.ADMIN).user
    declarant_org = OrganisationFactory(name="Baltic Building Materials GmbH", eori="DE998877665544")
    importer = MembershipFactory(organisation=declarant_org, role=Role.VIEWER).user

    sign_in(page, base, operator)
    page.goto(f"{base}/emissions/imports/")
    page.set_input_files("input[name=file]", str(template))
    page.get_by_role("button", name=re.compile("Upload and check", re.I)).click()
    # The parsing job runs in the background; the page polls until the comparison appears.
    expect(page.locator("#import-result")).to_contain_text("agree with the template", timeout=20000)
    expect(page.locator("#import-result")).to_contain_text("0.90746")
    screenshot("e2e-template-import-result")

    page.get_by_role("link", name=re.compile("Open the draft report", re.I)).click()
    expect(page.locator("[data-testid=report-status]")).to_have_text("Draft")
    page.get_by_role("link", name=re.compile("^Submit$")).click()
    page.get_by_role("button", name=re.compile("^Submit$")).click()
    expect(page.locator("[data-testid=report-status]")).to_have_text("Submitted")
    screenshot("e2e-operator-report")

    # Share the installation with the importer, found by EORI.
    page.get_by_role("link", name=re.compile("Installations", re.I)).first.click()
    page.locator("a[href*='/emissions/installations/']").filter(has_text=re.compile("Cement", re.I)).first.click()
    page.locator("a[href$='/sharing/']").first.click()
    page.fill("input[name=q]", "DE998877")
    page.get_by_role("button", name=re.compile("Search", re.I)).click()
    page.get_by_role("button", name=re.compile("Share with Baltic Building Materials GmbH")).click()
    expect(page.locator("body")).to_contain_text("Baltic Building Materials GmbH")
    screenshot("e2e-operator-sharing")

    reader = browser.new_context().new_page()
    sign_in(reader, base, importer)
    reader.goto(f"{base}/emissions/shared/")
    reader.locator("a[href*='/emissions/shared/reports/']").first.click()
    expect(reader.locator("body")).to_contain_text("0.90746")
    expect(reader.locator("body")).not_to_contain_text("Correct (new version)")
    reader.screenshot(path=str(ARTIFACTS / "e2e-declarant-shared-report.png"), full_page=True)

    # The operator sees who read the report.
    page.reload()
    expect(page.locator("body")).to_contain_text(importer.email)
