"""The pure reading and validation helpers of the import upload (no database)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import pytest

from declarations.ingest import FileProblem, RowValidator, open_table, suggest_mapping
from declarations.ingest import reader as reader_module
from declarations.ingest.validate import BlockLines, FastLines, ReferenceSets, copy_line, parse_quantity

REFS = ReferenceSets(
    cn_units={"72081000": "t", "27160000": "MWh", "25231000": "t clinker"},
    countries={"CN": (False, False), "TR": (False, False), "NO": (False, True), "DE": (True, False)},
    suppliers={"acme steel": 7},
    today=dt.date(2026, 11, 1),
)
HEADER = ["MRN", "Line", "Date", "CN", "Origin", "Production", "Mass", "MWh", "Procedure", "Supplier"]


def table(content: bytes):
    return open_table(io.BytesIO(content), "csv")


def validator(columns=HEADER):
    return RowValidator(columns=columns, mapping=suggest_mapping(columns), refs=REFS)


def test_a_bom_is_dropped_and_the_semicolon_detected():
    t = table("\ufeffMRN;Line\r\n26DE00000000000001;1\r\n".encode())
    assert t.columns == ["MRN", "Line"] and t.delimiter == ";" and t.encoding == "utf-8-sig"
    assert list(t.rows) == [(2, ["26DE00000000000001", "1"])]


def test_cp1252_falls_back_with_a_notice_and_rows_are_numbered_like_a_spreadsheet():
    t = table("Name,Line\r\n\r\nAciérie,1\r\n".encode("cp1252"))
    assert t.encoding == "cp1252" and t.notices
    assert list(t.rows) == [(3, ["Aciérie", "1"])]


def test_a_header_without_separator_is_a_file_problem():
    with pytest.raises(FileProblem, match="separator"):
        table(b"just one column\r\n1\r\n")
    with pytest.raises(FileProblem, match="empty"):
        table(b"")


def test_columns_are_matched_by_name_and_a_saved_mapping_wins():
    assert suggest_mapping(["Net mass (t)", "CN code", "MRN"]) == {
        "mrn": "MRN", "cn_code": "CN code", "net_mass_tonnes": "Net mass (t)"}
    assert suggest_mapping(["Masse", "MRN"], {"net_mass_tonnes": "Masse", "mrn": "Gone"})["net_mass_tonnes"] == "Masse"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1.5", ("1.5", "")), ("1,5", ("1.5", "")), ("1e3", ("1000", "")), ("0.0000001", (None, "At most 6 decimal places.")),
     ("0", (None, "Must be greater than zero.")), ("-2", (None, "Must be greater than zero.")),
     ("1.234,5", (None, "Write the number without thousands separators, e.g. 1234.5.")), ("abc", (None, "Not a number.")),
     ("NaN", (None, "Not a number.")), ("1" * 15, (None, "Too large."))],
)
def test_quantities(raw, expected):
    assert parse_quantity(raw) == expected


def row(**overrides) -> list[str]:
    values = {"MRN": "26DE00000000000001", "Line": "1", "Date": "2026-03-01", "CN": "72081000", "Origin": "CN",
              "Production": "", "Mass": "5", "MWh": "", "Procedure": "", "Supplier": ""}
    values.update(overrides)
    return [values[h] for h in HEADER]


VARIANTS = {
    "MRN": ["26DE00000000000001", "26de00000000000001", " 26DE00000000000001", "X", ""],
    "Line": ["1", "99999", "0", "100000", "01", "a", ""],
    "Date": ["2026-03-01", "01.03.2026", "2025-12-31", "2026-11-02", "2026-02-30", "", "2026-03-01T10:00:00"],
    "CN": ["72081000", "7208 10 00", "7208100090", "27160000", "39011010", "77000000", "123", ""],
    "Origin": ["CN", "cn", "NO", "DE", "XX", ""],
    "Production": ["", "TR", "CN", "XX"],
    "Mass": ["5", "05", "0.5", "5.10", "12345678901234", "5.123456", "5.1234567", "0", "-1", "", "1,5", "00.0"],
    "MWh": ["", "10"],
    "Procedure": ["", "40", "4000", "51", "inward processing", "99", "=cmd|x"],
    "Supplier": ["", "ACME Steel", "Unknown"],
}


def test_the_fast_path_agrees_with_the_full_check_on_every_variant():
    v = validator()
    fast = FastLines(v)
    checked = 0
    for column, values in VARIANTS.items():
        for value, other in itertools.product(values, ["", "27160000"] if column in ("Mass", "MWh") else [""]):
            cells = row(**{column: value, **({"CN": other} if other else {})})
            line = fast(2, list(cells))
            full, errors = v.validate(2, list(cells))
            expected = copy_line(full) if full is not None else None
            assert line is None or line == expected, (column, value)
            checked += 1
    assert checked > 50


def test_errors_name_row_column_value_and_message():
    full, errors = validator().validate(7, row(Date="2099-01-01", Origin="XX", Mass="-1"))
    assert full is None
    assert {(e.row, e.column, e.value) for e in errors} == {(7, "Date", "2099-01-01"), (7, "Origin", "XX"), (7, "Mass", "-1")}


def test_scope_taric_and_electricity():
    v = validator()
    full, _ = v.validate(2, row(CN="7208 10 00 90", Origin="NO"))
    assert full[4:6] == ("72081000", "7208100090") and full[14] is False and "Annex III" in full[15]
    full, errors = v.validate(2, row(CN="27160000", Mass=""))
    assert full is None and errors[0].column == "MWh"
    full, _ = v.validate(2, row(CN="27160000", Mass="", MWh="12.5"))
    assert full[9] == "12.5" and full[14] is True


def csv_module_rows(text: str) -> list[tuple[int, list[str]]]:
    """What the csv module reads from `text` after its header line, numbered like a spreadsheet."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    next(reader)
    return [(n, cells) for n, cells in enumerate(reader, start=2) if cells]


@pytest.mark.parametrize("chunk", [7, 16, 64, 1 << 20])
@pytest.mark.parametrize(
    "text",
    [
        "MRN;Line\r\n26DE00000000000001;1\r\n\r\n26DE00000000000002;2\r\n;\r\nlast;3",
        "MRN;Line\n26DE00000000000001;1\n\n26DE00000000000002;2\n",
        "MRN;Line\n26DE00000000000001;1\n26DE00000000000002;\"two\nlines\"\n\"a;b\";3\nplain;4\n",
        "MRN;Line\rold;1\rmac;2\r",
        "MRN;Line\n26DE00000000000001;1\r\n lone\rreturn;2\n",
    ],
    ids=["crlf-blank-lines", "lf", "quoted-cells-later-on", "cr-only", "lone-cr"],
)
def test_rows_read_in_blocks_are_those_the_csv_module_reads(monkeypatch, text, chunk):
    monkeypatch.setattr(reader_module, "CHUNK", chunk)
    assert list(table(text.encode()).rows) == csv_module_rows(text)
    blocks = list(table(text.encode()).blocks)
    assert list(reader_module.block_rows(iter(blocks), ";")) == csv_module_rows(text)


def test_plain_lines_come_as_lines_and_the_rest_after_a_quote_as_rows(monkeypatch):
    monkeypatch.setattr(reader_module, "CHUNK", 40)
    text = "MRN;Line\n" + "".join(f"26DE{n:014d};{n}\n" for n in range(1, 6)) + '"26DE00000000000009";9\n'
    blocks = list(table(text.encode()).blocks)
    assert blocks[0].lines is not None and blocks[0].first_row == 2
    assert blocks[-1].rows is not None and blocks[-1].rows[-1] == (7, ["26DE00000000000009", "9"])


def test_a_block_of_lines_gives_the_copy_text_of_its_rows_one_by_one():
    v = validator()
    whole = BlockLines(v, ";", "\t1\t2")
    fast = FastLines(v, "\t1\t2")
    rows = [row(MRN=f"26DE{n:014d}", Line=str(n), CN=code, Origin=origin, Production=made_in, Procedure=procedure, Supplier=supplier)
            for n, (code, origin, made_in, procedure, supplier) in enumerate(
                [("72081000", "CN", "", "", ""), ("7208 10 00", "TR", "CN", "40", "ACME Steel"), ("7208100090", "NO", "NO", "51", ""),
                 ("39011010", "DE", "", "inward processing", ""), ("25231000", "cn", "TR", "4000", "acme steel")], start=1)]
    text = whole([";".join(cells) for cells in rows])
    assert text == "".join(fast(n, list(cells)) + "\n" for n, cells in enumerate(rows, start=2))
    assert whole.out_of_scope == fast.out_of_scope == 2


def test_a_block_without_the_optional_columns_and_with_tabs_gives_the_same_copy_text():
    # Only the required cells are looked up (date, CN code, origin): the combination key is built
    # from the mapped ones, joined with the delimiter.
    columns = ["MRN", "Line", "Date", "CN", "Origin", "Mass"]
    v = validator(columns)
    whole = BlockLines(v, "\t", "\t1\t2")
    fast = FastLines(v, "\t1\t2")
    rows = [[f"26DE{n:014d}", str(n), date, code, origin, "5"]
            for n, (date, code, origin) in enumerate(
                [("2026-03-01", "72081000", "CN"), ("2026-03-01", "72081000", "DE"), ("01.03.2026", "7208100090", "NO"),
                 ("2026-03-01", "72081000", "CN")], start=1)]
    text = whole(["\t".join(cells) for cells in rows])
    assert text == "".join(fast(n, list(cells)) + "\n" for n, cells in enumerate(rows, start=2))
    assert text.count("\tt\t") == 2 and whole.out_of_scope == 2
    assert whole(["\t".join(rows[0][:2] + ["2025-12-31"] + rows[0][3:])]) is None  # known key, bad date


def test_a_block_with_anything_unsure_is_left_to_the_row_by_row_check():
    v = validator()
    whole = BlockLines(v, ";", "\t1\t2")
    fast = FastLines(v, "\t1\t2")
    good = ";".join(row())
    assert whole([good, good]) is not None
    for column, values in VARIANTS.items():
        for value, other in itertools.product(values, ["", "27160000"] if column in ("Mass", "MWh") else [""]):
            cells = row(**{column: value, **({"CN": other} if other else {})})
            text = whole([good, ";".join(cells)])
            one = fast(3, list(cells))
            assert text is None or (one is not None and text.endswith(one + "\n")), (column, value)
    assert whole([good, "", good]) is None  # a blank line
    assert whole([good, good + ";"]) is None  # one cell too many
    assert whole([good, "26DE00000000000001;1"]) is None  # too few
