from collections.abc import Iterable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .policy import Capability


def org_required(capability: Capability = Capability.VIEW, kinds: Iterable[str] | None = None):
    """Require a signed-in user with an active organisation (of one of `kinds`) and `capability`.

    No organisation yet: redirect to create one. Wrong kind of organisation: 404 (the page does not
    exist for it). Missing capability: 403.
    """
    allowed_kinds = frozenset(kinds) if kinds else None

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            access = request.access
            if access is None:
                messages.info(request, _("Create or join an organisation first."))
                return redirect("accounts:organisation_create")
            if allowed_kinds is not None and access.organisation.kind not in allowed_kinds:
                raise Http404("Not available for this kind of organisation.")
            access.require(capability)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
