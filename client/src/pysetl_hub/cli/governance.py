"""`owners`, `maintainers`, `invitations`, `orgs` and `delete`: who may do what to a component.

A role is given by invitation: `owners add NAME USER` sends one, and USER runs
`pysetl-hub invitations accept ID`. Removing yourself is leaving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, show, table

if TYPE_CHECKING:
    from pysetl_hub_schemas import Invitation, Organization, RoleList


def _print_roles(listing: RoleList, role: str | None = None) -> None:
    grid = table("user", "role", "via", title=f"roles on {safe(listing.component)}")
    for e in listing.roles:
        if role is None or e.role == role:
            grid.add_row(safe(e.username), e.role, safe(e.via))
    show(grid)
    if listing.organization:
        say(f"owned by the organization {safe(listing.organization)}")


def _said(invitation: Invitation) -> None:
    target = invitation.component or f"organization {invitation.organization}"
    say(
        f"invitation {invitation.id}: {safe(invitation.invitee)} as {invitation.role} of "
        f"{safe(target)}: {invitation.status} (expires {invitation.expires:%Y-%m-%d})"
    )


def _role_group(role: str, plural: str) -> click.Group:
    @click.group(plural)
    def group() -> None:
        pass

    group.help = f"The {plural} of a component (roles are given by invitation)."

    @group.command("list")
    @click.argument("name")
    @json_option
    @pass_ctx
    def list_(ctx: Ctx, name: str, as_json: bool) -> None:
        with ctx.client() as client:
            listing = client.roles(name)
        emit_json(listing) if as_json else _print_roles(listing, role)

    list_.help = f"List the {plural} of NAME."

    @group.command("add")
    @click.argument("name")
    @click.argument("user")
    @json_option
    @pass_ctx
    def add(ctx: Ctx, name: str, user: str, as_json: bool) -> None:
        with ctx.client() as client:
            invitation = client.invite(name, user, role)
        emit_json(invitation) if as_json else _said(invitation)
        if not as_json:
            say(f"{safe(user)} accepts with `pysetl-hub invitations accept {invitation.id}`")

    add.help = f"Invite USER to be {'an' if role == 'owner' else 'a'} {role} of NAME."

    @group.command("remove")
    @click.argument("name")
    @click.argument("user")
    @pass_ctx
    def remove(ctx: Ctx, name: str, user: str) -> None:
        with ctx.client() as client:
            _print_roles(client.remove_role(name, user))

    remove.help = "Remove USER's role on NAME (your own name: leave). The last owner stays."
    return group


owners = _role_group("owner", "owners")
maintainers = _role_group("maintainer", "maintainers")


def _list_invitations(ctx: Ctx, as_json: bool) -> None:
    with ctx.client() as client:
        listing = client.invitations()
    if as_json:
        emit_json(listing)
        return
    grid = table("id", "to", "role", "from", "status", "expires", title="invitations")
    for i in listing.invitations:
        target = i.component or f"org {i.organization}"
        expires = i.expires.strftime("%Y-%m-%d")
        grid.add_row(str(i.id), safe(target), i.role, safe(i.inviter or "-"), i.status, expires)
    show(grid)


@click.group("invitations", invoke_without_command=True)
@json_option
@pass_ctx
@click.pass_context
def invitations(click_ctx: click.Context, ctx: Ctx, as_json: bool) -> None:
    """Your invitations to roles and organizations (listed without a subcommand)."""
    if click_ctx.invoked_subcommand is None:
        _list_invitations(ctx, as_json)


@invitations.command("list")
@json_option
@pass_ctx
def invitations_list(ctx: Ctx, as_json: bool) -> None:
    """List your invitations, pending first."""
    _list_invitations(ctx, as_json)


def _answer(verb: str, words: str) -> click.Command:
    @click.command(verb)
    @click.argument("invitation_id", type=int)
    @pass_ctx
    def command(ctx: Ctx, invitation_id: int) -> None:
        with ctx.client() as client:
            _said(client.answer_invitation(invitation_id, verb))

    command.help = words
    return command


invitations.add_command(_answer("accept", "Accept invitation INVITATION_ID."))
invitations.add_command(_answer("decline", "Decline invitation INVITATION_ID."))
invitations.add_command(_answer("revoke", "Withdraw a pending invitation you sent (owners)."))


def _print_org(o: Organization) -> None:
    say(f"organization {safe(o.display_name)} ({safe(o.name)})")
    grid = table("member", "role", title="members")
    for m in o.members:
        grid.add_row(safe(m.username), m.role)
    show(grid)
    for t in o.teams:
        roles = ", ".join(f"{r.role} of {r.component}" for r in t.roles) or "no roles"
        say(f"team {safe(t.name)}: {safe(', '.join(t.members) or 'no members')} ({safe(roles)})")
    say(f"components: {safe(', '.join(o.components) or 'none')}")
    if o.prefixes:
        say(f"reserved prefixes: {safe(', '.join(o.prefixes))}")


@click.group("orgs")
def orgs() -> None:
    """Organizations: members, teams and the components they own."""


@orgs.command("create")
@click.argument("org")
@pass_ctx
def orgs_create(ctx: Ctx, org: str) -> None:
    """Create organization ORG; you become its owner."""
    with ctx.client() as client:
        _print_org(client.create_org(org))


@orgs.command("show")
@click.argument("org")
@json_option
@pass_ctx
def orgs_show(ctx: Ctx, org: str, as_json: bool) -> None:
    """Show ORG's members, teams and components."""
    with ctx.client() as client:
        o = client.org(org)
    emit_json(o) if as_json else _print_org(o)


@orgs.command("transfer")
@click.argument("name")
@click.argument("org")
@pass_ctx
def orgs_transfer(ctx: Ctx, name: str, org: str) -> None:
    """Move component NAME into ORG (you own both); ORG's owners become its owners."""
    with ctx.client() as client:
        _print_org(client.transfer(name, org))


@orgs.group("members")
def members() -> None:
    """Members of an organization (added by invitation)."""


@members.command("add")
@click.argument("org")
@click.argument("user")
@click.option("--owner", is_flag=True, help="Invite as an owner rather than a member.")
@pass_ctx
def members_add(ctx: Ctx, org: str, user: str, owner: bool) -> None:
    """Invite USER to ORG."""
    with ctx.client() as client:
        _said(client.invite_member(org, user, "owner" if owner else "member"))


@members.command("remove")
@click.argument("org")
@click.argument("user")
@pass_ctx
def members_remove(ctx: Ctx, org: str, user: str) -> None:
    """Remove USER from ORG (your own name: leave). The last owner stays."""
    with ctx.client() as client:
        _print_org(client.remove_member(org, user))


@orgs.group("teams")
def teams() -> None:
    """Teams of an organization, and their roles on its components."""


@teams.command("create")
@click.argument("org")
@click.argument("team")
@pass_ctx
def teams_create(ctx: Ctx, org: str, team: str) -> None:
    """Create TEAM in ORG."""
    with ctx.client() as client:
        _print_org(client.create_team(org, team))


@teams.command("add")
@click.argument("org")
@click.argument("team")
@click.argument("user")
@pass_ctx
def teams_add(ctx: Ctx, org: str, team: str, user: str) -> None:
    """Add USER (a member of ORG) to TEAM."""
    with ctx.client() as client:
        _print_org(client.team_member(org, team, user))


@teams.command("remove")
@click.argument("org")
@click.argument("team")
@click.argument("user")
@pass_ctx
def teams_remove(ctx: Ctx, org: str, team: str, user: str) -> None:
    """Remove USER from TEAM."""
    with ctx.client() as client:
        _print_org(client.team_member(org, team, user, remove=True))


@teams.command("grant")
@click.argument("org")
@click.argument("team")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["maintainer", "owner", "none"]),
    default="maintainer",
    show_default=True,
    help="The team's role on component NAME (none: take it away).",
)
@pass_ctx
def teams_grant(ctx: Ctx, org: str, team: str, name: str, role: str) -> None:
    """Give TEAM a role on component NAME of ORG."""
    with ctx.client() as client:
        _print_org(client.team_role(org, team, name, None if role == "none" else role))


@click.command("delete")
@click.argument("name")
@click.argument("version")
@click.argument("filename", required=False)
@click.option("--yes", is_flag=True, help="Do it: deletion cannot be undone.")
@pass_ctx
def delete(ctx: Ctx, name: str, version: str, filename: str | None, yes: bool) -> None:
    """Delete release VERSION of NAME, or only its file FILENAME (owners).

    The filenames can never be published again; yanking (`pysetl-hub yank`) is usually better.
    """
    what = f"{filename} of {name} {version}" if filename else f"{name} {version} and its files"
    if not yes:
        raise click.UsageError(f"deleting {what} cannot be undone: add --yes to do it")
    with ctx.client() as client:
        gone = client.delete(name, version, filename)
    say(f"deleted {safe(', '.join(gone.filenames) or 'no file')} of {safe(gone.component)}")
    if gone.release_deleted:
        say(f"release {safe(gone.version)} is gone; its filenames stay taken")


COMMANDS = [owners, maintainers, invitations, orgs, delete]
