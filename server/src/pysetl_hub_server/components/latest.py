"""Which release of a component is "the latest": shared by the JSON API and search."""

from __future__ import annotations

from packaging.version import Version

from pysetl_hub_server.db import models


def newest_first(releases: list[models.Release]) -> list[models.Release]:
    return sorted(releases, key=lambda r: Version(r.version), reverse=True)


def latest_release(releases: list[models.Release]) -> models.Release | None:
    """Newest non-yanked final release, else newest non-yanked, else newest (as PyPI)."""
    ordered = newest_first(releases)
    for candidates in (
        [r for r in ordered if not r.yanked and not r.is_prerelease],
        [r for r in ordered if not r.yanked],
        ordered,
    ):
        if candidates:
            return candidates[0]
    return None


def fully_attested(release: models.Release | None) -> bool:
    """Every file of the release carries a verified attestation (what "verified" means)."""
    return release is not None and bool(release.files) and all(f.signer for f in release.files)
