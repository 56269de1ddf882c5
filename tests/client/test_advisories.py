"""The client decides which versions an advisory affects exactly as the hub does (the resolver's
preference must agree with the hub's OSV answers), comparing PEP 440 versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pysetl_hub.advisories import affects, fixed_in
from pysetl_hub_schemas.osv import (
    AdvisoryAffected,
    AdvisoryEvent,
    AdvisoryRange,
    Osv,
    OsvAffected,
    OsvEvent,
    OsvPackage,
    OsvRange,
)
from pysetl_hub_server.advisories import ranges

RANGES = [
    [("introduced", "0"), ("fixed", "1.10.0")],
    [("introduced", "1.9"), ("fixed", "1.10")],
    [("introduced", "1.0"), ("last_affected", "1.2.0"), ("introduced", "2.0rc1")],
    [("fixed", "2.0"), ("introduced", "1.5"), ("introduced", "0.1"), ("fixed", "1.0")],
]
VERSIONS = ["0", "0.1", "0.9", "1.0", "1.0.0.post1", "1.2", "1.2.0.post1", "1.5", "1.9",
            "1.9.9", "1.10.0", "1.10.0rc1", "2.0a1", "2.0rc1", "2.0", "3.0"]  # fmt: skip


def _osv(events: list[tuple[str, str]], listed: list[str]) -> Osv:
    return Osv(
        schema_version="1.6.0",
        id="PSHUB-2026-0001",
        modified=datetime.now(UTC),
        affected=[
            OsvAffected(
                package=OsvPackage(ecosystem="PyPI", name="row-dedupe"),
                ranges=[OsvRange(type="ECOSYSTEM", events=[OsvEvent(**{k: v}) for k, v in events])],
                versions=listed,
            )
        ],
    )


@pytest.mark.parametrize("events", RANGES)
def test_client_and_hub_agree(events: list[tuple[str, str]]) -> None:
    entry = AdvisoryAffected(
        ranges=[AdvisoryRange(events=[AdvisoryEvent(**{k: v}) for k, v in events])],
        versions=["0.5"],
    )
    stored = [ranges.check_affected(entry)]
    osv = _osv(events, ["0.5"])
    from packaging.version import Version

    for version in [*VERSIONS, "0.5", "0.5.0"]:
        hub = ranges.affects(stored, Version(version))
        assert affects(osv, "Row_Dedupe", version) is hub, version
    assert fixed_in(osv, "row-dedupe") == ranges.fixed_in(stored)


def test_string_order_is_not_version_order() -> None:
    osv = _osv([("introduced", "1.9"), ("fixed", "1.10")], [])
    assert affects(osv, "row-dedupe", "1.9.5") and not affects(osv, "row-dedupe", "1.10.0")
    assert not affects(osv, "other", "1.9.5")  # another package's advisory
    withdrawn = _osv([("introduced", "0")], [])
    withdrawn.withdrawn = datetime.now(UTC)
    assert not affects(withdrawn, "row-dedupe", "1.0")
