"""`publishers add|list|remove|require` (who may sign a component) and `verify` (check any
local file against an attestation, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pysetl_hub.cli.options import Ctx, json_option, pass_ctx, trust_root_option
from pysetl_hub.cli.output import emit_json, safe, say, show, table
from pysetl_hub.i18n import _

if TYPE_CHECKING:
    from pysetl_hub_schemas import Publisher, PublisherList


@click.group()
def publishers() -> None:
    """Who may sign a component's releases (its trusted publishers)."""


def _print_publishers(listing: PublisherList) -> None:
    grid = table(
        _("id"), _("publisher"), _("environment"), _("added"), _("by"),
        title=_("trusted publishers of {name}").format(name=safe(listing.component)),
    )  # fmt: skip
    for t in listing.publishers:
        grid.add_row(
            str(t.id),
            safe(t.publisher),
            safe(t.publisher.environment or "-"),
            t.added.strftime("%Y-%m-%d"),
            safe(t.added_by or "-"),
        )
    show(grid)
    if listing.require_attestations:
        say(_("unsigned uploads: refused"))
    else:
        say(_("unsigned uploads: accepted"))


@publishers.command("list")
@click.argument("name")
@json_option
@pass_ctx
def publishers_list(ctx: Ctx, name: str, as_json: bool) -> None:
    """List a component's trusted publishers."""
    with ctx.client() as client:
        listing = client.publishers(name)
    emit_json(listing) if as_json else _print_publishers(listing)


def _publisher(spec: str, issuer: str | None, environment: str | None) -> Publisher:
    """A publisher from its spec; a spec that does not parse is a usage error (exit 2)."""
    from pysetl_hub_provenance import PublisherSpecError, parse_publisher

    try:
        return parse_publisher(spec, issuer=issuer, environment=environment)
    except PublisherSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="PUBLISHER") from exc


@publishers.command("add")
@click.argument("name")
@click.argument("publisher")
@click.option("--issuer", help="OIDC issuer URL (sigstore: publishers).")
@click.option("--environment", help="GitHub/GitLab deployment environment (informational).")
@json_option
@pass_ctx
def publishers_add(
    ctx: Ctx, name: str, publisher: str, issuer: str | None, environment: str | None, as_json: bool
) -> None:
    """Trust PUBLISHER to sign NAME: github:OWNER/REPO/WORKFLOW.yml,
    gitlab:NAMESPACE/PROJECT//CI_FILE, or sigstore:EMAIL_OR_URI --issuer URL.

    For a name not published yet, this reserves it for you, so the first upload can be signed.
    """
    p = _publisher(publisher, issuer, environment)
    with ctx.client() as client:
        listing = client.add_publisher(name, p)
    emit_json(listing) if as_json else _print_publishers(listing)


@publishers.command("remove")
@click.argument("name")
@click.argument("publisher_id", type=int)
@pass_ctx
def publishers_remove(ctx: Ctx, name: str, publisher_id: int) -> None:
    """Stop trusting publisher PUBLISHER_ID (from `publishers list`)."""
    with ctx.client() as client:
        _print_publishers(client.remove_publisher(name, publisher_id))


@publishers.command("require")
@click.argument("name")
@click.option("--off", is_flag=True, help="Accept unsigned uploads again.")
@pass_ctx
def publishers_require(ctx: Ctx, name: str, off: bool) -> None:
    """Refuse unsigned uploads of NAME from now on (require_attestations)."""
    with ctx.client() as client:
        _print_publishers(client.require_attestations(name, not off))


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--attestation",
    "attestation_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A PEP 740 attestation or provenance JSON file (repeatable).",
)
@click.option("--publisher", "spec", required=True, help="Expected signer, e.g. github:O/R/W.yml.")
@click.option("--issuer", help="OIDC issuer URL (sigstore: publishers).")
@trust_root_option
@json_option
@pass_ctx
def verify_cmd(
    ctx: Ctx,
    file: Path,
    attestation_files: tuple[Path, ...],
    spec: str,
    issuer: str | None,
    trust_root: Path | None,
    as_json: bool,
) -> None:
    """Verify a local distribution FILE against its attestation and an expected publisher.

    Works offline, on any Python distribution (component or not).
    """
    from pysetl_hub import errors
    from pysetl_hub.install import sha256_of
    from pysetl_hub_provenance import (
        load_attestation,
        read_attestations,
        trust_root_path,
        verify_attestation,
    )

    expected = _publisher(spec, issuer, None)
    sha = sha256_of(file)
    root = trust_root_path(trust_root or ctx.config.trust_root)
    results = [
        verify_attestation(
            load_attestation(raw, file.name),
            filename=file.name,
            sha256=sha,
            publishers=[expected],
            trust_root=root,
        )
        for source in attestation_files
        for _declared, raw in read_attestations(source)
    ]
    if not results:
        raise errors.SignatureInvalid(file.name, "format", _("no attestation in the files given"))
    if as_json:
        emit_json(
            [
                {
                    "filename": v.filename,
                    "sha256": v.sha256,
                    "publisher": v.publisher,
                    "predicate_type": v.predicate_type,
                }
                for v in results
            ]
        )
    for v in results:
        say(
            _("[green]OK[/] {file}: signed by {publisher} ({predicate_type})").format(
                file=safe(v.filename), publisher=safe(v.publisher), predicate_type=v.predicate_type
            )
        )


COMMANDS = [publishers, verify_cmd]
