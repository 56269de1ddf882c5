"""Masking of secrets in any text the hub writes out: log lines and problem+json bodies.

What is masked, wherever it appears:
- API tokens: `pshub_<id>_<secret>` keeps its public id (`tokens revoke` takes it) and loses
  the secret;
- credentials in Authorization headers (Basic, Bearer, anything), in a log line or in a dump
  of an ASGI scope;
- JSON Web Tokens (OIDC ID tokens and the like: `eyJ...` `.`-separated);
- the value of a password, secret, TOTP or recovery-code field (`password=...`,
  `"totp_code": "123456"`): a six-digit code alone is indistinguishable from a port or a size,
  so codes are masked by the name they travel under;
- the password of a URL (`postgresql://hub:<password>@db/hub`);
- e-mail addresses, down to their first letter and domain (`a***@example.org`).
"""

from __future__ import annotations

import re

from pysetl_hub_server.accounts.tokens import mask as mask_tokens

MASK = "********"

_AUTHORIZATION = re.compile(
    r"(?i)(\bauthorization['\"]?\s*[:=,]\s*(?:b?['\"])?\s*(?:(?:basic|bearer|token)\s+)?)"
    r"[^\s'\",)]+"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_FIELD = re.compile(
    r"(?i)(\b(?:password|passwd|new_password|current_password|secret|client_secret|totp|"
    r"totp_code|otp|recovery_code|id_token|access_token|refresh_token)['\"]?\s*[:=]\s*['\"]?)"
    r"[^\s'\"&,;}]+"
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s/'\"]+@")
_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")


def redact(text: str) -> str:
    """`text` with every secret in it masked (see the module docstring)."""
    text = mask_tokens(text)
    text = _AUTHORIZATION.sub(rf"\1{MASK}", text)
    text = _JWT.sub(f"eyJ{MASK}", text)
    text = _FIELD.sub(rf"\1{MASK}", text)
    text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
    return _EMAIL.sub(r"\1***@\2", text)
