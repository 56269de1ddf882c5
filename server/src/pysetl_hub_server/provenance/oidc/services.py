"""Minting: a verified CI token that matches trusted publishers becomes an upload token.

The minted token lives 15 minutes, may only upload, and only to the components whose
publishers matched; it acts as the publisher (`origin="oidc"`, audit actor
`publisher:<spec>`) on behalf of the user who registered it. Each OIDC token is exchanged once:
its `jti` is kept until it expires, and a second exchange is refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import MintedToken, OidcAudience
from pysetl_hub_server.accounts.tokens import generate_token
from pysetl_hub_server.audit.services import Actor, record
from pysetl_hub_server.db.models import ApiToken, Component, OidcJti, Role, TrustedPublisher
from pysetl_hub_server.errors import Forbidden, Unauthorized
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import _
from pysetl_hub_server.provenance.oidc.claims import identity_of, matching_publishers
from pysetl_hub_server.provenance.oidc.verify import verify

LIFETIME = timedelta(minutes=15)


def audience(hub: Hub) -> OidcAudience:
    return OidcAudience(audience=hub.settings.oidc.audience)


def _replayed() -> Unauthorized:
    return Unauthorized(
        "oidc.replay",
        _(
            "this OIDC token was already exchanged; each one is good for one mint: request a "
            "fresh one from the CI"
        ),
    )


async def mint(
    hub: Hub, raw: str, *, ip: str | None = None, user_agent: str | None = None
) -> MintedToken:
    """Exchange the CI's OIDC token `raw` for a short-lived upload token."""
    await hub.limits.hit("mint", ip or "unknown")
    verified = await verify(hub.settings.oidc, hub.oidc_keys, raw)
    ci = identity_of(verified.issuer, verified.claims)
    now = datetime.now(UTC)
    async with hub.sessions() as session:
        await session.execute(delete(OidcJti).where(OidcJti.expires_at < now))
        if await session.get(OidcJti, verified.jti) is not None:
            raise _replayed()
        matched = await matching_publishers(session, ci)
        if not matched:
            raise Forbidden(
                "oidc.no_publisher",
                _(
                    "no trusted publisher on this hub matches this token ({identity}): an owner "
                    "of the component registers it with `pysetl-hub publishers add`",
                    identity=ci.describe(),
                ),
            )
        user_id = await _on_behalf_of(session, matched)
        first = matched[0][0]
        expires = now + LIFETIME
        new = generate_token()
        components = [c for _, c in matched]
        session.add(
            OidcJti(
                jti=verified.jti,
                issuer=verified.issuer.url,
                expires_at=datetime.fromtimestamp(verified.exp, UTC)
                + timedelta(seconds=hub.settings.oidc.leeway),
            )
        )
        try:
            await session.flush()
        except IntegrityError as exc:  # the same jti, exchanged at the same moment
            raise _replayed() from exc
        session.add(
            ApiToken(
                token_id=new.token_id,
                secret_hash=new.secret_hash,
                user_id=user_id,
                name=f"oidc {first.spec}"[:100],
                component_ids=sorted({c.id for c in components}),
                actions=["upload"],
                description=f"minted for {ci.describe()}"[:200],
                expires_at=expires,
                origin="oidc",
                publisher_id=first.id,
            )
        )
        who = Actor(user_id, "", ip, user_agent)
        for publisher, component in matched:
            detail = {
                "publisher": publisher.spec,
                "issuer": verified.issuer.url,
                "claims": ci.matched(),
                "jti": verified.jti,
                "token_id": new.token_id,
                "expires": expires.isoformat(),
            }
            await record(
                session,
                "oidc.mint",
                actor=replace(who, name=f"publisher:{publisher.spec}"),
                component_id=component.id,
                target=f"component:{component.name}",
                detail=detail,
            )
        await session.commit()
    return MintedToken(
        token=new.plaintext,
        expires=expires,
        components=sorted({c.display_name for c in components}),
    )


async def _on_behalf_of(
    session: AsyncSession, matched: list[tuple[TrustedPublisher, Component]]
) -> int:
    """Who registered the publisher; when that account is gone, an owner of the component."""
    for publisher, _component in matched:
        if publisher.created_by is not None:
            return publisher.created_by
    for _publisher, component in matched:
        owner = await session.scalar(
            select(Role.user_id)
            .where(Role.component_id == component.id, Role.role == "owner")
            .order_by(Role.user_id)
        )
        if owner is not None:
            return owner
    raise Forbidden(
        "oidc.no_owner",
        _(
            "the trusted publishers this token matches belong to components with no owner: an "
            "admin must give them an owner first"
        ),
    )


async def revoke_minted(session: AsyncSession, component_id: int) -> int:
    """Revoke the live minted tokens that may upload to a component (its publishers changed)."""
    now = datetime.now(UTC)
    rows = await session.scalars(
        select(ApiToken).where(
            ApiToken.origin == "oidc", ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    )
    revoked = 0
    for token in rows:
        if component_id in (token.component_ids or ()):
            token.revoked_at = now
            revoked += 1
    return revoked
