"""Signatures checked at install: every file's PEP 740 provenance, before pip sees it.

The policy (`verify` in config, `--verify` on the command line):

- unset (the default): a signed file must verify; an unsigned file installs with a warning;
- "require": every file must be signed and verify (as `--require-signatures` for unsigned);
- "warn": failures become warnings (for debugging a broken signer, not for daily use);
- "off": no check at all.

Whatever the policy, the publisher seen at the first install of a component is pinned
(`trust.py`), and a later change of signer, or a signed component turning unsigned, is refused
unless `--accept-new-publisher`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pysetl_hub import errors
from pysetl_hub.client import HubClient
from pysetl_hub.i18n import _
from pysetl_hub.resolve import Pick
from pysetl_hub.trust import TrustStore
from pysetl_hub_provenance import (
    AttestationRejected,
    PublisherSpecError,
    TrustRootError,
    from_pep740,
    same_identity,
    verify_attestation,
)
from pysetl_hub_schemas import Publisher

VerifyMode = Literal["require", "warn", "off"]
MODES: tuple[str, ...] = ("require", "warn", "off")


@dataclass(frozen=True)
class Policy:
    mode: VerifyMode | None = None
    require_signatures: bool = False
    accept_new_publisher: bool = False
    trust_root: Path | None = None


@dataclass(frozen=True)
class Checked:
    """The outcome for one file: who signed it (None when unsigned or not checked)."""

    name: str
    version: str
    filename: str
    status: Literal["verified", "unsigned", "not checked", "failed"]
    publisher: Publisher | None = None
    note: str = ""


class Checker:
    """Checks the files of one install against the hub's publishers and the local pins."""

    def __init__(
        self,
        client: HubClient,
        trust: TrustStore,
        policy: Policy,
        warn: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.client, self.trust, self.policy, self.warn = client, trust, policy, warn
        self._publishers: dict[str, list[Publisher]] = {}
        self.results: list[Checked] = []

    def hub_publishers(self, name: str) -> list[Publisher]:
        if name not in self._publishers:
            listing = self.client.publishers(name)
            self._publishers[name] = [t.publisher for t in listing.publishers]
        return self._publishers[name]

    def check(self, pick: Pick, sha256: str) -> Checked:
        """Check one downloaded file (its bytes hash to `sha256`); raise if the policy says so."""
        result = self._policy_check(pick, sha256)
        self.results.append(result)
        return result

    def _policy_check(self, pick: Pick, sha256: str) -> Checked:
        if self.policy.mode == "off":
            return Checked(pick.name, pick.version, pick.file.filename, "not checked")
        try:
            return self._check(pick, sha256)
        except errors.ProvenanceError as exc:
            if self.policy.mode != "warn":
                raise
            self.warn(_("{error} (--verify warn: installing anyway)").format(error=exc))
            return Checked(pick.name, pick.version, pick.file.filename, "failed", note=str(exc))

    def _check(self, pick: Pick, sha256: str) -> Checked:
        hub, filename = self.client.config.url, pick.file.filename
        pin = self.trust.get(hub, pick.name)
        provenance = self.client.provenance(pick.file)
        if provenance is None or not provenance.attestation_bundles:
            return self._unsigned(pick, (pin is not None and pin.publisher) or None)

        candidates = list(self.hub_publishers(pick.name))
        if pin is not None and not any(same_identity(pin.publisher, c) for c in candidates):
            candidates.append(pin.publisher)  # signed by the pinned publisher still counts
        matched: Publisher | None = None
        for bundle in provenance.attestation_bundles:
            try:
                declared = from_pep740(bundle.publisher)
            except PublisherSpecError as exc:
                raise errors.SignatureInvalid(filename, "format", str(exc)) from exc
            for attestation in bundle.attestations:
                try:
                    verified = verify_attestation(
                        attestation,
                        filename=filename,
                        sha256=sha256,
                        publishers=candidates,
                        trust_root=self.policy.trust_root,
                    )
                except AttestationRejected as exc:
                    raise errors.SignatureInvalid(filename, exc.check, exc.detail) from exc
                except TrustRootError as exc:
                    raise errors.ConfigError(str(exc)) from exc
                if not same_identity(verified.publisher, declared):
                    raise errors.SignatureInvalid(
                        filename,
                        "publisher",
                        _("the provenance says {declared}, the certificate says {signer}").format(
                            declared=declared, signer=verified.publisher
                        ),
                    )
                matched = verified.publisher
        if matched is None:
            raise errors.SignatureInvalid(
                filename, "format", "the provenance object holds no attestation"
            )
        if pin is not None and not same_identity(pin.publisher, matched):
            if not self.policy.accept_new_publisher:
                raise errors.PublisherChanged(
                    pick.name, str(pin.publisher), str(matched), str(self.trust.path)
                )
            self.warn(
                _("{name}: now trusting {publisher} (was {pinned})").format(
                    name=pick.name, publisher=matched, pinned=pin.publisher
                )
            )
            pin = None
        if pin is None:
            self.trust.pin(hub, pick.name, matched, pick.version)
        return Checked(pick.name, pick.version, filename, "verified", matched)

    def _unsigned(self, pick: Pick, pinned: Publisher | None) -> Checked:
        filename = pick.file.filename
        if pinned is not None:
            if not self.policy.accept_new_publisher:
                raise errors.SignaturesRemoved(pick.name, filename, str(pinned))
            self.warn(
                _("{name}: accepting unsigned releases (was signed by {pinned})").format(
                    name=pick.name, pinned=pinned
                )
            )
            self.trust.forget(self.client.config.url, pick.name)
        if self.policy.require_signatures or self.policy.mode == "require":
            raise errors.Unsigned([filename])
        self.warn(_("{file} is unsigned: who built it cannot be verified").format(file=filename))
        return Checked(pick.name, pick.version, filename, "unsigned")
