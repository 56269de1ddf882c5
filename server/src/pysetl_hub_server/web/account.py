"""The signed-in pages: sign in and out, API tokens, invitations, and managing a component
(collaborators, trusted publishers, yanking, its security history).

Every form posts a CSRF token: the session's (an HMAC of its secret) once signed in, and for
the sign-in form itself a random value also set in a SameSite=Strict cookie (login CSRF).
The work is done by the same services the JSON API calls.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from pysetl_hub_schemas import PublisherRequest, RoleRequest, SignIn, TokenCreate
from pysetl_hub_server.accounts import sessions, tokens_api
from pysetl_hub_server.accounts.cookies import session_cookie
from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.audit import events
from pysetl_hub_server.components.services import set_yanked
from pysetl_hub_server.deps import client_ip
from pysetl_hub_server.errors import BadRequest, Forbidden
from pysetl_hub_server.governance import invitations, roles
from pysetl_hub_server.governance.lookup import user as user_row
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.provenance import publishers
from pysetl_hub_server.web import component
from pysetl_hub_server.web.catalog import user_components
from pysetl_hub_server.web.context import (
    CSRF_FIELD,
    Visitor,
    check_form,
    local_path,
    page_html,
    respond,
)

AnyRequest = Request[Any, Any, Any]
FORM_COOKIE = "pshub_form"


async def _form(request: AnyRequest) -> dict[str, Any]:
    form = await request.form()
    return {key: form.getall(key) if key in MULTI else form.get(key) for key in form}


MULTI = frozenset({"actions", "components"})


async def _signed_form(request: AnyRequest, visitor: Visitor) -> tuple[Identity, dict[str, Any]]:
    """Who posted a signed-in page's form, and its fields, once its CSRF token matches."""
    form = await _form(request)
    return check_form(visitor, form), form


def _convert(data: dict[str, Any], into: type[Any]) -> Any:
    """A form's fields as the API's request Struct: one set of rules for both doors."""
    try:
        return msgspec.convert(data, into, strict=False)
    except msgspec.ValidationError as exc:
        raise BadRequest(
            "form.invalid", _("the form was not accepted: {reason}", reason=str(exc))
        ) from exc


def _signed_in(visitor: Visitor) -> Redirect | None:
    if visitor.identity is None:
        return Redirect(f"/account/sign-in?next={visitor.path}", status_code=303)
    return None


@get("/account/sign-in", include_in_schema=False, name="web.signin")
async def sign_in_form(
    visitor: NamedDependency[Visitor], next: FromQuery[str | None] = None
) -> Response[bytes]:
    token = secrets.token_urlsafe(24)
    response = respond(
        visitor,
        page_html(
            visitor, "account/signin.html", form_token=token, next=local_path(next, "/account")
        ),
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.set_cookie(
        Cookie(key=FORM_COOKIE, value=token, path="/account", httponly=True, samesite="strict")
    )
    return response


@post("/account/sign-in", include_in_schema=False, status_code=303)
async def sign_in(request: AnyRequest, hub: NamedDependency[Hub]) -> Redirect:
    form = await _form(request)
    sent, expected = str(form.get(CSRF_FIELD) or ""), request.cookies.get(FORM_COOKIE) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(
            "auth.csrf",
            _("the sign-in form is out of date: reload the sign-in page and try again"),
        )
    data = _convert(
        {
            "username": form.get("username") or "",
            "password": form.get("password") or "",
            "otp": form.get("otp") or None,
        },
        SignIn,
    )
    signed = await sessions.sign_in(
        hub, data, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    lifetime = int(sessions.SESSION_LIFETIME.total_seconds())
    response = Redirect(local_path(form.get("next"), "/account"), status_code=303)
    response.cookies.append(session_cookie(request, hub, signed.session, lifetime))
    response.delete_cookie(FORM_COOKIE, path="/account")
    return response


@post("/account/sign-out", include_in_schema=False, status_code=303)
async def sign_out(
    request: AnyRequest, hub: NamedDependency[Hub], visitor: NamedDependency[Visitor]
) -> Redirect:
    who, _fields = await _signed_form(request, visitor)
    await sessions.sign_out(hub, who)
    response = Redirect("/", status_code=303)
    response.cookies.append(session_cookie(request, hub, "", 0))
    return response


@get("/account", include_in_schema=False, name="web.account")
async def overview(
    hub: NamedDependency[Hub], visitor: NamedDependency[Visitor]
) -> Response[bytes] | Redirect:
    if (away := _signed_in(visitor)) is not None:
        return away
    assert visitor.identity is not None
    mine = await invitations.mine(hub, visitor.identity)
    async with hub.sessions() as session:
        cards = await user_components(session, await user_row(session, visitor.identity.username))
    return respond(
        visitor, page_html(visitor, "account/index.html", invitations=mine.invitations, cards=cards)
    )


@get("/account/tokens", include_in_schema=False, name="web.tokens")
async def tokens(
    hub: NamedDependency[Hub], visitor: NamedDependency[Visitor]
) -> Response[bytes] | Redirect:
    if (away := _signed_in(visitor)) is not None:
        return away
    assert visitor.identity is not None
    listed = await tokens_api.list_tokens(hub, visitor.identity)
    return respond(visitor, page_html(visitor, "account/tokens.html", tokens=listed.tokens))


@post("/account/tokens", include_in_schema=False, status_code=201)
async def create_token(
    request: AnyRequest, hub: NamedDependency[Hub], visitor: NamedDependency[Visitor]
) -> Response[bytes]:
    who, form = await _signed_form(request, visitor)
    names = [n.strip() for n in ",".join(form.get("components") or []).split(",") if n.strip()]
    days = str(form.get("expires_days") or "").strip()
    data = _convert(
        {
            "name": form.get("name") or "",
            "components": names or None,
            "actions": form.get("actions") or None,
            "expires_days": int(days) if days.isdigit() else None,
            "description": form.get("description") or "",
        },
        TokenCreate,
    )
    created = await tokens_api.create(hub, who, data)
    response = respond(
        visitor, page_html(visitor, "account/token_created.html", created=created), 201
    )
    response.headers["Cache-Control"] = "no-store"  # the secret is shown this once
    return response


@post("/account/tokens/{token_id:str}/revoke", include_in_schema=False, status_code=303)
async def revoke_token(
    token_id: FromPath[str],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, _fields = await _signed_form(request, visitor)
    await tokens_api.revoke(hub, who, token_id)
    return Redirect("/account/tokens?done=revoked", status_code=303)


@post(
    "/account/invitations/{invitation_id:int}/{answer:str}",
    include_in_schema=False,
    status_code=303,
)
async def answer_invitation(
    invitation_id: FromPath[int],
    answer: FromPath[str],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, _fields = await _signed_form(request, visitor)
    if answer == "accept":
        await invitations.accept(hub, who, invitation_id)
    elif answer == "decline":
        await invitations.decline(hub, who, invitation_id)
    else:
        raise BadRequest("invitation.answer", _("an invitation is answered by accept or decline"))
    return Redirect(f"/account?done={answer}", status_code=303)


@get("/account/components/{name:str}", include_in_schema=False, name="web.manage")
async def manage(
    name: FromPath[str], hub: NamedDependency[Hub], visitor: NamedDependency[Visitor]
) -> Response[bytes] | Redirect:
    if (away := _signed_in(visitor)) is not None:
        return away
    who = visitor.identity
    assert who is not None
    async with hub.sessions() as session:
        view = await component.view(session, name, who)
        listed = await publishers.list_publishers(session, name, who)
        history = await events.component_events(session, who, name, None, 50)
    try:
        pending = (await invitations.pending_for_component(hub, who, name)).invitations
    except Forbidden:
        pending = []  # a maintainer manages releases, not roles
    return respond(
        visitor,
        page_html(
            visitor,
            "account/manage.html",
            view=view,
            publishers=listed,
            history=history.events,
            pending=pending,
        ),
    )


def _back(name: str, done: str) -> Redirect:
    return Redirect(f"/account/components/{name}?done={done}", status_code=303)


@post("/account/components/{name:str}/invite", include_in_schema=False, status_code=303)
async def invite(
    name: FromPath[str],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, form = await _signed_form(request, visitor)
    data = _convert(
        {"username": form.get("username") or "", "role": form.get("role") or ""}, RoleRequest
    )
    await invitations.invite_to_component(hub, who, name, data)
    return _back(name, "invited")


@post(
    "/account/components/{name:str}/invitations/{invitation_id:int}/revoke",
    include_in_schema=False,
    status_code=303,
)
async def revoke_invitation(
    name: FromPath[str],
    invitation_id: FromPath[int],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, _fields = await _signed_form(request, visitor)
    await invitations.revoke(hub, who, invitation_id)
    return _back(name, "invitation-revoked")


@post(
    "/account/components/{name:str}/roles/{username:str}/remove",
    include_in_schema=False,
    status_code=303,
)
async def remove_role(
    name: FromPath[str],
    username: FromPath[str],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, _fields = await _signed_form(request, visitor)
    await roles.remove_role(hub, who, name, username)
    return _back(name, "removed")


@post("/account/components/{name:str}/publishers", include_in_schema=False, status_code=303)
async def add_publisher(
    name: FromPath[str],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, form = await _signed_form(request, visitor)
    fields = ("kind", "repository", "workflow", "environment", "issuer", "identity")
    data = _convert({k: form.get(k) or None for k in fields}, PublisherRequest)
    await publishers.add_publisher(hub, who, name, data)
    return _back(name, "publisher-added")


@post(
    "/account/components/{name:str}/publishers/{publisher_id:int}/remove",
    include_in_schema=False,
    status_code=303,
)
async def remove_publisher(
    name: FromPath[str],
    publisher_id: FromPath[int],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, _fields = await _signed_form(request, visitor)
    await publishers.remove_publisher(hub, who, name, publisher_id)
    return _back(name, "publisher-removed")


@post(
    "/account/components/{name:str}/releases/{version:str}/{action:str}",
    include_in_schema=False,
    status_code=303,
)
async def yank(
    name: FromPath[str],
    version: FromPath[str],
    action: FromPath[str],
    request: AnyRequest,
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
) -> Redirect:
    who, form = await _signed_form(request, visitor)
    if action not in ("yank", "unyank"):
        raise BadRequest("yank.action", _("a release is yanked or unyanked"))
    reason = str(form.get("reason") or "")
    await set_yanked(hub, who, name, version, yanked=action == "yank", reason=reason)
    return _back(name, action + "ed")


ROUTES = [
    sign_in_form, sign_in, sign_out, overview, tokens, create_token, revoke_token,
    answer_invitation, manage, invite, revoke_invitation, remove_role, add_publisher,
    remove_publisher, yank,
]  # fmt: skip
