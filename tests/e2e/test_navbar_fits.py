"""The navigation bar fits the window at every common width, even for a customs representative
acting for an importer with a long name: nothing runs off the right edge, the organisation's name
is shortened with its full label in a tooltip."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from cbam_portal.accounts.policy import Role
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_declarant_journey import sign_in
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RepresentationFactory,
    RepresentativeFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

IMPORTER = "Hanse Steel Import GmbH & Co. KG Niederlassung Hamburg"
AGENCY = "Delta Customs BV"


# What runs past the right edge, to say which element broke the layout when the check fails.
OVERFLOWING = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} right=${e.getBoundingClientRect().right}`
        + ` text=${(e.innerText || "").slice(0, 40)}`)"""


def overflowing(page) -> list[str]:
    return page.evaluate(OVERFLOWING)


def test_the_navbar_fits_from_laptop_to_wide_screens_for_a_representative(live_server, page):
    call_command("load_reference_data", verbosity=0)
    agency = RepresentativeFactory(name=AGENCY)
    agent = MembershipFactory(organisation=agency, role=Role.ADMIN).user
    importer = OrganisationFactory(name=IMPORTER)
    RepresentationFactory(representative=agency, importer=importer)

    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server.url, agent)
    page.locator("[data-testid=org-switcher]").click()
    page.get_by_role("button", name=re.compile(f"{AGENCY} for {re.escape(IMPORTER)}")).click()

    for width in (1200, 1280, 1399, 1400, 1600, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/declarations/annual/")
        switcher = page.locator("[data-testid=org-switcher]")
        expect(switcher).to_be_visible()
        expect(page.get_by_test_id("user-menu")).to_be_visible()
        expect(switcher).to_have_attribute("title", re.compile(re.escape(f"{AGENCY} for {IMPORTER}")))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (width, overflowing(page))
        box = page.get_by_test_id("user-menu").bounding_box()
        assert box["x"] + box["width"] <= width, width
        if width == 1280:
            page.screenshot(path=str(ARTIFACTS / "e2e-navbar-representative-1280.png"))

    # Narrower than that, the menu folds behind the toggler and still fits.
    page.set_viewport_size({"width": 1024, "height": 800})
    page.goto(f"{live_server.url}/declarations/annual/")
    expect(page.locator(".navbar-toggler")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# Pages of the demo with wide tables: on a phone the table scrolls inside its box, the page does not.
PHONE_PAGES = {
    "paul.preparer@rheinstahl.example": (
        "/dashboard/",
        "/declarations/annual/",
        "/declarations/imports/",
        "/declarations/supplier-requests/",
        "/declarations/suppliers/",
        "/declarations/threshold/",
    ),
    "clara.customs@lowlands.example": ("/dashboard/", "/reference/"),
    "omar.operator@anatolia.example": ("/emissions/reports/{report}/",),
}


def test_pages_with_wide_tables_do_not_widen_the_page_on_a_phone(live_server, page):
    import io

    from cbam_portal.core.management.commands.seed_demo import DEMO_PASSWORD
    from emissions.models import EmissionsReport
    from tests.reference.conftest import load_builtin

    load_builtin()
    call_command("seed_demo", stdout=io.StringIO())
    report = EmissionsReport.objects.filter(installation__organisation__name__startswith="Anatolia").first()
    page.set_viewport_size({"width": 390, "height": 844})
    for email, paths in PHONE_PAGES.items():
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
        expect(page).to_have_url(re.compile(r"/dashboard/"))
        for path in paths:
            page.goto(live_server.url + path.format(report=report.pk))
            page.wait_for_load_state("networkidle")  # the dashboard's cards arrive with htmx
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
                email,
                path,
                page.evaluate("document.documentElement.scrollWidth"),
            )
    page.screenshot(path=str(ARTIFACTS / "e2e-representative-dashboard-phone.png"), full_page=True)
