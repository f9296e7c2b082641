"""API key format: `cbam_<prefix>_<secret>`; the prefix finds the row, the secret's SHA-256 proves it.

The secret is 256 random bits, so a fast hash is enough (nothing to brute-force); comparison is
constant-time.
"""

import hashlib
import hmac
import re
import secrets

KEY_RE = re.compile(r"^cbam_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_api_key() -> tuple[str, str, str]:
    """Return (full key to show once, prefix to store, hash to store)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return f"cbam_{prefix}_{secret}", prefix, hash_secret(secret)


def parse_api_key(raw: str) -> tuple[str, str] | None:
    match = KEY_RE.fullmatch(raw.strip())
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
