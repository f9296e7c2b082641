"""Views: the link e-mailed with a data request to a supplier not yet on the portal.

Anyone holding the link sees what is asked and by whom (the link is the invitation); a signed-in
member of an operator organisation claims the request into that organisation's inbox. Bad,
expired or used links give a plain page that names no other organisation.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cbam_portal.accounts.middleware import SESSION_KEY
from cbam_portal.accounts.models import Membership
from cbam_portal.core.actor import Actor

from ..forms.sharing import DataRequestClaimForm
from ..models import DataRequestStatus
from ..services import data_requests as services


def _problem(request, *, title: str, text: str, status: int):
    return render(
        request,
        "emissions/sharing/data_request_link_problem.html",
        {"title": title, "text": text},
        status=status,
    )


def _go_to_inbox(request, data_request):
    """The request is already in an organisation's inbox: members go there, others learn nothing."""
    if (
        request.user.is_authenticated
        and Membership.objects.filter(user=request.user, organisation_id=data_request.operator_id).exists()
    ):
        request.session[SESSION_KEY] = data_request.operator_id
        return redirect("emissions:data_request_detail", pk=data_request.pk)
    return _problem(
        request,
        title=_("This link has already been used"),
        text=_("The request was claimed by another organisation. If that is wrong, contact the sender."),
        status=409,
    )


@require_http_methods(["GET", "POST"])
def data_request_link(request, token: str):
    data_request = services.data_request_by_token(token)
    if data_request is None:
        return _problem(
            request,
            title=_("This link is not valid"),
            text=_("Check that the whole link from the e-mail was opened, or ask the sender for a new one."),
            status=404,
        )
    if data_request.operator_id is not None:
        return _go_to_inbox(request, data_request)
    if data_request.status == DataRequestStatus.CANCELLED:
        return _problem(
            request,
            title=_("This request was cancelled"),
            text=_("%(declarant)s withdrew the request; there is nothing to answer.")
            % {"declarant": data_request.declarant.name},
            status=410,
        )
    if data_request.status not in services.OPEN_REQUEST_STATUSES:
        return _problem(
            request, title=_("This request is closed"), text=_("There is nothing left to answer."), status=410
        )
    if services.link_is_expired(data_request):
        return _problem(
            request,
            title=_("This link has expired"),
            text=_("Ask %(declarant)s to send the request again.")
            % {"declarant": data_request.declarant.name},
            status=410,
        )
    if request.method == "GET":
        data_request = services.data_request_link_opened(
            actor=Actor.from_request(request), data_request=data_request
        )
    organisations = services.claimable_organisations(request.user)
    active = getattr(request, "access", None)
    initial = {}
    if active is not None and active.organisation in organisations:
        initial["organisation"] = active.organisation.pk
    form = DataRequestClaimForm(request.POST or None, organisations=organisations, initial=initial)
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(request.get_full_path())
        if not organisations:
            status = 403
            form.add_error(
                None, _("Your role does not allow claiming requests, or you have no operator organisation.")
            )
        elif form.is_valid():
            operator = form.cleaned_data["organisation"]
            try:
                claimed = services.data_request_claim(
                    actor=Actor.from_request(request), token=token, operator=operator
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                status = 400
            else:
                request.session[SESSION_KEY] = operator.pk  # a member: claimable_organisations checked it
                messages.success(
                    request,
                    _("The request is now in the inbox of %(org)s. Answer it by sharing an installation.")
                    % {"org": operator.name},
                )
                return redirect("emissions:data_request_detail", pk=claimed.pk)
        else:
            status = 400
    memberships = (
        list(Membership.objects.filter(user=request.user).select_related("organisation"))
        if request.user.is_authenticated
        else []
    )
    context = {
        "data_request": data_request,
        "form": form,
        "organisations": organisations,
        "has_operator_membership": any(m.organisation.kind == "operator" for m in memberships),
        "has_membership": bool(memberships),
        "next": request.path,
    }
    return render(request, "emissions/sharing/data_request_link.html", context, status=status)


urlpatterns = [
    path("data-requests/link/<str:token>/", data_request_link, name="data_request_link"),
]
