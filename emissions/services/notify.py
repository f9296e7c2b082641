"""Tell the declarant side that data it may use changed, so its draft declarations recompute."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from cbam_portal.accounts.models import Organisation
from cbam_portal.core.actor import Actor

from ..models import SharingGrant


def declarants_recompute_on_commit(
    *, actor: Actor, declarant_ids: Iterable[int], trigger: str = "report"
) -> None:
    """Once the current transaction commits, queue a recomputation of the draft declarations of
    each declarant (a grant was given or revoked, or a shared report was submitted or verified)."""
    ids = sorted(set(declarant_ids))
    if not ids:
        return

    def notify() -> None:
        # Imported here: the operator side does not depend on the declarant side at import time.
        from declarations.services.declarations import declarations_inputs_changed

        for organisation in Organisation.objects.filter(pk__in=ids):
            declarations_inputs_changed(actor=actor, organisation=organisation, trigger=trigger)

    transaction.on_commit(notify)


def grantee_ids(installation_id: int) -> list[int]:
    return list(
        SharingGrant.objects.filter(installation_id=installation_id, revoked_at__isnull=True).values_list(
            "declarant_id", flat=True
        )
    )
