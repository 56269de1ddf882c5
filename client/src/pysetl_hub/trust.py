"""Trust on first use: the publisher each component was signed by when first installed.

`~/.config/pysetl-hub/trust.json`, keyed by hub origin then component name. A later release
signed by someone else, or not signed at all, is refused unless the user accepts the change.
The hub's list of trusted publishers is only believed the first time; after that the pin is
what counts, so a hub that is compromised later cannot swap in its own signer.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from packaging.utils import canonicalize_name

from pysetl_hub.config import origin
from pysetl_hub.errors import ConfigError
from pysetl_hub.i18n import _
from pysetl_hub_schemas import Publisher


class Pin(msgspec.Struct, kw_only=True):
    publisher: Publisher
    first_version: str
    pinned: str  # ISO time


class TrustFile(msgspec.Struct, kw_only=True):
    version: int = 1
    hubs: dict[str, dict[str, Pin]] = msgspec.field(default_factory=dict)


class TrustStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = self._read()

    def _read(self) -> TrustFile:
        if not self.path.exists():
            return TrustFile()
        try:
            return msgspec.json.decode(self.path.read_bytes(), type=TrustFile)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ConfigError(
                _(
                    "cannot read the publisher pins in {path}: {error}; fix or delete the file "
                    "(deleting it forgets every pin)"
                ).format(path=self.path, error=exc)
            ) from exc

    def get(self, hub: str, name: str) -> Pin | None:
        return self._data.hubs.get(origin(hub), {}).get(canonicalize_name(name))

    def pin(self, hub: str, name: str, publisher: Publisher, version: str) -> None:
        self._data.hubs.setdefault(origin(hub), {})[canonicalize_name(name)] = Pin(
            publisher=publisher,
            first_version=version,
            pinned=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def forget(self, hub: str, name: str) -> None:
        self._data.hubs.get(origin(hub), {}).pop(canonicalize_name(name), None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.format(msgspec.json.encode(self._data)))
        os.replace(tmp, self.path)
