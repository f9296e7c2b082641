"""How the declaration pages show numbers, statuses, sources and the "why?" trace.

One display precision per kind of quantity, always through :func:`emissions.see.quantise`
(presentation only: stored values keep their full precision):

- mass and quantities (t): 3 decimals
- SEE, SEFA and benchmarks (tCO2e/t): 5 decimals ([IR2547] Annex II A.1(8))
- embedded emissions, FAA, deductions (tCO2e) and certificates: 3 decimals
- money (EUR): 2 decimals with thousands separators

``{% load declaration_format %}`` then ``{{ g.mass_tonnes|tonnes }}``, ``{{ g.see_used|see }}``,
``{{ g.embedded_t_co2e|tco2e }}``, ``{{ g.certificates|certificates }}``, ``{{ g.cost_eur|eur }}``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _

from cbam_portal.reference.models import DatasetKind
from emissions.see import EUR_PLACES, SEE_PLACES, quantise

from ..models import DeclarationStatus, EmissionsSource

register = template.Library()

TONNES_PLACES = 3
T_CO2E_PLACES = 3
CERTIFICATE_PLACES = 3
#: Trace numbers are shown at most this fine; the full value stays in the tooltip.
TRACE_PLACES = SEE_PLACES
EMPTY = "–"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def display_number(value, places: int, *, grouped: bool = False) -> str:
    """``value`` rounded half-up to ``places`` decimals for display; '–' when there is none."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value in (None, "") else str(value)
    rounded = quantise(number, places)
    return f"{rounded:,.{places}f}" if grouped else f"{rounded:.{places}f}"


@register.filter
def exact(value) -> str:
    """The stored value in full, without trailing zeros (for a tooltip next to a rounded one)."""
    number = _decimal(value)
    if number is None:
        return ""
    text = format(number, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) or "0"


@register.filter
def fixed(value, places: int = 3) -> str:
    """``{{ value|fixed:3 }}``: exactly ``places`` decimals."""
    return display_number(value, int(places))


@register.filter
def tonnes(value) -> str:
    return display_number(value, TONNES_PLACES)


@register.filter
def see(value) -> str:
    return display_number(value, SEE_PLACES)


@register.filter
def tco2e(value) -> str:
    return display_number(value, T_CO2E_PLACES)


@register.filter
def certificates(value) -> str:
    return display_number(value, CERTIFICATE_PLACES)


@register.filter
def eur(value) -> str:
    """12345.6789 -> '12,345.68'."""
    return display_number(value, EUR_PLACES, grouped=True)


#: Bootstrap badge class per declaration status, the same in the list and on the page.
STATUS_BADGES = {
    DeclarationStatus.DRAFT: "text-bg-secondary",
    DeclarationStatus.IN_REVIEW: "text-bg-warning",
    DeclarationStatus.APPROVED: "text-bg-primary",
    DeclarationStatus.FILED: "text-bg-success",
    DeclarationStatus.AMENDED: "text-bg-dark",
}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-secondary")


SOURCE_LABELS = {
    EmissionsSource.ACTUAL: _("Actual data from the operator's report"),
    EmissionsSource.DEFAULT: _("Default values"),
}
SOURCE_SHORT_LABELS = {EmissionsSource.ACTUAL: _("actual"), EmissionsSource.DEFAULT: _("default")}


@register.filter
def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))


@register.filter
def source_short(source: str) -> str:
    return str(SOURCE_SHORT_LABELS.get(source, source))


# --------------------------------------------------------------------------------------------
# The "why?" page
# --------------------------------------------------------------------------------------------


@register.filter
def dataset_kind_label(kind: str) -> str:
    try:
        return str(DatasetKind(kind).label)
    except ValueError:
        return kind.replace("_", " ")


@register.filter
def dataset_label(dataset: dict) -> str:
    """'Directive 2003/87/EC Art 10a(1a) … 2023/959 (#5)': the version once, with the dataset id."""
    if not isinstance(dataset, dict):
        return str(dataset)
    act, version = str(dataset.get("legal_act") or ""), str(dataset.get("version") or "")
    name = act if not version or version in act else f"{act} {version}".strip()
    return f"{name} (#{dataset['id']})" if dataset.get("id") is not None else name


def trace_value(value) -> dict:
    """A trace number at a readable precision, with the full value for the tooltip when rounded."""
    number = _decimal(value)
    if number is None or not isinstance(value, str | int | float | Decimal):
        return {"text": str(value), "full": ""}
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > TRACE_PLACES:
        shown = format(quantise(number, TRACE_PLACES).normalize(), "f")
        return {"text": shown, "full": str(value)}
    return {"text": str(value), "full": ""}


def _is_zero(value) -> bool:
    number = _decimal(value)
    return number is not None and number == 0


def _names_a_dataset(name: str) -> bool:
    """'dataset cscf', 'CSCF dataset': inputs that only repeat the list of reference data used."""
    lowered = name.lower()
    return lowered == "dataset" or lowered.startswith("dataset ") or lowered.endswith(" dataset")


@register.filter
def trace_steps(trace) -> list[dict]:
    """The steps of a group's trace ready to show.

    Inputs naming a reference dataset are left out (the datasets are listed once under the
    steps), and a step whose result means nothing shows none: a zero result of a step with no
    numeric input is informational (a choice, a reported price not deducted).
    """
    steps = []
    for step in trace or []:
        inputs = [
            {"name": name, **trace_value(value)}
            for name, value in (step.get("inputs") or {}).items()
            if not _names_a_dataset(str(name))
        ]
        numeric_inputs = any(_decimal(i["full"] or i["text"]) is not None for i in inputs)
        result = step.get("result")
        show_result = result not in (None, "") and (not _is_zero(result) or numeric_inputs)
        steps.append(
            {
                "description": step.get("description", ""),
                "rule": step.get("rule", ""),
                "inputs": inputs,
                "result": trace_value(result) if show_result else None,
            }
        )
    return steps
