"""`search`, `info` and `versions`: what the hub has, and what of it fits the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from pysetl_hub.cli.options import KINDS, Ctx, Target, env_options, json_option, pass_ctx
from pysetl_hub.cli.output import emit_json, joined, safe, say, show, size, table
from pysetl_hub.i18n import _, ngettext

if TYPE_CHECKING:
    from pysetl_hub_schemas import PlatformCheck, Release, SearchResults


@click.command()
@click.argument("query", default="")
@click.option("--kind", type=click.Choice(KINDS), help="Only factories, or only pipelines.")
@click.option("--compatible", is_flag=True, help="Only components that fit the environment.")
@click.option("--page", type=int, default=1, show_default=True, help="Page of results to show.")
@click.option(
    "--per-page", type=int, default=20, show_default=True, help="Results per page (at most 100)."
)
@env_options
@json_option
@pass_ctx
def search(
    ctx: Ctx,
    query: str,
    kind: str | None,
    compatible: bool,
    page: int,
    per_page: int,
    target: Target,
    as_json: bool,
) -> None:
    """Search the catalog; an exact name comes first."""
    filters: dict[str, Any] = {"kind": kind, "page": page, "per_page": per_page}
    if compatible:  # the hub evaluates each component's specifiers for this environment
        env = target.environment()
        filters.update(python=env.python_version, pysetl=env.pysetl, spark=env.pyspark)
    with ctx.client() as client:
        results = client.search(query, **filters)
    if as_json:
        emit_json(results)
        return
    if not results.hits:
        if query:
            say(_("no component matches {query}").format(query=safe(repr(query))))
        else:
            say(_("no components found"))
        return
    if results.corrected_query:
        say(_("showing results for [bold]{query}[/]").format(query=safe(results.corrected_query)))
    grid = table(_("name"), _("version"), _("kind"), _("summary"), title=headline(results, query))
    for h in results.hits:
        name = safe(h.name)
        grid.add_row(
            f"[bold]{name}[/]" if h.exact else name,
            safe(h.version or ""),
            joined(h.kinds),
            safe(h.summary or ""),
        )
    show(grid)


def headline(results: SearchResults, query: str) -> str:
    """`1 component matches 'csv'`, `2 components found`, and the page when there are more."""
    n = results.total
    if query:
        text = ngettext(
            "{count} component matches {query}", "{count} components match {query}", n
        ).format(count=n, query=safe(repr(query)))
    else:
        text = ngettext("{count} component found", "{count} components found", n).format(count=n)
    if n > len(results.hits):
        pages = -(-n // max(results.per_page, 1))
        text = _("{results} (page {page} of {pages})").format(
            results=text, page=results.page, pages=pages
        )
    return text


def _split(spec: str) -> tuple[str, str | None]:
    name, _sep, version = spec.partition("==")
    return name.strip(), version.strip() or None


def _matrix(title: str, checks: list[PlatformCheck]) -> str:
    cells = [f"{safe(c.version)} {'[green]✓[/]' if c.compatible else '[red]✗[/]'}" for c in checks]
    return _("{platform}: {versions}").format(platform=title, versions="  ".join(cells) or "-")


@click.command()
@click.argument("spec", metavar="NAME[==VERSION]")
@json_option
@pass_ctx
def info(ctx: Ctx, spec: str, as_json: bool) -> None:
    """A component's detail, entry points and compatibility matrix."""
    name, version = _split(spec)
    with ctx.client() as client:
        release: Release | None
        if version:
            release = client.release(name, version)
            owners: list[str] = []
        else:
            component = client.component(name)
            release, owners = component.latest, component.owners
    if as_json:
        emit_json(release)
        return
    if release is None:
        say(_("{name} has no releases").format(name=safe(name)))
        return
    c = release.compatibility
    if release.yanked:
        first = _("[bold]{name}[/] {version} [red](yanked)[/]")
    else:
        first = _("[bold]{name}[/] {version}")
    say(first.format(name=safe(release.name), version=safe(release.version)))
    if release.yanked and release.yanked_reason:
        say(_("yanked: {reason}").format(reason=safe(release.yanked_reason)))
    if release.summary:
        say(safe(release.summary))
    say(_("kinds: {kinds}").format(kinds=joined(release.kinds)))
    for ep in release.entry_points:
        say(f"  {safe(ep.kind)} [bold]{safe(ep.name)}[/] = {safe(ep.value)}")
    if owners:
        say(_("owners: {names}").format(names=joined(owners)))
    if release.license:
        say(_("license: {license}").format(license=safe(release.license)))
    for label, url in release.project_urls.items():
        say(f"{safe(label)}: {safe(url)}")
    say(
        _("requires: Python {python}, pysetl {pysetl}, pyspark {pyspark}").format(
            python=safe(c.requires_python) if c.requires_python else _("any"),
            pysetl=safe(c.pysetl) if c.pysetl else _("any"),
            pyspark=safe(c.pyspark) if c.pyspark else _("any"),
        )
    )
    say(_matrix("Python", c.python_matrix))
    say(_matrix("PySetl", c.pysetl_matrix))
    say(_matrix("Spark ", c.spark_matrix))
    files = table(_("file"), _("size"), "sha256", _("signed by"))
    for f in release.files:
        signer = f"[green]{safe(f.signer)}[/]" if f.signer else _("[yellow]unsigned[/]")
        digest = safe(f.hashes.get("sha256", "")[:16]) + "…"
        files.add_row(safe(f.filename), size(f.size), digest, signer)
    show(files)


@click.command()
@click.argument("name")
@env_options
@json_option
@pass_ctx
def versions(ctx: Ctx, name: str, target: Target, as_json: bool) -> None:
    """Every release, and whether it fits the environment."""
    from packaging.specifiers import SpecifierSet

    from pysetl_hub.resolve import why_not

    env = target.environment()
    with ctx.client() as client:
        component = client.component(name)
    rows = []
    for r in component.releases:
        reason = why_not(r, SpecifierSet(f"=={r.version}"), env, allow_yanked=False)
        rows.append(
            {
                "version": r.version,
                "yanked": r.yanked,
                "yanked_reason": r.yanked_reason,
                "requires_python": r.compatibility.requires_python,
                "pysetl": r.compatibility.pysetl,
                "pyspark": r.compatibility.pyspark,
                "fits": reason is None,
                "why_not": reason,
            }
        )
    if as_json:
        emit_json({"name": component.display_name, "environment": env.describe(), "versions": rows})
        return
    title = _("{name} for {environment}").format(
        name=safe(component.display_name), environment=safe(env.describe())
    )
    grid = table(_("version"), "python", "pysetl", "pyspark", _("fits"), title=title)
    for row in rows:
        if row["why_not"]:
            fits = _("[red]no[/] ({reason})").format(reason=safe(row["why_not"]))
        else:
            fits = _("[green]yes[/]") if row["fits"] else _("[red]no[/]")
        grid.add_row(
            safe(row["version"]),
            safe(row["requires_python"]) if row["requires_python"] else _("any"),
            safe(row["pysetl"]) if row["pysetl"] else _("any"),
            safe(row["pyspark"]) if row["pyspark"] else _("any"),
            fits,
        )
    show(grid)


COMMANDS = [search, info, versions]
