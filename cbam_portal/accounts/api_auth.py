from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from .api_keys import parse_api_key, secret_matches
from .models import ApiKey


class ApiKeyPrincipal:
    """The authenticated principal of a request made with an organisation API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.pk = self.id = f"apikey:{api_key.pk}"

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key cbam_<prefix>_<secret>` (or `Bearer cbam_…`)."""

    keywords = ("api-key", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() not in self.keywords:
            return None
        parsed = parse_api_key(raw)
        if parsed is None:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        prefix, secret = parsed
        key = ApiKey.objects.select_related("organisation", "created_by").filter(prefix=prefix).first()
        # Compare even when no key has the prefix, so timing does not tell prefixes apart.
        stored = key.key_hash if key is not None else "0" * 64
        if not secret_matches(secret, stored) or key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."))
        if key.last_used_at is None or (timezone.now() - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return "Api-Key"
