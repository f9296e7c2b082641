"""Writes: a declarant's suppliers and their link to operator installations.

A supplier may be linked to an operator organisation on the portal; its goods are tied to the
operator's installations either line by line or by a supplier-to-installation mapping. Only
installations the operator shares with the declarant can be mapped ([R956] Art 10(5)): actual
data reach the declarant only through such a share.

Ingest and mappings: a line read from a customs extract that names a supplier but no
installation should take `installation_for(mappings, supplier_id, cn_code)` from
`mapping_table(organisation)` (loaded once per upload, one query); lines already stored are
brought up to date with `supplier_mapping_apply`.
"""

from __future__ import annotations

import pycountry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cbam_portal.accounts.models import Organisation, OrganisationKind
from cbam_portal.core.actor import Actor
from cbam_portal.core.services import audit_record
from emissions.models import (
    OPEN_REQUEST_STATUSES,
    DataRequest,
    DataRequestEvent,
    Installation,
    SharingGrant,
)

from ..models import ImportLine, Supplier, SupplierDataRequest, SupplierInstallationMapping


def _snapshot(supplier: Supplier) -> dict:
    return {
        "name": supplier.name,
        "country": supplier.country,
        "email": supplier.email,
        "operator_org": supplier.operator_org_id,
    }


def _clean(
    *, organisation: Organisation, name: str, country: str, email: str, operator_org, exclude_pk=None
) -> dict:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    code = (country or "").strip().upper()
    if not code or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(
            {
                "country": _("%(value)s is not an ISO 3166-1 alpha-2 country code.")
                % {"value": country or "''"}
            }
        )
    if operator_org is not None and operator_org.kind != OrganisationKind.OPERATOR:
        raise ValidationError(
            {"operator_org": _("%(name)s is not an operator.") % {"name": operator_org.name}}
        )
    clash = Supplier.objects.filter(organisation=organisation, name=name, country=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {
                "name": _("A supplier %(name)s in %(country)s already exists.")
                % {"name": name, "country": code}
            }
        )
    return {"name": name, "country": code, "email": (email or "").strip(), "operator_org": operator_org}


def _attach_open_requests(supplier: Supplier) -> int:
    """Requests sent before the supplier was on the portal reach the operator's inbox once linked."""
    if supplier.operator_org_id is None:
        return 0
    return DataRequest.objects.filter(
        supplier_link__supplier=supplier, operator__isnull=True, status__in=OPEN_REQUEST_STATUSES
    ).update(operator_id=supplier.operator_org_id)


@transaction.atomic
def supplier_create(
    *,
    actor: Actor,
    organisation: Organisation,
    name: str,
    country: str,
    email: str = "",
    operator_org: Organisation | None = None,
) -> Supplier:
    """Record a supplier of the declarant (the party named on the customs lines)."""
    values = _clean(
        organisation=organisation, name=name, country=country, email=email, operator_org=operator_org
    )
    supplier = Supplier(organisation=organisation, **values)
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError:
        raise ValidationError({"name": _("This supplier already exists.")}) from None
    audit_record(
        actor=actor,
        verb="supplier.created",
        organisation=organisation,
        target=supplier,
        after=_snapshot(supplier),
    )
    return supplier


@transaction.atomic
def supplier_update(
    *,
    actor: Actor,
    supplier: Supplier,
    name: str,
    country: str,
    email: str = "",
    operator_org: Organisation | None = None,
) -> Supplier:
    """Change a supplier. Linking it to an operator also routes its open requests to that operator."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    before = _snapshot(supplier)
    values = _clean(
        organisation=supplier.organisation,
        name=name,
        country=country,
        email=email,
        operator_org=operator_org,
        exclude_pk=supplier.pk,
    )
    for field, value in values.items():
        setattr(supplier, field, value)
    supplier.save(update_fields=list(values))
    attached = _attach_open_requests(supplier)
    after = _snapshot(supplier)
    if attached:
        after["requests_routed_to_operator"] = attached
    audit_record(
        actor=actor,
        verb="supplier.updated",
        organisation=supplier.organisation,
        target=supplier,
        before=before,
        after=after,
    )
    return supplier


def supplier_link_by_claim(
    *, actor: Actor, data_request: DataRequest, operator: Organisation
) -> Supplier | None:
    """An operator claimed a request sent to the supplier by e-mail: link the declarant's supplier to
    it (when not linked yet) and route the supplier's other open requests to its inbox. Called inside
    the claim's transaction; audited on the declarant's side, where the evidence log shows it."""
    link = SupplierDataRequest.objects.filter(data_request=data_request).select_related("supplier").first()
    if link is None:
        return None
    supplier = Supplier.objects.select_for_update().get(pk=link.supplier_id)
    before = _snapshot(supplier)
    if supplier.operator_org_id is None:
        supplier.operator_org = operator
        supplier.save(update_fields=["operator_org"])
    elif supplier.operator_org_id != operator.pk:
        # The declarant linked the supplier to another operator meanwhile; keep its choice.
        return supplier
    others = list(
        DataRequest.objects.filter(
            supplier_link__supplier=supplier, operator__isnull=True, status__in=OPEN_REQUEST_STATUSES
        ).exclude(pk=data_request.pk)
    )
    routed = _attach_open_requests(supplier)
    for other in others:
        DataRequestEvent.objects.create(
            request=other,
            kind="claimed",
            actor=actor.user,
            actor_label=actor.label[:200],
            note=_("Routed to %(org)s, which claimed request #%(pk)s.")
            % {"org": operator.name, "pk": data_request.pk},
        )
    after = {**_snapshot(supplier), "claimed_request": data_request.pk, "requests_routed_to_operator": routed}
    audit_record(
        actor=actor,
        verb="supplier.linked_by_claim",
        organisation=supplier.organisation,
        target=supplier,
        before=before,
        after=after,
    )
    return supplier


def shared_installations_q(organisation: Organisation):
    """Installations with an active grant to `organisation`."""
    return Installation.objects.filter(
        pk__in=SharingGrant.objects.filter(declarant=organisation, revoked_at__isnull=True).values(
            "installation_id"
        )
    )


@transaction.atomic
def supplier_mapping_create(
    *, actor: Actor, supplier: Supplier, installation: Installation, cn_code: str = ""
) -> SupplierInstallationMapping:
    """Map a supplier (for one CN code, or for all when blank) to a shared installation."""
    organisation = supplier.organisation
    cn_code = (cn_code or "").strip().replace(" ", "")
    if cn_code and (len(cn_code) != 8 or not cn_code.isdigit()):
        raise ValidationError({"cn_code": _("A CN code has 8 digits.")})
    if not shared_installations_q(organisation).filter(pk=installation.pk).exists():
        raise ValidationError(
            {
                "installation": _(
                    "Installation %(id)s is not shared with you: ask the operator to share it first."
                )
                % {"id": installation.pk}
            }
        )
    if supplier.operator_org_id and installation.organisation_id != supplier.operator_org_id:
        raise ValidationError(
            {
                "installation": _("%(installation)s does not belong to the supplier's operator.")
                % {"installation": installation}
            }
        )
    if SupplierInstallationMapping.objects.filter(supplier=supplier, cn_code=cn_code).exists():
        raise ValidationError(
            {
                "cn_code": _("This supplier is already mapped for %(cn)s; remove that mapping first.")
                % {"cn": cn_code or _("all CN codes")}
            }
        )
    mapping = SupplierInstallationMapping.objects.create(
        organisation=organisation,
        supplier=supplier,
        installation=installation,
        cn_code=cn_code,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        verb="supplier.mapping_created",
        organisation=organisation,
        target=supplier,
        after={"mapping": mapping.pk, "installation": installation.pk, "cn_code": cn_code},
    )
    return mapping


@transaction.atomic
def supplier_mapping_delete(*, actor: Actor, mapping: SupplierInstallationMapping) -> None:
    """Remove a mapping; lines already linked keep their installation."""
    before = {"mapping": mapping.pk, "installation": mapping.installation_id, "cn_code": mapping.cn_code}
    supplier = mapping.supplier
    mapping.delete()
    audit_record(
        actor=actor,
        verb="supplier.mapping_deleted",
        organisation=supplier.organisation,
        target=supplier,
        before=before,
    )


def mapping_table(organisation: Organisation) -> dict[tuple[int, str], int]:
    """{(supplier id, cn code or ''): installation id} of the organisation, in one query."""
    return {
        (supplier_id, cn): installation_id
        for supplier_id, cn, installation_id in SupplierInstallationMapping.objects.filter(
            organisation=organisation
        ).values_list("supplier_id", "cn_code", "installation_id")
    }


def installation_for(table: dict[tuple[int, str], int], supplier_id: int | None, cn_code: str) -> int | None:
    """The mapped installation for a line: the CN-specific mapping, else the supplier-wide one."""
    if supplier_id is None:
        return None
    return table.get((supplier_id, cn_code[:8])) or table.get((supplier_id, ""))


def mappings_link_lines(*, lines, mappings) -> int:
    """Link `lines` (a queryset of one organisation's lines that have a supplier and no installation)
    to the mapped installations: the CN-specific mapping first, else the supplier-wide one. One
    UPDATE per mapping; returns the lines changed. Used when a mapping is applied and by every import."""
    changed = 0
    by_supplier: dict[int, list[SupplierInstallationMapping]] = {}
    for mapping in mappings:
        by_supplier.setdefault(mapping.supplier_id, []).append(mapping)
    for supplier_id, supplier_mappings in by_supplier.items():
        unlinked = lines.filter(supplier_id=supplier_id, installation__isnull=True)
        by_cn = {m.cn_code: m.installation_id for m in supplier_mappings if m.cn_code}
        for cn, installation_id in by_cn.items():
            changed += unlinked.filter(cn_code=cn).update(installation_id=installation_id)
        general = next((m.installation_id for m in supplier_mappings if not m.cn_code), None)
        if general is not None:
            changed += unlinked.exclude(cn_code__in=list(by_cn)).update(installation_id=general)
    return changed


@transaction.atomic
def supplier_mapping_apply(*, actor: Actor, supplier: Supplier) -> int:
    """Link the supplier's lines that have no installation yet to the mapped installations.
    Lines already linked (by hand or earlier) are left as they are. Returns the lines changed."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    mappings = list(SupplierInstallationMapping.objects.filter(supplier=supplier))
    changed = mappings_link_lines(
        lines=ImportLine.objects.filter(organisation_id=supplier.organisation_id), mappings=mappings
    )
    audit_record(
        actor=actor,
        verb="supplier.mapping_applied",
        organisation=supplier.organisation,
        target=supplier,
        after={"lines_linked": changed, "mappings": [m.pk for m in mappings]},
    )
    return changed
