"""Who may do what to a component: one table of rules, one function that applies them.

A request is allowed when three things agree: the credential's scope names the component (or
all of its user's), the credential carries the action (`upload`, `yank`, `manage`), and the
user holds a role on the component at least as high as the rule asks. Roles come from a direct
grant, from owning the organization that owns the component, or from a team of that
organization. A token minted for a trusted publisher (`via == "oidc"`) needs no role: the
publisher match at mint time is its authority, and its scope and actions are upload only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_server.audit.services import Actor
from pysetl_hub_server.db.models import Component, OrgMember, Role, TeamMember, TeamRole, User
from pysetl_hub_server.errors import Forbidden
from pysetl_hub_server.i18n.messages import Message, _

RoleName = Literal["owner", "maintainer"]
TokenAction = Literal["upload", "yank", "manage"]
TOKEN_ACTIONS: tuple[TokenAction, ...] = ("upload", "yank", "manage")
RANK = {"maintainer": 1, "owner": 2}


@dataclass(frozen=True, slots=True)
class Rule:
    role: RoleName  # the least role that may
    token_action: TokenAction  # what the credential must carry
    words: Message  # "may not {words} 'x'": a verb phrase, translated with its sentence


RULES: dict[str, Rule] = {
    "upload": Rule("maintainer", "upload", _("upload to")),
    "yank": Rule("maintainer", "yank", _("yank releases of")),
    "unyank": Rule("maintainer", "yank", _("unyank releases of")),
    "delete": Rule("owner", "manage", _("delete files or releases of")),
    "roles": Rule("owner", "manage", _("change the owners and maintainers of")),
    "publishers": Rule("owner", "manage", _("change the trusted publishers of")),
    "settings": Rule("owner", "manage", _("change the settings of")),
    "transfer": Rule("owner", "manage", _("transfer")),
    "events": Rule("owner", "manage", _("read the security events of")),
    "advisories": Rule("owner", "manage", _("publish or withdraw advisories for")),
}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request acts as, and what its credential allows."""

    user_id: int
    username: str
    token_id: str | None  # None: a sign-in session
    components: frozenset[int] | None = None  # None: every component the user may act on
    actions: frozenset[str] = frozenset(TOKEN_ACTIONS)
    is_admin: bool = False
    expires: datetime | None = None
    via: Literal["token", "session", "oidc"] = "token"
    publisher: str | None = None  # the trusted publisher a minted token acts for
    ip: str | None = None
    user_agent: str | None = None
    session_id: int | None = None  # the web_sessions row, when via == "session"

    @property
    def actor(self) -> Actor:
        name = f"publisher:{self.publisher}" if self.publisher else self.username
        return Actor(self.user_id, name, self.ip, self.user_agent)

    @property
    def user_wide(self) -> bool:
        return self.components is None


async def effective_role(session: AsyncSession, user_id: int, component: Component) -> str | None:
    """The highest role the user holds on the component, from any source."""
    roles: set[str] = set()
    direct = await session.scalar(
        select(Role.role).where(Role.user_id == user_id, Role.component_id == component.id)
    )
    if direct:
        roles.add(direct)
    if component.org_id is not None:
        member = await session.scalar(
            select(OrgMember.role).where(
                OrgMember.org_id == component.org_id, OrgMember.user_id == user_id
            )
        )
        if member == "owner":
            roles.add("owner")
        team_roles = await session.scalars(
            select(TeamRole.role)
            .join(TeamMember, TeamMember.team_id == TeamRole.team_id)
            .where(TeamRole.component_id == component.id, TeamMember.user_id == user_id)
        )
        roles.update(team_roles)
    return max(roles, key=RANK.__getitem__, default=None)


async def grantors(session: AsyncSession, component: Component) -> list[str]:
    """Users who can grant roles on the component: its owners, direct or through its org."""
    names = set(
        await session.scalars(
            select(User.username)
            .join(Role, Role.user_id == User.id)
            .where(Role.component_id == component.id, Role.role == "owner")
        )
    )
    if component.org_id is not None:
        names.update(
            await session.scalars(
                select(User.username)
                .join(OrgMember, OrgMember.user_id == User.id)
                .where(OrgMember.org_id == component.org_id, OrgMember.role == "owner")
            )
        )
    return sorted(names)


async def authorize(
    session: AsyncSession, who: Identity, component: Component, action: str
) -> None:
    """Allow `who` to do `action` to `component`, or raise a 403 that says what is needed."""
    rule = RULES[action]
    name = component.display_name
    if who.components is not None and component.id not in who.components:
        raise Forbidden(
            "auth.scope",
            _(
                "this token is scoped to other components and cannot {words} {name!r}: use a "
                "token whose scope includes {name!r}, or a user-wide token",
                words=rule.words,
                name=name,
            ),
            needed_scope=component.name,
        )
    if rule.token_action not in who.actions:
        raise Forbidden(
            "auth.token_action",
            _(
                "this token may only {actions} and cannot {words} {name!r}: create a token with "
                "the {token_action!r} action",
                actions=", ".join(sorted(who.actions)) or "read",
                words=rule.words,
                name=name,
                token_action=rule.token_action,
            ),
            needed_action=rule.token_action,
        )
    if who.via == "oidc":
        return  # scope and actions above are the whole grant of a trusted publisher
    role = await effective_role(session, who.user_id, component)
    if role is not None and RANK[role] >= RANK[rule.role]:
        return
    # Role names are the API's words (`needed_role`, `pysetl-hub owners`): never translated.
    needed = "owner" if rule.role == "owner" else _("maintainer or owner")
    owners = await grantors(session, component)
    granted_by = ", ".join(owners) if owners else _("an admin")
    have = _("has the {role} role", role=role) if role else _("has no role")
    raise Forbidden(
        "auth.role",
        _(
            "user {user!r} may not {words} {name!r}: that needs the {needed} role and {user!r} "
            "{have}; an owner ({granted_by}) can grant it with `pysetl-hub {command} add "
            "{component} {user}`",
            user=who.username,
            words=rule.words,
            name=name,
            needed=needed,
            have=have,
            granted_by=granted_by,
            command="owners" if rule.role == "owner" else "maintainers",
            component=component.name,
        ),
        needed_role=rule.role,
        role=role,
        granted_by=owners,
    )


def require_user_wide(who: Identity, name: str) -> None:
    """Creating a component takes a user-wide credential that may upload (or manage)."""
    if who.components is not None or who.via == "oidc":
        raise Forbidden(
            "auth.scope",
            _(
                "this token is scoped to existing components and cannot create {name!r}: use a "
                "user-wide token",
                name=name,
            ),
        )
    if not who.actions & {"upload", "manage"}:
        raise Forbidden(
            "auth.token_action",
            _("creating {name!r} needs a token with the 'upload' or 'manage' action", name=name),
            needed_action="upload",
        )


def require_person(who: Identity, words: Message) -> None:
    """Reading a user's account (their tokens, their security events, with addresses) is for
    the user, on a sign-in session or a user-wide token: a trusted publisher's token acts for a
    CI workflow, whose every step could pass it on, and a component-scoped token is a CI secret
    too, made to publish, not to see where its user signs in from."""
    if who.via == "oidc":
        raise Forbidden(
            "auth.scope",
            _(
                "a token minted for a trusted publisher is for its workflow's uploads and "
                "cannot {words}: use a token of your own",
                words=words,
            ),
        )
    if who.components is not None:
        raise Forbidden(
            "auth.scope",
            _(
                "this token is scoped to components and cannot {words}: sign in, or use a "
                "user-wide token",
                words=words,
            ),
        )


def require_admin(who: Identity, words: Message) -> None:
    """An admin, on a user-wide credential that may manage: an admin's CI token (scoped, or
    upload-only), leaked, must not carry the admin's power."""
    if not who.is_admin:
        raise Forbidden(
            "auth.admin",
            _(
                "only a hub admin may {words}: ask an admin (the server operator grants the "
                "role with `pysetl-hub-server admin grant USER`)",
                words=words,
            ),
        )
    if who.components is not None or who.via == "oidc":
        raise Forbidden(
            "auth.scope",
            _(
                "this token is scoped to components and cannot {words}: an admin uses a "
                "user-wide token (or a sign-in session)",
                words=words,
            ),
        )
    if "manage" not in who.actions:
        raise Forbidden(
            "auth.token_action",
            _(
                "this token may only {actions} and cannot {words}: an admin uses a token with the "
                "'manage' action",
                actions=", ".join(sorted(who.actions)) or "read",
                words=words,
            ),
            needed_action="manage",
        )
