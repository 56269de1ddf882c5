"""The serving process: granian alone, the app imported in its workers only.

`serve` reads the settings, checks them and applies the migrations, then replaces itself with
this module (exec), so the process that only watches the workers for the server's whole life
does not keep the CLI, Alembic and every module of the app (~65 MB of private memory per
replica, measured by PSS). Granian forks its workers from here and each imports the app.

    python -m pysetl_hub_server.launch '{"host": ..., "port": ..., "workers": ...}'
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

TARGET = "pysetl_hub_server.app:create_app"
# glibc gives each thread that allocates its own arena (8 per core) and hands little of them
# back; every SQLite connection runs in a thread of its own (aiosqlite), so a search burst
# would keep its transient sort memory for good. Two arenas keep that memory reusable.
MALLOC_ARENAS = "2"


def command(options: dict[str, Any]) -> list[str]:
    """The argv `serve` execs into: this interpreter, this module, the options as JSON."""
    return [sys.executable, "-m", __name__, json.dumps(options)]


def environment() -> None:
    """What the workers inherit and glibc reads at start: set before the exec."""
    os.environ.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENAS)


def replace_self(options: dict[str, Any]) -> NoReturn:
    """Exec into `command(options)`: same pid (a supervisor's signals still reach it), none of
    the caller's memory. The argv is this interpreter and module, never a user's string."""
    environment()
    sys.stdout.flush()
    sys.stderr.flush()
    argv = command(options)
    os.execv(argv[0], argv)  # noqa: S606 - a fixed argv, no shell to interpret it


def main(argv: list[str] | None = None) -> None:
    options: dict[str, Any] = json.loads((argv or sys.argv)[1])
    from granian import Granian
    from granian.constants import Interfaces

    from pysetl_hub_server.logs import configure_logging, granian_log_config

    log_format = str(options.get("log_format", "text"))
    if log_format == "json":
        configure_logging(options.get("log_level"), log_format)
    if int(options["workers"]) > 1:
        from pysetl_hub_server.observability import multiproc

        multiproc.prepare()  # before any worker starts: their metrics share its files
    cert, key = options.get("tls_cert"), options.get("tls_key")
    Granian(
        TARGET,
        address=str(options["host"]),
        port=int(options["port"]),
        interface=Interfaces.ASGI,
        workers=int(options["workers"]),
        factory=True,
        log_access=False,
        log_dictconfig=granian_log_config(log_format),
        ssl_cert=Path(cert) if cert else None,
        ssl_key=Path(key) if key else None,
    ).serve()


if __name__ == "__main__":
    main()
