"""A declarant's year in the portal, driven in Chromium: upload a customs extract with its own
column names (a bad row first, then the corrected file), watch the 50-tonne threshold, draft the
2026 declaration, read the "why" of a group and override its source with a justification, go
through the four-eyes review, file, see the filed version frozen and amend it as version 2. A
customs representative then switches between the importers it acts for and sees only each one's
declarations."""

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from cbam_portal.accounts.policy import Role
from cbam_portal.core.actor import Actor
from declarations.models import (
    Declaration,
    DeclarationStatus,
    ImportLine,
    Supplier,
    SupplierInstallationMapping,
)
from declarations.services import declarations as declaration_services
from tests.declarations.test_declaration_services import add_line, shared_installation
from tests.e2e.conftest import ARTIFACTS
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    RepresentationFactory,
    RepresentativeFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

# A German ERP extract: semicolons, decimal commas, DD.MM.YYYY dates and headers the portal does
# not recognise by itself, so every column has to be chosen on the mapping step.
HEADER = "Anmeldung;Pos.;Überlassung;Warennummer;Ursprungsland;Nettomasse in t;Verfahren;Lieferant"
MAPPING = {
    "mrn": "Anmeldung",
    "line_no": "Pos.",
    "released_on": "Überlassung",
    "cn_code": "Warennummer",
    "origin_country": "Ursprungsland",
    "net_mass_tonnes": "Nettomasse in t",
    "procedure": "Verfahren",
    "supplier": "Lieferant",
}
SUPPLIER = "Guangxi Aluminium Co"
ROWS = [
    # aluminium from the supplier whose installation shares its submitted report: actual data
    f"26DE000000000000A1;1;15.01.2026;7601 10 10;CN;30,125;4000;{SUPPLIER}",
    "26DE000000000000A1;2;15.01.2026;7208 10 00;IN;12,5;4000;",
    "26DE000000000000B7;1;02.04.2026;7208 10 00;TR;8,333333;4000;",
    "26DE000000000000C3;1;20.05.2026;7214 20 00;UA;2,75;4000;",
    # Norway is an Annex III country: recorded, but out of scope
    "26DE000000000000D9;1;03.06.2026;7601 10 10;NO;4;4000;",
]
IN_SCOPE_T = "53.708"  # 30.125 + 12.5 + 8.333333 + 2.75


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/dashboard/"))


def fits_the_window(page) -> bool:
    """Nothing runs off the right edge: the page does not scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def goods_rows(page):
    """The rows of the declaration's goods table: each has its "why?" link."""
    return page.locator("tbody tr").filter(has=page.get_by_test_id("why"))


def extract(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def upload_and_map(page, file: Path) -> None:
    page.set_input_files("input[name=file]", str(file))
    page.get_by_role("button", name=re.compile("Upload and map the columns", re.I)).click()
    expect(page.get_by_role("heading", name="Which column holds what?")).to_be_visible()


# The journey happens in December 2026: the dashboard's cards show the current year's threshold
# and the declaration due next, so the clock is set (and keeps ticking) for the server side.
@time_machine.travel(dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC), tick=True)
def test_a_declarant_imports_declares_reviews_files_and_amends(
    live_server, page, browser, screenshot, tmp_path
):
    call_command("load_reference_data", verbosity=0)
    base = live_server.url
    importer = OrganisationFactory(name="Hanse Steel Import GmbH", eori="DE123456789012")
    # The preparer administers the organisation, so the Approve button is there to try.
    preparer = MembershipFactory(organisation=importer, role=Role.ADMIN).user
    reviewer = MembershipFactory(organisation=importer, role=Role.REVIEWER).user
    installation, _grant = shared_installation(importer)
    supplier = Supplier.objects.create(organisation=importer, name=SUPPLIER, country="CN")
    SupplierInstallationMapping.objects.create(
        organisation=importer, supplier=supplier, installation=installation
    )

    sign_in(page, base, preparer)

    # 1. A file whose first row is wrong: the mapping step, then the row's error, nothing imported.
    bad = [ROWS[0].replace("30,125", "-30,125"), *ROWS[1:]]
    page.goto(f"{base}/declarations/imports/")
    page.get_by_role("link", name="Upload a customs extract").click()
    upload_and_map(page, extract(tmp_path, "zoll-export-2026.csv", bad))
    # No header matches a portal field, so nothing is chosen until the user does it; the first
    # rows of the file are shown to recognise the columns.
    expect(page.locator("select[name=map_mrn]")).to_have_value("")
    preview = page.get_by_test_id("preview")
    expect(preview.locator("thead th")).to_have_count(8)
    expect(preview.locator("tbody tr")).to_have_count(3)
    expect(preview.locator("tbody tr").first).to_contain_text("-30,125")
    screenshot("e2e-declarant-01-mapping")
    page.get_by_role("button", name=re.compile("Start the import", re.I)).click()
    # Starting without a mapping names the missing columns next to their fields.
    expect(page.locator(".invalid-feedback").first).to_have_text(
        "Choose the column that holds the Customs declaration (MRN)."
    )
    for field, column in MAPPING.items():
        page.select_option(f"select[name=map_{field}]", column)
    page.get_by_role("button", name=re.compile("Start the import", re.I)).click()
    result = page.locator("#upload-result")
    expect(result).to_contain_text("Nothing was imported: 1 row has errors.")
    error_row = result.locator("tbody tr").first
    expect(error_row).to_contain_text("Nettomasse in t")
    expect(error_row).to_contain_text("-30,125")
    expect(error_row).to_contain_text("Must be greater than zero.")
    assert ImportLine.objects.filter(organisation=importer).count() == 0
    screenshot("e2e-declarant-02-rejected")
    with page.expect_download() as download:
        result.get_by_role("link", name=re.compile("Download the rejected rows", re.I)).click()
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "2,Nettomasse in t," in rejected and "Must be greater than zero." in rejected

    # 2. The corrected file: the remembered mapping is offered, the job's progress ends in "done".
    page.get_by_role("link", name="Upload a corrected file").click()
    upload_and_map(page, extract(tmp_path, "zoll-export-2026-korrigiert.csv", ROWS))
    expect(page.locator("select[name=map_net_mass_tonnes]")).to_have_value("Nettomasse in t")
    page.get_by_role("button", name=re.compile("Start the import", re.I)).click()
    expect(page.locator(".job-progress[data-job-status=done]")).to_be_visible()
    expect(page.locator("#upload-result")).to_contain_text("5 lines imported, of which 1 out of scope.")
    screenshot("e2e-declarant-03-imported")
    page.get_by_role("link", name="See the lines").click()
    lines = page.locator("table tbody tr")
    expect(lines).to_have_count(5)
    expect(page.locator("tbody")).to_contain_text("8.333333")
    expect(page.locator("tbody")).to_contain_text("12.500")
    expect(page.locator("tbody")).not_to_contain_text("12.500000")
    screenshot("e2e-declarant-04-import-lines")
    with page.expect_download() as download:
        page.get_by_test_id("export").get_by_role("link", name="CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(exported) == 6 and any(",8.333333," in row for row in exported)
    page.fill("input[name=country]", "no")
    page.get_by_role("button", name="Filter").click()
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("Out of scope")
    # The export follows the filters.
    with page.expect_download() as download:
        page.get_by_test_id("export").get_by_role("link", name="XLSX").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == "26DE000000000000D9" and rows[1][7] == 4
    # The stored value keeps its full precision.
    assert (
        str(ImportLine.objects.get(organisation=importer, origin_country="TR").net_mass_tonnes) == "8.333333"
    )

    # 3. The 50-tonne threshold: crossed, with the sectors behind it.
    page.goto(f"{base}/declarations/threshold/")
    year = page.locator("#year-2026")
    expect(year).to_contain_text("Threshold exceeded")
    expect(year).to_contain_text(f"{IN_SCOPE_T} t of 50 t")
    expect(year).to_contain_text("1 line out of scope")
    expect(year.get_by_role("row", name=re.compile("Aluminium"))).to_contain_text("7601 10 10")
    screenshot("e2e-declarant-05-threshold")
    year.get_by_role("link", name="See these lines").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Out of scope")
    # The dashboard card says the same.
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#threshold-card")).to_contain_text("Threshold exceeded")
    expect(page.locator("#declaration-card")).to_contain_text("No declaration for 2026 has been drafted yet.")
    # The rejected upload's job reads as rejected, the corrected one as done; activity in words.
    expect(page.get_by_test_id("job-badge")).to_have_text(["Done", "Rejected"])
    expect(page.get_by_test_id("verb").first).to_have_text("Customs extract imported")
    expect(
        page.get_by_test_id("where-to-go").get_by_role("link", name=re.compile("^Declarations"))
    ).to_be_visible()
    assert fits_the_window(page)
    screenshot("e2e-declarant-05b-dashboard")

    # 4. The 2026 declaration: drafted and computed, one group on actual data.
    page.goto(f"{base}/declarations/annual/")
    page.fill("input[name=year]", "2026")
    page.get_by_role("button", name=re.compile("Draft a declaration", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CBAM declaration 2026, version 1")
    expect(page.get_by_test_id("status")).to_have_text("Draft")
    screenshot("e2e-declarant-06-declaration-draft")
    groups = goods_rows(page)
    expect(groups).to_have_count(4)
    aluminium = groups.filter(has_text="7601 10 10")
    expect(aluminium).to_contain_text("actual")
    expect(groups.filter(has=page.get_by_role("cell", name="IN", exact=True))).to_contain_text("default")
    declaration = Declaration.objects.get(organisation=importer, year=2026)
    # The dashboard card now follows the draft: its status and how much rests on actual data.
    page.get_by_role("link", name="Dashboard").click()
    card = page.locator("#declaration-card")
    expect(card.get_by_test_id("status")).to_have_text("Draft")
    expect(card).to_contain_text("1 of 4 goods groups")
    expect(card).to_contain_text("File and surrender by 30 September 2027")
    screenshot("e2e-declarant-06b-dashboard-declaration")
    card.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CBAM declaration 2026, version 1")

    # 5. Why this number? Then choose default values instead of the report, with a justification.
    aluminium.get_by_test_id("why").click()
    expect(page.get_by_test_id("source")).to_contain_text("Actual data from the operator's report")
    expect(page.get_by_test_id("why").locator("li").first).to_be_visible()
    screenshot("e2e-declarant-07-why")
    page.select_option("select[name=source]", "default")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("A justification is required")
    page.select_option("select[name=source]", "default")
    page.fill(
        "textarea[name=reason]", "The operator's report is not verified yet; default values until it is."
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("source")).to_contain_text("Default values")
    expect(page.locator("body")).to_contain_text("not verified yet")
    screenshot("e2e-declarant-08-override")

    # 6. Four eyes: the preparer submits, cannot approve their own work; a reviewer approves and files.
    page.get_by_role("link", name=re.compile("Declaration 2026 v1")).click()
    expect(groups.filter(has_text="7601 10 10")).to_contain_text("chosen")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("status")).to_have_text("In review")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("body")).to_contain_text("Four eyes")
    expect(page.get_by_test_id("status")).to_have_text("In review")
    screenshot("e2e-declarant-09-four-eyes")

    colleague = browser.new_context().new_page()
    sign_in(colleague, base, reviewer)
    colleague.goto(f"{base}/declarations/annual/{declaration.pk}/")
    colleague.get_by_role("button", name="Approve").click()
    expect(colleague.get_by_test_id("status")).to_have_text("Approved")
    colleague.get_by_role("button", name="File").click()
    expect(colleague.get_by_test_id("status")).to_have_text("Filed")
    colleague.screenshot(path=str(ARTIFACTS / "e2e-declarant-10-filed.png"), full_page=True)
    colleague.context.close()

    # 7. Filed means frozen: no recalculation, no override; an amendment opens version 2.
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Filed")
    expect(page.get_by_role("button", name="Recalculate")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)
    goods_rows(page).filter(has_text="7601 10 10").get_by_test_id("why").click()
    expect(page.locator("select[name=source]")).to_have_count(0)
    page.go_back()
    page.get_by_role("button", name=re.compile("Amend", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CBAM declaration 2026, version 2")
    expect(page.get_by_test_id("status")).to_have_text("Draft")
    screenshot("e2e-declarant-11-amendment")
    declaration.refresh_from_db()
    # Version 1 keeps its filed snapshot and is marked as superseded.
    assert declaration.status == DeclarationStatus.AMENDED and declaration.snapshot["version"] == 1
    page.goto(f"{base}/declarations/annual/")
    versions = page.locator("tbody tr").filter(has=page.get_by_test_id("status"))
    expect(versions).to_have_count(2)
    expect(versions.get_by_test_id("status")).to_have_text(["Draft", "Amended (superseded)"])
    screenshot("e2e-declarant-12-declaration-list")


def test_a_representative_sees_only_the_declarations_of_the_importer_it_acts_for(
    live_server, page, screenshot
):
    call_command("load_reference_data", verbosity=0)
    base = live_server.url
    agency = RepresentativeFactory(name="Delta Customs BV")
    agent = MembershipFactory(organisation=agency, role=Role.ADMIN).user
    declarations = {}
    for name, mass in (("Hanse Steel Import GmbH", "20"), ("Nordic Alloys AB", "7")):
        importer = OrganisationFactory(name=name)
        RepresentationFactory(representative=agency, importer=importer)
        own_preparer = MembershipFactory(organisation=importer, role=Role.PREPARER).user
        add_line(importer, mass=mass)
        declarations[name] = declaration_services.declaration_create(
            actor=Actor(user=own_preparer), organisation=importer, year=2026
        )

    sign_in(page, base, agent)
    for name, other in (
        ("Hanse Steel Import GmbH", "Nordic Alloys AB"),
        ("Nordic Alloys AB", "Hanse Steel Import GmbH"),
    ):
        page.locator("[data-testid=org-switcher]").click()
        page.get_by_role("button", name=re.compile(f"Delta Customs BV for {name}")).click()
        expect(page.locator("[data-testid=org-switcher]")).to_contain_text(name)
        page.goto(f"{base}/declarations/annual/")
        rows = page.locator("tbody tr").filter(has=page.get_by_test_id("status"))
        expect(rows).to_have_count(1)
        expect(page.get_by_test_id("importer")).to_contain_text(name)
        assert fits_the_window(page)
        expect(rows.locator("a")).to_have_attribute("href", f"/declarations/annual/{declarations[name].pk}/")
        screenshot(f"e2e-declarant-representative-{'hanse' if name.startswith('Hanse') else 'nordic'}")
        # The other importer's declaration is not even reachable by its address.
        response = page.request.get(f"{base}/declarations/annual/{declarations[other].pk}/")
        assert response.status == 404
