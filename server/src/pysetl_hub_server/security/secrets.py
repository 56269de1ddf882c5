"""Secret settings from files: `PYSETL_HUB_X_FILE=/run/secrets/x` instead of `PYSETL_HUB_X=...`.

A secret in an environment variable is visible to every process that may read the server's
environment (`/proc/<pid>/environ`, `docker inspect`, crash reports); a file mounted by the
orchestrator (Docker and Kubernetes secrets) is not. Both forms at once are refused rather than
one silently winning: an operator who moved a secret to a file and forgot the old variable
would otherwise run with whichever value they did not mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# Every setting that holds a secret, or may (a database or Redis URL carries its password).
SECRET_SETTINGS = (
    "PYSETL_HUB_DATABASE_URL",
    "PYSETL_HUB_SEARCH_KEY",
    "PYSETL_HUB_REDIS_URL",
    "PYSETL_HUB_FEED_SIGNING_KEY",
)


class SecretFileError(ValueError):
    """A `*_FILE` setting that cannot be used; the message names the variable."""


def secret_from_env(env: Mapping[str, str], name: str) -> str | None:
    """The value of secret `name`: from the file `name_FILE` names (its trailing newline
    dropped), else from `name` itself; None when neither is set."""
    file_var = f"{name}_FILE"
    path, plain = env.get(file_var), env.get(name)
    if not path:
        return plain or None
    if plain:
        raise SecretFileError(
            f"{name} and {file_var} are both set: keep one (the file is safer; unset {name})"
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretFileError(f"{file_var}={path!r} cannot be read: {exc.strerror}") from exc
    value = text.rstrip("\r\n")
    if not value.strip():
        raise SecretFileError(f"{file_var}={path!r} is empty: write the secret into it")
    return value
