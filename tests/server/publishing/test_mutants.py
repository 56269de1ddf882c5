"""Random damage to a valid wheel never gets past the hub half-way.

Each mutant is a real wheel (the csv-dedupe example, or the same members with Zip64 records
throughout) with 1-3 random edits (tests/support/mutations.py): flipped, overwritten, inserted
or deleted bytes, header fields set to boundary values, members reordered, the central
directory cut, bytes around the archive. Over HTTP, every outcome is either a clean 4xx
problem that left nothing behind, or a 200 whose file the index then serves byte for byte;
never a 5xx. In process, many more mutants go straight to the inspection functions, which
may only raise InvalidUpload.

The runs are derandomized, so CI sees the same examples every time. To explore further,
set HUB_FUZZ_EXPLORE=1 (a fresh random run) and raise HUB_FUZZ_EXAMPLES.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.archive import inspect_wheel
from pysetl_hub_server.publishing.sdist import inspect_sdist
from pysetl_hub_server.settings import UploadLimits
from tests.conftest import start_hub
from tests.support import mutations
from tests.support.dists import read_wheel, repack
from tests.support.live import LiveServer
from tests.support.mutations import (
    Delete,
    Edit,
    FlipBits,
    Overwrite,
    SetField,
    SetZip64Value,
    Spot,
)
from tests.support.residue import assert_no_residue, snapshot
from tests.support.sigstore_instance import SigstoreInstance
from tests.support.upload import problem, upload
from tests.support.zip64 import write_zip64

WHEEL = "csv-dedupe:wheel"
SDIST = "csv-dedupe:sdist"
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}
EXPLORE = bool(os.environ.get("HUB_FUZZ_EXPLORE"))
SCALE = int(os.environ.get("HUB_FUZZ_EXAMPLES", "0") or 0)
FORMS = ["zipfile", "zip64"]


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=SCALE or examples,
        deadline=None,
        derandomize=not EXPLORE,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def as_form(wheel: Path, form: str) -> bytes:
    """The wheel's bytes as its build backend wrote them, or rewritten with Zip64 records."""
    if form == "zipfile":
        return wheel.read_bytes()
    return write_zip64(list(read_wheel(wheel).items()))[0]


# -- in process: the inspection functions raise InvalidUpload, or accept ------------------------


def refusal_of(inspect: Callable[[], object]) -> str:
    """'accepted', or the code of the InvalidUpload raised; any other exception propagates."""
    try:
        inspect()
    except InvalidUpload as exc:
        return exc.code
    return "accepted"


# The edits that crashed inspect_wheel before archive.py and zipframe.py caught them (each a
# 500 over HTTP), kept as fixed examples. Member 0 is csv_dedupe/__init__.py, 4 is RECORD.
REGRESSIONS: list[tuple[str, list[Edit], str]] = [
    # BadZipFile: a bad CRC on RECORD, read outside the member loop's error handling
    ("zipfile", [SetField("central", 4, "crc", 1, relative=True)], "archive.corrupt"),
    # zlib.error: a reserved deflate block type at the start of __init__.py's data
    ("zipfile", [Overwrite(Spot("local", 0, 30 + 22), b"\xff")], "archive.corrupt"),
    # RuntimeError: an encrypted member; NotImplementedError: patched data, a newer zip version
    ("zipfile", [SetField("central", 0, "flags", 0x01, relative=False)], "archive.corrupt"),
    ("zipfile", [SetField("central", 0, "flags", 0x20, relative=False)], "archive.corrupt"),
    ("zipfile", [SetField("central", 2, "version_needed", 99, relative=False)], "archive.corrupt"),
    # ValueError / OSError from seek(): a Zip64 locator pointing past 2**63
    (
        "zip64",
        [SetField("locator", 0, "zip64_end_offset", 2**63 + 5, relative=False)],
        "archive.framing",
    ),
    (
        "zip64",
        [SetField("locator", 0, "zip64_end_offset", 2**63 - 1, relative=False)],
        "archive.framing",
    ),
    # struct.error: a Zip64 extra field whose length runs past its header (40 of 28 bytes)
    ("zip64", [Overwrite(Spot("central", 0, 46 + 22 + 2), b"\x28\x00")], "archive.framing"),
]


def _with_regressions(test: Callable[..., None]) -> Callable[..., None]:
    for form, edits, _ in REGRESSIONS:
        test = example(form=form, edits=edits)(test)
    return test


@pytest.fixture(scope="module")
def bases(example_dists: dict[str, Path]) -> dict[str, bytes]:
    return {form: as_form(example_dists[WHEEL], form) for form in FORMS}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutants")


@_with_regressions
@fuzz_settings(2000)
@given(form=st.sampled_from(FORMS), edits=mutations.mutants)
def test_inspecting_a_mutant_raises_only_invalid_upload(
    bases: dict[str, bytes], scratch: Path, form: str, edits: list[Edit]
) -> None:
    path = scratch / "csv_dedupe-1.0.0-py3-none-any.whl"
    path.write_bytes(mutations.apply(bases[form], edits))
    outcome = refusal_of(lambda: inspect_wheel(path, UploadLimits(), "csv_dedupe-1.0.0"))
    event(outcome)
    assert outcome.startswith(("archive.", "accepted")), outcome


@fuzz_settings(1000)
@given(compressed=st.booleans(), edits=mutations.byte_mutants)
def test_inspecting_a_mutant_sdist_raises_only_invalid_upload(
    example_dists: dict[str, Path], scratch: Path, compressed: bool, edits: list[Edit]
) -> None:
    """The .tar.gz damaged as it is, or its tar damaged and compressed again (so the edits
    reach tar headers rather than the deflate stream)."""
    original = example_dists[SDIST].read_bytes()
    if compressed:
        data = mutations.apply(original, edits)
    else:
        data = gzip.compress(mutations.apply(gzip.decompress(original), edits), 1)
    path = scratch / "csv_dedupe-1.0.0.tar.gz"
    path.write_bytes(data)
    outcome = refusal_of(lambda: inspect_sdist(path, UploadLimits(), "csv_dedupe-1.0.0"))
    event(outcome)
    assert outcome.startswith(("archive.", "accepted")), outcome


def test_the_regressions_hit_what_they_name(bases: dict[str, bytes], scratch: Path) -> None:
    """Each fixed example still breaks what it names (the bases have not drifted under it)."""
    for form, edits, code in REGRESSIONS:
        path = scratch / "csv_dedupe-1.0.0-py3-none-any.whl"
        path.write_bytes(mutations.apply(bases[form], edits))
        with pytest.raises(InvalidUpload) as refused:
            inspect_wheel(path, UploadLimits(), "csv_dedupe-1.0.0")
        assert refused.value.code == code, (edits, refused.value.detail)


# -- over HTTP: a clean 4xx and no residue, or accepted and served byte for byte ------------------


@pytest.fixture(scope="module")
def fuzz_live(
    tmp_path_factory: pytest.TempPathFactory, sigstore: SigstoreInstance
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("mutants-live")
    live = start_hub(
        root,
        f"sqlite+aiosqlite:///{root / 'hub.sqlite3'}",
        sigstore_trust_root=sigstore.trusted_root,
        download_flush_interval=3600.0,  # downloads of accepted mutants are not residue
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def fuzz_http(fuzz_live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_live.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def fuzz_token(fuzz_live: LiveServer) -> str:
    return fuzz_live.user_with_token("alice")


VERSIONS = itertools.count(1)  # a fresh version per example: no mutant meets another's file
NAME = "fuzzed-wheel"


@fuzz_settings(250)
@given(form=st.sampled_from(FORMS), edits=mutations.mutants)
@example(form="zipfile", edits=[SetField("central", 0, "time", 7, relative=True)])  # accepted
@example(form="zip64", edits=[SetZip64Value("local", 1, 1, 1, relative=True)])
@example(form="zipfile", edits=[Delete(Spot("central", 4, 46), 8)])
@example(form="zipfile", edits=[FlipBits(Spot("local", 4, 60), 0x10)])
def test_a_mutant_upload_is_refused_cleanly_or_served_intact(
    fuzz_live: LiveServer,
    fuzz_http: httpx.Client,
    fuzz_token: str,
    example_dists: dict[str, Path],
    scratch: Path,
    form: str,
    edits: list[Edit],
) -> None:
    version = f"0.{next(VERSIONS)}"
    wheel = repack(example_dists[WHEEL], scratch / f"http-{version}", name=NAME, version=version)
    mutant = mutations.apply(as_form(wheel, form), edits)
    wheel.write_bytes(mutant)

    before = snapshot(fuzz_live)
    r = upload(fuzz_http, fuzz_token, wheel)
    assert r.status_code < 500, f"{r.status_code}: {r.text[:500]}"
    event(f"{r.status_code} {r.json().get('code', 'accepted')}")
    if r.status_code == 200:
        assert r.json()["sha256"] == hashlib.sha256(mutant).hexdigest()
        page = fuzz_http.get(f"/simple/{NAME}/", headers=JSON)
        (served,) = [f for f in page.json()["files"] if f["filename"] == wheel.name]
        assert fuzz_http.get(served["url"]).content == mutant
        return
    assert 400 <= r.status_code < 500, r.text
    body = problem(r)
    assert body["code"] and body["detail"], body
    assert_no_residue(before, snapshot(fuzz_live))
