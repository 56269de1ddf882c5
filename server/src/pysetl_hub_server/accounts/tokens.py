"""API token format: `pshub_<id>_<secret>`.

The id is public and indexed, so a lookup is one row; the secret has 256 bits of entropy, so a
plain SHA-256 of it is safe to store (argon2 is for low-entropy passwords and would cost ~50 ms
on every upload). Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "pshub_"
# A sign-in session's secret (accounts/sessions.py): told apart from a token by its prefix.
SESSION_PREFIX = "pshubs_"
_TOKEN_RE = re.compile(r"^pshub_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class NewToken:
    token_id: str
    secret_hash: str
    plaintext: str


def generate_token() -> NewToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewToken(token_id, hash_secret(secret), f"{PREFIX}{token_id}_{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(text: str) -> tuple[str, str] | None:
    """Split a token into (id, secret), or None when it is not one of ours."""
    match = _TOKEN_RE.match(text.strip())
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def mask(text: str) -> str:
    """Hide a token's (or a session's) secret in anything that might be logged."""
    text = re.sub(r"(pshub_[0-9a-f]{16}_)[A-Za-z0-9_-]+", r"\1********", text)
    return re.sub(r"(pshubs_)[A-Za-z0-9_-]+", r"\1********", text)
