"""Reads: carbon price claims of a declaration (the declaration is already scoped)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from ..models import CarbonPriceClaim, Declaration, DeclarationGroup


def carbon_price_claims(declaration: Declaration) -> QuerySet[CarbonPriceClaim]:
    return declaration.carbon_price_claims.select_related(
        "installation", "created_by", "withdrawn_by"
    ).order_by("cn_code", "country", "quarter", "pk")


def carbon_price_claim_get(declaration: Declaration, pk) -> CarbonPriceClaim:
    return get_object_or_404(carbon_price_claims(declaration), pk=pk)


def carbon_price_claims_for_group(group: DeclarationGroup) -> QuerySet[CarbonPriceClaim]:
    return carbon_price_claims(group.declaration).filter(
        cn_code=group.cn_code,
        country=group.country,
        installation_id=group.installation_id,
        quarter=group.quarter,
    )
