from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who does something, for the audit trail: a person, or an API key acting for its organisation."""

    user: Any | None
    ip: str | None = None
    api_key: Any | None = None

    @classmethod
    def from_request(cls, request) -> Actor:
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        api_key = None
        access = getattr(request, "access", None)
        if access is not None and access.api_key is not None:
            api_key = access.api_key
            user = api_key.created_by
        return cls(user=user, ip=client_ip(request), api_key=api_key)

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None)

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"API key {self.api_key.name} (cbam_{self.api_key.prefix}_…)"
        if self.user is not None:
            return self.user.email
        return "system"


def client_ip(request) -> str | None:
    # REMOTE_ADDR is what the socket saw; behind a proxy, gunicorn is run with --forwarded-allow-ips
    # so Django's value is already the client's. Never trust X-Forwarded-For blindly here.
    return request.META.get("REMOTE_ADDR") or None
