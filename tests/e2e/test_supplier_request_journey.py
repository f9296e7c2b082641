"""An importer asks a supplier that is not on the portal for its emissions data; the supplier signs
up from the e-mailed link, creates its operator organisation, claims the request and answers by
sharing an installation; the importer sees the request answered and the whole evidence log."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from cbam_portal.accounts.models import Organisation
from cbam_portal.accounts.policy import Role
from tests.declarations.test_suppliers_support import import_reference, in_days  # noqa: F401
from tests.emissions.factories import InstallationFactory
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganisationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("import_reference")]

PASSWORD = "a-long-Passphrase-42"
LINK_RE = re.compile(r"http://[^\s]+(/emissions/data-requests/link/[0-9a-f]+/)")


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/"))


def test_a_supplier_claims_the_emailed_request_and_answers_it(live_server, page, browser, screenshot):
    base = live_server.url
    importer = MembershipFactory(
        organisation=OrganisationFactory(name="Hanse Steel Import GmbH"), role=Role.ADMIN
    ).user

    sign_in(page, base, importer)
    page.goto(f"{base}/declarations/suppliers/new/")
    page.fill("input[name=name]", "Bosporus Rolling Mill")
    page.fill("input[name=country]", "TR")
    page.fill("input[name=email]", "sales@bosporus.example")
    page.get_by_role("button", name=re.compile("Save|Add", re.I)).first.click()
    page.goto(f"{base}/declarations/supplier-requests/new/")
    page.get_by_label("Bosporus Rolling Mill").check()
    page.fill("input[name=cn_codes]", "72081000")
    page.fill("input[name=due_date]", in_days(30).isoformat())
    page.get_by_role("button", name=re.compile("Send the requests", re.I)).click()
    expect(page.locator("body")).to_contain_text("Bosporus Rolling Mill")

    [email] = mail.outbox
    link = base + LINK_RE.search(email.body).group(1)

    supplier = browser.new_context().new_page()
    supplier.goto(link)
    expect(supplier.locator("body")).to_contain_text("Hanse Steel Import GmbH")
    supplier.get_by_role("link", name=re.compile("^Sign up$", re.I)).last.click()
    supplier.fill("input[name=email]", "ops@bosporus.example")
    supplier.fill("input[name=password1]", PASSWORD)
    supplier.fill("input[name=password2]", PASSWORD)
    supplier.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    expect(supplier.locator("body")).to_contain_text("Create your operator organisation")
    supplier.get_by_role("link", name=re.compile("Create an operator organisation", re.I)).click()
    supplier.select_option("select[name=kind]", "operator")
    supplier.fill("input[name=name]", "Bosporus Steel Works")
    supplier.select_option("select[name=country]", "TR")
    supplier.get_by_role("button", name=re.compile("Create", re.I)).click()
    InstallationFactory(organisation=Organisation.objects.get(name="Bosporus Steel Works"), name="Gebze mill")

    supplier.goto(link)
    supplier.get_by_role("button", name=re.compile("Claim the request", re.I)).click()
    expect(supplier.locator("body")).to_contain_text("Request from Hanse Steel Import GmbH")
    supplier.select_option("select[name=installation]", label="Gebze mill")
    supplier.get_by_role("button", name=re.compile("Share and answer", re.I)).click()
    expect(supplier.locator("body")).to_contain_text("Answered")

    page.goto(f"{base}/declarations/suppliers/")
    page.get_by_role("link", name="Bosporus Rolling Mill").click()
    body = page.locator("body")
    expect(body).to_contain_text("claimed by Bosporus Steel Works")
    expect(body).to_contain_text("Answered")
    for step in ("Request sent", "Opened by the supplier", "Claimed by the supplier", "Answered: data shared"):
        expect(page.locator("table").last).to_contain_text(step)
    screenshot("e2e-supplier-request-claimed-and-answered")
