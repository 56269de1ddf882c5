"""A private, offline Sigstore deployment for tests: the parts a verifier checks, made here.

Nothing here stands in for verification: the attestations it makes are checked by sigstore's
real `Verifier`, built from the `trusted_root.json` this module writes. What it replaces are the
public services a signer talks to (Fulcio, the CT log, Rekor), which cannot be reached from
these machines:

- a throwaway CA that issues Fulcio-profile leaf certificates (empty subject, critical SAN,
  code-signing EKU, the OIDC issuer and workflow claim extensions);
- a CT log key that signs an embedded precertificate SCT (RFC 6962: the SCT is signed over the
  TBS certificate without the SCT extension, then the certificate is issued with it);
- a transparency log key that signs checkpoints over a real RFC 6962 Merkle tree, with an
  inclusion proof and an inclusion promise (SET) for the integrated time.

Each knob of `Signing` breaks exactly one of those facts, so negative tests fail at the check
they mean to exercise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
DSSE_TYPE = "application/vnd.in-toto+json"

_FULCIO = "1.3.6.1.4.1.57264.1."
_SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    return hashlib.sha256(_spki(key)).digest()


def _der_utf8(value: str) -> bytes:
    raw = value.encode()
    return b"\x0c" + _der_len(len(raw)) + raw


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _u24(n: int) -> bytes:
    return struct.pack("!I", n)[1:]


# --- identities ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """The OIDC claims Fulcio would copy into a leaf certificate."""

    issuer: str
    san: str
    san_is_email: bool = False
    claims: dict[str, str] = field(default_factory=dict)


def github(repository: str, workflow: str, *, ref: str = "refs/tags/v1.0.0") -> Identity:
    sha = hashlib.sha1(f"{repository}{ref}".encode()).hexdigest()
    uri = f"https://github.com/{repository}/.github/workflows/{workflow}@{ref}"
    return Identity(
        issuer=GITHUB_ISSUER,
        san=uri,
        claims={
            "9": uri,  # build signer URI
            "12": f"https://github.com/{repository}",  # source repository URI
            "13": sha,  # source repository digest
            "14": ref,  # source repository ref
            "18": uri,  # build config URI
        },
    )


def gitlab(project: str, ci_file: str = ".gitlab-ci.yml", *, ref: str = "refs/tags/v1") -> Identity:
    sha = hashlib.sha1(f"{project}{ref}".encode()).hexdigest()
    uri = f"https://gitlab.com/{project}//{ci_file}@{ref}"
    return Identity(
        issuer=GITLAB_ISSUER,
        san=uri,
        claims={"9": uri, "12": f"https://gitlab.com/{project}", "13": sha, "14": ref, "18": uri},
    )


def email(address: str, issuer: str = "https://accounts.example.test") -> Identity:
    return Identity(issuer=issuer, san=address, san_is_email=True)


# --- the deployment ------------------------------------------------------------------------


@dataclass
class Authority:
    """A certificate authority: a self-signed root that issues leaves directly."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pysetl-hub tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)


@dataclass(frozen=True)
class Signing:
    """How one attestation is made; every default is the honest path."""

    identity: Identity
    subject_name: str | None = None  # default: the file's own name
    subject_digest: str | None = None  # default: the file's sha256
    predicate_type: str = PUBLISH_V1
    extra_subjects: int = 0
    untrusted_ca: bool = False
    logged_after_expiry: bool = False
    bad_sct: bool = False
    bad_checkpoint: bool = False
    bad_set: bool = False


class SigstoreInstance:
    """One private deployment: a CA, a CT log and a transparency log, with their root file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca = Authority.create("pysetl-hub test fulcio")
        self.rogue_ca = Authority.create("not in the trusted root")
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.stranger_key = ec.generate_private_key(ec.SECP256R1())
        self.origin = "rekor.hub.test - 4242"
        self._leaves: list[bytes] = [hashlib.sha256(b"genesis").digest()]
        self.trusted_root = directory / "trusted_root.json"
        directory.mkdir(parents=True, exist_ok=True)
        self.trusted_root.write_text(json.dumps(self.trusted_root_document(), indent=2))

    # -- trusted_root.json

    def trusted_root_document(self) -> dict[str, Any]:
        start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def log(url: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_spki(key.public_key())),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start},
                },
                "logId": {"keyId": _b64(_key_id(key.public_key()))},
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log("https://rekor.hub.test", self.rekor_key)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "pysetl-hub tests", "commonName": "fulcio"},
                    "uri": "https://fulcio.hub.test",
                    "certChain": {
                        "certificates": [
                            {
                                "rawBytes": _b64(
                                    self.ca.cert.public_bytes(serialization.Encoding.DER)
                                )
                            }
                        ]
                    },
                    "validFor": {"start": start},
                }
            ],
            "ctlogs": [log("https://ctfe.hub.test", self.ct_key)],
            "timestampAuthorities": [],
        }

    # -- signing

    def attest(self, path: Path, signing: Signing) -> dict[str, Any]:
        """A PEP 740 attestation object for the file at `path`."""
        return self.attest_bytes(path.name, path.read_bytes(), signing)

    def attest_bytes(self, filename: str, data: bytes, signing: Signing) -> dict[str, Any]:
        subjects = [
            {
                "name": signing.subject_name or filename,
                "digest": {"sha256": signing.subject_digest or hashlib.sha256(data).hexdigest()},
            }
        ]
        subjects += [
            {"name": f"other-{i}.tar.gz", "digest": {"sha256": "0" * 64}}
            for i in range(signing.extra_subjects)
        ]
        statement = json.dumps(
            {
                "_type": STATEMENT_V1,
                "subject": subjects,
                "predicateType": signing.predicate_type,
                "predicate": None,
            },
            separators=(",", ":"),
        ).encode()
        pae = f"DSSEv1 {len(DSSE_TYPE)} {DSSE_TYPE} {len(statement)} ".encode() + statement

        now = int(time.time())
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        ca = self.rogue_ca if signing.untrusted_ca else self.ca
        not_before = datetime.fromtimestamp(now - 60, UTC)
        not_after = not_before + timedelta(minutes=10)
        cert = self._issue(ca, leaf_key.public_key(), signing, not_before, not_after, now)
        signature = leaf_key.sign(pae, ec.ECDSA(hashes.SHA256()))

        integrated = int(not_after.timestamp()) + 120 if signing.logged_after_expiry else now
        entry = self._log(statement, signature, cert, integrated, signing)
        return {
            "version": 1,
            "verification_material": {
                "certificate": _b64(cert.public_bytes(serialization.Encoding.DER)),
                "transparency_entries": [entry],
            },
            "envelope": {"statement": _b64(statement), "signature": _b64(signature)},
        }

    def _issue(
        self,
        ca: Authority,
        public_key: ec.EllipticCurvePublicKey,
        signing: Signing,
        not_before: datetime,
        not_after: datetime,
        now: int,
    ) -> x509.Certificate:
        ident = signing.identity
        san: x509.GeneralName = (
            x509.RFC822Name(ident.san)
            if ident.san_is_email
            else x509.UniformResourceIdentifier(ident.san)
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(ca.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
            )
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(
                x509.UnrecognizedExtension(
                    x509.ObjectIdentifier(_FULCIO + "1"), ident.issuer.encode()
                ),
                False,
            )
            .add_extension(
                x509.UnrecognizedExtension(
                    x509.ObjectIdentifier(_FULCIO + "8"), _der_utf8(ident.issuer)
                ),
                False,
            )
        )
        for arc, value in ident.claims.items():
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier(_FULCIO + arc), _der_utf8(value)),
                False,
            )
        # The precertificate: the same TBS without the SCT list, which the CT log signs.
        precert = builder.sign(ca.key, hashes.SHA256())
        sct = self._sct(precert.tbs_certificate_bytes, ca, now, signing.bad_sct)
        sct_list = struct.pack("!H", len(sct)) + sct
        sct_list = struct.pack("!H", len(sct_list)) + sct_list
        octets = b"\x04" + _der_len(len(sct_list)) + sct_list
        cert = builder.add_extension(x509.UnrecognizedExtension(_SCT_LIST_OID, octets), False).sign(
            ca.key, hashes.SHA256()
        )
        assert cert.tbs_precertificate_bytes == precert.tbs_certificate_bytes
        return cert

    def _sct(self, tbs: bytes, ca: Authority, now: int, bad: bool) -> bytes:
        timestamp_ms = now * 1000  # whole seconds: the verifier re-derives ms from a datetime
        issuer_key_hash = _key_id(ca.key.public_key())
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp_ms, 1)
            + issuer_key_hash
            + _u24(len(tbs))
            + tbs
            + struct.pack("!H", 0)
        )
        key = self.stranger_key if bad else self.ct_key
        signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + _key_id(self.ct_key.public_key())
            + struct.pack("!Q", timestamp_ms)
            + struct.pack("!H", 0)
            + struct.pack("!BBH", 4, 3, len(signature))
            + signature
        )

    def _log(
        self,
        statement: bytes,
        signature: bytes,
        cert: x509.Certificate,
        integrated: int,
        signing: Signing,
    ) -> dict[str, Any]:
        envelope = json.dumps(
            {
                "payload": _b64(statement),
                "payloadType": DSSE_TYPE,
                "signatures": [{"sig": _b64(signature)}],
            }
        ).encode()
        body = json.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(envelope).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(statement).hexdigest(),
                    },
                    "signatures": [
                        {
                            "signature": _b64(signature),
                            "verifier": _b64(cert.public_bytes(serialization.Encoding.PEM)),
                        }
                    ],
                },
            },
            separators=(",", ":"),
        ).encode()
        index = len(self._leaves)
        self._leaves.append(_leaf_hash(body))
        # A few later entries, so the proof has both inner and border hashes.
        for i in range(3):
            self._leaves.append(_leaf_hash(f"later {index} {i}".encode()))
        size = len(self._leaves)
        root = _root(self._leaves)
        proof = _path(index, self._leaves)

        rekor_id = _key_id(self.rekor_key.public_key())
        note = f"{self.origin}\n{size}\n{_b64(root)}\n"
        checkpoint_key = self.stranger_key if signing.bad_checkpoint else self.rekor_key
        note_sig = checkpoint_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 rekor.hub.test {_b64(rekor_id[:4] + note_sig)}\n"

        set_payload = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": rekor_id.hex(),
                "logIndex": index,
            }
        )
        set_key = self.stranger_key if signing.bad_set else self.rekor_key
        promise = set_key.sign(set_payload, ec.ECDSA(hashes.SHA256()))
        return {
            "logIndex": str(index),
            "logId": {"keyId": _b64(rekor_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": str(integrated),
            "inclusionPromise": {"signedEntryTimestamp": _b64(promise)},
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": _b64(root),
                "treeSize": str(size),
                "hashes": [_b64(h) for h in proof],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": _b64(body),
        }

    def write(self, path: Path, signing: Signing, *, suffix: str = "publish") -> Path:
        """Sign `path` and write `<file>.<suffix>.attestation` beside it, as twine expects."""
        out = path.with_name(f"{path.name}.{suffix}.attestation")
        out.write_text(json.dumps(self.attest(path, signing)))
        return out


def but(signing: Signing, **changes: Any) -> Signing:
    return replace(signing, **changes)


def broken(honest: Signing) -> list[tuple[str, Signing, str]]:
    """(case, signing, the check that must fail): one broken fact each, from `honest`.

    Tampering with the file itself is not here: it needs the bytes, not the signer."""
    ident = honest.identity
    repository = ident.claims["12"].removeprefix("https://github.com/")
    workflow = ident.claims["18"].split("/.github/workflows/")[1].split("@")[0]
    wrong_issuer = Identity(issuer="https://token.evil.test", san=ident.san, claims=ident.claims)
    return [
        ("attestation for another file", but(honest, subject_name="other-9.9.9.tar.gz"),
         "subject-name"),
        ("wrong repository", Signing(github("mallory/" + repository.split("/")[1], workflow)),
         "publisher"),
        ("wrong workflow", Signing(github(repository, "debug.yml")), "publisher"),
        ("wrong issuer", Signing(wrong_issuer), "publisher"),
        ("certificate from an untrusted CA", but(honest, untrusted_ca=True), "certificate-chain"),
        ("logged after the certificate expired", but(honest, logged_after_expiry=True),
         "signed-time"),
        ("bad SCT", but(honest, bad_sct=True), "sct"),
        ("bad checkpoint", but(honest, bad_checkpoint=True), "checkpoint"),
    ]  # fmt: skip


# --- RFC 6962 Merkle tree ------------------------------------------------------------------


def _leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(_root(leaves[:k]), _root(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """The audit path of leaf m, lowest level first (RFC 6962 section 2.1.1)."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _root(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _root(leaves[:k])]
