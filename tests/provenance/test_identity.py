"""Publisher specs as users type them, and their PEP 740 spelling."""

from __future__ import annotations

import pytest

from pysetl_hub_provenance import (
    PublisherSpecError,
    check_publisher,
    from_pep740,
    parse_publisher,
    same_identity,
    to_pep740,
)
from pysetl_hub_schemas import Publisher


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
