"""`pysetl-hub-server backup DEST` and `restore SRC` (registered by cli.py; they read the same
settings as every other command: --data-dir, --database-url, PYSETL_HUB_*)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pysetl_hub_server.backup.layout import BackupError
from pysetl_hub_server.backup.run import make_backup, restore_backup
from pysetl_hub_server.errors import HubError
from pysetl_hub_server.settings import Settings

PG_BINDIR_HELP = (
    "Directory of pg_dump/pg_restore (default: the newest /usr/lib/postgresql/N/bin, else PATH)."
)


def _say(line: str) -> None:
    click.echo(line, err=True)


def _fail(exc: Exception) -> None:
    """One line for the operator: ours name the fix; a store's or the disk's say what failed."""
    detail = exc.detail if isinstance(exc, HubError) else str(exc)
    click.echo(f"error: {detail}", err=True)
    sys.exit(1)


# What a backup or restore can meet besides its own refusals: an unreachable store (a domain
# error), a full or unwritable disk.
FAILURES = (BackupError, HubError, OSError)


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--blobs/--no-blobs",
    "copy_blobs",
    default=None,
    help="Copy the blobs into the backup (default: yes for a local store; no for an object "
    "store, whose own versioning keeps them: the manifest still lists and checks each).",
)
@click.option("--pg-bindir", type=click.Path(path_type=Path, file_okay=False), help=PG_BINDIR_HELP)
@click.pass_context
def backup(ctx: click.Context, dest: Path, copy_blobs: bool | None, pg_bindir: Path | None) -> None:
    """Write a consistent backup to DEST (a new directory): the database dump, the manifest of
    every blob it references with hashes, and (local store) the blobs. Safe while serving."""
    settings: Settings = ctx.obj
    try:
        header = make_backup(settings, dest, copy_blobs=copy_blobs, bindir=pg_bindir, progress=_say)
    except FAILURES as exc:
        _fail(exc)
        return
    copied = "copied" if header.blobs_copied else "listed (not copied)"
    _say(
        f"backup written to {dest}: {header.dialect} database at serial {header.serial} "
        f"(revision {header.alembic_revision}), {header.blob_count} blobs "
        f"({header.blob_bytes} bytes) {copied}"
    )


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--pg-bindir", type=click.Path(path_type=Path, file_okay=False), help=PG_BINDIR_HELP)
@click.pass_context
def restore(ctx: click.Context, src: Path, pg_bindir: Path | None) -> None:
    """Restore the backup SRC into an empty database and a fresh data directory, check every
    blob's hash in the store, then bring the schema to this hub's revision."""
    settings: Settings = ctx.obj
    try:
        header = restore_backup(settings, src, bindir=pg_bindir, progress=_say)
    except FAILURES as exc:
        _fail(exc)
        return
    _say(
        f"restored {src}: serial {header.serial}, {header.blob_count} blobs reconciled; "
        "start the hub on it"
    )
    if settings.search_url:
        _say("Meilisearch is outside the backup: run `pysetl-hub-server search reindex`")
