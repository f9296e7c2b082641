"""A new user's first hour in the portal, driven in Chromium: sign up, create an organisation,
invite a colleague who accepts, issue an API key and use it, look up a CN code, export the audit
log as a background job, and act for a represented importer."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from cbam_portal.accounts.models import Organisation

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-Long-enough-pass-2026"


def sign_up(page, base_url, email):
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()


def test_a_declarant_sets_up_the_organisation_and_its_team(live_server, page, browser, screenshot):
    base = live_server.url
    call_command("load_reference_data", verbosity=0)

    sign_up(page, base, "founder@importer.example")
    # No organisation yet: the portal asks for one.
    page.goto(f"{base}/organisations/new/")
    page.select_option("select[name=kind]", "declarant")
    page.fill("input[name=name]", "Hanse Steel Import GmbH")
    page.select_option("select[name=country]", "DE")
    page.fill("input[name=eori]", "de 1234 5678 9012")
    page.get_by_role("button", name=re.compile("Create", re.I)).click()
    expect(page.locator("h1")).to_contain_text("Hanse Steel Import GmbH")
    organisation = Organisation.objects.get(name="Hanse Steel Import GmbH")
    assert organisation.eori == "DE123456789012"
    screenshot("e2e-dashboard")

    # Invite a reviewer; the invitation e-mail carries a single-use link.
    page.goto(f"{base}/organisations/current/")
    page.fill("form[action$='/invitations/'] input[name=email]", "reviewer@importer.example")
    page.select_option("form[action$='/invitations/'] select[name=role]", "reviewer")
    page.get_by_role("button", name=re.compile("Send invitation", re.I)).click()
    expect(page.get_by_role("cell", name="reviewer@importer.example")).to_be_visible()
    screenshot("e2e-organisation-settings")
    link = re.search(r"http://\S+/organisations/invitations/\S+/", mail.outbox[-1].body.replace("=\n", ""))
    assert link, mail.outbox[-1].body
    accept_path = link.group(0).split("/organisations/", 1)[1]

    colleague = browser.new_context().new_page()
    sign_up(colleague, base, "reviewer@importer.example")
    colleague.goto(f"{base}/organisations/{accept_path}")
    colleague.get_by_role("button", name=re.compile("Accept", re.I)).click()
    colleague.goto(f"{base}/dashboard/")
    expect(colleague.locator("body")).to_contain_text("Hanse Steel Import GmbH")
    expect(colleague.locator("body")).to_contain_text("Reviewer")

    # An API key is shown once and works against the API.
    page.goto(f"{base}/organisations/current/api-keys/")
    page.fill("input[name=name]", "ERP export")
    page.get_by_role("button", name=re.compile("Create key", re.I)).click()
    key = page.locator("input#new-api-key").input_value().strip()
    assert key.startswith("cbam_")
    screenshot("e2e-api-key-once")
    api = page.request.get(f"{base}/api/v1/organisations/current/", headers={"Authorization": f"Api-Key {key}"})
    assert api.status == 200 and api.json()["name"] == "Hanse Steel Import GmbH"
    # The key is never stored: coming back to the page shows only its prefix.
    page.goto(f"{base}/organisations/current/api-keys/")
    expect(page.locator("[data-testid=new-api-key]")).to_have_count(0)
    expect(page.locator("body")).to_contain_text(key[:13] + "_…")

    # Reference data: look up hot-rolled coil and see its Annex II status and defaults.
    page.goto(f"{base}/reference/cn/")
    page.fill("input[name=code]", "7208 10 00")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=annex-ii]")).to_contain_text("only direct emissions")
    expect(page).to_have_title(re.compile(r"^CN 7208 10 00 · CBAM portal$"))
    screenshot("e2e-cn-detail")

    # Export the audit log: a background job with a progress component that ends in "done".
    page.goto(f"{base}/audit/")
    expect(page.locator("body")).to_contain_text("invitation.accepted")
    page.get_by_role("button", name=re.compile("Export CSV", re.I)).click()
    expect(page.locator("body")).to_contain_text(re.compile("Download", re.I), timeout=15000)
    screenshot("e2e-audit-export")
    page.goto(f"{base}/jobs/")
    expect(page.locator("body")).to_contain_text(re.compile("Done", re.I))
    screenshot("e2e-jobs")


def test_a_customs_representative_switches_to_an_importer_it_acts_for(live_server, page, screenshot):
    base = live_server.url
    sign_up(page, base, "agent@customs.example")
    page.goto(f"{base}/organisations/new/")
    page.select_option("select[name=kind]", "representative")
    page.fill("input[name=name]", "Delta Customs BV")
    page.select_option("select[name=country]", "NL")
    page.fill("input[name=eori]", "NL123456789")
    page.get_by_role("button", name=re.compile("Create", re.I)).click()

    page.goto(f"{base}/organisations/current/")
    form = page.locator("form[action$='/importers/']")
    form.locator("input[name=name]").fill("Oslo Aluminium Trading AS")
    form.locator("input[name=eori]").fill("SE556677889900")
    form.locator("select[name=country]").select_option("SE")
    form.get_by_role("button").click()
    expect(page.locator("body")).to_contain_text("Oslo Aluminium Trading AS")

    page.locator("[data-testid=org-switcher]").click()
    page.get_by_role("button", name=re.compile("Delta Customs BV for Oslo Aluminium Trading AS")).click()
    expect(page.locator("[data-testid=org-switcher]")).to_contain_text("Oslo Aluminium Trading AS")
    screenshot("e2e-representative-switch")
