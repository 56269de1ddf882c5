"""Publisher specs as users type them, and their PEP 740 spelling."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pysetl_hub_provenance import (
    PublisherSpecError,
    check_publisher,
    from_pep740,
    parse_publisher,
    same_identity,
    to_pep740,
)
from pysetl_hub_provenance.identity import AnyOf, IdentityMismatch, describe_certificate
from pysetl_hub_schemas import Publisher
from tests.support import sigstore_instance as sig
from tests.support.sigstore_instance import Signing, SigstoreInstance


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "github:acme/dedupe/release.yml",
            Publisher(kind="github", repository="acme/dedupe", workflow="release.yml"),
        ),
        (
            "gitlab:grp/sub/proj//ci/release.yml",
            Publisher(kind="gitlab", repository="grp/sub/proj", workflow="ci/release.yml"),
        ),
        (
            "gitlab:grp/proj/publish.yaml",
            Publisher(kind="gitlab", repository="grp/proj", workflow="publish.yaml"),
        ),
        (
            "gitlab:grp/proj",
            Publisher(kind="gitlab", repository="grp/proj", workflow=".gitlab-ci.yml"),
        ),
    ],
)
def test_specs_parse(spec: str, expected: Publisher) -> None:
    assert parse_publisher(spec) == expected
    assert from_pep740(to_pep740(expected)) == expected


def test_sigstore_identity_needs_its_issuer() -> None:
    with pytest.raises(PublisherSpecError, match="--issuer"):
        parse_publisher("sigstore:alice@example.com")
    p = parse_publisher("sigstore:alice@example.com", issuer="https://accounts.example.test")
    assert (p.identity, p.issuer) == ("alice@example.com", "https://accounts.example.test")
    assert to_pep740(p)["kind"] == "Sigstore"


@pytest.mark.parametrize(
    "spec",
    ["acme/dedupe", "github:acme/release.yml", "github:a/b/c/d", "bitbucket:a/b/c", "gitlab:proj"],
)
def test_bad_specs_say_which_form_is_expected(spec: str) -> None:
    with pytest.raises(PublisherSpecError) as info:
        parse_publisher(spec)
    assert (":" in str(info.value) and "must be" in str(info.value)) or "kind" in str(info.value)


def test_fields_are_checked_per_kind() -> None:
    with pytest.raises(PublisherSpecError):
        check_publisher(Publisher(kind="github", repository="acme/x"))
    with pytest.raises(PublisherSpecError):
        check_publisher(Publisher(kind="sigstore", identity="a@b.c"))
    with pytest.raises(PublisherSpecError):
        check_publisher(Publisher(kind="github", repository="acme", workflow="r.yml"))


def test_environment_is_not_part_of_the_signing_identity() -> None:
    a = parse_publisher("github:acme/x/r.yml", environment="pypi")
    assert same_identity(a, parse_publisher("github:acme/x/r.yml"))
    assert not same_identity(a, parse_publisher("github:acme/x/other.yml"))


# -- each rule of the spec grammar ----------------------------------------------------------


def test_kind_case_spacing_and_slashes_are_forgiven() -> None:
    expected = Publisher(kind="github", repository="acme/x", workflow="r.yml", environment="pypi")
    assert parse_publisher(" GitHub :/acme/x/r.yml/", environment="pypi") == expected
    gitlab = parse_publisher("GITLAB:/grp/proj//ci.yml", environment="prod")
    assert gitlab == Publisher(
        kind="gitlab", repository="grp/proj", workflow="ci.yml", environment="prod"
    )


GITHUB_FORM = "must be github:OWNER/REPO/WORKFLOW (the workflow file name, e.g. release.yml)"
GITLAB_FORM = "must be gitlab:NAMESPACE/PROJECT//CI_FILE (CI_FILE defaults to .gitlab-ci.yml)"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("github:", "has no kind"),
        (":acme/x/r.yml", "unknown publisher kind ''"),
        ("github:acme//r.yml", GITHUB_FORM),
        ("github:/acme/x/", GITHUB_FORM),
        ("gitlab:proj//ci.yml", GITLAB_FORM),
        ("gitlab:grp/proj//", GITLAB_FORM),
        ("gitlab:/proj/", GITLAB_FORM),
        (
            "sigstore:alice@example.test",
            "needs the OIDC issuer that vouches for it (--issuer https://...)",
        ),
    ],
)
def test_each_malformed_spec_names_its_form(spec: str, says: str) -> None:
    with pytest.raises(PublisherSpecError, match=re.escape(says)) as info:
        parse_publisher(spec)
    if "must be" in says or "--issuer" in says:
        assert str(info.value).endswith(says)


def test_only_slashes_are_trimmed_and_the_first_double_slash_splits() -> None:
    assert parse_publisher("github:Xerox/appX/X.yml").repository == "Xerox/appX"
    gitlab = parse_publisher("gitlab:Xgrp/projX//ci//X.yml")
    assert (gitlab.repository, gitlab.workflow) == ("Xgrp/projX", "ci//X.yml")


def test_errors_list_every_spec_form() -> None:
    for spec in ("acme", "svn:x"):
        with pytest.raises(PublisherSpecError) as info:
            parse_publisher(spec)
        assert str(info.value).endswith(
            "use github:OWNER/REPO/WORKFLOW.yml, gitlab:NAMESPACE/PROJECT//CI_FILE (or "
            "gitlab:NAMESPACE/PROJECT/CI_FILE.yml), or sigstore:EMAIL_OR_URI with an issuer"
        )


def test_a_gitlab_path_without_a_yaml_file_is_all_project() -> None:
    assert parse_publisher("gitlab:grp/sub/proj") == Publisher(
        kind="gitlab", repository="grp/sub/proj", workflow=".gitlab-ci.yml"
    )
    assert parse_publisher("gitlab:grp/proj/ci.yaml").workflow == "ci.yaml"
    assert parse_publisher("gitlab:grp/proj/ci.yml").workflow == "ci.yml"


def test_a_sigstore_spec_keeps_the_whole_identity() -> None:
    p = parse_publisher("sigstore:https://ci.example.test/job:1", issuer="https://x.test")
    assert p == Publisher(
        kind="sigstore", identity="https://ci.example.test/job:1", issuer="https://x.test"
    )


@pytest.mark.parametrize(
    "publisher",
    [
        Publisher(kind="github", repository="acme/x", workflow="r.yml"),
        Publisher(kind="github", repository="acme/x", workflow="r.yml", environment="pypi"),
        Publisher(kind="gitlab", repository="grp/sub/proj", workflow="ci.yml"),
        Publisher(kind="sigstore", identity="a@b.test", issuer="https://x.test"),
    ],
)
def test_complete_publishers_pass_the_check(publisher: Publisher) -> None:
    assert check_publisher(publisher) is publisher


@pytest.mark.parametrize(
    "publisher",
    [
        Publisher(kind="github", workflow="r.yml"),
        Publisher(kind="gitlab", repository="grp/proj"),
        Publisher(kind="github", repository="acme/x", workflow="r.yml", issuer="https://x"),
        Publisher(kind="gitlab", repository="grp/proj", workflow="ci.yml", identity="a@b.c"),
        Publisher(kind="github", repository="acme/x/y", workflow="r.yml"),
        Publisher(kind="sigstore", issuer="https://x.test"),
        Publisher(kind="sigstore", identity="a@b.c", issuer="https://x", repository="acme/x"),
        Publisher(kind="sigstore", identity="a@b.c", issuer="https://x", workflow="r.yml"),
    ],
)
def test_incomplete_or_mixed_publishers_fail_the_check(publisher: Publisher) -> None:
    with pytest.raises(PublisherSpecError) as info:
        check_publisher(publisher)
    says = {
        "github": "a github publisher has a repository and a workflow (and maybe an environment), "
        "not an issuer or identity",
        "gitlab": "a gitlab publisher has a repository and a workflow (and maybe an environment), "
        "not an issuer or identity",
        "sigstore": "a sigstore publisher has an issuer and an identity (e-mail or URI), "
        "nothing else",
    }[publisher.kind]
    if publisher.repository == "acme/x/y":
        says = "GitHub repository 'acme/x/y' must be OWNER/REPO"
    assert str(info.value) == says


# -- the PEP 740 spelling -------------------------------------------------------------------


def test_pep740_publishers_are_spelled_as_pypi_spells_them() -> None:
    github = Publisher(kind="github", repository="acme/x", workflow="r.yml", environment="pypi")
    gitlab = Publisher(kind="gitlab", repository="g/p", workflow="ci.yml", environment="e")
    email = Publisher(kind="sigstore", identity="a@b.test", issuer="https://x.test")
    spelled = [
        {"kind": "GitHub", "repository": "acme/x", "workflow": "r.yml", "environment": "pypi"},
        {"kind": "GitLab", "repository": "g/p", "workflow_filepath": "ci.yml", "environment": "e"},
        {"kind": "Sigstore", "issuer": "https://x.test", "identity": "a@b.test"},
    ]  # fmt: skip
    for publisher, pep740 in zip((github, gitlab, email), spelled, strict=True):
        assert to_pep740(publisher) == pep740
        assert from_pep740(pep740) == publisher


@pytest.mark.parametrize("kind", [None, "", "github", "Bitbucket"])
def test_an_unknown_pep740_kind_is_refused(kind: str | None) -> None:
    raw = {"repository": "acme/x", "workflow": "r.yml"} | (
        {"kind": kind} if kind is not None else {}
    )
    with pytest.raises(PublisherSpecError, match=f"unknown kind {kind or ''!r}"):
        from_pep740(raw)


@pytest.mark.parametrize("field", ["kind", "repository", "workflow", "issuer", "identity"])
def test_every_signing_field_is_part_of_the_identity(field: str) -> None:
    base = Publisher(kind="github", repository="a/b", workflow="w", issuer="i", identity="s")
    other = {"kind": "gitlab", "repository": "a/c", "workflow": "v", "issuer": "j", "identity": "t"}
    assert same_identity(base, msgspec.structs.replace(base, environment="e"))
    assert not same_identity(base, msgspec.structs.replace(base, **{field: other[field]}))


# -- certificates: who they name, and matching them -----------------------------------------


def _certificate(
    names: list[x509.GeneralName], extensions: Sequence[x509.ExtensionType] = ()
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(minutes=5))
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=True)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256())


def test_a_certificate_is_described_by_its_identities_and_issuer() -> None:
    issuer = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), b"https://issuer.test"
    )
    both = _certificate(
        [x509.UniformResourceIdentifier("https://ci.test/job"), x509.RFC822Name("a@b.test")],
        [issuer],
    )
    assert (
        describe_certificate(both) == "https://ci.test/job, a@b.test (issuer https://issuer.test)"
    )
    assert describe_certificate(_certificate([])) == "no identity (issuer unknown issuer)"


def _signed_by(sigstore: SigstoreInstance, identity: sig.Identity) -> x509.Certificate:
    attestation = sigstore.attest_bytes("x-1.0.tar.gz", b"x", Signing(identity))
    der = base64.b64decode(attestation["verification_material"]["certificate"])
    return x509.load_der_x509_certificate(der)


def test_any_of_remembers_which_publisher_matched(sigstore: SigstoreInstance) -> None:
    cert = _signed_by(sigstore, sig.github("acme/x", "r.yml"))
    right = parse_publisher("github:acme/x/r.yml")
    match = AnyOf([parse_publisher("github:acme/x/other.yml"), right])
    assert match.matched is None
    match.verify(cert)
    assert match.matched == right


def test_any_of_names_the_signer_and_everyone_it_is_not(sigstore: SigstoreInstance) -> None:
    cert = _signed_by(sigstore, sig.github("acme/x", "r.yml"))
    signer = (
        "signed by https://github.com/acme/x/.github/workflows/r.yml@refs/tags/v1.0.0 "
        f"(issuer {sig.GITHUB_ISSUER}), which is not "
    )
    two = AnyOf([parse_publisher("github:a/b/c.yml"), parse_publisher("github:d/e/f.yml")])
    with pytest.raises(IdentityMismatch) as info:
        two.verify(cert)
    assert str(info.value) == signer + "github:a/b/c.yml or github:d/e/f.yml"
    assert two.matched is None
    with pytest.raises(IdentityMismatch) as info:
        AnyOf([]).verify(cert)
    assert str(info.value) == signer + "no trusted publisher"
