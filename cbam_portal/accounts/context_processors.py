from django.utils.functional import SimpleLazyObject

from .access import accesses_for_user


def active_organisation(request):
    """The active organisation and, lazily, the organisation switcher's choices."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "access": getattr(request, "access", None),
        "organisation_choices": SimpleLazyObject(lambda: accesses_for_user(user)),
    }
