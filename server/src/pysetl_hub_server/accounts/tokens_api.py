"""The tokens API: a user creates, lists and revokes their own API tokens.

The narrower rule: a request signed in by a token may only create (or revoke) a token that
can do no more than itself: its components a subset of the creating token's (a user-wide one
may name any), its actions a subset, and an expiry no later than the creating token's (an
expiring token cannot create one that never expires). So a token that leaks cannot be turned
into a wider, longer-lived one. A password sign-in (a session) may create any token of its
user. Without an expiry, a new token lasts the hub's default (90 days), cut to the creating
token's own expiry when that comes sooner.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import TokenCreate, TokenCreated, TokenInfo, TokenList
from pysetl_hub_server.accounts.permissions import TOKEN_ACTIONS, Identity, require_person
from pysetl_hub_server.accounts.services import (
    check_actions,
    component_ids_of,
    display_names,
    new_token,
    revoke_token,
    token_info,
)
from pysetl_hub_server.db.models import ApiToken, User
from pysetl_hub_server.errors import BadRequest, Forbidden, NotFound
from pysetl_hub_server.i18n.messages import Message, _, joined

if TYPE_CHECKING:
    from pysetl_hub_server.hub import Hub


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


async def check_narrower(
    session: AsyncSession,
    who: Identity,
    component_ids: list[int] | None,
    actions: list[str],
    expires: datetime | None,
    *,
    verb: str = "create",
) -> None:
    """Refuse 403 `token.wider` when a token would `verb` a token that can do more than it."""
    if who.via == "session":
        return
    if who.via == "oidc":
        raise Forbidden(
            "token.wider",
            _(
                "a token minted for a trusted publisher cannot revoke tokens: it is for uploads "
                "from its workflow only"
            )
            if verb == "revoke"
            else _(
                "a token minted for a trusted publisher cannot create tokens: it is for uploads "
                "from its workflow only"
            ),
            wider=["publisher"],
        )
    wider: dict[str, Message] = {}  # keyed by the API's names for the three dimensions
    if who.components is not None:
        if component_ids is None:
            mine = await display_names(session, set(who.components))
            wider["components"] = _(
                "it would act on every component, this token only on {names}",
                names=", ".join(repr(n) for n in mine),
            )
        elif outside := set(component_ids) - who.components:
            names = ", ".join(repr(n) for n in await display_names(session, outside))
            wider["components"] = _("{names} is outside this token's scope", names=names)
    if extra := [a for a in actions if a not in who.actions]:
        wider["actions"] = _(
            "{extra} is not among this token's actions ({mine})",
            extra=", ".join(extra),
            mine=", ".join(a for a in TOKEN_ACTIONS if a in who.actions),
        )
    if who.expires is not None and (expires is None or expires > who.expires):
        wider["expiry"] = (
            _("it would expire never, after this token ({mine})", mine=_when(who.expires))
            if expires is None
            else _(
                "it would expire {when}, after this token ({mine})",
                when=_when(expires),
                mine=_when(who.expires),
            )
        )
    if wider:
        reasons = joined([joined([key, why], ": ") for key, why in wider.items()], "; ")
        raise Forbidden(
            "token.wider",
            _(
                "a token may only revoke a narrower token, and this one is wider in {reasons}. "
                "Ask for less, or sign in with your password (`pysetl-hub login --password`) "
                "to manage any token of yours",
                reasons=reasons,
            )
            if verb == "revoke"
            else _(
                "a token may only create a narrower token, and this one is wider in {reasons}. "
                "Ask for less, or sign in with your password (`pysetl-hub login --password`) "
                "to manage any token of yours",
                reasons=reasons,
            ),
            wider=sorted(wider),
        )


def _expiry(hub: Hub, who: Identity, data: TokenCreate) -> datetime | None:
    if data.never_expires:
        if data.expires_days is not None:
            raise BadRequest("token.expiry", _("choose expires_days or never_expires, not both"))
        return None
    now = datetime.now(UTC)
    if data.expires_days is not None:
        return now + timedelta(days=data.expires_days)
    default = now + timedelta(days=hub.settings.token_default_days)
    if who.via != "session" and who.expires is not None:
        return min(default, who.expires)
    return default


async def create(hub: Hub, who: Identity, data: TokenCreate) -> TokenCreated:
    """Create a token of the caller's user; its secret is in the answer, and nowhere else."""
    actions: list[str] = list(TOKEN_ACTIONS) if data.actions is None else list(data.actions)
    expires = _expiry(hub, who, data)
    async with hub.sessions() as session:
        names = list(data.components) if data.components else []
        ids = await component_ids_of(session, names) if names else None
        await check_narrower(session, who, ids, actions, expires)
        user = await session.get(User, who.user_id)
        assert user is not None  # it signed this request in
        plaintext, row = await new_token(
            session,
            user,
            component_ids=ids,
            scope_names=names,
            actions=check_actions(actions),
            expires=expires,
            name=data.name,
            description=data.description,
            actor=who.actor,
        )
        await session.flush()
        info = await token_info(session, row)
        await session.commit()
    return TokenCreated(token=plaintext, info=info)


async def list_tokens(hub: Hub, who: Identity) -> TokenList:
    """Every token of the caller's user, newest first (revoked and expired ones too)."""
    require_person(who, _("list its user's tokens"))
    async with hub.sessions() as session:
        rows = await session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == who.user_id)
            .order_by(ApiToken.created.desc(), ApiToken.id.desc())
        )
        return TokenList(tokens=[await token_info(session, row) for row in rows])


async def revoke(hub: Hub, who: Identity, token_id: str) -> TokenInfo:
    """Revoke one of the caller's tokens; another user's is not found (404), not forbidden,
    so ids tell nothing about whose they are. Revoking twice is harmless."""
    async with hub.sessions() as session:
        row = await session.scalar(
            select(ApiToken).where(
                ApiToken.token_id == token_id.lower(), ApiToken.user_id == who.user_id
            )
        )
        if row is None:
            raise NotFound(
                "token.missing",
                _(
                    "you have no token with id {token_id!r}: `pysetl-hub tokens list` shows yours",
                    token_id=token_id,
                ),
            )
        if row.token_id != who.token_id:
            await check_narrower(
                session,
                who,
                row.component_ids,
                list(row.actions or ()),
                row.expires_at,
                verb="revoke",
            )
        if row.revoked_at is None:
            await revoke_token(session, row.token_id, actor=who.actor)
        info = await token_info(session, row)
        await session.commit()
    return info
