"""Pages: annual CBAM declarations — list, draft, groups with their "why", overrides, review and filing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.pagination import IdFirstPaginator

from ..forms.declarations import CommentForm, DeclarationCreateForm, OverrideForm, ReturnForm
from ..models import DeclarationStatus
from ..selectors import declarations as selectors
from ..services import declarations as services
from ..services.traces import declaration_group_trace

KINDS = (OrganisationKind.DECLARANT,)
GROUPS_PER_PAGE = 100


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _detail_context(request, declaration, **extra) -> dict:
    access = request.access
    groups = selectors.declaration_group_rows(declaration)  # a page at a time: there may be tens of thousands
    page = IdFirstPaginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "declaration": declaration,
        "groups": page.object_list,
        "page": page,
        "unpriced_groups": groups.filter(price_eur__isnull=True).count(),
        # Where suppliers' data would still change the numbers: while the declaration can change.
        "hotspots": (
            selectors.default_value_hotspots(declaration, timezone.localdate())
            if declaration.status in (DeclarationStatus.DRAFT, DeclarationStatus.IN_REVIEW)
            else []
        ),
        "comments": list(selectors.declaration_comments(declaration)),
        "can_edit": access.can(Capability.EDIT),
        "can_review": access.can(Capability.REVIEW),
        "can_approve": access.can(Capability.APPROVE),
        "can_file": access.can(Capability.SUBMIT),
        "can_comment": access.can(Capability.EDIT) or access.can(Capability.REVIEW),
        "comment_form": extra.pop("comment_form", None) or CommentForm(),
        "return_form": ReturnForm(),
        **extra,
    }


@org_required(kinds=KINDS)
@require_GET
def declaration_list(request):
    return render(
        request,
        "declarations/declaration/list.html",
        {
            "declarations": list(selectors.declaration_list(request.access)),
            "form": DeclarationCreateForm(),
            "can_edit": request.access.can(Capability.EDIT),
        },
    )


@org_required(kinds=KINDS)
@require_GET
def declaration_card(request):
    """The declaration due next as a dashboard card (loaded with htmx): status, certificates and
    cost, the share of emissions from actual data, and the days left to file and surrender."""
    return render(
        request,
        "declarations/declaration/_card.html",
        {
            "overview": selectors.declaration_overview(request.access, timezone.localdate()),
            "can_edit": request.access.can(Capability.EDIT),
        },
    )


@org_required(kinds=(OrganisationKind.REPRESENTATIVE,))
@require_GET
def represented_declarations_card(request):
    """A customs representative's dashboard card: the declaration due next of every importer it
    acts for, side by side, each with a button to work for that importer."""
    overviews = selectors.represented_declarations_due(request.access, timezone.localdate())
    return render(
        request,
        "declarations/declaration/_represented_card.html",
        {
            "overviews": overviews,
            "some_unpriced": any(o.unpriced_groups for o in overviews),
            # A representative acts for its importers with its own role (less administration).
            "can_edit": request.access.can(Capability.EDIT),
        },
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def declaration_create(request):
    form = DeclarationCreateForm(request.POST)
    if form.is_valid():
        try:
            declaration = services.declaration_create(
                actor=Actor.from_request(request),
                organisation=request.access.organisation,
                year=form.cleaned_data["year"],
            )
        except ValidationError as exc:
            form.add_error("year", _error_text(exc))
        else:
            messages.success(request, _("Declaration for %(year)s drafted.") % {"year": declaration.year})
            return redirect("declarations:declaration_detail", pk=declaration.pk)
    return render(
        request,
        "declarations/declaration/list.html",
        {"declarations": list(selectors.declaration_list(request.access)), "form": form, "can_edit": True},
        status=400,
    )


@org_required(kinds=KINDS)
@require_GET
def declaration_detail(request, pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    return render(request, "declarations/declaration/detail.html", _detail_context(request, declaration))


@org_required(kinds=KINDS)
@require_GET
def declaration_group_why(request, pk: int, group_pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    group = selectors.declaration_group_get(declaration, group_pk)
    return render(
        request,
        "declarations/declaration/group.html",
        {
            "declaration": declaration,
            "group": group,
            "trace": declaration_group_trace(group),
            "form": OverrideForm(initial={"source": group.override_source, "reason": group.override_reason}),
            "can_edit": request.access.can(Capability.EDIT),
        },
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def declaration_group_override(request, pk: int, group_pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    group = selectors.declaration_group_get(declaration, group_pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            group = services.declaration_group_override(
                actor=Actor.from_request(request),
                declaration=declaration,
                group_id=group.pk,
                source=form.cleaned_data["source"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Source of emissions saved; the declaration was recalculated."))
            return redirect("declarations:declaration_group", pk=declaration.pk, group_pk=group.pk)
    return render(
        request,
        "declarations/declaration/group.html",
        {"declaration": declaration, "group": group, "form": form, "can_edit": True},
        status=400,
    )


def _transition(request, pk: int, action, success: str, **kwargs):
    declaration = selectors.declaration_get(request.access, pk)
    try:
        action(actor=Actor.from_request(request), declaration=declaration, **kwargs)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return redirect("declarations:declaration_detail", pk=declaration.pk)


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def declaration_recompute(request, pk: int):
    return _transition(
        request,
        pk,
        services.declaration_recompute_enqueue,
        _("Recalculation started; refresh to see the result."),
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def declaration_submit(request, pk: int):
    return _transition(request, pk, services.declaration_submit_for_review, _("Submitted for review."))


@org_required(capability=Capability.REVIEW, kinds=KINDS)
@require_POST
def declaration_return(request, pk: int):
    form = ReturnForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _transition(
        request, pk, services.declaration_return_to_draft, _("Returned to the preparer."), reason=reason
    )


@org_required(capability=Capability.APPROVE, kinds=KINDS)
@require_POST
def declaration_approve(request, pk: int):
    return _transition(request, pk, services.declaration_approve, _("Declaration approved."))


@org_required(capability=Capability.SUBMIT, kinds=KINDS)
@require_POST
def declaration_file(request, pk: int):
    return _transition(request, pk, services.declaration_file, _("Declaration filed; its inputs are frozen."))


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def declaration_amend(request, pk: int):
    declaration = selectors.declaration_get(request.access, pk)
    try:
        amendment = services.declaration_amend(actor=Actor.from_request(request), declaration=declaration)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("declarations:declaration_detail", pk=declaration.pk)
    messages.success(request, _("Version %(v)s opened as a draft.") % {"v": amendment.version})
    return redirect("declarations:declaration_detail", pk=amendment.pk)


@org_required(kinds=KINDS)
@require_POST
def declaration_comment(request, pk: int):
    access = request.access
    if not (access.can(Capability.EDIT) or access.can(Capability.REVIEW)):
        raise PermissionDenied(_("Your role does not allow comments."))
    declaration = selectors.declaration_get(access, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.declaration_comment_add(
                actor=Actor.from_request(request), declaration=declaration, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            form.add_error("text", _error_text(exc))
        else:
            return redirect("declarations:declaration_detail", pk=declaration.pk)
    return render(
        request,
        "declarations/declaration/detail.html",
        _detail_context(request, declaration, comment_form=form),
        status=400,
    )


urlpatterns = [
    path("annual/", declaration_list, name="declaration_list"),
    path("annual/new/", declaration_create, name="declaration_create"),
    path("annual/card/", declaration_card, name="declaration_card"),
    path("annual/represented-card/", represented_declarations_card, name="represented_declarations_card"),
    path("annual/<int:pk>/", declaration_detail, name="declaration_detail"),
    path("annual/<int:pk>/groups/<int:group_pk>/", declaration_group_why, name="declaration_group"),
    path(
        "annual/<int:pk>/groups/<int:group_pk>/override/",
        declaration_group_override,
        name="declaration_group_override",
    ),
    path("annual/<int:pk>/recompute/", declaration_recompute, name="declaration_recompute"),
    path("annual/<int:pk>/submit/", declaration_submit, name="declaration_submit"),
    path("annual/<int:pk>/return/", declaration_return, name="declaration_return"),
    path("annual/<int:pk>/approve/", declaration_approve, name="declaration_approve"),
    path("annual/<int:pk>/file/", declaration_file, name="declaration_file"),
    path("annual/<int:pk>/amend/", declaration_amend, name="declaration_amend"),
    path("annual/<int:pk>/comments/", declaration_comment, name="declaration_comment"),
]
