"""Publisher identities: parsed from `kind:...` specs, matched against signing certificates.

GitHub and GitLab identities use pypi-attestations' Trusted Publisher policies (issuer, source
repository, and the workflow file in the Build Config URI at the certificate's own ref or
digest). A plain Sigstore identity is sigstore's `Identity` policy: issuer plus SAN.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from pypi_attestations import GitHubPublisher, GitLabPublisher
from sigstore.errors import VerificationError
from sigstore.verify import policy

from pysetl_hub_provenance.errors import PublisherSpecError
from pysetl_hub_schemas import Publisher

SPEC_FORMS = (
    "github:OWNER/REPO/WORKFLOW.yml, gitlab:NAMESPACE/PROJECT//CI_FILE (or "
    "gitlab:NAMESPACE/PROJECT/CI_FILE.yml), or sigstore:EMAIL_OR_URI with an issuer"
)


def parse_publisher(
    spec: str, *, issuer: str | None = None, environment: str | None = None
) -> Publisher:
    """`github:acme/dedupe/release.yml` and friends, as typed on a command line."""
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or not rest:
        raise PublisherSpecError(f"publisher {spec!r} has no kind: use {SPEC_FORMS}")
    if kind == "github":
        parts = rest.strip("/").split("/")
        if len(parts) != 3 or not all(parts):
            raise PublisherSpecError(
                f"GitHub publisher {spec!r} must be github:OWNER/REPO/WORKFLOW "
                "(the workflow file name, e.g. release.yml)"
            )
        return Publisher(
            kind="github",
            repository=f"{parts[0]}/{parts[1]}",
            workflow=parts[2],
            environment=environment,
        )
    if kind == "gitlab":
        if "//" in rest:
            project, _, ci_file = rest.partition("//")
        else:
            project, _, ci_file = rest.rpartition("/")
            if not ci_file.endswith((".yml", ".yaml")):
                project, ci_file = rest, ".gitlab-ci.yml"
        project = project.strip("/")
        if project.count("/") < 1 or not ci_file:
            raise PublisherSpecError(
                f"GitLab publisher {spec!r} must be gitlab:NAMESPACE/PROJECT//CI_FILE "
                "(CI_FILE defaults to .gitlab-ci.yml)"
            )
        return Publisher(
            kind="gitlab", repository=project, workflow=ci_file, environment=environment
        )
    if kind == "sigstore":
        if not issuer:
            raise PublisherSpecError(
                f"Sigstore publisher {spec!r} needs the OIDC issuer that vouches for it "
                "(--issuer https://...)"
            )
        return Publisher(kind="sigstore", identity=rest, issuer=issuer)
    raise PublisherSpecError(f"unknown publisher kind {kind!r}: use {SPEC_FORMS}")


def check_publisher(p: Publisher) -> Publisher:
    """The fields each kind needs, present; raises `PublisherSpecError` otherwise."""
    if p.kind in ("github", "gitlab"):
        if not p.repository or not p.workflow or p.issuer or p.identity:
            raise PublisherSpecError(
                f"a {p.kind} publisher has a repository and a workflow (and maybe an "
                "environment), not an issuer or identity"
            )
        if p.kind == "github" and p.repository.count("/") != 1:
            raise PublisherSpecError(f"GitHub repository {p.repository!r} must be OWNER/REPO")
    elif not p.issuer or not p.identity or p.repository or p.workflow:
        raise PublisherSpecError(
            "a sigstore publisher has an issuer and an identity (e-mail or URI), nothing else"
        )
    return p


def policy_for(p: Publisher) -> policy.VerificationPolicy:
    if p.kind == "github":
        return GitHubPublisher(
            repository=p.repository or "", workflow=p.workflow or ""
        )._as_policy()
    if p.kind == "gitlab":
        return GitLabPublisher(
            repository=p.repository or "", workflow_filepath=p.workflow or ""
        )._as_policy()
    return policy.Identity(identity=p.identity or "", issuer=p.issuer)


def to_pep740(p: Publisher) -> dict[str, Any]:
    """The publisher as PEP 740 writes it (GitHub and GitLab as PyPI does)."""
    if p.kind == "github":
        return {
            "kind": "GitHub",
            "repository": p.repository,
            "workflow": p.workflow,
            "environment": p.environment,
        }
    if p.kind == "gitlab":
        return {
            "kind": "GitLab",
            "repository": p.repository,
            "workflow_filepath": p.workflow,
            "environment": p.environment,
        }
    return {"kind": "Sigstore", "issuer": p.issuer, "identity": p.identity}


def from_pep740(d: dict[str, Any]) -> Publisher:
    kind = str(d.get("kind", ""))
    if kind == "GitHub":
        return Publisher(
            kind="github",
            repository=d.get("repository"),
            workflow=d.get("workflow"),
            environment=d.get("environment"),
        )
    if kind == "GitLab":
        return Publisher(
            kind="gitlab",
            repository=d.get("repository"),
            workflow=d.get("workflow_filepath"),
            environment=d.get("environment"),
        )
    if kind == "Sigstore":
        return Publisher(kind="sigstore", issuer=d.get("issuer"), identity=d.get("identity"))
    raise PublisherSpecError(f"provenance names a publisher of unknown kind {kind!r}")


def same_identity(a: Publisher, b: Publisher) -> bool:
    """Equal for signing purposes: the environment is not in the certificate, so not compared."""
    return (a.kind, a.repository, a.workflow, a.issuer, a.identity) == (
        b.kind,
        b.repository,
        b.workflow,
        b.issuer,
        b.identity,
    )


def describe_certificate(cert: x509.Certificate) -> str:
    """Who a certificate says signed: its SAN and OIDC issuer, for error messages."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(v) for v in san.get_values_for_type(x509.UniformResourceIdentifier)]
        names += san.get_values_for_type(x509.RFC822Name)
    except x509.ExtensionNotFound:
        names = []
    issuer = "unknown issuer"
    try:
        raw = cert.extensions.get_extension_for_oid(
            x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
        ).value
        issuer = raw.value.decode() if isinstance(raw, x509.UnrecognizedExtension) else issuer
    except x509.ExtensionNotFound:
        pass
    return f"{', '.join(names) or 'no identity'} (issuer {issuer})"


class AnyOf:
    """A sigstore policy that accepts any of `publishers` and remembers which one matched."""

    def __init__(self, publishers: list[Publisher]) -> None:
        self.publishers = publishers
        self.matched: Publisher | None = None

    def verify(self, cert: x509.Certificate) -> None:
        for p in self.publishers:
            try:
                policy_for(p).verify(cert)
            except (VerificationError, x509.ExtensionNotFound, ValueError):
                continue
            self.matched = p
            return
        expected = " or ".join(str(p) for p in self.publishers) or "no trusted publisher"
        raise IdentityMismatch(f"signed by {describe_certificate(cert)}, which is not {expected}")


class IdentityMismatch(VerificationError):
    """The certificate verified, but names nobody this component trusts."""
