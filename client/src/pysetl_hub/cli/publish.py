"""`publish`: upload wheels and sdists as twine does, optionally signed in CI first."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, safe, say, transfer_bar
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub.config import Config


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--skip-existing", is_flag=True, help="Do not fail on a file already published.")
@click.option(
    "--attestations",
    "with_attestations",
    is_flag=True,
    help="Upload each file's <file>.*.attestation files too (as twine).",
)
@click.option(
    "--attest",
    "attest_",
    is_flag=True,
    help="Sign each file with Sigstore from the CI job's identity, then upload with it.",
)
@json_option
@pass_ctx
def publish(
    ctx: Ctx,
    files: tuple[Path, ...],
    skip_existing: bool,
    with_attestations: bool,
    attest_: bool,
    as_json: bool,
) -> None:
    """Upload wheels and sdists (the legacy upload API, as twine).

    In CI with no token configured, the job's OIDC identity is exchanged for a 15-minute
    upload token (trusted publishing: register the workflow with `publishers add`).
    """
    from pysetl_hub import errors

    dists = [f for f in files if f.name.endswith((".whl", ".tar.gz"))]
    if not dists:
        given = ", ".join(f.name for f in files)
        raise errors.HubError(
            _(
                "nothing to publish among {files}: only wheels (.whl) and sdists (.tar.gz) are "
                "uploaded; build them with `python -m build` and pass dist/*"
            ).format(files=given)
        )
    if attest_:
        from pysetl_hub.signing import attest

        for written in attest(dists):
            say(_("[green]signed[/] {file}").format(file=safe(written.name)))
        with_attestations = True
    if with_attestations:  # pypi_attestations is slow to import: only when asked for
        from pysetl_hub_provenance import twine_attestations
    config = ctx.config if ctx.config.token else trusted_publishing(ctx)
    results = []
    with ctx.client(config) as client, transfer_bar() as bar:
        for path in dists:
            task = bar.add_task(safe(path.name), total=path.stat().st_size)
            try:
                result = client.publish(
                    path,
                    attestations=twine_attestations(path) if with_attestations else None,
                    progress=functools.partial(bar.advance, task),
                )
            except errors.Conflict as exc:
                # Only "this filename is taken" is skipped; a look-alike name or the same bytes
                # under another name is a real refusal, whatever the flag.
                if not skip_existing or exc.problem.code not in EXISTING:
                    raise
                say(_("[yellow]skipped[/] {file} (already published)").format(file=safe(path.name)))
                continue
            results.append(result)
            say(_published(result.created, safe(result.filename), safe(path.name)))
    if as_json:
        emit_json(results)


def trusted_publishing(ctx: Ctx) -> Config:
    """No token configured: mint one from the CI job's OIDC identity, when there is one."""
    from pysetl_hub import errors
    from pysetl_hub.trusted import mint_from_ci

    with ctx.client() as client:
        try:
            minted = mint_from_ci(client)
        except errors.NotFound:  # a hub without trusted publishing
            return ctx.config
    if minted is None:
        return ctx.config
    names = ", ".join(safe(n) for n in minted.components)
    say(
        _(
            "[green]trusted publishing:[/] no token configured, so this CI job's OIDC identity "
            "was exchanged for an upload token for {names} (valid until {time} UTC)"
        ).format(names=names, time=f"{minted.expires:%H:%M:%S}")
    )
    return replace(ctx.config, token=minted.token)


def _published(created: bool, filename: str, given: str) -> str:
    """`published NAME`, or `already there NAME`, and the name it was given when the hub
    stored it under another (both already made safe)."""
    if filename == given:
        if created:
            return _("[green]published[/] {file}").format(file=filename)
        return _("[green]already there[/] {file}").format(file=filename)
    if created:
        return _("[green]published[/] {file} (from {given})").format(file=filename, given=given)
    return _("[green]already there[/] {file} (from {given})").format(file=filename, given=given)


COMMANDS = [publish]
EXISTING = frozenset({"file.exists", "file.deleted"})
