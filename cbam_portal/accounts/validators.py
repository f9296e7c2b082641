import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EORI_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,15}$")


def normalise_eori(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_eori(value: str) -> None:
    """EORI: a two-letter country prefix followed by up to 15 letters or digits (17 at most)."""
    if not EORI_RE.fullmatch(normalise_eori(value)):
        raise ValidationError(
            _("%(value)s is not a valid EORI: expected a 2-letter country code followed by 1 to 15 letters or digits (e.g. DE123456789012345)."),
            code="invalid_eori",
            params={"value": value},
        )
