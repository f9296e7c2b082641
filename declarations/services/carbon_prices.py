"""Writes: claims for a carbon price effectively paid in a third country ([R956] Art 9).

A preparer records, on a group of a draft declaration whose embedded emissions are actual data,
the carbon price paid abroad for those goods: price per tCO2e in its currency, the yearly average
exchange rate to the euro, rebates or other compensation to net, the share (or quantity) of the
embedded emissions it covered, and the evidence Art 9(2)–(3) asks for (an independent certifier,
the legal act, proof of payment, a document).

The recalculation converts an active claim into euro per tonne of goods and hands it to the
liability engine as ``AssessmentInput.carbon_price_paid``, which turns it into certificates at the
certificate price of the group ([R956] Art 9(1)). The conversion method of the implementing act
under Art 9(5) is not adopted yet: the trace says the method is provisional.

Claims are keyed like overrides (CN code, country, installation, quarter), so they survive every
recalculation. A claim on a group that falls back to default values is kept but not applied
([OMN] Art 9(1), (4): with default values only a published default carbon price could be used).
Claims are frozen with the declaration once it leaves draft and are part of the filed snapshot.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation, localcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record
from cbam_portal.reference import selectors as reference_selectors
from emissions.see import CALC_CONTEXT, TraceStep

from ..assessment import Assessment, AssessmentError, AssessmentInput, assess_good, decimal_text
from ..models import (
    CarbonPriceClaim,
    CarbonPriceCoverage,
    ChangeTrigger,
    Declaration,
    DeclarationGroup,
    DeclarationStatus,
    EmissionsSource,
)

ZERO = Decimal(0)
ONE = Decimal(1)
#: Evidence documents: what a certifier's statement or a payment proof usually comes as.
EVIDENCE_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx", ".odt")
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
_CURRENCY = re.compile(r"^[A-Z]{3}$")

_RULE_CLAIM = "Reg (EU) 2023/956 Art 9(1)–(3) (as amended by Reg (EU) 2025/2083 Art 1(8))"
_RULE_PROVISIONAL = (
    "Reg (EU) 2023/956 Art 9(5) (as amended by Reg (EU) 2025/2083 Art 1(8)): implementing act on the "
    "conversion not yet adopted"
)
_RULE_DEFAULT_ONLY = (
    "Reg (EU) 2023/956 Art 9(1), (4) (as amended by Reg (EU) 2025/2083 Art 1(8)): a carbon price "
    "actually paid is deducted only with actual emissions"
)

CLAIM_FIELDS = (
    "paid_in_country",
    "instrument",
    "price_per_t_co2e",
    "currency",
    "currency_per_eur",
    "rebate_per_t_co2e",
    "coverage",
    "share_covered",
    "covered_t_co2e",
    "certifier_name",
    "legal_act_reference",
    "payment_reference",
    "note",
)


def _max_evidence_bytes() -> int:
    return min(getattr(settings, "CBAM_MAX_UPLOAD_BYTES", EVIDENCE_MAX_BYTES), EVIDENCE_MAX_BYTES)


def _decimal(value, field: str, errors: dict, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            errors[field] = [_("This field is required.")]
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite():
        errors[field] = [_("Enter a number.")]
        return None
    return number


def _check_evidence(evidence, errors: dict) -> None:
    if evidence is None:
        errors["evidence"] = [
            _("Attach the evidence certified by an independent person (Art 9(2)): PDF or image.")
        ]
        return
    name = (getattr(evidence, "name", "") or "").lower()
    if not name.endswith(EVIDENCE_EXTENSIONS):
        errors["evidence"] = [
            _("The evidence must be one of: %(ext)s.") % {"ext": ", ".join(EVIDENCE_EXTENSIONS)}
        ]
    elif evidence.size == 0:
        errors["evidence"] = [_("The file is empty.")]
    elif evidence.size > _max_evidence_bytes():
        errors["evidence"] = [
            _("The file is too large (at most %(mb)s MB).") % {"mb": _max_evidence_bytes() // (1024 * 1024)}
        ]
    elif name.endswith(".pdf"):
        head = evidence.read(5)
        evidence.seek(0)
        if head != b"%PDF-":
            errors["evidence"] = [_("This file is not a PDF document.")]


def _clean(data: dict, errors: dict) -> dict:
    """Checked claim fields; every problem is named by its field in ``errors``."""
    cleaned: dict = {}
    for text in ("instrument", "certifier_name", "legal_act_reference", "payment_reference"):
        value = (data.get(text) or "").strip()
        if not value:
            errors[text] = [_("This field is required (evidence of Art 9(2)).")]
        cleaned[text] = value[: 300 if text == "legal_act_reference" else 200]
    cleaned["note"] = (data.get("note") or "").strip()[:5000]

    country = (data.get("paid_in_country") or "").strip().upper()
    known = reference_selectors.country_get(country) if len(country) == 2 else None
    if known is None:
        errors["paid_in_country"] = [_("Give the ISO 3166 alpha-2 code of the country where it was paid.")]
    elif known.is_eu:
        errors["paid_in_country"] = [
            _("%(name)s is an EU member state: Art 9 covers a carbon price paid in a third country.")
            % {"name": known.name}
        ]
    cleaned["paid_in_country"] = country

    currency = (data.get("currency") or "EUR").strip().upper()
    if not _CURRENCY.match(currency):
        errors["currency"] = [_("Give a three-letter ISO 4217 currency code, e.g. CNY.")]
    cleaned["currency"] = currency

    price = _decimal(data.get("price_per_t_co2e"), "price_per_t_co2e", errors)
    if price is not None and price <= 0:
        errors["price_per_t_co2e"] = [_("The carbon price paid must be greater than zero.")]
    cleaned["price_per_t_co2e"] = price

    rebate = _decimal(data.get("rebate_per_t_co2e"), "rebate_per_t_co2e", errors, required=False) or ZERO
    if rebate < 0:
        errors["rebate_per_t_co2e"] = [_("A rebate cannot be negative.")]
    elif price is not None and price > 0 and rebate >= price:
        errors["rebate_per_t_co2e"] = [
            _("The rebate or compensation cancels the whole price paid: there is nothing to deduct.")
        ]
    cleaned["rebate_per_t_co2e"] = rebate

    rate = _decimal(data.get("currency_per_eur"), "currency_per_eur", errors, required=currency != "EUR")
    if currency == "EUR":
        if rate is not None and rate != ONE:
            errors["currency_per_eur"] = [_("A price in euro has an exchange rate of 1.")]
        rate = ONE
    elif rate is not None and rate <= 0:
        errors["currency_per_eur"] = [_("The exchange rate must be greater than zero.")]
    cleaned["currency_per_eur"] = rate

    coverage = data.get("coverage") or ""
    share = _decimal(data.get("share_covered"), "share_covered", errors, required=False)
    covered = _decimal(data.get("covered_t_co2e"), "covered_t_co2e", errors, required=False)
    if coverage not in CarbonPriceCoverage.values:
        errors["coverage"] = [_("Say whether the price covered a share of the emissions or a quantity.")]
    elif coverage == CarbonPriceCoverage.SHARE:
        if share is None:
            errors.setdefault(
                "share_covered", [_("Give the share of the embedded emissions covered (0 to 1).")]
            )
        elif not ZERO < share <= ONE:
            errors["share_covered"] = [_("The share covered must be more than 0 and at most 1 (100 %).")]
        covered = None
    else:
        if covered is None:
            errors.setdefault("covered_t_co2e", [_("Give the emissions covered, in tCO2e.")])
        elif covered <= 0:
            errors["covered_t_co2e"] = [_("The emissions covered must be greater than zero.")]
        share = None
    cleaned.update({"coverage": coverage, "share_covered": share, "covered_t_co2e": covered})
    return cleaned


def _lock_draft(declaration: Declaration, action: str) -> Declaration:
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    if declaration.status != DeclarationStatus.DRAFT:
        raise ValidationError(
            _("This declaration is %(status)s: carbon price claims can only be %(action)s on a draft.")
            % {"status": declaration.get_status_display().lower(), "action": action}
        )
    return declaration


def _recompute(declaration: Declaration, actor: Actor) -> None:
    from .changes import recompute_cause
    from .declarations import _compute_into  # the recalculation of the declaration service

    with recompute_cause(trigger=ChangeTrigger.CLAIM, actor=actor):
        _compute_into(declaration)


def claim_state(claim: CarbonPriceClaim) -> dict:
    """The claim as plain values (audit trail, filed snapshot)."""
    state = {
        "id": claim.pk,
        "cn_code": claim.cn_code,
        "country": claim.country,
        "installation_id": claim.installation_id,
        "quarter": claim.quarter,
        "evidence": claim.evidence_name,
        "created_by": claim.created_by_id,
        "created_at": claim.created_at.isoformat() if claim.created_at else None,
    }
    for f in CLAIM_FIELDS:
        value = getattr(claim, f)
        state[f] = decimal_text(value) if isinstance(value, Decimal) else value
    return state


@transaction.atomic
def carbon_price_claim_create(
    *, actor: Actor, declaration: Declaration, group_id: int, evidence=None, **fields
) -> CarbonPriceClaim:
    """Record a claim for the carbon price paid abroad on one group of a draft and recalculate.

    Refused on groups computed with default values: only actual emissions allow deducting a
    carbon price actually paid ([R956] Art 9(1) as amended by [OMN] Art 1(8)).
    """
    declaration = _lock_draft(declaration, _("recorded"))
    group = DeclarationGroup.objects.filter(declaration=declaration, pk=group_id).first()
    if group is None:
        raise ValidationError({"group": _("This group is not part of the declaration.")})
    if group.effective_source != EmissionsSource.ACTUAL:
        raise ValidationError(
            {
                "group": _(
                    "This group uses default values: a carbon price paid abroad can only be deducted "
                    "when the embedded emissions are actual data (Art 9(1) of Regulation (EU) 2023/956). "
                    "Obtain the operator's report first."
                )
            }
        )
    unknown = set(fields) - set(CLAIM_FIELDS)
    if unknown:
        raise ValidationError(
            {"non_field_errors": _("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))}}
        )
    errors: dict[str, list[str]] = {}
    cleaned = _clean(fields, errors)
    _check_evidence(evidence, errors)
    if errors:
        raise ValidationError(errors)
    active = CarbonPriceClaim.objects.filter(
        declaration=declaration,
        cn_code=group.cn_code,
        country=group.country,
        installation_id=group.installation_id,
        quarter=group.quarter,
        withdrawn_at__isnull=True,
    )
    if active.exists():
        raise ValidationError(
            {"group": _("This group already has a carbon price claim: withdraw it before recording another.")}
        )
    claim = CarbonPriceClaim(
        declaration=declaration,
        cn_code=group.cn_code,
        country=group.country,
        installation_id=group.installation_id,
        quarter=group.quarter,
        created_by=actor.user,
        **cleaned,
    )
    original = evidence.name.rsplit("/", 1)[-1][:255]
    claim.evidence.save(original, evidence, save=False)
    claim.evidence_name = original
    claim.save()
    _recompute(declaration, actor)
    audit_record(
        actor=actor,
        verb="declaration.carbon_price_claimed",
        organisation=declaration.organisation,
        target=declaration,
        after=claim_state(claim),
    )
    return claim


@transaction.atomic
def carbon_price_claim_withdraw(
    *, actor: Actor, declaration: Declaration, claim_id: int, reason: str = ""
) -> CarbonPriceClaim:
    """Withdraw a claim while the declaration is a draft; it stays on record, no longer applied."""
    declaration = _lock_draft(declaration, _("withdrawn"))
    claim = CarbonPriceClaim.objects.filter(declaration=declaration, pk=claim_id).first()
    if claim is None:
        raise ValidationError({"claim": _("This claim is not part of the declaration.")})
    if not claim.is_active:
        raise ValidationError({"claim": _("This claim was already withdrawn.")})
    claim.withdrawn_at = timezone.now()
    claim.withdrawn_by = actor.user
    claim.withdrawal_reason = (reason or "").strip()[:5000]
    claim.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    _recompute(declaration, actor)
    audit_record(
        actor=actor,
        verb="declaration.carbon_price_claim_withdrawn",
        organisation=declaration.organisation,
        target=declaration,
        before=claim_state(claim),
        after={"id": claim.pk, "withdrawn_at": claim.withdrawn_at, "reason": claim.withdrawal_reason},
    )
    return claim


def carbon_price_claims_copy(*, source: Declaration, target: Declaration) -> int:
    """Carry the active claims of a filed version into its amendment (same evidence file)."""
    copies = []
    for claim in source.carbon_price_claims.filter(withdrawn_at__isnull=True):
        copy = CarbonPriceClaim(
            declaration=target,
            cn_code=claim.cn_code,
            country=claim.country,
            installation_id=claim.installation_id,
            quarter=claim.quarter,
            evidence=claim.evidence.name,
            evidence_name=claim.evidence_name,
            created_by=claim.created_by,
            **{f: getattr(claim, f) for f in CLAIM_FIELDS},
        )
        copies.append(copy)
    CarbonPriceClaim.objects.bulk_create(copies)
    return len(copies)


def carbon_price_claims_by_key(*, declaration: Declaration) -> dict[tuple, CarbonPriceClaim]:
    """Active claims of a declaration by claim key, in one query."""
    return {c.key: c for c in declaration.carbon_price_claims.filter(withdrawn_at__isnull=True)}


@dataclasses.dataclass(frozen=True)
class ClaimPart:
    """A claim as it applies to one group: from 2027 the groups of a quarter are split by price
    period (calendar week), and a quantity covered is shared among them by quantity of goods
    (the same installation and good, hence the same SEE: in proportion to embedded emissions)."""

    claim: CarbonPriceClaim
    fraction: Decimal = ONE


def _line_quantity(group) -> Decimal:
    functional = group.functional_quantity - group.returned_functional
    if functional > 0:
        return functional
    return max(group.mass_tonnes - group.returned_tonnes, ZERO)


def carbon_price_claims_for_groups(*, declaration: Declaration, groups) -> dict[tuple, ClaimPart]:
    """Active claims by group key for the line groups of a recalculation, in one query."""
    claims = carbon_price_claims_by_key(declaration=declaration)
    if not claims:
        return {}
    totals: dict[tuple, Decimal] = {}
    for g in groups:
        if g.key in claims:
            totals[g.key] = totals.get(g.key, ZERO) + _line_quantity(g)
    parts = {}
    with localcontext(CALC_CONTEXT):
        for g in groups:
            claim = claims.get(g.key)
            if claim is not None:
                total = totals[g.key]
                parts[g.group_key] = ClaimPart(claim, _line_quantity(g) / total if total > 0 else ONE)
    return parts


def carbon_price_claims_snapshot(*, declaration: Declaration) -> list[dict]:
    """Every claim of the declaration (active and withdrawn) for the filed snapshot."""
    rows = []
    for claim in declaration.carbon_price_claims.order_by("pk"):
        state = claim_state(claim)
        state["withdrawn_at"] = claim.withdrawn_at.isoformat() if claim.withdrawn_at else None
        rows.append(state)
    return rows


# --------------------------------------------------------------------------------------------
# In the recalculation
# --------------------------------------------------------------------------------------------


def _step(step: TraceStep) -> dict:
    return {
        "rule": step.rule,
        "description": step.description,
        "inputs": {k: decimal_text(v) if isinstance(v, Decimal) else v for k, v in step.inputs.items()},
        "result": decimal_text(step.result),
    }


def claim_eur_per_tonne(
    claim: CarbonPriceClaim, *, embedded_t_co2e: Decimal, quantity: Decimal, fraction: Decimal = ONE
) -> tuple[Decimal, list[TraceStep]]:
    """Euro per tonne of goods for a claim, with the steps of the conversion.

    net price = price − rebate (currency per tCO2e); in euro = net ÷ yearly average rate;
    emissions covered = share × embedded emissions, or the quantity given (at most the embedded
    emissions); euro paid = euro per tCO2e × covered; per tonne of goods = euro paid ÷ quantity.
    """
    with localcontext(CALC_CONTEXT):
        net = claim.price_per_t_co2e - claim.rebate_per_t_co2e
        eur_per_t_co2e = net / claim.currency_per_eur
        if claim.coverage == CarbonPriceCoverage.SHARE:
            covered = claim.share_covered * embedded_t_co2e
            covered_text = _("share covered × embedded emissions")
        else:
            given = claim.covered_t_co2e * fraction
            covered = min(given, embedded_t_co2e)
            covered_text = (
                _("emissions covered as given")
                if fraction == ONE
                else _("this price period's part of the emissions covered (by quantity of goods)")
            )
            if covered < given:
                covered_text += ", " + _("capped at the embedded emissions")
        paid_eur = eur_per_t_co2e * covered
        per_tonne = paid_eur / quantity if quantity > 0 else ZERO
    steps = [
        TraceStep(
            rule=_RULE_CLAIM,
            description=_(
                "Carbon price paid in %(country)s under %(instrument)s, net of rebates, in euro at the "
                "yearly average exchange rate."
            )
            % {"country": claim.paid_in_country, "instrument": claim.instrument},
            inputs={
                f"price ({claim.currency}/tCO2e)": claim.price_per_t_co2e,
                f"rebate ({claim.currency}/tCO2e)": claim.rebate_per_t_co2e,
                f"{claim.currency} per EUR": claim.currency_per_eur,
                "certifier": claim.certifier_name,
                "legal act": claim.legal_act_reference,
                "payment proof": claim.payment_reference,
            },
            result=eur_per_t_co2e,
        ),
        TraceStep(
            rule=_RULE_CLAIM,
            description=_("Emissions covered by the carbon price: %(how)s.") % {"how": covered_text},
            inputs={
                "share covered": claim.share_covered if claim.share_covered is not None else "–",
                "covered given (tCO2e)": claim.covered_t_co2e if claim.covered_t_co2e is not None else "–",
                "part of the claim": fraction,
                "embedded (tCO2e)": embedded_t_co2e,
            },
            result=covered,
        ),
        TraceStep(
            rule=_RULE_PROVISIONAL,
            description=_(
                "Carbon price paid in euro per tonne of goods (EUR per tCO2e × emissions covered ÷ quantity), "
                "passed to the certificate calculation. Provisional method: the implementing act under "
                "Art 9(5) on the conversion and the evidence is not yet adopted."
            ),
            inputs={"paid (EUR)": paid_eur, "quantity": quantity},
            result=per_tonne,
        ),
    ]
    return per_tonne, steps


def carbon_price_claim_apply(
    *,
    claim: ClaimPart | CarbonPriceClaim | None,
    data: AssessmentInput,
    assessment: Assessment,
    use: str,
    assess: Callable[[AssessmentInput], Assessment] | None = None,
) -> tuple[Assessment, list[dict]]:
    """The group's assessment with the claim deducted, and the trace steps explaining it.

    Called by the recalculation after the group is assessed without a claim. Not applied (the
    trace says why) when the group uses default values or has no certificate price yet.
    """
    if claim is None:
        return assessment, []
    part = claim if isinstance(claim, ClaimPart) else ClaimPart(claim)
    claim = part.claim
    result = assessment.result
    if result is None:
        return assessment, []
    if use != EmissionsSource.ACTUAL or data.see_direct is None:
        return assessment, [
            _step(
                TraceStep(
                    rule=_RULE_DEFAULT_ONLY,
                    description=_(
                        "A carbon price claim is recorded for this group but not applied: the group now uses "
                        "default values. The claim is kept and applies again once actual data are used."
                    ),
                    inputs={"claim": f"#{claim.pk}"},
                    result=ZERO,
                )
            )
        ]
    if assessment.certificate_price_eur is None:
        return assessment, [
            _step(
                TraceStep(
                    rule=_RULE_CLAIM,
                    description=_(
                        "A carbon price claim is recorded but not applied yet: no certificate price is "
                        "published for the period, so it cannot be converted into certificates."
                    ),
                    inputs={"claim": f"#{claim.pk}"},
                    result=ZERO,
                )
            )
        ]
    per_tonne, steps = claim_eur_per_tonne(
        claim, embedded_t_co2e=result.embedded_tco2e, quantity=assessment.quantity, fraction=part.fraction
    )
    if per_tonne <= 0:
        return assessment, [_step(s) for s in steps]
    run = assess or assess_good
    try:
        claimed = run(dataclasses.replace(data, carbon_price_paid=per_tonne))
    except AssessmentError as exc:
        return assessment, [
            *(_step(s) for s in steps),
            _step(
                TraceStep(
                    rule=_RULE_CLAIM,
                    description=_("The claim could not be applied: %(error)s") % {"error": exc.message},
                    inputs={"claim": f"#{claim.pk}"},
                    result=ZERO,
                )
            ),
        ]
    return claimed, [_step(s) for s in steps]
