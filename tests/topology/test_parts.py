"""The topology's own parts (moto's S3 server, nginx) follow the suite's rule for a missing real
part: a skip naming the fix on a laptop, a failure under CI=true, never a silent pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import nginx, s3

STARTERS: dict[str, tuple[str, Callable[[], object]]] = {
    "moto": ("PYSETL_HUB_TEST_MOTO_SERVER", s3.start_or_missing),
    "nginx": ("PYSETL_HUB_TEST_NGINX", lambda: nginx.start_or_missing([])),
}


@pytest.mark.parametrize("part", sorted(STARTERS))
def test_missing_part_fails_under_ci(
    part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override, start = STARTERS[part]
    monkeypatch.setenv(override, str(tmp_path / "absent"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and a real part is missing"):
        start()


@pytest.mark.parametrize("part", sorted(STARTERS))
def test_missing_part_skips_with_the_fix_elsewhere(
    part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override, start = STARTERS[part]
    monkeypatch.setenv(override, str(tmp_path / "absent"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make test"):
        start()
