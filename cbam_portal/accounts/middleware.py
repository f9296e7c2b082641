from .access import access_for, accesses_for_user

SESSION_KEY = "active_organisation_id"


def resolve_active_access(request):
    user = request.user
    if not user.is_authenticated:
        return None
    access = access_for(user, request.session.get(SESSION_KEY))
    if access is None:
        # The stored organisation is gone (or none was chosen yet): fall back to the first one.
        all_access = accesses_for_user(user)
        access = all_access[0] if all_access else None
        if access is not None:
            request.session[SESSION_KEY] = access.organisation.pk
        elif SESSION_KEY in request.session:
            del request.session[SESSION_KEY]
    return access


class ActiveOrganisationMiddleware:
    """Puts `request.access`: the user's `Access` to the active organisation, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = resolve_active_access(request)
        return self.get_response(request)
