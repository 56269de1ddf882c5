"""Finding the rows governance acts on by the names the API uses, with errors that say how to
find the right name."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.accounts.permissions import Identity
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Forbidden, NotFound
from pysetl_hub_server.i18n.messages import Message, _


async def _lock(
    session: AsyncSession,
    model: type[models.Component] | type[models.Organization],
    where: ColumnElement[bool],
) -> None:
    """A no-op UPDATE of the row: on PostgreSQL it takes the row lock (as FOR UPDATE would); on
    SQLite the database's write lock, which no SELECT takes (the driver begins a transaction at
    the first write, so two requests could each count the owners before either removed one).
    Reads after it see what the previous holder committed."""
    await session.execute(
        update(model).where(where).values(id=model.id).execution_options(synchronize_session=False)
    )


async def component(
    session: AsyncSession, name: str, *, for_update: bool = False
) -> models.Component:
    """The component; `for_update` locks it until commit, so that two changes that each check
    "another owner is left" run one after the other (see `_lock`)."""
    where = models.Component.name == canonicalize_name(name)
    if for_update:
        await _lock(session, models.Component, where)
    row = await session.scalar(
        select(models.Component).where(where).execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("component.missing", _("no component named {name!r} on this hub", name=name))
    return row


async def user(session: AsyncSession, username: str) -> models.User:
    row = await session.scalar(select(models.User).where(models.User.username == username.lower()))
    if row is None:
        raise NotFound(
            "user.missing",
            _(
                "no user named {username!r} on this hub: check the spelling (usernames, not "
                "e-mail addresses)",
                username=username,
            ),
        )
    return row


async def org(session: AsyncSession, name: str, *, for_update: bool = False) -> models.Organization:
    """The organization; `for_update` locks it until commit (as `component`)."""
    where = models.Organization.name == canonicalize_name(name)
    if for_update:
        await _lock(session, models.Organization, where)
    row = await session.scalar(
        select(models.Organization).where(where).execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(
            "org.missing",
            _(
                "no organization named {name!r} on this hub: create it with `pysetl-hub orgs "
                "create`",
                name=name,
            ),
        )
    return row


async def org_name(session: AsyncSession, org_id: int | None) -> str | None:
    """The (normalized) name the API uses for an organization."""
    if org_id is None:
        return None
    return await session.scalar(
        select(models.Organization.name).where(models.Organization.id == org_id)
    )


async def team(session: AsyncSession, org: models.Organization, name: str) -> models.Team:
    row = await session.scalar(
        select(models.Team).where(
            models.Team.org_id == org.id, models.Team.name == canonicalize_name(name)
        )
    )
    if row is None:
        raise NotFound(
            "team.missing",
            _(
                "organization {org!r} has no team {name!r}: see `pysetl-hub orgs show {org_name}`",
                org=org.display_name,
                name=name,
                org_name=org.name,
            ),
        )
    return row


def require_account(who: Identity, words: Message) -> None:
    """Actions on the account itself (organizations, invitations) take a user-wide credential
    that may manage: a component-scoped or trusted-publisher token acts on its components only."""
    if who.via == "oidc" or who.components is not None:
        raise Forbidden(
            "auth.scope",
            _(
                "this token is scoped to components and cannot {words}: use a user-wide token",
                words=words,
            ),
        )
    if "manage" not in who.actions:
        raise Forbidden(
            "auth.token_action",
            _(
                "this token may only {actions} and cannot {words}: create a token with the "
                "'manage' action",
                actions=", ".join(sorted(who.actions)) or "read",
                words=words,
            ),
            needed_action="manage",
        )
