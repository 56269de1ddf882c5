"""`login`, `logout`, `whoami` and `config`: the token and settings for the configured hub.

`login` takes an API token, or with `--password` signs in (username, password, and the
two-factor code when the hub asks), creates a token for this machine with that session,
saves it, and signs out again: the password and the session are never stored.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, warn
from pysetl_hub.i18n import _, ngettext

if TYPE_CHECKING:
    from pysetl_hub.config import Config
    from pysetl_hub_schemas import Me, SignedIn


def _read_token(given: str | None) -> str:
    if given is not None:
        return given.strip()
    if sys.stdin.isatty():
        return str(click.prompt(_("API token"), hide_input=True, err=True)).strip()
    return sys.stdin.readline().strip()


def _sign_in(ctx: Ctx, config: Config, username: str) -> SignedIn:
    """A session for `username`: the password prompt, then the code prompt if the hub asks."""
    from pysetl_hub import errors

    password = str(click.prompt(_("password"), hide_input=True, err=True))
    with ctx.client(replace(config, token=None)) as client:
        try:
            return client.sign_in(username, password)
        except errors.Unauthorized as exc:
            if exc.problem.code != "auth.otp_required":
                exc.hint = _("check the username and password; nothing was saved")
                raise
        code = str(click.prompt(_("two-factor code (or a recovery code)"), err=True)).strip()
        try:
            return client.sign_in(username, password, code)
        except errors.Unauthorized as exc:
            exc.hint = _("use the code the authenticator app shows now, or an unused recovery code")
            raise


def _token_by_password(ctx: Ctx, username: str | None) -> tuple[str, str]:
    """Sign in, create a token named after this host, sign out; (token, username)."""
    import socket

    config = ctx.config
    name = username or str(click.prompt(_("username"), err=True)).strip()
    signed = _sign_in(ctx, config, name)
    with ctx.client(replace(config, token=signed.session)) as client:
        try:
            host = socket.gethostname() or "this machine"
            made = client.create_token(f"pysetl-hub login on {host}"[:100])
        finally:
            client.sign_out()
    expires = _when(made.info.expires) if made.info.expires else _("never")
    say(
        _("created token pshub_{id}_… ({name}), expires {expires}").format(
            id=safe(made.info.id), name=safe(made.info.name), expires=expires
        )
    )
    return made.token, signed.username


@click.command()
@click.option("--token", "token_opt", help="The token (else read from stdin or a prompt).")
@click.option(
    "--password",
    "with_password",
    is_flag=True,
    help="Sign in with username and password (and a two-factor code) instead, and create a "
    "token for this machine.",
)
@click.option("--username", help="With --password: the username (else prompted).")
@pass_ctx
def login(ctx: Ctx, token_opt: str | None, with_password: bool, username: str | None) -> None:
    """Check an API token with the hub, then store it (config file, mode 0600).

    With --password, sign in instead: a new token for this machine is created and stored.
    """
    from pysetl_hub import config as cfg
    from pysetl_hub import errors

    config = ctx.config
    if with_password:
        if token_opt is not None:
            raise click.UsageError(_("give --token or --password, not both"))
        token, name = _token_by_password(ctx, username)
        cfg.save_token(config.path, config.url, token)
        say(_logged_in(safe(cfg.origin(config.url)), safe(name), safe(config.path)))
        return
    token = _read_token(token_opt)
    if not token:
        raise errors.ConfigError(
            _("no token given: pass --token, type it at the prompt, or pipe it on stdin")
        )
    me: Me | None = None
    with ctx.client(replace(config, token=token)) as client:
        try:
            me = client.me()
        except errors.Unauthorized as exc:
            exc.hint = _(
                "the token was not saved: copy it again (it starts with pshub_), or ask the "
                "hub's admin for a new one (`pysetl-hub-server tokens create USER`)"
            )
            raise
        except errors.NotFound:
            warn(
                _(
                    "{url} has no /api/v1/me (a hub older than this client?), so the token "
                    "could not be checked; saving it anyway"
                ).format(url=config.url)
            )
    cfg.save_token(config.path, config.url, token)
    who = safe(me.username) if me is not None else None
    say(_logged_in(safe(cfg.origin(config.url)), who, safe(config.path)))


def _logged_in(hub: str, username: str | None, path: str) -> str:
    if username is None:
        return _("logged in to {hub}; token saved in {path}").format(hub=hub, path=path)
    return _("logged in to {hub} as {username}; token saved in {path}").format(
        hub=hub, username=username, path=path
    )


@click.command()
@pass_ctx
def logout(ctx: Ctx) -> None:
    """Forget the stored token for the hub."""
    from pysetl_hub import config as cfg

    config = ctx.config
    found = cfg.forget_token(config.path, config.url)
    text = _("token removed for {hub}") if found else _("no token stored for {hub}")
    say(text.format(hub=safe(cfg.origin(config.url))))


def _when(moment: datetime) -> str:
    # Rounded, not floored: a token made for 30 days reads "in 30 days", not 29.
    days = round((moment - datetime.now(UTC)).total_seconds() / 86400)
    # The English says "days" for one day too, as it always did; a language may differ.
    if days >= 0:
        relative = ngettext("in {days} days", "in {days} days", days).format(days=days)
    else:
        relative = ngettext("{days} days ago", "{days} days ago", -days).format(days=-days)
    return _("{time} UTC ({relative})").format(time=f"{moment:%Y-%m-%d %H:%M}", relative=relative)


@click.command()
@json_option
@pass_ctx
def whoami(ctx: Ctx, as_json: bool) -> None:
    """Who the configured token belongs to, what it may act on, and when it expires."""
    with ctx.client() as client:
        me = client.me()
    if as_json:
        emit_json(me)
        return
    say(
        _("[bold]{username}[/] on {url}").format(
            username=safe(me.username), url=safe(ctx.config.url)
        )
    )
    if me.session is not None:
        say(_("signed in with a session: every component, every action"))
        say(_("expires: {when}").format(when=_when(me.session.expires)))
        return
    t = me.token
    if t is None:
        return
    label = t.name or t.description
    if label:
        say(_("token: pshub_{id}_… ({label})").format(id=safe(t.id), label=safe(label)))
    else:
        say(_("token: pshub_{id}_…").format(id=safe(t.id)))
    if t.components is not None or t.component:
        names = t.components if t.components is not None else [t.component]
        say(_("scope: only {names}").format(names=", ".join(safe(n) for n in names)))
    else:
        say(_("scope: all of {username}'s components, and new names").format(
            username=safe(me.username)))  # fmt: skip
    if t.actions:
        say(_("may: {actions}").format(actions=", ".join(t.actions)))
    say(_("expires: {when}").format(when=_when(t.expires) if t.expires else _("never")))


@click.command("config")
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
@pass_ctx
def config_cmd(ctx: Ctx, key: str | None, value: str | None, as_json: bool) -> None:
    """Show the settings, or set one: `config url https://hub.example.org`."""
    from pysetl_hub import config as cfg
    from pysetl_hub import errors

    if key and value is not None:
        cfg.set_value(ctx.config.path, key, value)
        say(f"{safe(key)} = {safe(value)}")
        return
    c = ctx.config
    shown = {
        "url": c.url,
        "token": (c.token[:14] + "…") if c.token else None,
        "installer": c.installer,
        "verify": c.verify,
        "trust_root": str(c.trust_root) if c.trust_root else None,
        "timeout": c.timeout,
        "retries": c.retries,
        "cache_dir": str(c.cache_dir),
        "config_file": str(c.path),
    }
    if key:
        if key not in shown:
            raise errors.ConfigError(
                _("unknown setting {key}: one of {keys}").format(
                    key=repr(key), keys=", ".join(shown)
                )
            )
        shown = {key: shown[key]}
    if as_json:
        emit_json(shown)
        return
    for k, v in shown.items():
        say(f"{k} = {safe(v)}")


COMMANDS = [login, logout, whoami, config_cmd]
