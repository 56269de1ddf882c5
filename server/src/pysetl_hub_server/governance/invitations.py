"""Invitations: the only way to gain a role on a component or a seat in an organization.

An owner invites a user by name; the invitee sees it in `GET /api/v1/invitations` and accepts
or declines it before it expires (`Settings.invitation_days`); an owner may revoke it while it
is pending. Promoting a maintainer to owner is an invitation too: nobody is handed
responsibility they did not accept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pysetl_hub_schemas import Invitation, InvitationList, OrgMemberRequest, RoleRequest
from pysetl_hub_server.accounts.permissions import RANK, Identity, authorize, effective_role
from pysetl_hub_server.audit.services import record, touch
from pysetl_hub_server.db import models
from pysetl_hub_server.errors import Conflict, NotFound
from pysetl_hub_server.governance import lookup, orgs, roles
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.messages import Message, _


def _closed(invitation_id: int, status: str) -> Message:
    """ "was already accepted": one sentence per status, so each is translated whole."""
    if status == "accepted":
        return _("invitation #{id} was already accepted", id=invitation_id)
    if status == "declined":
        return _("invitation #{id} was already declined", id=invitation_id)
    if status == "revoked":
        return _("invitation #{id} was already revoked", id=invitation_id)
    return _("invitation #{id} was already {status}", id=invitation_id, status=status)


def _status(row: models.Invitation, now: datetime) -> str:
    if row.status == "pending" and row.expires_at <= now:
        return "expired"
    return row.status


async def view(session: AsyncSession, row: models.Invitation) -> Invitation:
    rows = await session.execute(
        select(models.User.id, models.User.username).where(
            models.User.id.in_([row.invitee_id, row.inviter_id or -1])
        )
    )
    names: dict[int, str] = dict(list(rows))
    component = None
    if row.component_id is not None:
        component = await session.scalar(
            select(models.Component.name).where(models.Component.id == row.component_id)
        )
    return Invitation(
        id=row.id,
        invitee=names.get(row.invitee_id, ""),
        inviter=names.get(row.inviter_id) if row.inviter_id else None,
        role=row.role,
        status=_status(row, datetime.now(UTC)),  # type: ignore[arg-type]
        created=row.created,
        expires=row.expires_at,
        component=component,
        organization=await lookup.org_name(session, row.org_id),
    )


async def _pending(
    session: AsyncSession, invitee: int, *, component_id: int | None, org_id: int | None
) -> models.Invitation | None:
    return await session.scalar(
        select(models.Invitation).where(
            models.Invitation.invitee_id == invitee,
            models.Invitation.component_id == component_id
            if component_id is not None
            else models.Invitation.component_id.is_(None),
            models.Invitation.org_id == org_id
            if org_id is not None
            else models.Invitation.org_id.is_(None),
            models.Invitation.status == "pending",
            models.Invitation.expires_at > datetime.now(UTC),
        )
    )


def _new(hub: Hub, who: Identity, invitee: int, role: str, **target: int) -> models.Invitation:
    now = datetime.now(UTC)
    return models.Invitation(
        invitee_id=invitee,
        inviter_id=who.user_id,
        role=role,
        status="pending",
        created=now,
        expires_at=now + timedelta(days=hub.settings.invitation_days),
        **target,
    )


async def invite_to_component(hub: Hub, who: Identity, name: str, data: RoleRequest) -> Invitation:
    async with hub.sessions() as session:
        c = await lookup.component(session, name)
        await authorize(session, who, c, "roles")
        invitee = await lookup.user(session, data.username)
        held = await session.scalar(
            select(models.Role.role).where(
                models.Role.component_id == c.id, models.Role.user_id == invitee.id
            )
        )
        if held is not None and RANK[held] >= RANK[data.role]:
            if held != data.role:
                detail = _(
                    "{invitee!r} is already an owner of {component!r}; to make them a "
                    "maintainer, remove the owner role (`pysetl-hub owners remove {name} "
                    "{username}`) and invite them again",
                    invitee=invitee.username,
                    component=c.display_name,
                    name=c.name,
                    username=invitee.username,
                )
            elif held == "owner":
                detail = _(
                    "{invitee!r} is already an owner of {component!r}",
                    invitee=invitee.username,
                    component=c.display_name,
                )
            else:
                detail = _(
                    "{invitee!r} is already a {role} of {component!r}",
                    invitee=invitee.username,
                    role=held,
                    component=c.display_name,
                )
            raise Conflict("role.exists", detail)
        if await _pending(session, invitee.id, component_id=c.id, org_id=None) is not None:
            raise Conflict(
                "invitation.exists",
                _(
                    "{invitee!r} already has a pending invitation to {component!r}: revoke it "
                    "first (`pysetl-hub invitations revoke ID`) to send another",
                    invitee=invitee.username,
                    component=c.display_name,
                ),
            )
        row = _new(hub, who, invitee.id, data.role, component_id=c.id)
        session.add(row)
        await session.flush()
        await touch(
            session,
            c,
            "role.invite",
            actor=who.actor,
            detail={"username": invitee.username, "role": data.role, "invitation": row.id},
        )
        await session.commit()
        return await view(session, row)


async def invite_to_org(hub: Hub, who: Identity, name: str, data: OrgMemberRequest) -> Invitation:
    async with hub.sessions() as session:
        org = await lookup.org(session, name)
        await orgs.require_org_owner(
            session, who, org, _("invite members to the organization {org!r}", org=org.display_name)
        )
        invitee = await lookup.user(session, data.username)
        held = await orgs.member_role(session, org, invitee.id)
        if held == data.role or held == "owner":
            raise Conflict(
                "org.member_exists",
                _(
                    "{invitee!r} is already an owner of {org!r}",
                    invitee=invitee.username,
                    org=org.display_name,
                )
                if held == "owner"
                else _(
                    "{invitee!r} is already a {role} of {org!r}",
                    invitee=invitee.username,
                    role=held,
                    org=org.display_name,
                ),
            )
        if await _pending(session, invitee.id, component_id=None, org_id=org.id) is not None:
            raise Conflict(
                "invitation.exists",
                _(
                    "{invitee!r} already has a pending invitation to {org!r}: revoke it first "
                    "(`pysetl-hub invitations revoke ID`) to send another",
                    invitee=invitee.username,
                    org=org.display_name,
                ),
            )
        row = _new(hub, who, invitee.id, data.role, org_id=org.id)
        session.add(row)
        await session.flush()
        await record(
            session,
            "org.member.invite",
            actor=who.actor,
            target=f"org:{org.name}",
            detail={"username": invitee.username, "role": data.role, "invitation": row.id},
        )
        await session.commit()
        return await view(session, row)


async def mine(hub: Hub, who: Identity) -> InvitationList:
    """The caller's invitations: pending first (expired ones show as such), newest first."""
    lookup.require_account(who, _("read invitations"))
    async with hub.sessions() as session:
        rows = await session.scalars(
            select(models.Invitation)
            .where(models.Invitation.invitee_id == who.user_id)
            .order_by(models.Invitation.id.desc())
            .limit(200)
        )
        views = [await view(session, r) for r in rows]
    views.sort(key=lambda v: v.status != "pending")
    return InvitationList(invitations=views)


async def pending_for_component(hub: Hub, who: Identity, name: str) -> InvitationList:
    """The invitations to a component still waiting for an answer (those who may manage its
    roles see them, to revoke one sent to the wrong person)."""
    async with hub.sessions() as session:
        c = await lookup.component(session, name)
        await authorize(session, who, c, "roles")
        rows = await session.scalars(
            select(models.Invitation)
            .where(
                models.Invitation.component_id == c.id,
                models.Invitation.status == "pending",
                models.Invitation.expires_at > datetime.now(UTC),
            )
            .order_by(models.Invitation.id.desc())
        )
        return InvitationList(invitations=[await view(session, r) for r in rows])


async def _invitation(session: AsyncSession, invitation_id: int) -> models.Invitation:
    row = await session.get(models.Invitation, invitation_id)
    if row is None:
        raise NotFound(
            "invitation.missing",
            _(
                "no invitation #{invitation_id}: see yours with `pysetl-hub invitations`",
                invitation_id=invitation_id,
            ),
        )
    return row


async def _own_pending(
    session: AsyncSession, who: Identity, invitation_id: int
) -> models.Invitation:
    row = await _invitation(session, invitation_id)
    if row.invitee_id != who.user_id:
        # Another user's invitation is none of the caller's business: no hint it exists.
        raise NotFound(
            "invitation.missing",
            _(
                "no invitation #{invitation_id}: see yours with `pysetl-hub invitations`",
                invitation_id=invitation_id,
            ),
        )
    status = _status(row, datetime.now(UTC))
    if status == "expired":
        raise Conflict(
            "invitation.expired",
            _(
                "invitation #{id} expired on {expires_at:%Y-%m-%d %H:%M} UTC and can no longer "
                "be accepted: ask an owner to invite you again",
                id=row.id,
                expires_at=row.expires_at,
            ),
        )
    if status != "pending":
        raise Conflict("invitation.closed", _closed(row.id, status))
    return row


async def _inviter_still_may(session: AsyncSession, row: models.Invitation) -> bool:
    """Whether the invitation's sender still holds the power to send it: an owner removed
    since (or who left) takes their pending invitations with them, so a compromised owner
    cannot leave behind invitations that bring them back."""
    if row.inviter_id is None:
        return False
    inviter = await session.get(models.User, row.inviter_id)
    if inviter is None or not inviter.is_active:
        return False
    if row.component_id is not None:
        c = await session.get(models.Component, row.component_id)
        assert c is not None
        return await effective_role(session, inviter.id, c) == "owner"
    org = await session.get(models.Organization, row.org_id)
    assert org is not None
    return await orgs.member_role(session, org, inviter.id) == "owner"


async def accept(hub: Hub, who: Identity, invitation_id: int) -> Invitation:
    lookup.require_account(who, _("accept invitations"))
    async with hub.sessions() as session:
        row = await _own_pending(session, who, invitation_id)
        if not await _inviter_still_may(session, row):
            # Closed for good, so it does not stand in the way of a new invitation.
            row.status = "revoked"
            await _record_closed(session, who, row, "invitation.stale")
            await session.commit()
            raise Conflict(
                "invitation.stale",
                _(
                    "invitation #{id} was sent by someone who is no longer an owner, so it can "
                    "no longer be accepted: ask a current owner to invite you again",
                    id=row.id,
                ),
            )
        row.status = "accepted"
        if row.component_id is not None:
            c = await session.get(models.Component, row.component_id)
            assert c is not None  # the invitation goes with its component (ON DELETE CASCADE)
            await roles.grant(session, c, who.user_id, row.role)
            await touch(
                session,
                c,
                "role.add",
                actor=who.actor,
                detail={"username": who.username, "role": row.role, "invitation": row.id},
            )
        else:
            org = await session.get(models.Organization, row.org_id)
            assert org is not None
            member = await session.scalar(
                select(models.OrgMember).where(
                    models.OrgMember.org_id == org.id, models.OrgMember.user_id == who.user_id
                )
            )
            if member is None:
                session.add(models.OrgMember(org_id=org.id, user_id=who.user_id, role=row.role))
            elif row.role == "owner":
                member.role = "owner"
            await record(
                session,
                "org.member.add",
                actor=who.actor,
                target=f"org:{org.name}",
                detail={"username": who.username, "role": row.role, "invitation": row.id},
            )
        await session.commit()
        return await view(session, row)


async def decline(hub: Hub, who: Identity, invitation_id: int) -> Invitation:
    lookup.require_account(who, _("decline invitations"))
    async with hub.sessions() as session:
        row = await _own_pending(session, who, invitation_id)
        row.status = "declined"
        await _record_closed(session, who, row, "invitation.decline")
        await session.commit()
        return await view(session, row)


async def revoke(hub: Hub, who: Identity, invitation_id: int) -> Invitation:
    """An owner of the component (or organization) withdraws a pending invitation."""
    async with hub.sessions() as session:
        row = await _invitation(session, invitation_id)
        if row.component_id is not None:
            c = await session.get(models.Component, row.component_id)
            assert c is not None
            await authorize(session, who, c, "roles")
        else:
            org = await session.get(models.Organization, row.org_id)
            assert org is not None
            await orgs.require_org_owner(
                session, who, org, _("revoke invitations to {org!r}", org=org.display_name)
            )
        if row.status != "pending":
            raise Conflict("invitation.closed", _closed(row.id, row.status))
        row.status = "revoked"
        await _record_closed(session, who, row, "invitation.revoke")
        await session.commit()
        return await view(session, row)


async def _record_closed(
    session: AsyncSession, who: Identity, row: models.Invitation, action: str
) -> None:
    detail = {"invitation": row.id, "role": row.role}
    if row.component_id is not None:
        c = await session.get(models.Component, row.component_id)
        assert c is not None
        await touch(session, c, action, actor=who.actor, detail=detail)
    else:
        org_name = await lookup.org_name(session, row.org_id)
        await record(session, action, actor=who.actor, target=f"org:{org_name}", detail=detail)
