"""Display of published values: as many decimals as stored, but at least as many as the Annex prints."""

from decimal import Decimal

from django import template

from ..codes import format_cn

register = template.Library()


@register.filter
def refnum(value, min_places: int = 3) -> str:
    """3.187000 -> '3.187', 3.186893 -> '3.186893', 0.870000 -> '0.870'; None -> '–'."""
    if value is None or value == "":
        return "–"
    number = Decimal(value)
    places = max(-number.normalize().as_tuple().exponent, int(min_places), 0)
    return f"{number:.{places}f}"


@register.filter
def cn(code) -> str:
    """A keyed CN code grouped as printed: '72081000' -> '7208 10 00', '721922' -> '7219 22'."""
    return format_cn(str(code or ""))
