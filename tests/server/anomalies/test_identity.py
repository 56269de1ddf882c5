"""A file's publisher identity reads the same whether the publisher signed it (attestation) or
uploaded it with a minted token, so one publisher is never taken for two."""

from __future__ import annotations

from pysetl_hub_server.anomalies.publish import _signer_identity


def test_a_signer_reads_as_the_minted_tokens_actor() -> None:
    signer = {"kind": "github", "repository": "acme/pc", "workflow": "release.yml"}
    assert _signer_identity(signer) == "publisher:github:acme/pc/release.yml"
    # the environment is not part of the identity (nor of the actor's text)
    assert _signer_identity({**signer, "environment": "pypi"}) == _signer_identity(signer)
    assert _signer_identity({**signer, "repository": "mallory/pc"}) != _signer_identity(signer)


def test_an_unreadable_signer_still_has_an_identity() -> None:
    assert _signer_identity({"kind": "carrier-pigeon"}) == 'signer {"kind": "carrier-pigeon"}'
