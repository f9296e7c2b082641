"""Reading the Commission communication template: the five filled examples, speed, and bad files.

The Commission files are read from the shared reference folder (never copied into the project);
bad inputs are generated in ``tmp_path``, mostly by patching one cell of a copy of an example.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from defusedxml import DefusedXmlException
from lxml import etree

from emissions.template import TemplateError, read_template
from tests.conftest import require_shared_data

EXAMPLES = "communication-template-examples"
CEMENT = "1_CBAM_SEE_V2.1_Example_Cement_final.xlsx"
STEEL_BF = "2_CBAM_SEE_V2.1_Example_Steel_1_Blast_furnace_final.xlsx"
STEEL_EAF = "3_CBAM_SEE_V2.1_Example_Steel_2_EAF_alloys_final.xlsx"
SCREWS = "4_CBAM_SEE_V2.1_Example_Steel_3_Screws_and_nuts_final.xlsx"
FERTILISER = "5_CBAM_SEE_V2.1_Example_Fertilizer_final.xlsx"
ALL_EXAMPLES = (CEMENT, STEEL_BF, STEEL_EAF, SCREWS, FERTILISER)

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def example(name: str) -> Path:
    return require_shared_data(EXAMPLES, name)


def annex_i_codes() -> set[str]:
    path = require_shared_data("cbam_cn8_codes_from_communication_template_v2.1.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["cn8"] for row in csv.DictReader(handle)}


# --- helpers: change cells of a copy of a workbook without re-saving it through openpyxl ------


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    workbook = etree.fromstring(archive.read("xl/workbook.xml"))
    rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    rel_id = next(
        s.get(f"{{{_REL_NS}}}id") for s in workbook.iter(f"{{{_NS}}}sheet") if s.get("name") == sheet
    )
    target = next(r.get("Target") for r in rels if r.get("Id") == rel_id).lstrip("/")
    return target if target.startswith("xl/") else f"xl/{target}"


def _column_number(coordinate: str) -> int:
    letters = re.match(r"[A-Z]+", coordinate).group(0)
    return openpyxl.utils.column_index_from_string(letters)


def _set_cell(root, coordinate: str, value) -> None:
    row_number = int(re.search(r"\d+", coordinate).group(0))
    sheet_data = root.find(f"{{{_NS}}}sheetData")
    row = next((r for r in sheet_data if r.get("r") == str(row_number)), None)
    if row is None:
        row = etree.SubElement(sheet_data, f"{{{_NS}}}row", r=str(row_number))
    cell = next((c for c in row if c.get("r") == coordinate), None)
    if cell is None:
        cell = etree.Element(f"{{{_NS}}}c", r=coordinate)
        later = [c for c in row if _column_number(c.get("r")) > _column_number(coordinate)]
        if later:
            later[0].addprevious(cell)
        else:
            row.append(cell)
    style = cell.get("s")
    cell.clear()
    cell.set("r", coordinate)
    if style is not None:
        cell.set("s", style)
    if isinstance(value, str):
        cell.set("t", "inlineStr")
        inline = etree.SubElement(cell, f"{{{_NS}}}is")
        etree.SubElement(inline, f"{{{_NS}}}t").text = value
    else:
        etree.SubElement(cell, f"{{{_NS}}}v").text = repr(value)


def patch_cells(source: Path, target: Path, changes: dict[str, object]) -> Path:
    """Copy ``source`` to ``target`` with cells replaced: {"D_Processes!L54": 1.5, ...}.
    Formulas in the changed cells are dropped; every other part is copied byte for byte."""
    by_sheet: dict[str, dict[str, object]] = {}
    for ref, value in changes.items():
        sheet, _, coordinate = ref.partition("!")
        by_sheet.setdefault(sheet, {})[coordinate] = value
    with zipfile.ZipFile(source) as archive:
        parts = {_sheet_part(archive, sheet): cells for sheet, cells in by_sheet.items()}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                data = archive.read(info)
                if info.filename in parts:
                    root = etree.fromstring(data)
                    for coordinate, value in parts[info.filename].items():
                        _set_cell(root, coordinate, value)
                    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
                out.writestr(info, data)
    return target


def problems_of(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# --- the five Commission examples ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "installation", "country", "cn_codes"),
    [
        (CEMENT, "Example Cement Producer", "TR", ["25232900"]),
        (STEEL_BF, "Example Blast Steelworks", "CN", ["72081000", "72122000", "72139120", "73021028"]),
        (STEEL_EAF, "Example EAF Steelworks", "US", ["72189911", "73041100", "72191310", "72210010"]),
        (SCREWS, "Example Screw Production Plant", "US", ["73181542", "73181535"]),
        (FERTILISER, "Example Fertiliser Producer", "VN", ["31052010"]),
    ],
)
def test_every_commission_example_parses_into_installation_and_products(
    name, installation, country, cn_codes
):
    parsed = read_template(example(name), annex_i_cn_codes=annex_i_codes())

    summary = parsed.summary
    assert parsed.template_version == "2.1"
    assert parsed.source_name == name
    assert summary.installation.name == installation
    assert summary.installation.country_code == country
    assert summary.installation.city == "Example City"
    assert summary.installation.latitude == D("16.6911279")
    assert summary.installation.longitude == D("147.80337464")
    assert summary.installation.period_start == date(2023, 1, 1)
    assert summary.installation.period_end == date(2023, 12, 31)
    assert [p.cn_code for p in summary.products] == cn_codes
    assert all(p.unit == "tCO2e/t" for p in summary.products)
    assert parsed.installation is not None and parsed.installation.country_code == country
    assert parsed.processes and all(p.activity_level > 0 for p in parsed.processes)


def test_cement_example_reads_summary_fields_and_qualifying_parameters():
    summary = read_template(example(CEMENT)).summary

    (product,) = summary.products
    assert product.process_name == "Cement Bubble"
    assert product.aggregated_good == "Cement"
    assert product.product_name == "Portland Cement Art. Nr. 1"
    assert product.cn_name.startswith("Portland cement")
    assert product.see_direct == D("0.7852147410358565")
    assert product.clinker_factor == D("0.95")
    assert product.electricity_ef_source == "D.4(b)"
    assert product.embedded_electricity_mwh_per_t == D("0.14675")
    assert product.electricity_ef_tco2_per_mwh is None  # v2.1 has no such column
    assert product.cells["see_direct"] == "Summary_Communication!I26"
    assert summary.total_direct_tco2e == D("1037310")
    assert summary.total_indirect_tco2e == D("161489.1")
    assert summary.calculation_based_tco2e == D("1037310")
    assert summary.quality_assurance == "Internal audits"
    assert [(g.id, g.category) for g in summary.goods] == [("G1", "Cement"), ("G1", "Cement clinker")]
    assert summary.processes[0].name == "Cement Bubble"
    assert summary.processes[0].included_categories == ("Cement clinker",)


def test_eaf_example_reads_the_input_sheets():
    parsed = read_template(example(STEEL_EAF))

    inst = parsed.installation
    assert inst.name_english == "Example EAF Steelworks"
    assert inst.country == "United States" and inst.unlocode == "US ABC"
    assert inst.post_code == "123456" and inst.period_start == date(2023, 1, 1)
    assert [(g.id, g.category, g.routes) for g in inst.goods][0] == (
        "G1",
        "Crude steel",
        ("Electric arc furnace",),
    )
    assert [(p.id, p.name) for p in inst.processes] == [
        ("P1", "EAF incl. continuous casting"),
        ("P2", "Rolling mill and finishing"),
    ]
    assert [(p.id, p.name, p.country_code) for p in inst.purchased_precursors] == [
        ("PP1", "Carbon steel ingots", "ID"),
        ("PP2", "FeNi  (28% Ni)", "JP"),
        ("PP3", "FeCr  (52% Cr)", "IN"),
        ("PP4", "FeMn (31% Mn)", "CN"),
    ]

    eaf, rolling = parsed.processes
    assert (eaf.id, eaf.activity_level, eaf.direct_emissions_tco2e) == (
        "P1",
        D("2234000"),
        D("171005.30885696854"),
    )
    assert eaf.electricity_consumed_mwh == D("1563800") and eaf.electricity_ef_tco2_per_mwh == D("0.833")
    assert eaf.electricity_ef_source == "Mix"
    assert eaf.produced_for_market == D("1007000")
    assert [(u.process_name, u.quantity) for u in eaf.consumed_in_processes] == [
        ("Rolling mill and finishing", D("1227000"))
    ]
    assert eaf.cells["direct_emissions_tco2e"] == "D_Processes!L54"
    assert rolling.activity_level == D("1133000") and rolling.indirect_relevant is True

    femn = parsed.purchased_precursors[3]
    assert femn.is_default and femn.see_direct == D("1.3")
    assert femn.electricity_mwh_per_t == D("2.281") and femn.electricity_ef_tco2_per_mwh == D("0.833")
    assert [(u.process_name, u.quantity) for u in femn.consumption if u.quantity] == [
        ("EAF incl. continuous casting", D("60595"))
    ]
    assert not parsed.purchased_precursors[0].is_default


def test_blast_furnace_example_reads_the_waste_gas_export():
    (bubble,) = read_template(example(STEEL_BF)).processes
    assert bubble.waste_gas_exported_tj == D("12800")
    assert bubble.activity_level == D("4800000")


def test_the_empty_v2_1_1_template_parses_with_its_extra_electricity_ef_column():
    parsed = read_template(require_shared_data("commission-workbooks", "communication_template.xlsx"))

    assert parsed.template_version == "2.1.1"
    assert parsed.summary.products == ()
    assert parsed.processes == ()
    assert parsed.summary.installation.name == ""


# --- refused files -------------------------------------------------------------------------


def test_a_csv_renamed_to_xlsx_is_refused(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_text("cn,see\n25232900,0.9\n")

    with pytest.raises(TemplateError, match="not a ZIP archive"):
        read_template(path)


def test_a_pdf_renamed_to_xlsx_is_refused(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")

    with pytest.raises(TemplateError, match="is a PDF"):
        read_template(path)


def test_a_password_protected_workbook_is_refused(tmp_path):
    # Excel saves encrypted .xlsx files as OLE2 compound documents.
    path = tmp_path / "protected.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)

    with pytest.raises(TemplateError, match="password-protected") as excinfo:
        read_template(path)
    assert excinfo.value.problems[0].field == "file"


def test_a_truncated_workbook_is_refused(tmp_path):
    data = example(CEMENT).read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(TemplateError, match="corrupt or truncated"):
        read_template(path)


def test_a_workbook_with_a_damaged_sheet_is_refused(tmp_path):
    source = example(CEMENT)
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(_sheet_part(archive, "Summary_Communication"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + info.compress_size // 3, start + info.compress_size // 3 + 64):
        data[i] ^= 0xFF
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))

    with pytest.raises(TemplateError, match="corrupt"):
        read_template(path)


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    monkeypatch.setattr("emissions.template.reader.MAX_UNCOMPRESSED_BYTES", 1_000_000)

    with pytest.raises(TemplateError, match="would unpack to more than 1,000,000 bytes"):
        read_template(example(CEMENT))


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(TemplateError, match="not an Excel workbook"):
        read_template(path)


def test_a_file_larger_than_max_bytes_is_refused_before_parsing(tmp_path):
    path = example(CEMENT)

    with pytest.raises(TemplateError, match="larger than the limit of 1,000,000 bytes"):
        read_template(path, max_bytes=1_000_000)
    with pytest.raises(TemplateError, match="larger than the limit"):
        read_template(io.BytesIO(path.read_bytes()), max_bytes=1_000_000)

    class Upload(io.BytesIO):  # like Django's UploadedFile: the size is known before reading
        size = 50_000_000

        def read(self, *args):
            raise AssertionError("must not be read")

    with pytest.raises(TemplateError, match="larger than the limit"):
        read_template(Upload(), max_bytes=1_000_000)


def test_a_workbook_without_summary_communication_names_the_sheets_present(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Summary"
    workbook.create_sheet("D_Processes")
    path = tmp_path / "renamed.xlsx"
    workbook.save(path)

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    assert problems_of(excinfo) == [
        "Summary_Communication (sheet): sheet 'Summary_Communication' not found; sheets present: "
        "Summary, D_Processes."
    ]


def _bomb(tmp_path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Summary_Communication"
    plain = tmp_path / "plain.xlsx"
    workbook.save(plain)
    dtd = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
        + "]>\n"
    )
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (
                    dtd + f'<worksheet xmlns="{_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
                    "<is><t>&lol9;</t></is></c></row></sheetData></worksheet>"
                ).encode("utf-8")
            out.writestr(info, data)
    return bomb


def test_an_entity_expansion_bomb_is_refused_with_a_clear_message(tmp_path):
    bomb = _bomb(tmp_path)

    with pytest.raises(TemplateError) as excinfo:
        read_template(bomb)
    (problem,) = excinfo.value.problems
    assert problem.sheet == "Summary_Communication"
    assert "entity declarations are not allowed" in problem.message
    assert "xl/worksheets/sheet1.xml" in problem.message


def test_openpyxl_itself_refuses_the_bomb_because_defusedxml_is_installed(tmp_path):
    bomb = _bomb(tmp_path)

    # Our own check runs first; this shows the second line of defence works on its own.
    with pytest.raises(ValueError) as excinfo:
        workbook = openpyxl.load_workbook(bomb, read_only=True)
        list(workbook["Summary_Communication"].iter_rows(values_only=True))
    error = excinfo.value
    assert isinstance(error, DefusedXmlException) or isinstance(error.__cause__, DefusedXmlException)


def test_the_reader_reports_openpyxls_refusal_clearly_too(tmp_path, monkeypatch):
    monkeypatch.setattr("emissions.template.reader._refuse_dtds", lambda archive: None)

    with pytest.raises(TemplateError, match="unsafe XML in the workbook was refused"):
        read_template(_bomb(tmp_path))


# --- bad values, located by sheet and cell -------------------------------------------------


def test_text_in_a_numeric_cell_names_the_sheet_and_cell(tmp_path):
    path = patch_cells(example(CEMENT), tmp_path / "text.xlsx", {"D_Processes!L54": "about a million"})

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    (problem,) = excinfo.value.problems
    assert problem.cell == "D_Processes!L54"
    assert (problem.sheet, problem.row, problem.column) == ("D_Processes", 54, 12)
    assert "DirEm*" in problem.field
    assert "expected a number, found “about a million”" in problem.message


def test_negative_values_are_reported_with_their_cell(tmp_path):
    path = patch_cells(
        example(STEEL_EAF),
        tmp_path / "negative.xlsx",
        {"D_Processes!L65": -1563800, "E_PurchPrec!L49": -1.48},
    )

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    cells = {p.cell: p.message for p in excinfo.value.problems}
    assert set(cells) == {"D_Processes!L65", "E_PurchPrec!L49"}
    assert all("must not be negative" in m for m in cells.values())


def test_a_zero_activity_level_is_reported_at_the_total_production_cell(tmp_path):
    (process,) = read_template(example(CEMENT)).processes
    routes = {ref: 0 for key, ref in process.cells.items() if key.startswith("route:")}
    path = patch_cells(example(CEMENT), tmp_path / "zero.xlsx", routes)

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    (problem,) = excinfo.value.problems
    assert problem.cell == process.cells["activity_level"]
    assert problem.sheet == "D_Processes"
    assert "activity level (total production) is zero" in problem.message


def test_cn_codes_must_have_eight_digits_and_be_in_annex_i(tmp_path):
    path = patch_cells(
        example(STEEL_BF),
        tmp_path / "cn.xlsx",
        {"Summary_Communication!F26": "7208100", "Summary_Communication!F27": "99999999"},
    )

    with pytest.raises(TemplateError) as excinfo:
        read_template(path, annex_i_cn_codes=annex_i_codes())
    assert problems_of(excinfo) == [
        "Summary_Communication!F26 (CN Codes): CN code “7208100” is not 8 digits.",
        "Summary_Communication!F27 (CN Codes): CN code 99999999 is not a good listed in Annex I of "
        "Regulation (EU) 2023/956.",
    ]
    # Without the reference list only the format is checked.
    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    assert [p.cell for p in excinfo.value.problems] == ["Summary_Communication!F26"]


def test_coordinates_out_of_range_are_reported_in_both_sheets(tmp_path):
    path = patch_cells(
        example(CEMENT),
        tmp_path / "coords.xlsx",
        {"Summary_Communication!G18": "95.5°", "A_InstData!I29": "-190.25", "A_InstData!I28": "north"},
    )

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    by_cell = {p.cell: p.message for p in excinfo.value.problems}
    assert "out of range (−90 to 90 degrees)" in by_cell["Summary_Communication!G18"]
    assert "out of range (−180 to 180 degrees)" in by_cell["A_InstData!I29"]
    assert "expected coordinates in decimal degrees" in by_cell["A_InstData!I28"]


def test_an_implausible_see_is_reported_with_the_sector_bound(tmp_path):
    # kg instead of t: 785.2 "tCO2e/t" for cement
    path = patch_cells(
        example(CEMENT),
        tmp_path / "kg.xlsx",
        {"Summary_Communication!I26": 785.2, "Summary_Communication!K26": 907.5},
    )

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    by_cell = {p.cell: p for p in excinfo.value.problems}
    assert set(by_cell) == {"Summary_Communication!I26", "Summary_Communication!K26"}
    assert (
        "above the plausible maximum of 5 tCO2e per unit for cement goods"
        in by_cell["Summary_Communication!I26"].message
    )
    assert by_cell["Summary_Communication!K26"].field == "SEE (total)"


def test_all_problems_of_a_file_are_collected_in_one_error(tmp_path):
    path = patch_cells(
        example(SCREWS),
        tmp_path / "many.xlsx",
        {
            "Summary_Communication!F26": "7318",
            "Summary_Communication!J27": "n/a",
            "D_Processes!L54": -5,
            "E_PurchPrec!L49": "one and a half",
        },
    )

    with pytest.raises(TemplateError) as excinfo:
        read_template(path)
    assert {p.cell for p in excinfo.value.problems} == {
        "Summary_Communication!F26",
        "Summary_Communication!J27",
        "D_Processes!L54",
        "E_PurchPrec!L49",
    }
    assert str(excinfo.value).startswith("The communication template has 4 problems:")


def test_a_missing_label_is_reported_rather_than_guessed(tmp_path):
    path = patch_cells(example(CEMENT), tmp_path / "label.xlsx", {"Summary_Communication!I25": "SEE direct"})

    with pytest.raises(TemplateError, match="the product table header"):
        read_template(path)


def test_an_uploaded_file_object_is_read_like_a_path():
    with example(FERTILISER).open("rb") as handle:
        parsed = read_template(handle)

    assert parsed.summary.products[0].product_name == "NPK 15-15-15"
    assert parsed.source_name == FERTILISER
