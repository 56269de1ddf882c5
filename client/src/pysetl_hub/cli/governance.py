"""`owners`, `maintainers`, `invitations`, `orgs` and `delete`: who may do what to a component.

A role is given by invitation: `owners add NAME USER` sends one, and USER runs
`pysetl-hub invitations accept ID`. Removing yourself is leaving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, show, table
from pysetl_hub.i18n import N_, _, pgettext

if TYPE_CHECKING:
    from pysetl_hub_schemas import Invitation, Organization, RoleList


# The hub's role and invitation-state codes, as words in the user's language.
WORDS = {
    "owner": N_("owner"),
    "maintainer": N_("maintainer"),
    "member": N_("member"),
    "pending": N_("pending"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "revoked": N_("revoked"),
    "expired": N_("expired"),
}


def word(code: str) -> str:
    """A role or state code in the user's language (a code this client does not know, as is)."""
    return _(WORDS[code]) if code in WORDS else safe(code)


def _print_roles(listing: RoleList, role: str | None = None) -> None:
    title = _("roles on {name}").format(name=safe(listing.component))
    grid = table(_("user"), _("role"), _("via"), title=title)
    for e in listing.roles:
        if role is None or e.role == role:
            grid.add_row(safe(e.username), word(e.role), safe(e.via))
    show(grid)
    if listing.organization:
        say(_("owned by the organization {org}").format(org=safe(listing.organization)))


def _said(invitation: Invitation) -> None:
    fields = {
        "id": invitation.id,
        "invitee": safe(invitation.invitee),
        "role": word(invitation.role),
        "status": word(invitation.status),
        "expires": f"{invitation.expires:%Y-%m-%d}",
    }
    if invitation.component:
        text = _("invitation {id}: {invitee} as {role} of {name}: {status} (expires {expires})")
        fields["name"] = safe(invitation.component)
    else:
        text = _(
            "invitation {id}: {invitee} as {role} of organization {org}: {status} "
            "(expires {expires})"
        )
        fields["org"] = safe(invitation.organization)
    say(text.format(**fields))


# Each role's help texts, whole sentences for the catalog (cli/localize.py shows them translated).
ROLE_HELP = {
    "owner": (
        N_("The owners of a component (roles are given by invitation)."),
        N_("List the owners of NAME."),
        N_("Invite USER to be an owner of NAME."),
    ),
    "maintainer": (
        N_("The maintainers of a component (roles are given by invitation)."),
        N_("List the maintainers of NAME."),
        N_("Invite USER to be a maintainer of NAME."),
    ),
}


def _role_group(role: str, plural: str) -> click.Group:
    @click.group(plural)
    def group() -> None:
        pass

    group.help, list_help, add_help = ROLE_HELP[role]

    @group.command("list")
    @click.argument("name")
    @json_option
    @pass_ctx
    def list_(ctx: Ctx, name: str, as_json: bool) -> None:
        with ctx.client() as client:
            listing = client.roles(name)
        emit_json(listing) if as_json else _print_roles(listing, role)

    list_.help = list_help

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
            say(
                _("{user} accepts with `pysetl-hub invitations accept {id}`").format(
                    user=safe(user), id=invitation.id
                )
            )

    add.help = add_help

    @group.command("remove")
    @click.argument("name")
    @click.argument("user")
    @pass_ctx
    def remove(ctx: Ctx, name: str, user: str) -> None:
        with ctx.client() as client:
            _print_roles(client.remove_role(name, user))

    remove.help = N_("Remove USER's role on NAME (your own name: leave). The last owner stays.")
    return group


owners = _role_group("owner", "owners")
maintainers = _role_group("maintainer", "maintainers")


def _list_invitations(ctx: Ctx, as_json: bool) -> None:
    with ctx.client() as client:
        listing = client.invitations()
    if as_json:
        emit_json(listing)
        return
    grid = table(
        _("id"),
        _("to"),
        _("role"),
        pgettext("invitation", "from"),
        _("status"),
        _("expires"),
        title=_("invitations"),
    )
    for i in listing.invitations:
        target = (
            safe(i.component) if i.component else _("org {org}").format(org=safe(i.organization))
        )
        expires = i.expires.strftime("%Y-%m-%d")
        grid.add_row(
            str(i.id), target, word(i.role), safe(i.inviter or "-"), word(i.status), expires
        )
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


invitations.add_command(_answer("accept", N_("Accept invitation INVITATION_ID.")))
invitations.add_command(_answer("decline", N_("Decline invitation INVITATION_ID.")))
invitations.add_command(_answer("revoke", N_("Withdraw a pending invitation you sent (owners).")))


def _print_org(o: Organization) -> None:
    say(
        _("organization {display_name} ({name})").format(
            display_name=safe(o.display_name), name=safe(o.name)
        )
    )
    grid = table(_("member"), _("role"), title=_("members"))
    for m in o.members:
        grid.add_row(safe(m.username), word(m.role))
    show(grid)
    for t in o.teams:
        roles = ", ".join(
            _("{role} of {name}").format(role=word(r.role), name=safe(r.component)) for r in t.roles
        )
        say(
            _("team {team}: {members} ({roles})").format(
                team=safe(t.name),
                members=safe(", ".join(t.members)) or _("no members"),
                roles=roles or _("no roles"),
            )
        )
    say(_("components: {names}").format(names=safe(", ".join(o.components)) or _("none")))
    if o.prefixes:
        say(_("reserved prefixes: {prefixes}").format(prefixes=safe(", ".join(o.prefixes))))


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
    if not yes:
        if filename:
            refusal = _("deleting {file} of {name} {version} cannot be undone: add --yes to do it")
        else:
            refusal = _(
                "deleting {name} {version} and its files cannot be undone: add --yes to do it"
            )
        raise click.UsageError(refusal.format(file=filename, name=name, version=version))
    with ctx.client() as client:
        gone = client.delete(name, version, filename)
    files = safe(", ".join(gone.filenames)) or _("no file")
    say(_("deleted {files} of {name}").format(files=files, name=safe(gone.component)))
    if gone.release_deleted:
        say(
            _("release {version} is gone; its filenames stay taken").format(
                version=safe(gone.version)
            )
        )


COMMANDS = [owners, maintainers, invitations, orgs, delete]
