"""The feed key: made once in the data directory (owner-only) and kept across restarts, or
taken from PYSETL_HUB_FEED_SIGNING_KEY(_FILE); a key that is not Ed25519 stops the start."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pysetl_hub_server.feed.signing import KEY_FILE, load_signer, verify_page
from pysetl_hub_server.settings import Settings, SettingsError


def test_a_generated_key_is_kept_and_private(tmp_path: Path) -> None:
    first = load_signer(Settings(data_dir=tmp_path))
    again = load_signer(Settings(data_dir=tmp_path))  # a restart, or another worker
    assert first.key_id == again.key_id
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert load_signer(Settings(data_dir=tmp_path / "other")).key_id != first.key_id
    published = first.published()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(published.public_key))
    public.verify(base64.b64decode(again.sign(b"page")), b"page")
    assert verify_page(published, b"page", again.sign(b"page"))
    assert not verify_page(published, b"page!", again.sign(b"page"))
    assert not verify_page(published, b"page", "not base64 at all")
    pem = serialization.load_pem_public_key(published.public_key_pem.encode())
    assert isinstance(pem, Ed25519PublicKey)


def test_the_configured_key_from_a_file(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret = tmp_path / "feed_signing_key"
    secret.write_bytes(pem)
    settings = Settings.from_env(
        {
            "PYSETL_HUB_DATA_DIR": str(tmp_path / "d"),
            "PYSETL_HUB_FEED_SIGNING_KEY_FILE": str(secret),
        }
    )
    assert "BEGIN" not in repr(settings)  # a secret: not in the settings' repr
    signer = load_signer(settings)
    key.public_key().verify(base64.b64decode(signer.sign(b"x")), b"x")
    assert not (tmp_path / "d" / KEY_FILE).exists()  # nothing generated beside it


@pytest.mark.parametrize("kind", ["garbage", "ec"])
def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path, kind: str) -> None:
    text = "not a key"
    if kind == "ec":
        text = (
            generate_private_key(SECP256R1())
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
    with pytest.raises(SettingsError, match="PYSETL_HUB_FEED_SIGNING_KEY"):
        load_signer(Settings.from_env({"PYSETL_HUB_FEED_SIGNING_KEY": text}))
