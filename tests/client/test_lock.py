"""`pysetl-hub lock` and `install --locked` against a real hub on loopback, into fresh virtual
environments with real uv and pip.

One hub serves the module: csv-dedupe signed by its GitHub publisher, and sales-report
(unsigned) that depends on csv-dedupe, on pysetl and on pyspark (the last two are not on the
hub). Tamper cases edit the lock file, or the hub's database as an attacker with that access
could (the hub's own upload checks would refuse what they serve).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import tomli_w
from click.testing import CliRunner, Result
from packaging.pylock import Pylock
from sqlalchemy import update

from pysetl_hub.cli import main
from pysetl_hub.client import HubClient
from pysetl_hub.config import Config
from pysetl_hub_provenance import to_pep740
from pysetl_hub_schemas import AttestationBundle, Provenance, Publisher
from pysetl_hub_server.db.models import File
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.storage.blobs import blob_key
from tests.client.test_install import UV, venv_python
from tests.conftest import start_hub
from tests.support import sigstore_instance as sig
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.sigstore_instance import Signing, SigstoreInstance
from tests.support.upload import upload

ACME = Publisher(kind="github", repository="acme/csv-dedupe", workflow="release.yml")
HONEST = Signing(sig.github("acme/csv-dedupe", "release.yml"))


class Catalog:
    def __init__(self, live: LiveServer, sigstore: SigstoreInstance, dedupe: Path, report: Path):
        self.live, self.sigstore, self.dedupe, self.report = live, sigstore, dedupe, report

    def overwrite_blob(self, sha256: str, data: bytes) -> None:
        """Replace the stored bytes in place, as someone with access to the storage could (the
        store itself never rewrites a content-addressed key)."""
        path = self.live.hub.blobs.local_path(blob_key(sha256))
        assert path is not None and path.is_file()
        path.write_bytes(data)

    def edit_file(self, filename: str, **values: Any) -> None:
        async def go(hub: Hub) -> None:
            async with hub.sessions() as s:
                await s.execute(update(File).where(File.filename == filename).values(**values))
                await s.commit()

        self.live.run(go)


@pytest.fixture(scope="module")
def catalog(
    tmp_path_factory: pytest.TempPathFactory,
    sigstore: SigstoreInstance,
    example_dists: dict[str, Path],
) -> Iterator[Catalog]:
    tmp = tmp_path_factory.mktemp("lock-hub")
    live = start_hub(
        tmp,
        f"sqlite+aiosqlite:///{tmp / 'hub.sqlite3'}",
        sigstore_trust_root=sigstore.trusted_root,
        memory_file_max_bytes=0,  # files are read from storage on every download
    )
    dedupe = example_dists["csv-dedupe:wheel"]

    def needs_dedupe(members: dict[str, bytes]) -> None:
        (meta,) = [m for m in members if m.endswith(".dist-info/METADATA")]
        text = (
            members[meta]
            .decode()
            .replace("Requires-Dist:", "Requires-Dist: csv-dedupe>=1.0\nRequires-Dist:", 1)
        )
        members[meta] = text.encode()

    report = repack(
        example_dists["daily-sales-pipeline:wheel"],
        tmp / "dists",
        name="sales-report",
        version="2.0.0",
        mutate=needs_dedupe,
    )
    token = live.user_with_token("alice")
    with HubClient(Config(url=live.url, token=token, retries=1)) as client:
        client.add_publisher("csv-dedupe", ACME)
    with httpx.Client(base_url=live.url, timeout=30) as http:
        signed = json.dumps([sigstore.attest(dedupe, HONEST)])
        assert upload(http, token, dedupe, attestations=signed).status_code == 200
        assert upload(http, token, report).status_code == 200
    yield Catalog(live, sigstore, dedupe, report)
    live.stop()


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty environment; every install into it either fails (and must leave it empty) or
    is undone by the test."""
    return venv_python(tmp_path_factory.mktemp("venv") / "v", with_pip=False)


@pytest.fixture
def config(catalog: Catalog, tmp_path: Path) -> Config:
    return Config(
        url=catalog.live.url,
        cache_dir=tmp_path / "cache",
        path=tmp_path / "home" / "config.toml",
        retries=1,
        trust_root=catalog.sigstore.trusted_root,
    )


def cli(config: Config, *args: str, code: int = 0) -> Result:
    env = {
        "PYSETL_HUB_URL": config.url,
        "PYSETL_HUB_CONFIG": str(config.path),
        "PYSETL_HUB_CACHE_DIR": str(config.cache_dir),
        "PYSETL_HUB_SIGSTORE_TRUST_ROOT": str(config.trust_root),
        "PYSETL_HUB_TOKEN": "",
        "NO_COLOR": "1",
        "COLUMNS": "250",
        "LANGUAGE": "en",
    }
    result = CliRunner(env=env).invoke(main, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def installed(python: str) -> dict[str, str]:
    out = subprocess.run(
        [UV, "pip", "list", "--python", python, "--format", "json"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {d["name"]: d["version"] for d in json.loads(out)}


def uninstall(python: str, *names: str) -> None:
    subprocess.run([UV, "pip", "uninstall", "--python", python, *names], check=True)


def write_lock(config: Config, python: str, path: Path, *extra: str) -> dict[str, Any]:
    cli(config, "lock", "sales-report", "--python", python, "-o", str(path), *extra)
    return tomllib.loads(path.read_text())


def edited(path: Path, change: Any) -> Path:
    data = tomllib.loads(path.read_text())
    change(data)
    out = path.with_name(f"{uuid.uuid4().hex[:6]}-pylock.toml")
    out.write_text(tomli_w.dumps(data))
    return out


def package(data: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for p in data["packages"] if p["name"] == name]
    return found


def test_lock_is_pep751_with_verified_publishers(
    catalog: Catalog, config: Config, venv: str, tmp_path: Path
) -> None:
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    lock = Pylock.from_dict(data)  # packaging's own PEP 751 validation
    assert str(lock.lock_version) == "1.0" and lock.created_by == "pysetl-hub"
    assert {(p.name, str(p.version)) for p in lock.packages} == {
        ("csv-dedupe", "1.0.0"),
        ("sales-report", "2.0.0"),
    }
    dedupe = package(data, "csv-dedupe")
    (wheel,) = dedupe["wheels"]
    body = httpx.get(wheel["url"]).content  # an absolute URL any installer can fetch
    assert wheel["name"] == catalog.dedupe.name and body == catalog.dedupe.read_bytes()
    assert wheel["hashes"] == {"sha256": hashlib.sha256(body).hexdigest()}
    assert wheel["size"] == len(body) and wheel["upload-time"].tzinfo is not None
    assert dedupe["index"] == f"{config.url}/simple/"
    assert dedupe["attestation-identities"] == [
        {"kind": "GitHub", "repository": "acme/csv-dedupe", "workflow": "release.yml"}
    ]
    tool = dedupe["tool"]["pysetl-hub"]
    assert tool["publisher"] == {
        "kind": "github", "repository": "acme/csv-dedupe", "workflow": "release.yml"
    }  # fmt: skip
    assert tool["required-by"] == "sales-report"
    provenance = httpx.get(tool["provenance"])
    assert provenance.status_code == 200 and provenance.json()["attestation_bundles"]
    report = package(data, "sales-report")
    assert "publisher" not in report["tool"]["pysetl-hub"]  # unsigned: nothing claimed
    assert "attestation-identities" not in report
    top = data["tool"]["pysetl-hub"]
    assert top["hub"] == config.url and top["requested"] == ["sales-report"]
    assert any(r.startswith("pyspark") for r in top["not-locked"])
    assert any(r.startswith("pysetl") for r in top["not-locked"])
    # The publisher was pinned (trust on first use), as any verified install does.
    pins = json.loads(config.trust_file.read_text())["hubs"][config.url]
    assert pins["csv-dedupe"]["publisher"]["workflow"] == "release.yml"


def test_environments_are_checked_and_written(config: Config, venv: str, tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path, "--environment", "sys_platform == 'linux'")
    assert data["environments"] == ['sys_platform == "linux"']
    bad = cli(
        config, "lock", "sales-report", "--python", venv, "-o", str(tmp_path / "x.toml"),
        "--environment", "sys_platform == 'win32'", code=1,
    )  # fmt: skip
    assert "win32" in bad.stderr and not (tmp_path / "x.toml").exists()


def test_install_locked_installs_exactly_the_lock(
    catalog: Catalog, config: Config, venv: str, tmp_path: Path
) -> None:
    path = tmp_path / "pylock.toml"
    write_lock(config, venv, path)
    fresh = Config(**{**config.__dict__, "cache_dir": tmp_path / "cache2"})
    result = cli(fresh, "install", "--locked", str(path), "--python", venv, "--installer", "uv")
    try:
        assert installed(venv) == {"csv-dedupe": "1.0.0", "sales-report": "2.0.0"}
        assert "github:acme/csv-dedupe/release.yml" in result.stderr
        assert "pyspark" in result.stderr  # not locked: said so
    finally:
        uninstall(venv, "csv-dedupe", "sales-report")


def test_dry_run_shows_what_the_lock_selects(config: Config, venv: str, tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    result = cli(config, "install", "--locked", str(path), "--python", venv, "--dry-run", "--json")
    shown = json.loads(result.stdout)
    assert [(f["name"], f["filename"], f["sha256"]) for f in shown["install"]] == [
        (p["name"], p["wheels"][0]["name"], p["wheels"][0]["hashes"]["sha256"])
        for p in data["packages"]
    ]
    assert shown["install"][0]["publisher"]["workflow"] == "release.yml"  # csv-dedupe first
    assert any(r.startswith("pyspark") for r in shown["not_locked"])
    assert installed(venv) == {}


def test_a_changed_hash_in_the_lock_installs_nothing(
    config: Config, venv: str, tmp_path: Path
) -> None:
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    real = package(data, "csv-dedupe")["wheels"][0]["hashes"]["sha256"]
    fake = hashlib.sha256(b"something else").hexdigest()

    def change(d: dict[str, Any]) -> None:
        package(d, "csv-dedupe")["wheels"][0]["hashes"]["sha256"] = fake

    result = cli(config, "install", "--locked", str(edited(path, change)), "--python", venv, code=5)
    assert "csv_dedupe-1.0.0" in result.stderr and fake in result.stderr and real in result.stderr
    assert installed(venv) == {}


def test_bytes_changed_in_the_hubs_storage_install_nothing(
    catalog: Catalog, config: Config, venv: str, tmp_path: Path
) -> None:
    """Someone with access to the hub's storage swaps the bytes behind the locked URL."""
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    sha = package(data, "csv-dedupe")["wheels"][0]["hashes"]["sha256"]
    changed = repack(
        catalog.dedupe, tmp_path / "x", mutate=lambda m: m.update({"csv_dedupe/x.py": b"1\n"})
    ).read_bytes()
    catalog.overwrite_blob(sha, changed)
    try:
        fresh = Config(**{**config.__dict__, "cache_dir": tmp_path / "cache2"})  # not cached
        result = cli(fresh, "install", "--locked", str(path), "--python", venv, code=5)
        text = " ".join(result.stderr.split())
        assert catalog.dedupe.name in text and sha in text
        assert hashlib.sha256(changed).hexdigest() in text
        assert installed(venv) == {}
    finally:
        catalog.overwrite_blob(sha, catalog.dedupe.read_bytes())


def test_a_changed_publisher_in_the_lock_installs_nothing(
    config: Config, venv: str, tmp_path: Path
) -> None:
    path = tmp_path / "pylock.toml"
    write_lock(config, venv, path)

    def change(d: dict[str, Any]) -> None:
        p = package(d, "csv-dedupe")
        p["tool"]["pysetl-hub"]["publisher"]["workflow"] = "other.yml"
        p["attestation-identities"][0]["workflow"] = "other.yml"

    result = cli(config, "install", "--locked", str(edited(path, change)), "--python", venv, code=9)
    text = " ".join(result.stderr.split())
    assert "csv_dedupe-1.0.0" in text
    assert "github:acme/csv-dedupe/other.yml" in text  # expected (the lock)
    assert "signed by github:acme/csv-dedupe/release.yml" in text  # found (the hub)
    assert installed(venv) == {}


def test_half_an_edit_to_the_publisher_is_refused(
    config: Config, venv: str, tmp_path: Path
) -> None:
    path = tmp_path / "pylock.toml"
    write_lock(config, venv, path)

    def change(d: dict[str, Any]) -> None:
        package(d, "csv-dedupe")["tool"]["pysetl-hub"]["publisher"]["workflow"] = "other.yml"

    result = cli(config, "install", "--locked", str(edited(path, change)), "--python", venv, code=1)
    assert "attestation-identities" in result.stderr
    assert installed(venv) == {}


def test_a_file_the_hub_now_says_someone_else_signed_installs_nothing(
    catalog: Catalog, config: Config, venv: str, tmp_path: Path
) -> None:
    """After the lock was written, the hub serves the same bytes with an attestation by
    another workflow (a takeover of the hub or of the owners' account): the lock wins."""
    path = tmp_path / "pylock.toml"
    write_lock(config, venv, path)
    nightly = Publisher(kind="github", repository="acme/csv-dedupe", workflow="nightly.yml")
    other = catalog.sigstore.attest(
        catalog.dedupe, Signing(sig.github("acme/csv-dedupe", "nightly.yml"))
    )
    body = Provenance(
        attestation_bundles=[AttestationBundle(publisher=to_pep740(nightly), attestations=[other])]
    )
    name = catalog.dedupe.name
    with httpx.Client() as http:
        before = http.get(package(tomllib.loads(path.read_text()), "csv-dedupe")["tool"][
            "pysetl-hub"]["provenance"]).text  # fmt: skip
    catalog.edit_file(name, provenance=msgspec.json.encode(body).decode())
    try:
        result = cli(config, "install", "--locked", str(path), "--python", venv, code=9)
        text = " ".join(result.stderr.split())
        assert "release.yml" in text and "signed by github:acme/csv-dedupe/nightly.yml" in text
        assert installed(venv) == {}
    finally:
        catalog.edit_file(name, provenance=before)


def test_a_lock_for_another_python_is_refused(config: Config, venv: str, tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    write_lock(config, venv, path)
    args = ("install", "--locked", str(path), "--python", venv, "--python-version", "3.8")
    result = cli(config, *args, code=1)
    assert "3.8" in result.stderr and ">=3.10" in result.stderr
    assert installed(venv) == {}


def test_a_lock_that_is_not_pep751_is_refused(config: Config, venv: str, tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    path.write_text('lock-version = "1.0"\n[[packages]]\nname = "x"\n')
    result = cli(config, "install", "--locked", str(path), "--python", venv, code=1)
    assert "PEP 751" in result.stderr and "created-by" in result.stderr
    both = cli(config, "install", "csv-dedupe", "--locked", str(path), code=2)
    assert "not both" in both.stderr


def test_uv_installs_the_same_files_from_the_lock(
    config: Config, venv: str, tmp_path: Path
) -> None:
    """uv reads PEP 751 itself: it installs the same versions from the same URLs."""
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    subprocess.run(
        [UV, "pip", "install", "--no-config", "--python", venv, "-r", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        assert installed(venv) == {p["name"]: p["version"] for p in data["packages"]}
    finally:
        uninstall(venv, "csv-dedupe", "sales-report")


def test_pip_installs_the_same_files_with_hashes(config: Config, venv: str, tmp_path: Path) -> None:
    """pip (--require-hashes, from the lock's URLs and sha256) installs the same files. This
    suite's pip drives the target environment with `--python`, as it would any other."""
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    lines = [
        f"{w['url']} --hash=sha256:{w['hashes']['sha256']}"
        for p in data["packages"]
        for w in p["wheels"]
    ]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    pip = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--python", venv, "install", "--no-deps", "--require-hashes", "-r",
         str(requirements)],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        assert installed(venv) == {p["name"]: p["version"] for p in data["packages"]}
    finally:
        uninstall(venv, "csv-dedupe", "sales-report")


def test_a_lock_whose_sha256_is_a_path_touches_nothing_outside_the_cache(
    config: Config, venv: str, tmp_path: Path
) -> None:
    """The sha256 names the cache directory: `../..` in it would reach outside, where a
    mismatching file's directory is removed. A sha256 that is not 64 hex digits is refused."""
    path = tmp_path / "pylock.toml"
    data = write_lock(config, venv, path)
    wheel = package(data, "csv-dedupe")["wheels"][0]
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / wheel["name"]).write_bytes(b"not the wheel")
    (victim / "precious.txt").write_text("keep me")
    # The cache directory is files/<sha256[:2]>/<sha256>: with ".." first, cache/<sha256>.
    escape = os.path.relpath(victim, config.cache_dir)
    assert escape.startswith("..")

    def change(d: dict[str, Any]) -> None:
        package(d, "csv-dedupe")["wheels"][0]["hashes"]["sha256"] = escape

    result = cli(config, "install", "--locked", str(edited(path, change)), "--python", venv, code=1)
    assert "sha256" in result.stderr and "64 lower-case hex" in result.stderr, result.stderr
    assert (victim / "precious.txt").read_text() == "keep me"
    assert installed(venv) == {}
