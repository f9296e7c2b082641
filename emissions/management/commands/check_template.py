"""`manage.py check_template FILE [--json]`: read a communication template, compute SEE with the
portal's engine and print it next to the template's own values. Saves nothing.

Exits non-zero, listing every problem with its sheet and cell, when the file cannot be used.
The Annex I list comes from the loaded reference data, or from the opencbam package when no
database is available.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from emissions.see import SeeInputError, calculate_installation
from emissions.services.template_import import cn_lists, decimal_str, problems_as_dicts
from emissions.template import Problem, TemplateError, compare, read_template, to_see_inputs


def check(path: Path, *, max_bytes: int) -> dict:
    """The whole check as one JSON-friendly dict (decimals as strings with 5 places)."""
    lists = cn_lists()
    report: dict = {
        "file": path.name,
        "annex_i_source": lists.source,
        "installation": {},
        "processes": [],
        "goods": [],
        "differences": [],
        "errors": [],
    }
    try:
        parsed = read_template(path, max_bytes=max_bytes, annex_i_cn_codes=set(lists.annex_i))
    except TemplateError as exc:
        report["errors"] = problems_as_dicts(exc.problems)
        return report
    inst = parsed.installation
    summary = parsed.summary.installation
    report["template_version"] = parsed.template_version
    report["installation"] = {
        "name": (inst.name or inst.name_english) if inst else summary.name,
        "name_en": inst.name_english if inst else "",
        "street": inst.street if inst else summary.street,
        "city": inst.city if inst else summary.city,
        "country": inst.country_code if inst else summary.country_code,
        "unlocode": inst.unlocode if inst else summary.unlocode,
        "latitude": str(inst.latitude if inst else summary.latitude)
        if (inst or summary).latitude is not None
        else None,
        "longitude": str(inst.longitude if inst else summary.longitude)
        if (inst or summary).longitude is not None
        else None,
        "economic_activity": inst.economic_activity if inst else summary.economic_activity,
        "period_start": str((inst.period_start if inst else summary.period_start) or ""),
        "period_end": str((inst.period_end if inst else summary.period_end) or ""),
    }
    report["processes"] = [
        {
            "id": p.id,
            "name": p.name,
            "aggregated_good": p.aggregated_good,
            "activity_level": str(p.activity_level),
            "direct_emissions_tco2e": str(p.direct_emissions_tco2e)
            if p.direct_emissions_tco2e is not None
            else None,
        }
        for p in parsed.processes
    ]
    try:
        result = calculate_installation(to_see_inputs(parsed, annex_ii_cn_codes=lists.annex_ii))
    except TemplateError as exc:
        report["errors"] = problems_as_dicts(exc.problems)
        return report
    except SeeInputError as exc:
        report["errors"] = problems_as_dicts([Problem(str(exc), sheet="D_Processes")])
        return report
    comparison = compare(parsed, result)
    for row in comparison.rows:
        report["goods"].append(
            {
                "cn_code": row.cn_code,
                "product_name": row.product_name,
                "process": row.process_name,
                "see_direct": decimal_str(row.computed_see_direct),
                "see_indirect": decimal_str(row.computed_see_indirect),
                "see_total": decimal_str(row.computed_see_total),
                "template_see_direct": decimal_str(row.template_see_direct),
                "template_see_indirect": decimal_str(row.template_see_indirect),
                "template_see_total": decimal_str(row.template_see_total),
                "default_share": decimal_str(row.computed_default_share),
                "embedded_electricity_mwh_per_unit": decimal_str(row.computed_embedded_electricity_mwh_per_t),
                "annex_ii": row.cn_code in lists.annex_ii,
            }
        )
    report["differences"] = [
        {
            "cn_code": d.cn_code,
            "product_name": d.product_name,
            "field": d.field,
            "cell": d.cell,
            "template": decimal_str(d.template),
            "computed": decimal_str(d.computed),
        }
        for d in comparison.differences
    ]
    return report


class Command(BaseCommand):
    help = "Read a CBAM communication template (.xlsx), compute SEE and compare with the template. Saves nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the filled communication template (.xlsx)")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")

    def handle(self, *args, **options):
        from django.conf import settings

        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        report = check(path, max_bytes=settings.CBAM_MAX_UPLOAD_BYTES)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            self._print(report)
        if report["errors"]:
            raise CommandError(
                f"{path.name}: {len(report['errors'])} problem(s); the template cannot be used.", returncode=2
            )

    def _print(self, report: dict) -> None:
        out = self.stdout
        out.write(f"File: {report['file']}  (Annex I list: {report['annex_i_source']})")
        if report["errors"]:
            out.write(self.style.ERROR("Problems:"))
            for error in report["errors"]:
                out.write(
                    f"  {error['cell'] or 'file'}: {error['message']}"
                    + (f" [{error['field']}]" if error["field"] else "")
                )
            return
        inst = report["installation"]
        out.write(self.style.MIGRATE_HEADING("Installation"))
        out.write(
            f"  {inst['name']}, {inst['city']} ({inst['country']}), UN/LOCODE {inst['unlocode']}, "
            f"{inst['latitude']}, {inst['longitude']}; period {inst['period_start']} – {inst['period_end']}"
        )
        out.write(self.style.MIGRATE_HEADING("Processes"))
        for p in report["processes"]:
            out.write(
                f"  {p['id']:<4} {p['name']} [{p['aggregated_good']}] activity level {p['activity_level']}"
            )
        out.write(self.style.MIGRATE_HEADING("Goods: SEE (tCO2e per unit) computed | template"))
        header = f"  {'CN':<9} {'direct':>9} {'indirect':>9} {'total':>9} | {'direct':>9} {'indirect':>9} {'total':>9}  product"
        out.write(header)
        for g in report["goods"]:
            out.write(
                f"  {g['cn_code']:<9} {g['see_direct'] or '-':>9} {g['see_indirect'] or '-':>9} {g['see_total'] or '-':>9} | "
                f"{g['template_see_direct'] or '-':>9} {g['template_see_indirect'] or '-':>9} "
                f"{g['template_see_total'] or '-':>9}  {g['product_name']}"
            )
        if report["differences"]:
            out.write(
                self.style.WARNING(
                    f"{len(report['differences'])} difference(s) between the template and the portal:"
                )
            )
            for d in report["differences"]:
                out.write(
                    f"  {d['cell']} {d['field']} CN {d['cn_code']}: template {d['template']}, computed {d['computed']}"
                )
        else:
            out.write(self.style.SUCCESS("The template's SEE agree with the portal's calculation."))
