"""Pages: carbon price paid abroad claims of a declaration ([R956] Art 9)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor

from ..forms.carbon_prices import CarbonPriceClaimForm, WithdrawClaimForm
from ..models import DeclarationStatus, EmissionsSource
from ..selectors import carbon_prices as claim_selectors
from ..selectors import declarations as selectors
from ..services import carbon_prices as services
from .declarations import KINDS


def _group_page(request, declaration, group, form, *, status: int = 200):
    can_edit = request.access.can(Capability.EDIT)
    return render(
        request,
        "declarations/declaration/carbon_price_group.html",
        {
            "declaration": declaration,
            "group": group,
            "claims": list(claim_selectors.carbon_price_claims_for_group(group)),
            "form": form,
            "withdraw_form": WithdrawClaimForm(),
            "can_edit": can_edit,
            "can_claim": can_edit
            and declaration.status == DeclarationStatus.DRAFT
            and group.effective_source == EmissionsSource.ACTUAL,
        },
        status=status,
    )


@org_required(kinds=KINDS)
@require_http_methods(["GET", "POST"])
def carbon_price_group(request, pk: int, group_pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    group = selectors.declaration_group_get(declaration, group_pk)
    if request.method == "GET":
        return _group_page(request, declaration, group, CarbonPriceClaimForm())
    request.access.require(Capability.EDIT)
    form = CarbonPriceClaimForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.carbon_price_claim_create(
                actor=Actor.from_request(request),
                declaration=declaration,
                group_id=group.pk,
                evidence=form.cleaned_data["evidence"],
                **form.service_fields(),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Carbon price claim recorded; the declaration was recalculated."))
            return redirect("declarations:declaration_detail", pk=declaration.pk)
    return _group_page(request, declaration, group, form, status=400)


@org_required(kinds=KINDS)
@require_GET
def carbon_price_claim_list(request, pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    return render(
        request,
        "declarations/declaration/carbon_price_claims.html",
        {
            "declaration": declaration,
            "claims": list(claim_selectors.carbon_price_claims(declaration)),
            "withdraw_form": WithdrawClaimForm(),
            "can_edit": request.access.can(Capability.EDIT) and declaration.status == DeclarationStatus.DRAFT,
        },
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def carbon_price_claim_withdraw(request, pk: int, claim_pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    claim = claim_selectors.carbon_price_claim_get(declaration, claim_pk)
    form = WithdrawClaimForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.carbon_price_claim_withdraw(
            actor=Actor.from_request(request), declaration=declaration, claim_id=claim.pk, reason=reason
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Claim withdrawn; the declaration was recalculated."))
    return redirect("declarations:carbon_price_claims", pk=declaration.pk)


@org_required(kinds=KINDS)
@require_GET
def carbon_price_claim_evidence(request, pk: int, claim_pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    claim = claim_selectors.carbon_price_claim_get(declaration, claim_pk)
    if not claim.evidence:
        raise Http404(_("No evidence document is attached."))
    return FileResponse(
        claim.evidence.open("rb"), as_attachment=True, filename=claim.evidence_name or "carbon-price-evidence"
    )


urlpatterns = [
    path(
        "annual/<int:pk>/groups/<int:group_pk>/carbon-price/", carbon_price_group, name="carbon_price_group"
    ),
    path("annual/<int:pk>/carbon-price-claims/", carbon_price_claim_list, name="carbon_price_claims"),
    path(
        "annual/<int:pk>/carbon-price-claims/<int:claim_pk>/withdraw/",
        carbon_price_claim_withdraw,
        name="carbon_price_claim_withdraw",
    ),
    path(
        "annual/<int:pk>/carbon-price-claims/<int:claim_pk>/evidence/",
        carbon_price_claim_evidence,
        name="carbon_price_claim_evidence",
    ),
]
