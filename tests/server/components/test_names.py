"""A new name that only looks new is refused, unless its owner already holds the look-alike."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.accounts.services import create_user
from pysetl_hub_server.components.names import check_new_name, ultranormalize
from pysetl_hub_server.db.models import Component, Role
from pysetl_hub_server.errors import Conflict
from pysetl_hub_server.hub import Hub
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.upload import problem, upload


@pytest.mark.parametrize(
    "name", ["csv-dedupe", "CSV_Dedupe", "csv.dedupe", "csvdedupe", "c5v-dedupe"]
)
def test_ultranormalize_folds_separators_and_case(name: str) -> None:
    if name == "c5v-dedupe":
        assert ultranormalize(name) != ultranormalize("csv-dedupe")  # 5 is not a look-alike
    else:
        assert ultranormalize(name) == "csvdedupe"


def test_lookalike_letters_fold() -> None:
    assert ultranormalize("f00-bar") == ultranormalize("foo-bar") == ultranormalize("FOOBAR")
    assert ultranormalize("pysetl-loader") == ultranormalize("pysetl_l0ader")
    assert ultranormalize("pysetl-loader") == ultranormalize("pysetI-Ioader")


def test_the_folded_form_itself() -> None:
    assert ultranormalize("Foo_Bar") == ultranormalize("f00-bar") == "f00bar"
    assert ultranormalize("pysetl--i.o__L") == "pyset1101"
    assert ultranormalize("a-b") != ultranormalize("a-c")


async def test_a_lookalike_is_refused_unless_the_caller_owns_its_twin(offline_hub: Hub) -> None:
    async with offline_hub.sessions() as session:
        alice = await create_user(session, "alice", "a@b.io", "12345678")
        bob = await create_user(session, "bob", "b@b.io", "12345678")
        mallory = await create_user(session, "mallory", "m@b.io", "12345678")
        first = Component(name="csv-dedupe", display_name="CSV-Dedupe", ultra_name="csvdedupe")
        other = Component(name="other", display_name="Other", ultra_name="0ther")
        session.add_all([first, other])
        await session.flush()
        session.add_all(
            [
                Role(user_id=alice.id, component_id=first.id, role="owner"),
                Role(user_id=bob.id, component_id=first.id, role="maintainer"),
                Role(user_id=mallory.id, component_id=other.id, role="owner"),
            ]
        )
        await session.flush()
        await check_new_name(session, "csv_dedupe2", mallory.id)  # clearly different: free
        await check_new_name(session, "csvdedupe", alice.id)  # the owner may hold both
        for user in (bob, mallory):  # a maintainer is not an owner; nor is another's owner
            with pytest.raises(Conflict) as info:
                await check_new_name(session, "CSV.DeDupe", user.id)
            assert info.value.code == "name.too_similar"
            assert info.value.detail.startswith(
                "'CSV.DeDupe' is too similar to the existing component 'CSV-Dedupe' (the same "
                "once separators, case and look-alike letters such as l/1 and o/0 are folded)"
            )
            assert info.value.detail.endswith(": choose a clearly different name")


@pytest.mark.parametrize("lookalike", ["csv_dedup3", "csvdedupe", "c5v-dedupe"])
def test_another_user_cannot_take_a_lookalike(
    live: LiveServer,
    http: httpx.Client,
    example_dists: dict[str, Path],
    tmp_path: Path,
    lookalike: str,
) -> None:
    alice, mallory = live.user_with_token("alice"), live.user_with_token("mallory")
    assert upload(http, alice, example_dists["csv-dedupe:wheel"]).status_code == 200
    # Owning some other component does not make mallory an owner of csv-dedupe.
    assert upload(http, mallory, example_dists["daily-sales-pipeline:wheel"]).status_code == 200
    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, name=lookalike)
    r = upload(http, mallory, wheel)
    if ultranormalize(lookalike) != ultranormalize("csv-dedupe"):
        assert r.status_code == 200, r.text  # clearly different names are free
        return
    assert r.status_code == 409 and problem(r)["code"] == "name.too_similar", r.text
    assert "csv-dedupe" in problem(r)["detail"]
    # Reserving the name through the publishers API follows the same rule.
    reserve = http.post(
        f"/api/v1/components/{lookalike}/publishers",
        json={"kind": "github", "repository": "evil/x", "workflow": "release.yml"},
        headers={"Authorization": f"Bearer {mallory}"},
    )
    assert reserve.status_code == 409 and problem(reserve)["code"] == "name.too_similar"
    assert http.get(f"/api/v1/components/{lookalike}").status_code == 404


def test_the_owner_may_hold_both(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    alice = live.user_with_token("alice")
    assert upload(http, alice, example_dists["csv-dedupe:wheel"]).status_code == 200
    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, name="csvdedupe")
    assert upload(http, alice, wheel).status_code == 200
