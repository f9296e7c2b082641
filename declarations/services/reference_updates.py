"""Drafts follow the reference data: when a dataset becomes current (corrected default values, a
new price, a new benchmark table), every draft declaration is recomputed in the background and its
"what changed" record names the reference data as the trigger. Filed declarations keep the
datasets they pinned (ARCHITECTURE §4)."""

from __future__ import annotations

from cbam_portal.core.actor import Actor
from cbam_portal.reference.models import Dataset

from ..models import ChangeTrigger, Declaration, DeclarationStatus
from .declarations import declaration_recompute_enqueue


def drafts_recompute_after_reference_change(*, actor: Actor, dataset: Dataset) -> list:
    """Queue a recomputation of every draft declaration, of every organisation."""
    drafts = Declaration.objects.filter(status=DeclarationStatus.DRAFT).select_related("organisation")
    return [
        declaration_recompute_enqueue(actor=actor, declaration=d, trigger=ChangeTrigger.REFERENCE)
        for d in drafts
    ]
