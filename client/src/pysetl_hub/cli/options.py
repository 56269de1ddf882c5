"""Options several commands share, and the context object that carries the hub settings.

Nothing heavy is imported here: the client, the resolver and the signature checker are
imported by the method that needs them, so `pysetl-hub --help` starts in tens of milliseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from pysetl_hub.cli.output import warn
from pysetl_hub.config import VERIFY_MODES

if TYPE_CHECKING:
    from pysetl_hub.client import HubClient
    from pysetl_hub.config import Config
    from pysetl_hub.environment import Environment
    from pysetl_hub.signatures import Checker

R = TypeVar("R")
INSTALLERS = ("pip", "uv")
# schemas.KINDS, written out so `--help` does not import the schemas (msgspec and every Struct);
# tests/client/test_cli_tree.py holds the two equal.
KINDS = ("factory", "pipeline")


class Ctx:
    """The hub settings of one run (--url, --token, then environment and file), read once."""

    def __init__(self, url: str | None, token: str | None) -> None:
        self._url, self._token = url, token

    @functools.cached_property
    def config(self) -> Config:
        from pysetl_hub.config import Config

        return Config.load(url=self._url, token=self._token)

    @contextmanager
    def client(self, config: Config | None = None) -> Iterator[HubClient]:
        from pysetl_hub.client import HubClient

        with HubClient(config or self.config) as c:
            yield c


pass_ctx = click.make_pass_decorator(Ctx)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
quiet_option = click.option(
    "-q", "--quiet", is_flag=True, help="Print only warnings and errors: no plan, no progress."
)
python_option = click.option("--python", help="Target interpreter (default: this one).")
installer_option = click.option(
    "--installer", type=click.Choice(INSTALLERS), help="Installer (config `installer`)."
)
trust_root_option = click.option(
    "--trust-root",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sigstore trusted_root.json (config `trust_root`, $PYSETL_HUB_SIGSTORE_TRUST_ROOT; "
    "default: Sigstore production, pinned).",
)


def _apply(fn: Callable[..., R], options: list[Callable[[Any], Any]]) -> Callable[..., R]:
    command: Callable[..., R] = fn
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class Signatures:
    """The signature options of a downloading command (see pysetl_hub.signatures)."""

    verify: str | None = None
    require_signatures: bool = False
    accept_new_publisher: bool = False
    trust_root: Path | None = None

    def checker(self, config: Config, client: HubClient) -> Checker:
        from pysetl_hub.signatures import Checker, Policy, VerifyMode
        from pysetl_hub.trust import TrustStore

        policy = Policy(
            mode=cast(VerifyMode | None, self.verify or config.verify),
            require_signatures=self.require_signatures,
            accept_new_publisher=self.accept_new_publisher,
            trust_root=self.trust_root or config.trust_root,
        )
        return Checker(client, TrustStore(config.trust_file), policy, warn=warn)


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

    return _apply(
        wrapper,
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
        ],
    )


@dataclass(frozen=True)
class Target:
    """The environment options of a resolving command; probed only when needed."""

    python: str | None = None
    python_version: str | None = None
    pysetl_version: str | None = None
    spark_version: str | None = None

    def environment(self) -> Environment:
        from pysetl_hub.environment import Environment

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

    return _apply(
        wrapper,
        [
            python_option,
            click.option("--python-version", help="Resolve for this Python version."),
            click.option("--pysetl-version", help="Resolve for this PySetl version."),
            click.option("--spark-version", help="Resolve for this Spark (pyspark) version."),
        ],
    )
