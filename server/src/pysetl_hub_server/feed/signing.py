"""The hub's Ed25519 feed key: loaded from the setting, or made once in the data directory.

Feed pages are signed as sent (the exact body bytes), so a mirror verifies the bytes it read
with the published public key before it parses them, and can keep page and signature as proof
of what the hub said. Every replica must sign with one key: a key made in one replica's data
directory is that replica's alone, so deployments with replicas set
`PYSETL_HUB_FEED_SIGNING_KEY(_FILE)`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pysetl_hub_schemas.feed import FeedKey
from pysetl_hub_server.settings import Settings, SettingsError

KEY_FILE = "feed-signing-key.pem"
SETTING = "PYSETL_HUB_FEED_SIGNING_KEY"


@dataclass(frozen=True, slots=True)
class FeedSigner:
    private: Ed25519PrivateKey
    key_id: str

    def sign(self, body: bytes) -> str:
        """The base64 Ed25519 signature of `body` (the `X-Hub-Signature` header)."""
        return base64.b64encode(self.private.sign(body)).decode()

    def published(self) -> FeedKey:
        public = self.private.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return FeedKey(
            key_id=self.key_id,
            algorithm="ed25519",
            public_key=base64.b64encode(raw).decode(),
            public_key_pem=pem.decode(),
        )


def verify_page(key: FeedKey, body: bytes, signature: str) -> bool:
    """Does `signature` (the `X-Hub-Signature` header) sign `body` with the published `key`?
    What a follower (a mirror) checks before it trusts a page's bytes."""
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
    try:
        public.verify(base64.b64decode(signature, validate=True), body)
    except (InvalidSignature, ValueError):
        return False
    return True


def signer_for(private: Ed25519PrivateKey) -> FeedSigner:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return FeedSigner(private, hashlib.sha256(raw).hexdigest()[:32])


def parse_key(text: str) -> Ed25519PrivateKey:
    """A PEM private key, or the base64 of the raw 32-byte key; anything else is refused."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except ValueError as exc:
        raise SettingsError(
            f"{SETTING}: not an Ed25519 private key ({exc}); give a PEM key (openssl genpkey "
            "-algorithm ed25519) or the base64 of the raw 32 bytes"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(
            f"{SETTING}: the key is not an Ed25519 key; make one with "
            "`openssl genpkey -algorithm ed25519`"
        )
    return key


def load_signer(settings: Settings) -> FeedSigner:
    """The configured key, else the data directory's (made on first start)."""
    if settings.feed.signing_key:
        return signer_for(parse_key(settings.feed.signing_key))
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    return signer_for(parse_key(path.read_text(encoding="utf-8")))


def _create(path: Path) -> None:
    """Write a new key where none is, readable by the owner only. Two processes starting at
    once (`serve --workers N`) both write a temporary file and link it into place: the first
    link wins and the other's key is dropped, so every worker reads the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
