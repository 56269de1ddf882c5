"""`lock` writes a PEP 751 `pylock.toml`; `install --locked` (run_locked) installs exactly it.

The library does the work (`pysetl_hub.lockfile`, `pysetl_hub.locked`); this module shows it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pysetl_hub.cli.options import (
    Ctx,
    Signatures,
    Target,
    env_options,
    json_option,
    pass_ctx,
    quiet_option,
    signature_options,
)
from pysetl_hub.cli.output import emit_json, safe, say, show, table, warn
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub.config import Config

DEFAULT_LOCK = "pylock.toml"


class RequirementsOrLock(click.Argument):
    """`install`'s REQUIREMENTS: required, unless `--locked` (given before them on the command
    line, so click has processed it already) names a lock file to install instead."""

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        if ctx.params.get("locked") is not None and self.value_is_missing(value):
            return ()
        return super().process_value(ctx, value)


@click.command("lock")
@click.argument("requirements", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEFAULT_LOCK),
    show_default=True,
    help="Where to write the lock file.",
)
@click.option(
    "--environment",
    "markers",
    multiple=True,
    metavar="MARKER",
    help="A PEP 508 marker the lock is for (repeatable; written to `environments`).",
)
@click.option("--no-deps", is_flag=True, help="Lock only what was named.")
@env_options
@signature_options
@quiet_option
@json_option
@pass_ctx
def lock_cmd(
    ctx: Ctx,
    requirements: tuple[str, ...],
    output: Path,
    markers: tuple[str, ...],
    no_deps: bool,
    target: Target,
    signatures: Signatures,
    quiet: bool,
    as_json: bool,
) -> None:
    """Resolve for the environment, verify every file, and write a PEP 751 lock file with
    each file's hash, provenance URL and verified publisher."""
    from pysetl_hub.install import fetch_verified
    from pysetl_hub.lockfile import build_lock, write_lock

    env = target.environment()
    with ctx.client() as client:
        plan = client.resolve(list(requirements), env, with_deps=not no_deps)
        checker = signatures.checker(ctx.config, client)
        fetch_verified(client, plan, checker=checker)
        publishers = {c.filename: c.publisher for c in checker.results}
        lock = build_lock(
            client.config.url, list(requirements), plan, env, publishers, markers=markers
        )
        write_lock(output, lock)
        checker.trust.save()
    if as_json:
        emit_json(
            {
                "lock": str(output),
                "packages": [
                    {
                        "name": p.name,
                        "version": p.version,
                        "filename": p.file.filename,
                        "sha256": p.file.hashes["sha256"],
                        "publisher": str(publishers[p.file.filename])
                        if publishers.get(p.file.filename)
                        else None,
                    }
                    for p in plan.picks
                ],
                "not_locked": plan.external,
            }
        )
    if quiet:
        return
    grid = table(_("name"), _("version"), _("file"), _("publisher"))
    for p in plan.picks:
        signer = publishers.get(p.file.filename)
        grid.add_row(
            safe(p.name),
            safe(p.version),
            safe(p.file.filename),
            safe(signer) if signer else _("[yellow]unsigned[/]"),
        )
    show(grid)
    for r in plan.external:
        warn(
            _("{requirement} is not served by this hub: not locked, left to the installer's "
              "own index").format(requirement=r)
        )  # fmt: skip
    say(_("[green]wrote[/] {path}").format(path=safe(output)))


def run_locked(
    ctx: Ctx,
    path: Path,
    target: Target,
    installer: str,
    signatures: Signatures,
    quiet: bool,
    *,
    dry_run: bool = False,
    as_json: bool = False,
) -> None:
    """`install --locked PATH`: select the files for the target, check each against the lock,
    then install them all (or nothing)."""
    from pysetl_hub.locked import install_locked, select
    from pysetl_hub.lockfile import not_locked, read_lock, tool_table

    lock = read_lock(path)
    env = target.environment()
    files = select(path, lock, env)
    if as_json:
        emit_json({"lock": str(path), "install": files, "not_locked": not_locked(lock)})
    elif not quiet:
        say(_("from {lock}, for {environment}:").format(
            lock=safe(path), environment=safe(env.describe())))  # fmt: skip
        for f in files:
            say(f"  [bold]{safe(f.name)}[/] {safe(f.version)}  {safe(f.filename)}")
    if dry_run:
        return
    hub = str(tool_table(lock.tool).get("hub") or ctx.config.url)
    config: Config = replace(ctx.config, url=hub.rstrip("/"))
    with ctx.client(config) as client:
        checks = install_locked(
            client,
            files,
            str(path),
            python=env.python or "python",
            installer=installer,
            trust_root=signatures.trust_root or ctx.config.trust_root,
        )
    for r in not_locked(lock):
        warn(
            _("{requirement} is not in the lock (not served by its hub): install it from "
              "your own index").format(requirement=r)
        )  # fmt: skip
    if quiet:
        return
    for c in checks:
        if c.status == "verified" and c.file.publisher is not None:
            say(_("  {file}: [green]sha256 and publisher {publisher} match the lock[/]").format(
                file=safe(c.file.filename), publisher=safe(c.file.publisher)))  # fmt: skip
        else:
            say(_("  {file}: [green]sha256 matches the lock[/] (unsigned in the lock)").format(
                file=safe(c.file.filename)))  # fmt: skip
    names = ", ".join(f"{safe(c.file.name)} {safe(c.file.version)}" for c in checks)
    say(
        _("[green]installed[/] {names} from {lock} into {python}").format(
            names=names, lock=safe(path), python=safe(env.python)
        )
    )


COMMANDS = [lock_cmd]
