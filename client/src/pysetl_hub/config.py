"""Client settings: arguments, then the environment, then the config file.

The file is `~/.config/pysetl-hub/config.toml` (or `$XDG_CONFIG_HOME/...`, or
`$PYSETL_HUB_CONFIG`). Tokens live in a `[tokens]` table keyed by the hub's origin, so a token
saved for one hub is never sent to another. Whenever the file holds a token it is written 0600.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysetl_hub.errors import ConfigError
from pysetl_hub.i18n import _

DEFAULT_URL = "http://127.0.0.1:8000"
KEYS = ("url", "installer", "timeout", "retries", "verify", "trust_root", "require_safe")
VERIFY_MODES = ("require", "warn", "off")


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("PYSETL_HUB_CONFIG"):
        return Path(env["PYSETL_HUB_CONFIG"])
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "pysetl-hub" / "config.toml"


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("PYSETL_HUB_CACHE_DIR"):
        return Path(env["PYSETL_HUB_CACHE_DIR"])
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pysetl-hub"


def origin(url: str) -> str:
    """scheme://host[:port], the unit a token is bound to."""
    import httpx  # here, not at module level: `pysetl-hub --help` must not pay for it

    u = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(u.scheme)
    port = f":{u.port}" if u.port and u.port != default else ""
    return f"{u.scheme}://{u.host}{port}"


def read_file(path: Path) -> dict[str, Any]:
    import tomllib  # the TOML modules load when a command reads settings, not at start-up

    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(_("cannot read {path}: {error}").format(path=path, error=exc)) from exc


def write_file(path: Path, data: dict[str, Any]) -> None:
    """Write atomically; 0600 whenever a token is in it (and the directory 0700)."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = bool(data.get("tokens"))
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(tomli_w.dumps(data).encode())
    os.chmod(tmp, 0o600 if secret else 0o644)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Config:
    """Everything the client needs to talk to one hub."""

    url: str = DEFAULT_URL
    token: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    retries: int = 3
    installer: str = "pip"
    cache_dir: Path = field(default_factory=cache_dir)
    path: Path = field(default_factory=config_path)
    # Signature policy at install (None: signed files must verify, unsigned ones warn).
    verify: str | None = None
    # Sigstore trusted_root.json; None: $PYSETL_HUB_SIGSTORE_TRUST_ROOT, else production.
    trust_root: Path | None = None
    # Refuse to install a release a hub advisory affects (`install --require-safe`).
    require_safe: bool = False

    @property
    def trust_file(self) -> Path:
        """Publisher pins (trust on first use), beside the config file."""
        return self.path.parent / "trust.json"

    @classmethod
    def load(
        cls,
        *,
        url: str | None = None,
        token: str | None = None,
        path: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Config:
        env = os.environ if env is None else env
        path = path or config_path(env)
        stored = read_file(path)
        hub_url = (url or env.get("PYSETL_HUB_URL") or stored.get("url") or DEFAULT_URL).rstrip("/")
        scheme = hub_url.partition("://")[0].lower() if "://" in hub_url else ""
        if scheme not in ("http", "https"):
            raise ConfigError(
                _("hub URL {url} must start with http:// or https://").format(url=repr(hub_url))
            )
        tokens = stored.get("tokens") or {}
        try:
            timeout = float(env.get("PYSETL_HUB_TIMEOUT") or stored.get("timeout") or 30.0)
            retries = int(stored.get("retries", 3))
        except ValueError as exc:
            raise ConfigError(
                _("bad timeout or retries in {path}: {error}").format(path=path, error=exc)
            ) from exc
        installer = str(stored.get("installer") or "pip")
        if installer not in ("pip", "uv"):
            raise ConfigError(
                _("installer must be 'pip' or 'uv', not {installer} ({path})").format(
                    installer=repr(installer), path=path
                )
            )
        verify = stored.get("verify") or None
        if verify is not None and verify not in VERIFY_MODES:
            raise ConfigError(
                _("verify must be one of {modes}, not {verify} ({path})").format(
                    modes=", ".join(VERIFY_MODES), verify=repr(verify), path=path
                )
            )
        trust_root = env.get("PYSETL_HUB_SIGSTORE_TRUST_ROOT") or stored.get("trust_root")
        require_safe = _flag(
            env.get("PYSETL_HUB_REQUIRE_SAFE", stored.get("require_safe", False)),
            "require_safe",
            path,
        )
        return cls(
            url=hub_url,
            token=token or env.get("PYSETL_HUB_TOKEN") or tokens.get(origin(hub_url)),
            timeout=timeout,
            retries=retries,
            installer=installer,
            cache_dir=cache_dir(env),
            path=path,
            verify=verify,
            trust_root=Path(trust_root) if trust_root else None,
            require_safe=require_safe,
        )


def _flag(value: object, key: str, path: Path) -> bool:
    """A yes/no setting: a TOML boolean, or the words `pysetl-hub config set` stores."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off", ""):
        return False
    raise ConfigError(
        _("{key} must be true or false, not {value} ({path})").format(
            key=key, value=repr(value), path=path
        )
    )


def save_token(path: Path, url: str, token: str) -> None:
    data = read_file(path)
    data.setdefault("tokens", {})[origin(url)] = token
    write_file(path, data)


def forget_token(path: Path, url: str) -> bool:
    data = read_file(path)
    tokens = data.get("tokens") or {}
    found = tokens.pop(origin(url), None) is not None
    if not tokens:
        data.pop("tokens", None)
    write_file(path, data)
    return found


def set_value(path: Path, key: str, value: str) -> None:
    if key not in KEYS:
        raise ConfigError(
            _("unknown setting {key}: the settings are {keys}").format(
                key=repr(key), keys=", ".join(KEYS)
            )
        )
    data = read_file(path)
    data[key] = value
    write_file(path, data)
