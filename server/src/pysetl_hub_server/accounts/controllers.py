"""Accounts over HTTP: who am I, sign-in sessions, two-factor set-up, API tokens, leak reports.

Handlers are thin: each calls one service of accounts/ and returns its Struct.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pysetl_hub_schemas import (
    LeakReceipt,
    Me,
    RecoveryCodes,
    SignedIn,
    SignIn,
    TokenCreate,
    TokenCreated,
    TokenInfo,
    TokenList,
    TotpCode,
    TotpSetup,
)
from pysetl_hub_server.accounts import leaks, sessions, tokens_api, totp
from pysetl_hub_server.accounts.cookies import session_cookie
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.accounts.services import whoami
from pysetl_hub_server.deps import client_ip
from pysetl_hub_server.errors import BadRequest
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _

AnyRequest = Request[Any, Any, Any]


@get("/api/v1/me", tags=["accounts"], summary="The user and credential behind the request")
async def me(hub: NamedDependency[Hub], who: NamedDependency[Identity]) -> Me:
    async with hub.sessions() as session:
        return await whoami(session, who)


@post("/api/v1/session", status_code=200, tags=["accounts"], summary="Sign in with a password")
async def sign_in(
    request: AnyRequest, hub: NamedDependency[Hub], data: JSONBody[SignIn]
) -> Response[SignedIn]:
    # A cross-site form can post text/plain or a form, never application/json without a
    # preflight: requiring it keeps other sites from signing a browser in (login CSRF).
    if request.content_type[0] != "application/json":
        raise BadRequest(
            "signin.content_type", _("sign-in takes a JSON body (Content-Type: application/json)")
        )
    signed = await sessions.sign_in(
        hub, data, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    lifetime = int(sessions.SESSION_LIFETIME.total_seconds())
    return Response(signed, cookies=[session_cookie(request, hub, signed.session, lifetime)])


@delete("/api/v1/session", status_code=204, tags=["accounts"], summary="Sign out")
async def sign_out(
    request: AnyRequest, hub: NamedDependency[Hub], who: NamedDependency[Identity]
) -> Response[None]:
    await sessions.sign_out(hub, who)
    return Response(None, status_code=204, cookies=[session_cookie(request, hub, "", 0)])


@post("/api/v1/me/totp", status_code=200, tags=["accounts"], summary="Start two-factor set-up")
async def totp_enroll(hub: NamedDependency[Hub], who: NamedDependency[Identity]) -> TotpSetup:
    return await totp.enroll(hub, who)


@post(
    "/api/v1/me/totp/confirm",
    status_code=200,
    tags=["accounts"],
    summary="Turn two-factor sign-in on; returns the recovery codes, once",
)
async def totp_confirm(
    hub: NamedDependency[Hub], who: NamedDependency[Identity], data: JSONBody[TotpCode]
) -> RecoveryCodes:
    return await totp.confirm(hub, who, data.code)


@post(
    "/api/v1/me/totp/disable",
    status_code=204,
    tags=["accounts"],
    summary="Turn two-factor sign-in off (with a current code or a recovery code)",
)
async def totp_disable(
    hub: NamedDependency[Hub], who: NamedDependency[Identity], data: JSONBody[TotpCode]
) -> None:
    await totp.disable(hub, who, data.code)


@post("/api/v1/tokens", status_code=201, tags=["accounts"], summary="Create an API token")
async def token_create(
    hub: NamedDependency[Hub], who: NamedDependency[Identity], data: JSONBody[TokenCreate]
) -> TokenCreated:
    return await tokens_api.create(hub, who, data)


@get("/api/v1/tokens", tags=["accounts"], summary="The caller's API tokens")
async def token_list(hub: NamedDependency[Hub], who: NamedDependency[Identity]) -> TokenList:
    return await tokens_api.list_tokens(hub, who)


@delete(
    "/api/v1/tokens/{token_id:str}",
    status_code=200,
    tags=["accounts"],
    summary="Revoke one of the caller's API tokens",
)
async def token_revoke(
    hub: NamedDependency[Hub], who: NamedDependency[Identity], token_id: FromPath[str]
) -> TokenInfo:
    return await tokens_api.revoke(hub, who, token_id)


@post(
    "/api/v1/tokens/leaked",
    status_code=202,
    request_max_body_size=leaks.MAX_BODY,
    tags=["accounts"],
    summary="Report leaked tokens (secret scanners); valid ones are revoked",
)
async def token_leaked(request: AnyRequest, hub: NamedDependency[Hub]) -> LeakReceipt:
    body = await request.body()
    return await leaks.report_leaks(
        hub, body, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )


ROUTES = [
    me,
    sign_in,
    sign_out,
    totp_enroll,
    totp_confirm,
    totp_disable,
    token_create,
    token_list,
    token_revoke,
    token_leaked,
]
