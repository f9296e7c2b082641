"""``manage.py assess``: certificates due for one good, by the declaration's engine."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from declarations.assessment import AssessmentError, AssessmentInput, assess_good, assessment_as_dict


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"--release-date: “{raw}” is not a date (YYYY-MM-DD)") from None


_date.__name__ = "date"


def _decimal(option: str):
    def parse(raw: str) -> Decimal:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{option}: “{raw}” is not a number") from None
        if not value.is_finite():
            raise ValueError(f"{option}: “{raw}” is not a finite number")
        return value

    parse.__name__ = "number"
    return parse


class Command(BaseCommand):
    help = (
        "Assess the CBAM certificates due for one good (default values with the year's mark-up, "
        "or actual SEE with --see-direct), with the trace and the reference datasets used."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cn", required=True, help="8-digit CN code, e.g. 72081000 or '7208 10 00'.")
        parser.add_argument("--country", required=True, help="ISO 3166 alpha-2 country of origin.")
        parser.add_argument("--mass", required=True, type=_decimal("--mass"), help="Net mass in tonnes.")
        parser.add_argument("--year", required=True, type=int, help="Year of import (from 2026).")
        parser.add_argument(
            "--quarter", type=int, choices=(1, 2, 3, 4), help="Quarter of import (2026 prices)."
        )
        parser.add_argument(
            "--release-date",
            type=_date,
            help="Date of release (YYYY-MM-DD): from 2027 the weekly price of that date; gives the quarter.",
        )
        parser.add_argument("--price", type=_decimal("--price"), help="Certificate price in EUR.")
        parser.add_argument("--see-direct", type=_decimal("--see-direct"), help="Actual direct SEE.")
        parser.add_argument("--see-indirect", type=_decimal("--see-indirect"), help="Actual indirect SEE.")
        parser.add_argument(
            "--route", default="", help="Production route (e.g. A, B, C, K) where several exist."
        )
        parser.add_argument(
            "--carbon-price-paid",
            type=_decimal("--carbon-price-paid"),
            help="Carbon price effectively paid abroad, EUR per unit (actual data only).",
        )
        parser.add_argument(
            "--functional-unit-mass",
            type=_decimal("--functional-unit-mass"),
            help="Quantity in the functional unit: t clinker contained (cement) or kg N (fertilisers).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        data = AssessmentInput(
            cn=options["cn"],
            country=options["country"],
            mass=options["mass"],
            year=options["year"],
            quarter=options["quarter"],
            price=options["price"],
            price_day=options["release_date"],
            see_direct=options["see_direct"],
            see_indirect=options["see_indirect"],
            route=options["route"] or "",
            carbon_price_paid=options["carbon_price_paid"],
            functional_unit_mass=options["functional_unit_mass"],
        )
        try:
            assessment = assess_good(data)
        except AssessmentError as exc:
            raise CommandError(f"--{exc.field.replace('_', '-')}: {exc.message}") from None
        result = assessment_as_dict(assessment)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self._print(result)

    def _print(self, r: dict) -> None:
        out = self.stdout.write
        out(
            f"{r['cn_display']} from {r['country']}, {r['year']}"
            + (f" Q{r['quarter']}" if r["quarter"] else "")
        )
        if not r["in_scope"]:
            out(r["message"])
            return
        rows = [
            ("SEE used (tCO2e/unit)", f"{r['see_used']}  [{r['source']}: {r['source_detail']}]"),
            ("Quantity", f"{r['quantity']} {r['functional_unit']}"),
            ("Embedded emissions (tCO2e)", r["embedded_emissions"]),
            (
                "Benchmark (tCO2e/t)",
                f"{r['benchmark']}  [Column {r['benchmark_column']}, route {r['benchmark_route'] or '–'}]",
            ),
            (
                "SEFA (tCO2e/unit)",
                f"{r['sefa']}  [CBAM factor {r['cbam_factor']} × CSCF {r['cscf']} × benchmark]",
            ),
            ("Free allocation adjustment (tCO2e)", r["free_allocation_adjustment"]),
            ("Carbon price deduction (tCO2e)", r["carbon_price_deduction"]),
            ("Certificates due", r["certificates_due"]),
            ("Cost (EUR)", f"{r['cost_eur'] if r['cost_eur'] is not None else '—'}  [{r['price_source']}]"),
        ]
        width = max(len(k) for k, _v in rows)
        for key, value in rows:
            out(f"{key.ljust(width)}  {value}")
        out("")
        out("Why:")
        for i, step in enumerate(r["trace"], 1):
            out(f"{i:>2}. {step['description']} = {step['result']}")
            out(f"    {step['rule']}")
            for name, value in step["inputs"].items():
                out(f"      {name}: {value}")
        out("")
        out(
            "Reference data: "
            + "; ".join(f"{d['legal_act']} {d['version']} (#{d['id']})" for d in r["datasets"].values())
        )
