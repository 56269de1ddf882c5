"""A new name that only looks new is refused, unless its owner already holds the look-alike."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pysetl_hub_server.components.names import ultranormalize
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
