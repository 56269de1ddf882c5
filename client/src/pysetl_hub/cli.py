"""`pysetl-hub`: find, install, publish and manage PySetl components.

Human output (tables, progress) goes to stderr through Rich, so stdout carries only data:
`--json` on every read command prints machine-readable JSON there. NO_COLOR is honoured.

Exit codes: 0 ok; 1 the hub refused or failed; 2 usage error; 3 not found; 4 nothing fits the
environment; 5 integrity failure (digest mismatch); 6 the installer failed; 7 the hub could not
be reached; 8 authentication or permission refused; 9 a signature check failed (bad
attestation, publisher changed, signatures removed, or unsigned under --require-signatures).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import click
import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from pysetl_hub import __version__, errors
from pysetl_hub import config as cfg
from pysetl_hub.client import HubClient
from pysetl_hub.config import VERIFY_MODES
from pysetl_hub.environment import Environment
from pysetl_hub.install import FileCache, install, installed, sha256_of, uninstall
from pysetl_hub.resolve import Plan
from pysetl_hub.scaffold import scaffold
from pysetl_hub.signatures import Checker, VerifyMode
from pysetl_hub.signatures import Policy as SignaturePolicy
from pysetl_hub.signing import attest
from pysetl_hub.trust import TrustStore
from pysetl_hub_provenance import (
    AttestationFileError,
    AttestationRejected,
    Declared,
    PublisherSpecError,
    TrustRootError,
    load_attestation,
    parse_publisher,
    read_attestations,
    trust_root_path,
    twine_attestations,
    verify_attestation,
)
from pysetl_hub_schemas import PlatformCheck, Publisher, PublisherList, Release

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (errors.NotFound, 3),
    (errors.ResolutionError, 4),
    (errors.IntegrityError, 5),
    (errors.ProvenanceError, 9),
    (errors.InstallError, 6),
    (errors.TransportError, 7),
    (errors.Unauthorized, 8),
    (errors.Forbidden, 8),
    (errors.HubError, 1),
]

err = Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    sys.stdout.write(msgspec.json.encode(data).decode() + "\n")


def exit_code(exc: BaseException) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Print a HubError as `error:` + `hint:` lines and exit with its documented code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except errors.HubError as exc:
            message, _, hint = exc.diagnostics().partition("\nhint: ")
            err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
            if hint:
                err.print(f"[yellow]hint:[/] {hint}", soft_wrap=True)
            sys.exit(exit_code(exc))

    return wrapper


class Ctx:
    def __init__(self, url: str | None, token: str | None) -> None:
        self._url, self._token = url, token

    @functools.cached_property
    def config(self) -> cfg.Config:
        return cfg.Config.load(url=self._url, token=self._token)

    @contextmanager
    def client(self) -> Iterator[HubClient]:
        with HubClient(self.config) as c:
            yield c


pass_ctx = click.make_pass_decorator(Ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pysetl-hub")
@click.option("--url", envvar="PYSETL_HUB_URL", help="Hub URL (config `url`).")
@click.option("--token", envvar="PYSETL_HUB_TOKEN", help="API token (better: `login`).")
@click.pass_context
def main(ctx: click.Context, url: str | None, token: str | None) -> None:
    """Find, verify, install and publish PySetl components."""
    ctx.obj = Ctx(url, token)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
trust_root_option = click.option(
    "--trust-root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sigstore trusted_root.json (config `trust_root`, $PYSETL_HUB_SIGSTORE_TRUST_ROOT; "
    "default: Sigstore production, pinned).",
)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


@dataclass(frozen=True)
class Signatures:
    """The signature options of a downloading command (see pysetl_hub.signatures)."""

    verify: str | None = None
    require_signatures: bool = False
    accept_new_publisher: bool = False
    trust_root: Path | None = None

    def checker(self, config: cfg.Config, client: HubClient) -> Checker:
        policy = SignaturePolicy(
            mode=cast(VerifyMode | None, self.verify or config.verify),
            require_signatures=self.require_signatures,
            accept_new_publisher=self.accept_new_publisher,
            trust_root=self.trust_root or config.trust_root,
        )
        return Checker(client, TrustStore(config.trust_file), policy, warn=_warn)


def signature_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Adds --verify, --require-signatures, --accept-new-publisher and --trust-root; the
    command gets them as one `signatures: Signatures`."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        verify: str | None = None,
        require_signatures: bool = False,
        accept_new_publisher: bool = False,
        trust_root: Path | None = None,
        **kwargs: Any,
    ) -> R:
        chosen = Signatures(verify, require_signatures, accept_new_publisher, trust_root)
        return fn(*args, signatures=chosen, **kwargs)

    command: Callable[..., R] = wrapper
    for option in reversed(
        [
            click.option(
                "--verify",
                type=click.Choice(VERIFY_MODES),
                help="Signature policy (config `verify`; default: signed files must verify, "
                "unsigned ones warn).",
            ),
            click.option("--require-signatures", is_flag=True, help="Refuse unsigned files."),
            click.option(
                "--accept-new-publisher",
                is_flag=True,
                help="Trust a component's new signer (or its turning unsigned) instead of "
                "refusing.",
            ),
            trust_root_option,
        ]
    ):
        command = option(command)
    return command


def _print_checks(checker: Checker) -> None:
    for c in checker.results:
        signer = f"signed by {c.publisher}" if c.publisher else c.status
        color = "green" if c.publisher else "yellow"
        err.print(f"  {c.filename}: [{color}]{signer}[/]", soft_wrap=True)


@dataclass(frozen=True)
class Target:
    """The environment options of a resolving command; probed only when needed."""

    python: str | None = None
    python_version: str | None = None
    pysetl_version: str | None = None
    spark_version: str | None = None

    def environment(self) -> Environment:
        return Environment.probe(self.python).override(
            python_version=self.python_version,
            pysetl=self.pysetl_version,
            pyspark=self.spark_version,
        )


def env_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Adds --python, --python-version, --pysetl-version, --spark-version; the command gets
    them as one `target: Target`."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        python: str | None = None,
        python_version: str | None = None,
        pysetl_version: str | None = None,
        spark_version: str | None = None,
        **kwargs: Any,
    ) -> R:
        target = Target(python, python_version, pysetl_version, spark_version)
        return fn(*args, target=target, **kwargs)

    command: Callable[..., R] = wrapper
    for option in reversed(
        [
            click.option("--python", "python", help="Target interpreter (default: this one)."),
            click.option("--python-version", help="Resolve for this Python version."),
            click.option("--pysetl-version", help="Resolve for this PySetl version."),
            click.option("--spark-version", help="Resolve for this Spark (pyspark) version."),
        ]
    ):
        command = option(command)
    return command


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]no[/]"


def _matrix(title: str, checks: list[PlatformCheck]) -> str:
    return f"{title}: " + (
        "  ".join(f"{c.version} {'[green]✓[/]' if c.compatible else '[red]✗[/]'}" for c in checks)
        or "-"
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


# -- discovery ---------------------------------------------------------------------------------


@main.command()
@click.argument("query", default="")
@click.option("--kind", type=click.Choice(["factory", "pipeline"]))
@click.option("--compatible", is_flag=True, help="Only components that fit the environment.")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, default=20, show_default=True)
@env_options
@json_option
@pass_ctx
@handled
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
        err.print(f"no component matches {query!r}")
        return
    if results.corrected_query:
        err.print(f"showing results for [bold]{results.corrected_query}[/]")
    table = Table(title=f"{results.total} match(es) for {query!r}", title_justify="left")
    for col in ("name", "version", "kind", "summary"):
        table.add_column(col)
    for h in results.hits:
        table.add_row(
            f"[bold]{h.name}[/]" if h.exact else h.name,
            h.version or "",
            ", ".join(h.kinds),
            h.summary or "",
        )
    err.print(table)


def _split(spec: str) -> tuple[str, str | None]:
    name, _, version = spec.partition("==")
    return name.strip(), version.strip() or None


@main.command()
@click.argument("spec", metavar="NAME[==VERSION]")
@json_option
@pass_ctx
@handled
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
        err.print(f"{name} has no releases")
        return
    c = release.compatibility
    err.print(
        f"[bold]{release.name}[/] {release.version}"
        + (" [red](yanked)[/]" if release.yanked else "")
    )
    if release.summary:
        err.print(release.summary)
    err.print(f"kinds: {', '.join(release.kinds)}")
    for ep in release.entry_points:
        err.print(f"  {ep.kind} [bold]{ep.name}[/] = {ep.value}")
    if owners:
        err.print(f"owners: {', '.join(owners)}")
    if release.license:
        err.print(f"license: {release.license}")
    for label, url in release.project_urls.items():
        err.print(f"{label}: {url}")
    err.print(
        f"requires: Python {c.requires_python or 'any'}, pysetl {c.pysetl or 'any'}, "
        f"pyspark {c.pyspark or 'any'}"
    )
    err.print(_matrix("Python", c.python_matrix))
    err.print(_matrix("PySetl", c.pysetl_matrix))
    err.print(_matrix("Spark ", c.spark_matrix))
    table = Table("file", "size", "sha256", "signed by")
    for f in release.files:
        signer = f"[green]{f.signer}[/]" if f.signer else "[yellow]unsigned[/]"
        table.add_row(f.filename, f"{f.size:,}", f.hashes.get("sha256", "")[:16] + "…", signer)
    err.print(table)


@main.command()
@click.argument("name")
@env_options
@json_option
@pass_ctx
@handled
def versions(
    ctx: Ctx,
    name: str,
    target: Target,
    as_json: bool,
) -> None:
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
    table = Table(title=f"{component.display_name} for {env.describe()}", title_justify="left")
    for col in ("version", "python", "pysetl", "pyspark", "fits"):
        table.add_column(col)
    for row in rows:
        fits = _mark(bool(row["fits"])) + (f" ({row['why_not']})" if row["why_not"] else "")
        table.add_row(
            str(row["version"]),
            str(row["requires_python"] or "any"),
            str(row["pysetl"] or "any"),
            str(row["pyspark"] or "any"),
            fits,
        )
    err.print(table)


# -- install -----------------------------------------------------------------------------------


def _print_plan(plan: Plan, env: Environment) -> None:
    err.print(f"plan for {env.describe()}:")
    for p in plan.picks:
        by = f" (for {p.required_by})" if p.required_by else ""
        err.print(f"  [bold]{p.name}[/] {p.version}{by}  {p.file.filename}")
    for r in plan.external:
        err.print(f"  {r} [dim](left to the installer's own index)[/]")


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
            }
            for p in plan.picks
        ],
        "external": plan.external,
    }


@main.command("install")
@click.argument("requirements", nargs=-1, required=True)
@env_options
@click.option(
    "--installer", type=click.Choice(["pip", "uv"]), help="Installer (config `installer`)."
)
@click.option("--no-deps", is_flag=True, help="Install only what was named.")
@click.option("--dry-run", is_flag=True, help="Print the plan and stop.")
@signature_options
@json_option
@pass_ctx
@handled
def install_cmd(
    ctx: Ctx,
    requirements: tuple[str, ...],
    target: Target,
    installer: str | None,
    no_deps: bool,
    dry_run: bool,
    signatures: Signatures,
    as_json: bool,
) -> None:
    """Resolve for the environment, download, check digests and signatures, and install
    with pip or uv."""
    env = target.environment()
    with ctx.client() as client:
        plan = client.resolve(list(requirements), env, with_deps=not no_deps)
        if as_json:
            emit_json(_plan_json(plan, env))
        else:
            _print_plan(plan, env)
        if dry_run:
            return
        total = sum(p.file.size for p in plan.picks)
        checker = signatures.checker(ctx.config, client)
        with _progress() as bar:
            task = bar.add_task("downloading", total=total)
            install(
                client,
                plan,
                python=env.python,
                installer=installer or ctx.config.installer,
                no_deps=no_deps,
                progress=lambda n: bar.advance(task, n),
                checker=checker,
            )
    _print_checks(checker)
    names = ", ".join(f"{p.name} {p.version}" for p in plan.picks)
    err.print(f"[green]installed[/] {names} into {env.python}", soft_wrap=True)


@main.command("uninstall")
@click.argument("names", nargs=-1, required=True)
@click.option("--python", help="Target interpreter (default: this one).")
@click.option("--installer", type=click.Choice(["pip", "uv"]))
@pass_ctx
@handled
def uninstall_cmd(
    ctx: Ctx, names: tuple[str, ...], python: str | None, installer: str | None
) -> None:
    """Remove installed components."""
    uninstall(list(names), python=python, installer=installer or ctx.config.installer)
    err.print(f"[green]uninstalled[/] {', '.join(names)}")


@main.command("list")
@click.option("--python", help="Target interpreter (default: this one).")
@json_option
@pass_ctx
@handled
def list_cmd(ctx: Ctx, python: str | None, as_json: bool) -> None:
    """Installed components (from their entry points), and the hub each came from."""
    found = installed(ctx.config.cache_dir, python)
    if as_json:
        emit_json([asdict(i) for i in found])
        return
    if not found:
        err.print("no PySetl components installed")
        return
    table = Table("distribution", "version", "kind", "entry points", "hub")
    for i in found:
        table.add_row(
            i.distribution, i.version, ", ".join(i.kinds), ", ".join(i.entry_points), i.hub or "-"
        )
    err.print(table)


@main.command()
@click.argument("requirements", nargs=-1, required=True)
@click.option("-d", "--dest", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--no-deps", is_flag=True)
@env_options
@signature_options
@json_option
@pass_ctx
@handled
def download(
    ctx: Ctx,
    requirements: tuple[str, ...],
    dest: Path,
    no_deps: bool,
    target: Target,
    signatures: Signatures,
    as_json: bool,
) -> None:
    """Resolve and download files, their digests and signatures checked, without installing."""
    import shutil

    env = target.environment()
    with ctx.client() as client:
        plan = client.resolve(list(requirements), env, with_deps=not no_deps)
        cache = FileCache(client.config.cache_dir)
        checker = signatures.checker(ctx.config, client)
        cached = [cache.fetch(client, p.name, p.version, p.file) for p in plan.picks]
        for p in plan.picks:  # fetch() checked each file against this digest
            checker.check(p, p.file.hashes["sha256"])
        checker.trust.save()
        paths = []
        for p, path in zip(plan.picks, cached, strict=True):
            dest.mkdir(parents=True, exist_ok=True)
            saved = dest / p.file.filename
            shutil.copyfile(path, saved)
            paths.append(str(saved))
    _print_checks(checker)
    if as_json:
        emit_json({**_plan_json(plan, env), "files": paths})
    else:
        for saved_path in paths:
            err.print(f"[green]saved[/] {saved_path}")


# -- publishing --------------------------------------------------------------------------------


@main.command()
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
@handled
def publish(
    ctx: Ctx,
    files: tuple[Path, ...],
    skip_existing: bool,
    with_attestations: bool,
    attest_: bool,
    as_json: bool,
) -> None:
    """Upload wheels and sdists (the legacy upload API, as twine)."""
    dists = [f for f in files if f.name.endswith((".whl", ".tar.gz"))]
    if not dists:
        raise errors.HubError("no .whl or .tar.gz among the files given")
    if attest_:
        for written in attest(dists):
            err.print(f"[green]signed[/] {written.name}")
        with_attestations = True
    results = []
    with ctx.client() as client, _progress() as bar:
        for path in dists:
            task = bar.add_task(path.name, total=path.stat().st_size)
            try:
                result = client.publish(
                    path,
                    attestations=attestations_for(path) if with_attestations else None,
                    progress=functools.partial(_advance, bar, task),
                )
            except errors.Conflict:
                if not skip_existing:
                    raise
                err.print(f"[yellow]skipped[/] {path.name} (already published)")
                continue
            results.append(result)
            verb = "published" if result.created else "already there"
            err.print(f"[green]{verb}[/] {result.filename}", soft_wrap=True)
    if as_json:
        emit_json(results)


def attestations_for(path: Path) -> str:
    """The JSON list twine sends: every `<file>.<kind>.attestation` beside the file."""
    try:
        return twine_attestations(path)
    except AttestationFileError as exc:
        raise errors.HubError(f"--attestations: {exc}") from exc


def _advance(bar: Progress, task: TaskID, n: int) -> None:
    bar.advance(task, n)


def _yank(ctx: Ctx, name: str, version: str, reason: str | None, undo: bool) -> None:
    with ctx.client() as client:
        r = client.unyank(name, version) if undo else client.yank(name, version, reason or "")
    err.print(f"{r.name} {r.version}: {'yanked' if r.yanked else 'not yanked'}")


@main.command()
@click.argument("name")
@click.argument("version")
@click.option("--reason", default="", help="Shown to installers (PEP 592).")
@pass_ctx
@handled
def yank(ctx: Ctx, name: str, version: str, reason: str) -> None:
    """Yank a release: installers skip it unless pinned exactly."""
    _yank(ctx, name, version, reason, undo=False)


@main.command()
@click.argument("name")
@click.argument("version")
@pass_ctx
@handled
def unyank(ctx: Ctx, name: str, version: str) -> None:
    """Undo a yank."""
    _yank(ctx, name, version, None, undo=True)


# -- configuration -----------------------------------------------------------------------------


@main.command()
@click.option("--token", "token_opt", help="The token (else read from stdin or a prompt).")
@pass_ctx
@handled
def login(ctx: Ctx, token_opt: str | None) -> None:
    """Store an API token for the hub (config file, mode 0600)."""
    token = token_opt
    if token is None:
        token = (
            click.prompt("API token", hide_input=True, err=True)
            if sys.stdin.isatty()
            else sys.stdin.readline().strip()
        )
    if not token:
        raise errors.ConfigError("no token given")
    config = ctx.config
    cfg.save_token(config.path, config.url, token)
    err.print(f"token saved for {cfg.origin(config.url)} in {config.path}")


@main.command()
@pass_ctx
@handled
def logout(ctx: Ctx) -> None:
    """Forget the stored token for the hub."""
    config = ctx.config
    found = cfg.forget_token(config.path, config.url)
    err.print(f"{'token removed' if found else 'no token stored'} for {cfg.origin(config.url)}")


@main.command("config")
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
@pass_ctx
@handled
def config_cmd(ctx: Ctx, key: str | None, value: str | None, as_json: bool) -> None:
    """Show the settings, or set one: `config url https://hub.example.org`."""
    if key and value is not None:
        cfg.set_value(ctx.config.path, key, value)
        err.print(f"{key} = {value}")
        return
    c = ctx.config
    shown = {
        "url": c.url,
        "token": (c.token[:14] + "…") if c.token else None,
        "installer": c.installer,
        "timeout": c.timeout,
        "retries": c.retries,
        "cache_dir": str(c.cache_dir),
        "config_file": str(c.path),
    }
    if key:
        if key not in shown:
            raise errors.ConfigError(f"unknown setting {key!r}: one of {', '.join(shown)}")
        shown = {key: shown[key]}
    if as_json:
        emit_json(shown)
        return
    for k, v in shown.items():
        err.print(f"{k} = {v}")


@main.command()
@click.argument("kind", type=click.Choice(["factory", "pipeline"]))
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(path_type=Path), default=Path("."))
@handled
def new(kind: str, name: str, parent: Path) -> None:
    """Scaffold a component project: pyproject, code, a test, README and a CI workflow."""
    root = scaffold(kind, name, parent)
    err.print(f"[green]created[/] {root}")
    err.print(f"next: cd {root} && python -m build && pysetl-hub publish dist/*")


if __name__ == "__main__":
    main()


# -- provenance --------------------------------------------------------------------------------


@main.group()
def publishers() -> None:
    """Who may sign a component's releases (its trusted publishers)."""


def _print_publishers(listing: PublisherList) -> None:
    table = Table(title=f"trusted publishers of {listing.component}")
    for column in ("id", "publisher", "environment", "added", "by"):
        table.add_column(column)
    for t in listing.publishers:
        table.add_row(
            str(t.id),
            str(t.publisher),
            t.publisher.environment or "-",
            t.added.strftime("%Y-%m-%d"),
            t.added_by or "-",
        )
    err.print(table)
    state = "refused" if listing.require_attestations else "accepted"
    err.print(f"unsigned uploads: {state}")


@publishers.command("list")
@click.argument("name")
@json_option
@pass_ctx
@handled
def publishers_list(ctx: Ctx, name: str, as_json: bool) -> None:
    """List a component's trusted publishers."""
    with ctx.client() as client:
        listing = client.publishers(name)
    emit_json(listing) if as_json else _print_publishers(listing)


def _publisher(spec: str, issuer: str | None, environment: str | None) -> Publisher:
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
@handled
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
@handled
def publishers_remove(ctx: Ctx, name: str, publisher_id: int) -> None:
    """Stop trusting publisher PUBLISHER_ID (from `publishers list`)."""
    with ctx.client() as client:
        _print_publishers(client.remove_publisher(name, publisher_id))


@publishers.command("require")
@click.argument("name")
@click.option("--off", is_flag=True, help="Accept unsigned uploads again.")
@pass_ctx
@handled
def publishers_require(ctx: Ctx, name: str, off: bool) -> None:
    """Refuse unsigned uploads of NAME from now on (require_attestations)."""
    with ctx.client() as client:
        _print_publishers(client.require_attestations(name, not off))


def _attestations_in(path: Path) -> list[Declared]:
    """The attestations in a file: one PEP 740 attestation, or a provenance object."""
    try:
        return read_attestations(path)
    except AttestationFileError as exc:
        raise errors.HubError(str(exc)) from exc


@main.command("verify")
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
@handled
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
    expected = _publisher(spec, issuer, None)
    sha = sha256_of(file)
    root = trust_root_path(trust_root or ctx.config.trust_root)
    results = []
    for source in attestation_files:
        for _declared, raw in _attestations_in(source):
            try:
                verified = verify_attestation(
                    load_attestation(raw, file.name),
                    filename=file.name,
                    sha256=sha,
                    publishers=[expected],
                    trust_root=root,
                )
            except AttestationRejected as exc:
                raise errors.SignatureInvalid(file.name, exc.check, exc.detail) from exc
            except TrustRootError as exc:
                raise errors.ConfigError(str(exc)) from exc
            results.append(verified)
    if not results:
        raise errors.SignatureInvalid(file.name, "format", "no attestation in the files given")
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
        err.print(
            f"[green]OK[/] {v.filename}: signed by {v.publisher} ({v.predicate_type})",
            soft_wrap=True,
        )
