"""Organisation pages: create, switch, settings (details, members, invitations, represented
importers), API keys, and accepting an invitation. Thin: form -> selector -> one service -> render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cbam_portal.core.actor import Actor

from . import selectors, services
from .access import access_for
from .decorators import org_required
from .forms import (
    ApiKeyForm,
    InvitationForm,
    MembershipRoleForm,
    OrganisationForm,
    OrganisationUpdateForm,
    RepresentationForm,
    SwitchOrganisationForm,
)
from .middleware import SESSION_KEY
from .models import OrganisationKind
from .policy import Capability, Role


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the field it names (or on top of the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _error_message(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- organisations -------------------------------------------------------------------------


@login_required
def organisation_create(request):
    initial = {"kind": request.GET["kind"]} if request.GET.get("kind") else None
    form = OrganisationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(
                actor=Actor.from_request(request), **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            request.session[SESSION_KEY] = organisation.pk
            messages.success(
                request, _("%(name)s was created; you are its administrator.") % {"name": organisation.name}
            )
            # e.g. back to a supplier data-request link, which can then be claimed
            return redirect(_safe_next(request, reverse("accounts:organisation_detail")))
    next_url = _safe_next(request, "")
    return render(request, "accounts/organisation_create.html", {"form": form, "next": next_url})


@login_required
@require_POST
def organisation_switch(request):
    form = SwitchOrganisationForm(request.POST)
    if not form.is_valid():
        raise Http404(_("No such organisation."))
    access = access_for(request.user, form.cleaned_data["organisation"])
    if access is None:
        raise Http404(_("No such organisation."))
    request.session[SESSION_KEY] = access.organisation.pk
    messages.info(request, _("You are now working in %(label)s.") % {"label": access.label})
    return redirect(_safe_next(request, reverse("core:dashboard")))


def _detail_context(request, **extra) -> dict:
    access = request.access
    organisation = access.organisation
    can_members = access.can(Capability.MANAGE_MEMBERS)
    can_org = access.can(Capability.MANAGE_ORGANISATION)
    members = list(selectors.membership_list(organisation=organisation))
    context = {
        "organisation": organisation,
        "members": members,
        "admin_count": sum(1 for m in members if m.role == Role.ADMIN),
        "invitations": list(selectors.invitation_list_pending(organisation=organisation)),
        "can_manage_members": can_members,
        "can_manage_organisation": can_org,
        "role_choices": Role.choices,
        "role_label": Role(access.role).label,
        "invite_form": InvitationForm() if can_members else None,
        "representations": (
            list(selectors.representation_list(organisation=organisation))
            if organisation.is_representative
            else []
        ),
        "representation_form": RepresentationForm() if can_org and organisation.is_representative else None,
        "represented_by": list(organisation.represented_by.all()) if organisation.is_declarant else [],
    }
    context.update(extra)
    return context


@org_required()
def organisation_detail(request):
    return render(request, "accounts/organisation_detail.html", _detail_context(request))


@org_required(capability=Capability.MANAGE_ORGANISATION)
def organisation_update(request):
    organisation = request.access.organisation
    form = OrganisationUpdateForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "kind"}
        try:
            services.organisation_update(
                actor=Actor.from_request(request), organisation=organisation, **fields
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The organisation's details were saved."))
            return redirect("accounts:organisation_detail")
    return render(request, "accounts/organisation_update.html", {"form": form, "organisation": organisation})


# --- members and invitations ---------------------------------------------------------------


@org_required(capability=Capability.MANAGE_MEMBERS)
@require_POST
def membership_change_role(request, pk: int):
    membership = selectors.membership_get(organisation=request.access.organisation, pk=pk)
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Role: choose one of the listed roles."))
        return redirect("accounts:organisation_detail")
    try:
        services.membership_change_role(
            actor=Actor.from_request(request), membership=membership, role=form.cleaned_data["role"]
        )
    except ValidationError as exc:
        _error_message(request, exc)
    else:
        messages.success(
            request,
            _("%(email)s is now %(role)s.")
            % {"email": membership.user.email, "role": Role(form.cleaned_data["role"]).label},
        )
    return redirect("accounts:organisation_detail")


@org_required()
@require_POST
def membership_remove(request, pk: int):
    """Administrators remove members; any member may leave (remove their own membership)."""
    membership = selectors.membership_get(organisation=request.access.organisation, pk=pk)
    leaving = membership.user_id == request.user.pk
    if not leaving:
        request.access.require(Capability.MANAGE_MEMBERS)
    try:
        services.membership_remove(actor=Actor.from_request(request), membership=membership)
    except ValidationError as exc:
        _error_message(request, exc)
        return redirect("accounts:organisation_detail")
    if leaving:
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("You left %(org)s.") % {"org": membership.organisation.name})
        return redirect("core:home")
    messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
    return redirect("accounts:organisation_detail")


@org_required(capability=Capability.MANAGE_MEMBERS)
@require_POST
def invitation_create(request):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                actor=Actor.from_request(request),
                organisation=request.access.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("An invitation was sent to %(email)s.") % {"email": invitation.email})
            return redirect("accounts:organisation_detail")
    return render(
        request, "accounts/organisation_detail.html", _detail_context(request, invite_form=form), status=400
    )


@org_required(capability=Capability.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request, pk: int):
    invitation = selectors.invitation_get(organisation=request.access.organisation, pk=pk)
    try:
        services.invitation_revoke(actor=Actor.from_request(request), invitation=invitation)
    except ValidationError as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("The invitation of %(email)s was revoked.") % {"email": invitation.email})
    return redirect("accounts:organisation_detail")


def invitation_accept(request, token: str):
    """Anyone with the link sees who invited them; accepting needs the invited e-mail's account."""
    invitation = selectors.invitation_get_by_token(token=token)
    if invitation is None:
        raise Http404(_("This invitation link is not valid."))
    context = {"invitation": invitation, "token": token, "next": request.get_full_path()}
    if not request.user.is_authenticated:
        return render(request, "accounts/invitation_accept.html", context)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(actor=Actor.from_request(request), token=token)
        except ValidationError as exc:
            context["errors"] = exc.messages
            return render(request, "accounts/invitation_accept.html", context, status=400)
        request.session[SESSION_KEY] = membership.organisation_id
        messages.success(request, _("Welcome to %(org)s.") % {"org": membership.organisation.name})
        return redirect("accounts:organisation_detail")
    return render(request, "accounts/invitation_accept.html", context)


# --- represented importers -----------------------------------------------------------------


@org_required(capability=Capability.MANAGE_ORGANISATION, kinds=[OrganisationKind.REPRESENTATIVE])
@require_POST
def representation_create(request):
    form = RepresentationForm(request.POST)
    if form.is_valid():
        try:
            importer = services.representation_create(
                actor=Actor.from_request(request),
                representative=request.access.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("You now act for %(name)s.") % {"name": importer.name})
            return redirect("accounts:organisation_detail")
    return render(
        request,
        "accounts/organisation_detail.html",
        _detail_context(request, representation_form=form),
        status=400,
    )


@org_required(capability=Capability.MANAGE_ORGANISATION, kinds=[OrganisationKind.REPRESENTATIVE])
@require_POST
def representation_remove(request, pk: int):
    representation = selectors.representation_get(organisation=request.access.organisation, pk=pk)
    services.representation_remove(actor=Actor.from_request(request), representation=representation)
    messages.success(request, _("You no longer act for %(name)s.") % {"name": representation.importer.name})
    return redirect("accounts:organisation_detail")


# --- API keys ------------------------------------------------------------------------------


def _api_key_page(request, *, form=None, new_key=None, status=200):
    access = request.access
    can_manage = access.can(Capability.MANAGE_API_KEYS)
    context = {
        "organisation": access.organisation,
        "api_keys": selectors.api_key_list(organisation=access.organisation),
        "can_manage": can_manage,
        "form": (form or ApiKeyForm()) if can_manage else None,
        "new_key": new_key,
    }
    return render(request, "accounts/api_keys.html", context, status=status)


@org_required()
def api_key_list(request):
    return _api_key_page(request)


@org_required(capability=Capability.MANAGE_API_KEYS)
@require_POST
def api_key_create(request):
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            api_key, full_key = services.api_key_create(
                actor=Actor.from_request(request),
                organisation=request.access.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            # Rendered, not redirected: the full key exists only in this response.
            return _api_key_page(request, new_key={"api_key": api_key, "key": full_key})
    return _api_key_page(request, form=form, status=400)


@org_required(capability=Capability.MANAGE_API_KEYS)
@require_POST
def api_key_revoke(request, pk: int):
    api_key = selectors.api_key_get(organisation=request.access.organisation, pk=pk)
    services.api_key_revoke(actor=Actor.from_request(request), api_key=api_key)
    messages.success(request, _("The API key %(name)s was revoked.") % {"name": api_key.name})
    return redirect("accounts:api_key_list")
