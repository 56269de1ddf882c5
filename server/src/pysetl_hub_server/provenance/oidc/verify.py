"""Checking a CI OIDC token with PyJWT: issuer, signature, audience, lifetime, claims.

The order matters: the header and the `iss` claim are read unverified only to pick a
configured issuer and its key; nothing is trusted until PyJWT has checked the signature with
that key (RS256 or ES256 only: never `none`, never HMAC) and the registered claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from pysetl_hub_server.errors import Unauthorized
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.provenance.oidc.errors import Unprocessable
from pysetl_hub_server.provenance.oidc.keys import ALGORITHMS
from pysetl_hub_server.settings import Oidc, OidcIssuer

REQUIRED = ["iss", "aud", "exp", "iat", "jti"]


class KeySource(Protocol):
    async def key(self, issuer: str, kid: str | None, alg: str) -> jwt.PyJWK: ...


@dataclass(frozen=True, slots=True)
class Verified:
    """A token whose signature and registered claims checked out."""

    issuer: OidcIssuer
    claims: dict[str, Any]

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def exp(self) -> int:
        return int(self.claims["exp"])


def _peek(raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(raw)
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unprocessable(
            "oidc.malformed",
            _(
                "the OIDC token is not a JWT (three base64url parts: header.payload.signature);"
                " send the token the CI issued, unchanged"
            ),
        ) from exc
    return header, claims


async def verify(settings: Oidc, keys: KeySource, raw: str) -> Verified:
    """The token's claims once everything checks; a 401/422 problem naming what did not."""
    header, unverified = _peek(raw)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise Unauthorized(
            "oidc.algorithm",
            _(
                "OIDC tokens must be signed with {algorithms}; this one says {alg!r}",
                algorithms=" or ".join(ALGORITHMS),
                alg=str(alg)[:16],
            ),
        )
    iss = unverified.get("iss")
    issuer = settings.issuer(iss) if isinstance(iss, str) else None
    if issuer is None:
        accepted = ", ".join(i.url for i in settings.issuers) or "none"
        raise Unauthorized(
            "oidc.issuer",
            _(
                "this hub does not accept OIDC tokens from issuer {iss!r}; it accepts: {accepted}",
                iss=str(iss)[:200],
                accepted=accepted,
            ),
        )
    key = await keys.key(issuer.url, header.get("kid"), str(alg))
    try:
        claims: dict[str, Any] = jwt.decode(
            raw,
            key,
            algorithms=[str(alg)],
            audience=settings.audience,
            issuer=issuer.url,
            leeway=settings.leeway,
            options={"require": REQUIRED, "enforce_minimum_key_length": True},
        )
    except jwt.PyJWTError as exc:
        raise _refusal(exc, settings) from exc
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        raise Unprocessable("oidc.claims", _("the OIDC token's `jti` is not a short string"))
    return Verified(issuer, claims)


def _refusal(exc: jwt.PyJWTError, settings: Oidc) -> Unauthorized | Unprocessable:
    """PyJWT's verdict as a problem; most specific class first (they subclass each other)."""
    if isinstance(exc, jwt.InvalidSignatureError):
        return Unauthorized(
            "oidc.signature", _("the OIDC token's signature does not verify with the issuer's key")
        )
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return Unauthorized(
            "oidc.algorithm", _("the OIDC token's algorithm is refused: {exc}", exc=exc)
        )
    if isinstance(exc, jwt.ExpiredSignatureError):
        return Unauthorized(
            "oidc.expired",
            _("the OIDC token has expired: request a fresh one from the CI right before minting"),
        )
    if isinstance(exc, jwt.ImmatureSignatureError):
        return Unauthorized(
            "oidc.not_yet_valid",
            _(
                "the OIDC token is not valid yet ({exc}; {leeway} s of clock skew are allowed):"
                " check the clocks",
                exc=exc,
                leeway=settings.leeway,
            ),
        )
    if isinstance(exc, jwt.InvalidAudienceError):
        return Unauthorized(
            "oidc.audience",
            _(
                "the OIDC token is for another audience: request it for {audience!r} (GET "
                "/api/v1/oidc/audience)",
                audience=settings.audience,
            ),
        )
    if isinstance(exc, jwt.InvalidIssuerError):
        return Unauthorized("oidc.issuer", _("the OIDC token's issuer is not accepted here"))
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return Unprocessable(
            "oidc.claims", _("the OIDC token lacks the {claim!r} claim", claim=exc.claim)
        )
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return Unprocessable(
            "oidc.claims", _("the OIDC token's claims are malformed: {exc}", exc=exc)
        )
    if isinstance(exc, jwt.InvalidKeyError):
        return Unauthorized("oidc.signature", _("the issuer's key cannot verify this token"))
    if isinstance(exc, jwt.DecodeError):
        return Unprocessable("oidc.malformed", _("the OIDC token cannot be decoded"))
    return Unauthorized("oidc.invalid", _("the OIDC token is invalid: {exc}", exc=exc))
