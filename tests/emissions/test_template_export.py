"""Writing ``Summary_Communication`` in the Commission layout, and reading it back."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace

import openpyxl
import pytest

from emissions.see import quantise
from emissions.template import export_summary, read_template
from emissions.template.layout import PRODUCT_COLUMNS
from tests.conftest import require_shared_data
from tests.emissions.test_template_reader import ALL_EXAMPLES, STEEL_EAF, example


def _labels(path_or_bytes, *, last_row: int = 25, last_col: int = 53) -> dict[str, str]:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    sheet = workbook["Summary_Communication"]
    labels = {}
    for row in sheet.iter_rows(min_row=3, max_row=last_row, max_col=last_col):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip():
                labels[cell.coordinate] = cell.value
    workbook.close()
    return labels


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_export_then_read_gives_back_the_same_see_values(name):
    original = read_template(example(name))

    exported = read_template(export_summary(original))

    assert exported.sheet_names == ("Summary_Communication",)
    assert exported.summary.installation == original.summary.installation
    assert exported.summary.goods == original.summary.goods
    assert exported.summary.processes == original.summary.processes
    assert len(exported.summary.products) == len(original.summary.products)
    for before, after in zip(original.summary.products, exported.summary.products, strict=True):
        assert (after.cn_code, after.product_name, after.process_name) == (
            before.cn_code,
            before.product_name,
            before.process_name,
        )
        for attr in (
            "see_direct",
            "see_indirect",
            "see_total",
            "default_share",
            "embedded_electricity_mwh_per_t",
        ):
            # Excel keeps doubles; the file carries 16 significant digits.
            assert abs(getattr(after, attr) - getattr(before, attr)) < D("1e-13")
            assert quantise(getattr(after, attr)) == quantise(getattr(before, attr))
    assert exported.summary.total_tco2e == original.summary.total_tco2e


def test_export_keeps_qualifying_parameters_and_carbon_price_fields():
    original = read_template(example(STEEL_EAF))

    after = read_template(export_summary(original)).summary.products[1]

    assert (after.mn_pct, after.cr_pct, after.ni_pct, after.carbon_pct) == (
        D("0.014"),
        D("0.18"),
        D("0.1"),
        D("0.0005"),
    )
    assert after.steel_mill_id == "623108"
    assert (after.currency, after.carbon_price_due_unit) == ("USD", "USD/t")
    assert quantise(after.effective_carbon_price_due, 2) == D("15.57")
    assert after.carbon_price_emissions_covered_unit == "tCO2e/t"


def test_export_reproduces_the_labels_and_positions_of_the_commission_template_v2_1_1():
    template = require_shared_data("commission-workbooks", "communication_template.xlsx")
    expected = _labels(template)
    ids = {
        c
        for c, v in expected.items()
        if v in {f"G{n}" for n in range(1, 11)} | {f"P{n}" for n in range(1, 11)}
    }

    written = _labels(export_summary(SimpleNamespace()))

    missing = {c: v for c, v in expected.items() if written.get(c) != v and c not in ids}
    assert missing == {}
    # The template numbers its rows G1, G1, G3, ... (a formula slip); the export writes G1..G10.
    assert sorted(written[c] for c in ids if c.startswith("H")) == sorted(f"G{n}" for n in range(1, 11))
    assert sorted(written[c] for c in ids if c.startswith("Q")) == sorted(f"P{n}" for n in range(1, 11))


def test_export_writes_the_product_columns_in_the_template_order():
    workbook = openpyxl.load_workbook(io.BytesIO(export_summary(SimpleNamespace())), read_only=True)
    header = next(workbook["Summary_Communication"].iter_rows(min_row=25, max_row=25, values_only=True))

    labels = [v for v in header if v]
    assert labels == [c.label for c in PRODUCT_COLUMNS]
    assert header[3] == "Production process from which the products arise"  # column D
    assert header[15] == "Electricity EF (tCO2/MWh)"  # column P, as in v2.1.1


def test_export_accepts_a_report_like_object_and_writes_to_a_target(tmp_path):
    report = SimpleNamespace(
        installation=SimpleNamespace(
            name="Anatolia Cement",
            country_code="TR",
            city="Izmir",
            latitude=D("38.423734"),
            longitude=D("27.142826"),
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
        ),
        products=[
            SimpleNamespace(
                process_name="Clinker and cement",
                cn_code="25232900",
                product_name="CEM I 42.5",
                see_direct=D("0.7852147410358565"),
                see_indirect=D("0.12224275"),
                see_total=D("0.9074574910358565"),
                unit="tCO2e/t",
                clinker_factor=D("0.95"),
            )
        ],
        total_direct_tco2e=D("1037310"),
    )
    target = tmp_path / "summary.xlsx"

    data = export_summary(report, target)

    assert target.read_bytes() == data
    parsed = read_template(target)
    assert parsed.summary.installation.name == "Anatolia Cement"
    assert parsed.summary.installation.latitude == D("38.423734")
    assert parsed.summary.installation.period_end == date(2026, 12, 31)
    (product,) = parsed.summary.products
    assert (product.cn_code, quantise(product.see_total), product.clinker_factor) == (
        "25232900",
        D("0.90746"),
        D("0.95"),
    )
    buffer = io.BytesIO()
    export_summary(report, buffer)
    assert read_template(buffer.getvalue()).summary == read_template(data).summary
