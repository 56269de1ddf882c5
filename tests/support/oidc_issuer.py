"""A local OIDC issuer for trusted-publishing tests: real keys, real HTTP, on loopback.

It plays a CI's token service: its own RSA and EC keys, an OpenID discovery document and a
JWKS served by a small `http.server` thread, and GitHub Actions' ambient token endpoint (what
`ACTIONS_ID_TOKEN_REQUEST_URL` points at: `GET ?audience=...` with the request token as bearer,
answered `{"value": <jwt>}`), so the `id` package and the real CLI fetch their token from it.
Tokens are signed with PyJWT, with any claims, key id or key; keys can be rotated. The hub
under test trusts it through the explicit allow-http setting (`settings()`), nothing else.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from pysetl_hub_server.settings import Oidc, OidcIssuer

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
DROP = object()  # a claim override that removes the claim
AUDIENCE = "pysetl-hub"


def new_key(kind: str = "rsa") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def alg_of(key: PrivateKey) -> str:
    return "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: Mapping[str, Any], claims: Mapping[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, for the tokens no honest signer makes (alg none, HMAC...)."""
    head = b64(json.dumps(dict(header)).encode())
    body = b64(json.dumps(dict(claims)).encode())
    return f"{head}.{body}.{b64(signature)}"


class LocalIssuer:
    """One issuer on 127.0.0.1; `kind` picks GitHub Actions' or GitLab CI's claims."""

    def __init__(self, kind: str = "github") -> None:
        self.kind = kind
        self.keys: dict[str, PrivateKey] = {}
        self.published: list[str] = []
        self.current = ""
        self.jwks_requests = 0
        self.ambient_requests = 0
        self.request_token = secrets.token_urlsafe(16)
        # claims the ambient endpoint puts in its tokens (on top of `claims()`'s defaults)
        self.ambient: dict[str, Any] = {}
        self.rotate()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- keys -----------------------------------------------------------------------------

    def rotate(self, kind: str = "rsa", *, drop_old: bool = False) -> str:
        """A new signing key, published and used from now on; returns its kid."""
        kid = f"{kind}-{uuid.uuid4().hex[:8]}"
        self.keys[kid] = new_key(kind)
        self.published = [kid] if drop_old else [*self.published, kid]
        self.current = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            key = self.keys[kid]
            if isinstance(key, ec.EllipticCurvePrivateKey):
                jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
            else:
                jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": alg_of(key), "use": "sig"})
        return {"keys": keys}

    # -- tokens ---------------------------------------------------------------------------

    def claims(
        self,
        repository: str = "acme/csv-dedupe",
        workflow: str = "release.yml",
        environment: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """The claims a CI job of `repository` running `workflow` gets, then `overrides`
        (`DROP` removes a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            "ref": "refs/tags/v1.0.0",
            "sha": "0" * 40,
        }
        if self.kind == "github":
            ref = f"{repository}/.github/workflows/{workflow}@refs/tags/v1.0.0"
            claims |= {
                "sub": f"repo:{repository}:ref:refs/tags/v1.0.0",
                "repository": repository,
                "repository_owner": repository.split("/")[0],
                "job_workflow_ref": ref,
                "workflow_ref": ref,
                "event_name": "push",
            }
        else:
            claims |= {
                "sub": f"project_path:{repository}:ref_type:tag:ref:v1.0.0",
                "project_path": repository,
                "namespace_path": repository.rsplit("/", 1)[0],
                "ci_config_ref_uri": f"{self.host}/{repository}//{workflow}@refs/tags/v1.0.0",
                "ref": "v1.0.0",
                "ref_type": "tag",
            }
        if environment is not None:
            claims["environment"] = environment
        for name, value in overrides.items():
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def sign(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        kid: str | None = None,
        key: PrivateKey | None = None,
        alg: str | None = None,
    ) -> str:
        """`claims` (default: `claims()`) signed with the current key, or with `key` under
        `kid` (a key the JWKS does not have, say)."""
        kid = kid or self.current
        key = key or self.keys[kid]
        return jwt.encode(
            dict(claims if claims is not None else self.claims()),
            key,
            algorithm=alg or alg_of(key),
            headers={"kid": kid},
        )

    def github_env(self) -> dict[str, str]:
        """What a GitHub Actions job with `permissions: id-token: write` has in its env."""
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/actions/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def settings(self, **changes: Any) -> Oidc:
        """Hub settings that trust this issuer (and only it), over plain http."""
        return Oidc(issuers=(OidcIssuer(self.url, self.kind),), allow_http=True, **changes)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- HTTP -----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(
                        {
                            "issuer": issuer.url,
                            "jwks_uri": f"{issuer.url}/.well-known/jwks",
                            "response_types_supported": ["id_token"],
                            "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                        }
                    )
                elif url.path == "/.well-known/jwks":
                    issuer.jwks_requests += 1
                    self._json(issuer.jwks())
                elif url.path == "/actions/token":
                    issuer.ambient_requests += 1
                    wanted = f"bearer {issuer.request_token}"
                    if self.headers.get("Authorization", "").lower() != wanted.lower():
                        self._json({"message": "bad request token"}, 401)
                        return
                    audience = parse_qs(url.query).get("audience", [AUDIENCE])[0]
                    claims = issuer.claims(**{"aud": audience, **issuer.ambient})
                    self._json({"value": issuer.sign(claims)})
                else:
                    self._json({"message": "not found"}, 404)

            def _json(self, body: object, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
