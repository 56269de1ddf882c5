"""`install`, `download`, `uninstall` and `list`: the library's install flow, with progress.

Resolution, the digest and signature checks and the publisher pins all live in
`pysetl_hub.install`; this module only shows them (and imports them when a command runs).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pysetl_hub.cli.lock import RequirementsOrLock, run_locked
from pysetl_hub.cli.options import (
    Ctx,
    Signatures,
    Target,
    env_options,
    installer_option,
    json_option,
    pass_ctx,
    python_option,
    quiet_option,
    signature_options,
)
from pysetl_hub.cli.output import (
    activity,
    emit_json,
    joined,
    safe,
    say,
    show,
    table,
    transfer_bar,
    warn,
)
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from pysetl_hub.environment import Environment
    from pysetl_hub.resolve import Plan
    from pysetl_hub.signatures import Checker


def _print_plan(plan: Plan, env: Environment) -> None:
    say(_("plan for {environment}:").format(environment=safe(env.describe())))
    for p in plan.picks:
        fields = {"name": safe(p.name), "version": safe(p.version), "file": safe(p.file.filename)}
        if p.required_by:
            line = _("  [bold]{name}[/] {version} (for {parent})  {file}")
            fields["parent"] = safe(p.required_by)
        else:
            line = _("  [bold]{name}[/] {version}  {file}")
        say(line.format(**fields))
        for note in p.skipped:
            say(_("    [dim]{note}[/]").format(note=safe(note)))
    for r in plan.external:
        say(
            _("  {requirement} [dim](left to the installer's own index)[/]").format(
                requirement=safe(r)
            )
        )


def _plan_json(plan: Plan, env: Environment) -> dict[str, Any]:
    return {
        "environment": asdict(env),
        "install": [
            {
                "name": p.name,
                "version": p.version,
                "filename": p.file.filename,
                "sha256": p.file.hashes.get("sha256"),
                "url": p.file.url,
                "required_by": p.required_by,
                "advisories": list(p.advisories),
                "skipped": list(p.skipped),
            }
            for p in plan.picks
        ],
        "external": plan.external,
    }


def _warn_affected(plan: Plan) -> None:
    """A warning for each pick an advisory affects (the resolver found no unaffected one)."""
    for p in plan.picks:
        if p.advisories:
            warn(
                _(
                    "{name} {version} is affected by {advisories}; no release that fits is "
                    "free of them (see `pysetl-hub audit`; --require-safe refuses it)"
                ).format(name=p.name, version=p.version, advisories=", ".join(p.advisories))
            )


def _print_checks(checker: Checker) -> None:
    """Who signed each file. Unsigned and failed files are left out: the checker has warned
    about each already, once."""
    for c in checker.results:
        if c.publisher is not None:
            say(_("  {file}: [green]signed by {publisher}[/]").format(
                file=safe(c.filename), publisher=safe(c.publisher)))  # fmt: skip
        elif c.status == "not checked":
            say(_("  {file}: [yellow]not checked[/] (--verify off)").format(file=safe(c.filename)))


class _Progress:
    """What an install shows while it works (nothing under --quiet): a download bar, then
    the installer's own lines, dimmed, under a live `installing with pip  0:00:12`."""

    def __init__(self, plan: Plan, quiet: bool, installer: str = "") -> None:
        self._total = sum(p.file.size for p in plan.picks)
        self._quiet = quiet
        self._installer = installer
        self._stack = ExitStack()
        self._live: RichProgress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> _Progress:
        if not self._quiet:
            self._show(transfer_bar(), _("downloading"), self._total)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _show(self, live: RichProgress, description: str, total: int | None) -> None:
        self._stack.close()
        self._stack = ExitStack()
        self._live = self._stack.enter_context(live)
        self._task = live.add_task(description, total=total)

    def _advance(self, n: int) -> None:
        if self._live is not None and self._task is not None:
            self._live.advance(self._task, n)

    def _installing(self, command: list[str]) -> None:
        installer = safe(self._installer or Path(command[0]).name)
        doing = _("installing with {installer}").format(installer=installer)
        live = activity()
        if not live.console.is_terminal:  # a log gets one line in place of the live one
            say(doing)
        self._show(live, doing, None)

    def _line(self, text: str) -> None:
        if self._live is not None and text.strip():
            self._live.console.print(f"  [dim]{safe(text)}[/]", soft_wrap=True)

    # The library's callbacks (pysetl_hub.install.install), or None under --quiet.

    @property
    def progress(self) -> Callable[[int], None] | None:
        return None if self._quiet else self._advance

    @property
    def on_command(self) -> Callable[[list[str]], None] | None:
        return None if self._quiet else self._installing

    @property
    def on_output(self) -> Callable[[str], None] | None:
        return None if self._quiet else self._line


@click.command("install")
@click.argument("requirements", nargs=-1, required=True, cls=RequirementsOrLock)
@env_options
@installer_option
@click.option("--no-deps", is_flag=True, help="Install only what was named.")
@click.option(
    "--locked",
    type=click.Path(dir_okay=False, path_type=Path),
    is_flag=False,
    flag_value="pylock.toml",
    default=None,
    help="Install exactly the files of this PEP 751 lock (default pylock.toml), each checked "
    "against its recorded sha256 and publisher.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and stop.")
@click.option(
    "--require-safe",
    is_flag=True,
    help="Refuse a release a hub advisory affects (config `require_safe`).",
)
@signature_options
@quiet_option
@json_option
@pass_ctx
def install_cmd(
    ctx: Ctx,
    requirements: tuple[str, ...],
    target: Target,
    installer: str | None,
    no_deps: bool,
    locked: Path | None,
    dry_run: bool,
    require_safe: bool,
    signatures: Signatures,
    quiet: bool,
    as_json: bool,
) -> None:
    """Resolve for the environment, download, check digests and signatures, and install
    with pip or uv (or install a lock file's files with --locked). A release a hub advisory
    affects is passed over for one that is not; when none is left it is installed with a
    warning, or refused with --require-safe."""
    from pysetl_hub.install import install

    if locked is not None:
        if requirements:
            raise click.UsageError(
                _("give the requirements to install, or --locked PYLOCK, but not both")
            )
        chosen = installer or ctx.config.installer
        run_locked(ctx, locked, target, chosen, signatures, quiet, dry_run=dry_run, as_json=as_json)
        return
    env = target.environment()
    with ctx.client() as client:
        plan = client.resolve(
            list(requirements),
            env,
            with_deps=not no_deps,
            require_safe=require_safe or ctx.config.require_safe,
        )
        _warn_affected(plan)
        if as_json:
            emit_json(_plan_json(plan, env))
        elif not quiet:
            _print_plan(plan, env)
        if dry_run:
            return
        checker = signatures.checker(ctx.config, client)
        chosen = installer or ctx.config.installer
        with _Progress(plan, quiet, chosen) as shown:
            install(
                client,
                plan,
                python=env.python,
                installer=chosen,
                no_deps=no_deps,
                checker=checker,
                progress=shown.progress,
                on_command=shown.on_command,
                on_output=shown.on_output,
            )
    if not quiet:
        _print_checks(checker)
        names = ", ".join(f"{safe(p.name)} {safe(p.version)}" for p in plan.picks)
        say(
            _("[green]installed[/] {names} into {python}").format(
                names=names, python=safe(env.python)
            )
        )


@click.command()
@click.argument("requirements", nargs=-1, required=True)
@click.option(
    "-d",
    "--dest",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to save the files in.",
)
@click.option("--no-deps", is_flag=True, help="Download only what was named.")
@env_options
@signature_options
@quiet_option
@json_option
@pass_ctx
def download(
    ctx: Ctx,
    requirements: tuple[str, ...],
    dest: Path,
    no_deps: bool,
    target: Target,
    signatures: Signatures,
    quiet: bool,
    as_json: bool,
) -> None:
    """Resolve and download files, their digests and signatures checked, without installing."""
    from pysetl_hub.install import download as download_files

    env = target.environment()
    with ctx.client() as client:
        plan = client.resolve(list(requirements), env, with_deps=not no_deps)
        checker = signatures.checker(ctx.config, client)
        with _Progress(plan, quiet) as shown:
            saved = download_files(client, plan, dest, checker=checker, progress=shown.progress)
    if not quiet:
        _print_checks(checker)
    if as_json:
        emit_json({**_plan_json(plan, env), "files": [str(p) for p in saved]})
    elif not quiet:
        for path in saved:
            say(_("[green]saved[/] {path}").format(path=safe(path)))


@click.command("uninstall")
@click.argument("names", nargs=-1, required=True)
@python_option
@installer_option
@pass_ctx
def uninstall_cmd(
    ctx: Ctx, names: tuple[str, ...], python: str | None, installer: str | None
) -> None:
    """Remove installed components."""
    from pysetl_hub.install import uninstall

    uninstall(list(names), python=python, installer=installer or ctx.config.installer)
    say(_("[green]uninstalled[/] {names}").format(names=joined(names)))


@click.command("list")
@python_option
@json_option
@pass_ctx
def list_cmd(ctx: Ctx, python: str | None, as_json: bool) -> None:
    """Installed components (from their entry points), and the hub each came from."""
    from pysetl_hub.install import installed

    found = installed(ctx.config.cache_dir, python)
    if as_json:
        emit_json([asdict(i) for i in found])
        return
    if not found:
        say(_("no PySetl components installed"))
        return
    grid = table(_("distribution"), _("version"), _("kind"), _("entry points"), _("hub"))
    for i in found:
        grid.add_row(
            safe(i.distribution),
            safe(i.version),
            joined(i.kinds),
            joined(i.entry_points),
            safe(i.hub or "-"),
        )
    show(grid)


COMMANDS = [install_cmd, download, uninstall_cmd, list_cmd]
