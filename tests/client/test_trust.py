"""The publisher pins (trust on first use): one file, keyed by hub origin and component name."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pysetl_hub.errors import ConfigError
from pysetl_hub.trust import TrustStore
from pysetl_hub_schemas import Publisher

ACME = Publisher(kind="github", repository="acme/csv-dedupe", workflow="release.yml")
EVIL = Publisher(kind="github", repository="evil/csv-dedupe", workflow="release.yml")


def test_no_file_is_no_pin(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "trust.json")
    assert store.get("https://hub.test", "csv-dedupe") is None
    assert not (tmp_path / "trust.json").exists()


def test_a_pin_is_per_hub_origin_and_canonical_name(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "trust.json")
    before = datetime.now(UTC).replace(microsecond=0)
    store.pin("https://hub.test:443/simple/", "CSV_Dedupe", ACME, "1.0.0")
    pin = store.get("https://HUB.test", "csv.dedupe")
    assert pin is not None
    assert (pin.publisher, pin.first_version) == (ACME, "1.0.0")
    pinned = datetime.fromisoformat(pin.pinned)
    assert pinned.tzinfo is not None and pinned.microsecond == 0
    assert before <= pinned <= datetime.now(UTC)
    # Another hub, or the same host on another port or scheme, knows nothing of it.
    assert store.get("https://other.test", "csv-dedupe") is None
    assert store.get("https://hub.test:8443", "csv-dedupe") is None
    assert store.get("http://hub.test", "csv-dedupe") is None
    assert store.get("https://hub.test", "csv-dedupe2") is None


def test_a_new_pin_replaces_the_old_and_forget_removes_it(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "trust.json")
    store.pin("https://hub.test", "csv-dedupe", ACME, "1.0.0")
    store.pin("https://hub.test", "other", ACME, "2.0")
    store.pin("https://hub.test", "CSV-Dedupe", EVIL, "1.1.0")
    pin = store.get("https://hub.test", "csv-dedupe")
    assert pin is not None and (pin.publisher, pin.first_version) == (EVIL, "1.1.0")
    store.forget("https://hub.test/", "CSV_Dedupe")
    assert store.get("https://hub.test", "csv-dedupe") is None
    assert store.get("https://hub.test", "other") is not None  # only that one
    store.forget("https://hub.test", "csv-dedupe")  # forgetting twice is no error
    store.forget("https://unknown.test", "csv-dedupe")


def test_pins_survive_a_save_in_a_private_directory(tmp_path: Path) -> None:
    path = tmp_path / "home" / "config" / "trust.json"
    store = TrustStore(path)
    store.pin("https://hub.test", "csv-dedupe", ACME, "1.0.0")
    store.save()
    store.save()  # the directory exists now: saving again is fine
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["trust.json"]  # no temporary left over
    saved = json.loads(path.read_text())
    assert saved["version"] == 1
    assert saved["hubs"]["https://hub.test"]["csv-dedupe"]["first_version"] == "1.0.0"
    assert path.read_text().count("\n") > 5  # written for people to read
    again = TrustStore(path).get("https://hub.test", "csv-dedupe")
    assert again is not None and again.publisher == ACME


@pytest.mark.parametrize("text", ["not json", '{"hubs": {"https://hub.test": {"x": {}}}}', "[]"])
def test_an_unreadable_pin_file_says_what_to_do(tmp_path: Path, text: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        TrustStore(path)
    message = str(info.value)
    assert message.startswith(f"cannot read the publisher pins in {path}: ")
    assert message.endswith("fix or delete the file (deleting it forgets every pin)")


def test_a_pin_file_that_cannot_be_read_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "trust.json").mkdir()
    with pytest.raises(ConfigError, match="cannot read the publisher pins"):
        TrustStore(tmp_path / "trust.json")
