"""The pure core of the client: what to ask the hub, and what its answers mean.

No I/O here. `HubClient` and `AsyncHubClient` are thin shells that send the `Call`s built
below and hand the responses back to `parse`, so both behave the same by construction.
"""

from __future__ import annotations

import email.utils
import platform
import time
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

import httpx
import msgspec

from pysetl_hub import __version__
from pysetl_hub.config import Config, origin
from pysetl_hub.errors import APIError, api_error
from pysetl_hub.i18n import accept_language
from pysetl_hub_schemas import (
    PYSETL,
    PYTHON,
    SPARK,
    ComponentSettings,
    MintRequest,
    Problem,
    Publisher,
    PublisherRequest,
    SignIn,
    TokenAction,
    TokenCreate,
    YankRequest,
)
from pysetl_hub_schemas.osv import OsvBatchQuery, OsvQuery

T = TypeVar("T")

USER_AGENT = (
    f"pysetl-hub/{__version__} httpx/{httpx.__version__} "
    f"{platform.python_implementation()}/{platform.python_version()}"
)
RETRY_STATUSES = frozenset({502, 503, 504})
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Call:
    """One request to the hub, before any I/O."""

    method: str
    path: str
    params: dict[str, str] | None = None
    body: bytes | None = None
    auth: bool = False


def _seg(value: str) -> str:
    return quote(value, safe="")


def component(name: str) -> Call:
    return Call("GET", f"/api/v1/components/{_seg(name)}")


def osv_query(name: str) -> Call:
    """Every advisory of a package (the OSV query API, without a version)."""
    return Call("POST", "/osv/v1/query", body=msgspec.json.encode(
        {"package": {"name": name, "ecosystem": "PyPI"}}))  # fmt: skip


def osv_batch(queries: list[OsvQuery]) -> Call:
    return Call(
        "POST", "/osv/v1/querybatch", body=msgspec.json.encode(OsvBatchQuery(queries=queries))
    )


def osv_vuln(osv_id: str) -> Call:
    return Call("GET", f"/osv/v1/vulns/{_seg(osv_id)}")


def release(name: str, version: str) -> Call:
    return Call("GET", f"/api/v1/components/{_seg(name)}/{_seg(version)}")


def search(
    query: str,
    *,
    kind: str | None = None,
    page: int = 1,
    per_page: int = 20,
    python: str | None = None,
    pysetl: str | None = None,
    spark: str | None = None,
    license: str | None = None,
    sort: str | None = None,
) -> Call:
    params = {"q": query, "page": str(page), "per_page": str(per_page)}
    optional = {
        "kind": kind,
        PYTHON: python,
        PYSETL: pysetl,
        SPARK: spark,
        "license": license,
        "sort": sort,
    }
    params.update({k: v for k, v in optional.items() if v})
    return Call("GET", "/api/v1/search", params=params)


def downloads(name: str, days: int = 30) -> Call:
    return Call("GET", f"/api/v1/components/{_seg(name)}/downloads", params={"days": str(days)})


def yank(name: str, version: str, reason: str = "") -> Call:
    body = msgspec.json.encode(YankRequest(reason=reason))
    return Call(
        "POST", f"/api/v1/components/{_seg(name)}/{_seg(version)}/yank", body=body, auth=True
    )


def unyank(name: str, version: str) -> Call:
    return Call(
        "POST", f"/api/v1/components/{_seg(name)}/{_seg(version)}/unyank", body=b"{}", auth=True
    )


def publishers(name: str) -> Call:
    return Call("GET", f"/api/v1/components/{_seg(name)}/publishers")


def add_publisher(name: str, publisher: Publisher) -> Call:
    body = msgspec.json.encode(PublisherRequest(**msgspec.structs.asdict(publisher)))
    return Call("POST", f"/api/v1/components/{_seg(name)}/publishers", body=body, auth=True)


def remove_publisher(name: str, publisher_id: int) -> Call:
    return Call("DELETE", f"/api/v1/components/{_seg(name)}/publishers/{publisher_id}", auth=True)


def settings(name: str, *, require_attestations: bool | None = None) -> Call:
    body = msgspec.json.encode(ComponentSettings(require_attestations=require_attestations))
    return Call("PATCH", f"/api/v1/components/{_seg(name)}", body=body, auth=True)


def events(
    name: str | None = None, *, every: bool = False, before: int | None = None, per_page: int = 50
) -> Call:
    """Audit events, newest first: a component's (owners), every one (`every`: admins), or
    the caller's own security events (neither)."""
    if name is not None:
        path = f"/api/v1/components/{_seg(name)}/events"
    else:
        path = "/api/v1/admin/events" if every else "/api/v1/me/events"
    params = {"per_page": str(per_page)}
    if before is not None:
        params["before"] = str(before)
    return Call("GET", path, params=params, auth=True)


def flags(name: str | None = None, *, before: int | None = None, per_page: int = 50) -> Call:
    """Anomaly flags, newest first: a component's (owners), or every one (admins)."""
    path = "/api/v1/admin/flags" if name is None else f"/api/v1/components/{_seg(name)}/flags"
    params = {"per_page": str(per_page)}
    if before is not None:
        params["before"] = str(before)
    return Call("GET", path, params=params, auth=True)


def me() -> Call:
    """Who the configured token belongs to (401 when the hub does not accept it)."""
    return Call("GET", "/api/v1/me", auth=True)


def oidc_audience() -> Call:
    """The audience a CI OIDC token must be requested for (trusted publishing)."""
    return Call("GET", "/api/v1/oidc/audience")


def mint_token(oidc_token: str) -> Call:
    """Exchange a CI job's OIDC token for a short-lived upload token (no stored secret)."""
    return Call(
        "POST", "/api/v1/oidc/mint-token", body=msgspec.json.encode(MintRequest(token=oidc_token))
    )


def sign_in(username: str, password: str, otp: str | None = None) -> Call:
    """Open a sign-in session (its secret is in the answer); never sends a stored token."""
    body = msgspec.json.encode(SignIn(username=username, password=password, otp=otp))
    return Call("POST", "/api/v1/session", body=body)


def sign_out() -> Call:
    """End the session the configured credential is (the CLI's Bearer pshubs_...)."""
    return Call("DELETE", "/api/v1/session", auth=True)


def create_token(
    name: str,
    *,
    components: list[str] | None = None,
    actions: list[TokenAction] | None = None,
    expires_days: int | None = None,
    never_expires: bool = False,
    description: str = "",
) -> Call:
    body = msgspec.json.encode(
        TokenCreate(
            name=name,
            components=components or None,
            actions=actions or None,
            expires_days=expires_days,
            never_expires=never_expires,
            description=description,
        )
    )
    return Call("POST", "/api/v1/tokens", body=body, auth=True)


def tokens() -> Call:
    return Call("GET", "/api/v1/tokens", auth=True)


def revoke_token(token_id: str) -> Call:
    return Call("DELETE", f"/api/v1/tokens/{_seg(token_id)}", auth=True)


def provenance(url: str) -> Call:
    """The PEP 740 provenance object at `url` (a path on the hub, as FileInfo.provenance)."""
    return Call("GET", url)


def headers(config: Config, call_auth: bool, url: str) -> dict[str, str]:
    """Request headers; the token only goes to the configured hub's own origin."""
    h = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if (language := accept_language()) is not None:
        h["Accept-Language"] = language
    if call_auth and config.token and origin(url) == origin(config.url):
        h["Authorization"] = f"Bearer {config.token}"
    return h


def build(http: httpx.Client | httpx.AsyncClient, config: Config, call: Call) -> httpx.Request:
    url = f"{config.url}{call.path}"
    h = headers(config, call.auth, url)
    if call.body is not None:
        h["Content-Type"] = "application/json"
    return http.build_request(call.method, url, params=call.params, content=call.body, headers=h)


def problem_of(response: httpx.Response) -> Problem:
    """The problem+json body of an error answer, or one made up from whatever came back."""
    try:
        return msgspec.json.decode(response.content, type=Problem)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = response.text.strip()[:300] if response.content else ""
        return Problem(title=response.reason_phrase, status=response.status_code, detail=text or "")


def check(response: httpx.Response) -> None:
    """Raise the matching APIError for a 4xx/5xx answer."""
    if response.status_code >= 400:
        raise api_error(response.status_code, problem_of(response), str(response.request.url))


def parse(response: httpx.Response, type_: type[T]) -> T:
    check(response)
    try:
        return msgspec.json.decode(response.content, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise APIError(
            response.status_code,
            Problem(
                title="Unreadable answer",
                status=response.status_code,
                detail=f"the hub's answer to {response.request.url} is not a {type_.__name__}: "
                f"{exc}",
            ),
        ) from exc


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_delay(attempt: int, status: int | None, header: str | None = None) -> float | None:
    """How long to wait before attempt `attempt + 1`, or None when the answer is final.

    `status` None means the connection failed. Backoff doubles from 0.25 s; a Retry-After
    from the server wins (capped at a minute so a misconfigured proxy cannot hang a CLI).
    """
    if status is not None and status not in RETRY_STATUSES:
        return None
    backoff = min(MAX_BACKOFF, 0.25 * 2**attempt)
    hinted = retry_after(header) if status is not None else None
    return min(MAX_RETRY_AFTER, hinted) if hinted is not None else backoff
