"""Signatures checked at install, before any installer runs: the negative matrix, TOFU pins,
the policy switches, and a signed publish -> install through the CLI.

Some cases need a hub that serves what an honest hub never would (a signature by someone
else, a file whose bytes changed after signing). Those are made by editing a real hub's
database and blob store directly, as an attacker with that access could: the hub's own upload
check would refuse them, which is the point of checking again at install.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update

from pysetl_hub import errors
from pysetl_hub.cli import main
from pysetl_hub.client import HubClient
from pysetl_hub.config import Config
from pysetl_hub.environment import Environment
from pysetl_hub.install import download, fetch_verified, install
from pysetl_hub.signatures import Checker, Policy
from pysetl_hub.trust import TrustStore
from pysetl_hub_provenance import to_pep740
from pysetl_hub_schemas import AttestationBundle, Provenance, Publisher
from pysetl_hub_server.db.models import File
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.storage.blobs import blob_key
from tests.client.test_install import venv_python
from tests.support import sigstore_instance as sig
from tests.support.dists import repack
from tests.support.live import LiveServer
from tests.support.sigstore_instance import Signing, SigstoreInstance, but
from tests.support.upload import upload
from tests.support.vectors import PROVENANCE, REAL, VECTORS

ACME = "github:acme/csv-dedupe/release.yml"
ACME_PUBLISHER = Publisher(kind="github", repository="acme/csv-dedupe", workflow="release.yml")
HONEST = Signing(sig.github("acme/csv-dedupe", "release.yml"))
NOWHERE = "/nonexistent/python"  # an installer run would fail loudly, never install


class Hub_:
    """alice's signed csv-dedupe on a live hub, and the means to tamper with it."""

    def __init__(
        self, live: LiveServer, sigstore: SigstoreInstance, wheel: Path, tmp: Path
    ) -> None:
        self.live, self.sigstore, self.wheel, self.tmp = live, sigstore, wheel, tmp
        self.token = live.user_with_token("alice")
        self.api = live.url

    def http_upload(self, path: Path, signing: Signing | None = HONEST) -> None:
        import httpx

        fields: dict[str, Any] = {}
        if signing is not None:
            fields["attestations"] = json.dumps([self.sigstore.attest(path, signing)])
        with httpx.Client(base_url=self.live.url, timeout=30) as http:
            r = upload(http, self.token, path, **fields)
            assert r.status_code == 200, r.text

    def version(self, version: str) -> Path:
        return repack(self.wheel, self.tmp, version=version)

    def serve_provenance(self, filename: str, attestations: list[dict[str, Any]]) -> None:
        """The hub now serves this provenance for `filename` (as a compromised hub could)."""
        body = Provenance(
            attestation_bundles=[
                AttestationBundle(publisher=to_pep740(ACME_PUBLISHER), attestations=attestations)
            ]
        )
        self._edit(filename, provenance=msgspec.json.encode(body).decode())

    def swap_bytes(self, filename: str, data: bytes) -> None:
        """Replace the file's bytes and digest, keeping its signed provenance."""
        sha = hashlib.sha256(data).hexdigest()

        async def put(hub: Hub) -> None:
            await hub.blobs.put_bytes(blob_key(sha), data)

        self.live.run(put)
        self._edit(filename, sha256=sha, size=len(data))

    def _edit(self, filename: str, **values: Any) -> None:
        async def go(hub: Hub) -> None:
            async with hub.sessions() as s:
                await s.execute(update(File).where(File.filename == filename).values(**values))
                await s.commit()

        self.live.run(go)


@pytest.fixture
def hub(
    live: LiveServer, sigstore: SigstoreInstance, example_dists: dict[str, Path], tmp_path: Path
) -> Hub_:
    h = Hub_(live, sigstore, example_dists["csv-dedupe:wheel"], tmp_path / "dists")
    with HubClient(Config(url=live.url, token=h.token, retries=1)) as client:
        client.add_publisher("csv-dedupe", ACME_PUBLISHER)
    h.http_upload(h.wheel)
    return h


@pytest.fixture
def config(live: LiveServer, tmp_path: Path, sigstore: SigstoreInstance) -> Config:
    return Config(
        url=live.url,
        cache_dir=tmp_path / "cache",
        path=tmp_path / "home" / "config.toml",
        retries=1,
        trust_root=sigstore.trusted_root,
    )


def attempt(config: Config, requirement: str, **policy: Any) -> list[str]:
    """Resolve and install with the library; the checks' outcomes, or the raised error."""
    with HubClient(config) as client:
        plan = client.resolve(requirement, Environment.probe(None), with_deps=False)
        checker = Checker(
            client, TrustStore(config.trust_file), Policy(trust_root=config.trust_root, **policy)
        )
        try:
            install(client, plan, python=NOWHERE, no_deps=True, checker=checker)
        except errors.InstallError:
            return [c.status for c in checker.results]  # every check passed
    raise AssertionError("unreachable: the installer cannot succeed for " + NOWHERE)


@pytest.mark.parametrize(("case", "signing", "check"), sig.broken(HONEST))
def test_a_bad_signature_stops_the_install(
    hub: Hub_, config: Config, case: str, signing: Signing, check: str
) -> None:
    hub.serve_provenance(hub.wheel.name, [hub.sigstore.attest(hub.wheel, signing)])
    with pytest.raises(errors.SignatureInvalid) as info:
        attempt(config, "csv-dedupe")
    assert info.value.check == check, case
    assert hub.wheel.name in str(info.value) and info.value.hint
    assert not config.trust_file.exists(), "nothing is pinned from a failed install"


def test_a_tampered_file_stops_the_install(hub: Hub_, config: Config, tmp_path: Path) -> None:
    changed = repack(hub.wheel, tmp_path, mutate=lambda m: m.update({"csv_dedupe/x.py": b"1\n"}))
    hub.swap_bytes(hub.wheel.name, changed.read_bytes())
    with pytest.raises(errors.SignatureInvalid) as info:
        attempt(config, "csv-dedupe")
    assert info.value.check == "subject-digest"


def test_a_provenance_without_attestations_stops_the_install(hub: Hub_, config: Config) -> None:
    hub.serve_provenance(hub.wheel.name, [])
    with pytest.raises(errors.SignatureInvalid) as info:
        attempt(config, "csv-dedupe")
    assert info.value.check == "format"


def test_an_attestation_for_another_file_stops_the_install(hub: Hub_, config: Config) -> None:
    newer = hub.version("1.0.1")
    hub.http_upload(newer)
    hub.serve_provenance(newer.name, [hub.sigstore.attest(hub.wheel, HONEST)])
    with pytest.raises(errors.SignatureInvalid) as info:
        attempt(config, "csv-dedupe==1.0.1")
    assert info.value.check == "subject-name"


def test_a_provenance_that_names_another_signer_stops_the_install(
    hub: Hub_, config: Config
) -> None:
    """Both publishers are trusted, but the bundle claims one and the certificate says the
    other: a hub or mirror that rewrites who signed is caught."""
    nightly = Publisher(kind="github", repository="acme/csv-dedupe", workflow="nightly.yml")
    with HubClient(Config(url=hub.live.url, token=hub.token, retries=1)) as client:
        client.add_publisher("csv-dedupe", nightly)
    signed_by_nightly = hub.sigstore.attest(
        hub.wheel, Signing(sig.github("acme/csv-dedupe", "nightly.yml"))
    )
    hub.serve_provenance(hub.wheel.name, [signed_by_nightly])  # declared: release.yml
    with pytest.raises(errors.SignatureInvalid) as info:
        attempt(config, "csv-dedupe")
    assert info.value.check == "publisher"
    assert "release.yml" in str(info.value) and "nightly.yml" in str(info.value)
    assert not config.trust_file.exists()


def test_first_install_pins_the_publisher_and_a_new_one_is_refused(
    hub: Hub_, config: Config
) -> None:
    assert attempt(config, "csv-dedupe") == ["verified"]  # the installer failed: nothing saved
    assert not config.trust_file.exists()
    with HubClient(config) as client:
        plan = client.resolve("csv-dedupe", Environment.probe(None), with_deps=False)
        checker = Checker(
            client, TrustStore(config.trust_file), Policy(trust_root=config.trust_root)
        )
        (checked,) = [checker.check(p, p.file.hashes["sha256"]) for p in plan.picks]
        checker.trust.save()
    assert checked.status == "verified" and checked.publisher == ACME_PUBLISHER
    pins = json.loads(config.trust_file.read_text())["hubs"]
    assert pins[config.url]["csv-dedupe"]["publisher"]["repository"] == "acme/csv-dedupe"

    # The owners (or someone who took over the hub account) move to another workflow.
    with HubClient(Config(url=hub.live.url, token=hub.token, retries=1)) as owner:
        listing = owner.add_publisher(
            "csv-dedupe", Publisher(kind="github", repository="acme/csv-dedupe", workflow="v2.yml")
        )
        owner.remove_publisher("csv-dedupe", listing.publishers[0].id)
    hub.http_upload(hub.version("1.0.1"), Signing(sig.github("acme/csv-dedupe", "v2.yml")))
    with pytest.raises(errors.PublisherChanged) as info:
        attempt(config, "csv-dedupe")
    assert ACME in str(info.value) and "github:acme/csv-dedupe/v2.yml" in str(info.value)
    assert "--accept-new-publisher" in info.value.hint
    assert attempt(config, "csv-dedupe", accept_new_publisher=True) == ["verified"]


def test_signatures_removed_is_a_downgrade(hub: Hub_, config: Config) -> None:
    store = TrustStore(config.trust_file)
    store.pin(config.url, "csv-dedupe", ACME_PUBLISHER, "1.0.0")
    store.save()
    hub.http_upload(hub.version("1.0.1"), signing=None)
    with pytest.raises(errors.SignaturesRemoved) as info:
        attempt(config, "csv-dedupe")
    assert "unsigned" in str(info.value) and ACME in str(info.value)
    assert attempt(config, "csv-dedupe", accept_new_publisher=True) == ["unsigned"]


def test_unsigned_warns_by_default_and_fails_when_signatures_are_required(
    live: LiveServer, config: Config, example_dists: dict[str, Path]
) -> None:
    import httpx

    with httpx.Client(base_url=live.url) as http:
        token = live.user_with_token("bob")
        assert upload(http, token, example_dists["csv-dedupe:wheel"]).status_code == 200
    assert attempt(config, "csv-dedupe") == ["unsigned"]
    with pytest.raises(errors.Unsigned):
        attempt(config, "csv-dedupe", require_signatures=True)
    with pytest.raises(errors.Unsigned):
        attempt(config, "csv-dedupe", mode="require")


def test_warn_and_off_policies(hub: Hub_, config: Config) -> None:
    bad = but(HONEST, bad_sct=True)
    hub.serve_provenance(hub.wheel.name, [hub.sigstore.attest(hub.wheel, bad)])
    warned: list[str] = []
    with HubClient(config) as client:
        plan = client.resolve("csv-dedupe", Environment.probe(None), with_deps=False)
        checker = Checker(
            client,
            TrustStore(config.trust_file),
            Policy(mode="warn", trust_root=config.trust_root),
            warn=warned.append,
        )
        assert checker.check(plan.picks[0], plan.picks[0].file.hashes["sha256"]).status == "failed"
    assert "sct" in warned[0] and "installing anyway" in warned[0]
    assert attempt(config, "csv-dedupe", mode="off") == ["not checked"]


def test_download_shares_the_install_flow_and_pins_once_saved(
    hub: Hub_, config: Config, tmp_path: Path
) -> None:
    """`fetch_verified` is the digest and signature steps alone (no pin saved); `download`
    runs them, copies the files out, then saves the pin, as `install` does after pip."""
    with HubClient(config) as client:
        plan = client.resolve("csv-dedupe", Environment.probe(None), with_deps=False)

        def checker() -> Checker:
            policy = Policy(trust_root=config.trust_root)
            return Checker(client, TrustStore(config.trust_file), policy)

        first = checker()
        (cached,) = fetch_verified(client, plan, checker=first)
        assert [c.status for c in first.results] == ["verified"]
        assert not config.trust_file.exists()
        seen: list[int] = []
        saved = download(client, plan, tmp_path / "out", checker=checker(), progress=seen.append)
    assert saved == [tmp_path / "out" / hub.wheel.name]
    assert saved[0].read_bytes() == cached.read_bytes() == hub.wheel.read_bytes()
    assert seen == []  # already in the cache: nothing downloaded again
    pins = json.loads(config.trust_file.read_text())["hubs"][config.url]
    assert pins["csv-dedupe"]["publisher"]["workflow"] == "release.yml"


# -- through the CLI, into a real virtual environment ---------------------------------------


def cli(config: Config, *args: str) -> Result:
    env = {
        "PYSETL_HUB_URL": config.url,
        "PYSETL_HUB_CONFIG": str(config.path),
        "PYSETL_HUB_CACHE_DIR": str(config.cache_dir),
        "PYSETL_HUB_SIGSTORE_TRUST_ROOT": str(config.trust_root),
        "NO_COLOR": "1",
    }
    return CliRunner(env=env).invoke(main, list(args))


def test_signed_component_publish_to_install_through_the_cli(
    hub: Hub_, config: Config, tmp_path: Path
) -> None:
    newer = hub.version("1.1.0")
    hub.sigstore.write(newer, HONEST)
    r = cli(config, "--token", hub.token, "publish", "--attestations", str(newer))
    assert r.exit_code == 0, r.stderr

    python = venv_python(tmp_path / "venv", with_pip=False)
    target = ("--python", python, "--no-deps", "--installer", "uv")
    r = cli(config, "install", "csv-dedupe", *target)
    assert r.exit_code == 0, r.stderr
    assert f"{newer.name}: signed by {ACME}" in r.stderr
    assert "installed csv-dedupe 1.1.0" in r.stderr
    pins = json.loads(config.trust_file.read_text())["hubs"][config.url]
    assert pins["csv-dedupe"]["first_version"] == "1.1.0"

    hub.http_upload(hub.version("1.2.0"), signing=None)
    r = cli(config, "install", "csv-dedupe", *target)
    assert r.exit_code == 9, r.stderr
    assert "signatures were removed" in r.stderr and "hint:" in r.stderr
    r = cli(config, "install", "csv-dedupe==1.0.0", "--require-signatures", *target)
    assert r.exit_code == 0, r.stderr


def test_download_checks_signatures_too(hub: Hub_, config: Config, tmp_path: Path) -> None:
    hub.serve_provenance(
        hub.wheel.name, [hub.sigstore.attest(hub.wheel, but(HONEST, bad_sct=True))]
    )
    dest = tmp_path / "out"
    r = cli(config, "download", "csv-dedupe", "--no-deps", "-d", str(dest))
    assert r.exit_code == 9 and "sct check" in r.stderr
    assert not dest.exists()
    r = cli(config, "download", "csv-dedupe", "--no-deps", "-d", str(dest), "--verify", "off")
    assert r.exit_code == 0 and (dest / hub.wheel.name).exists()


def test_verify_command_checks_a_local_file(
    config: Config, sigstore: SigstoreInstance, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, version="2.0.0")
    attestation = sigstore.write(wheel, HONEST)
    run: Callable[..., Result] = lambda *a: cli(config, "verify", str(wheel), *a)  # noqa: E731
    r = run("--attestation", str(attestation), "--publisher", ACME)
    assert r.exit_code == 0, r.stderr
    assert f"OK {wheel.name}: signed by {ACME}" in r.stderr
    r = run("--attestation", str(attestation), "--publisher", "github:acme/other/release.yml")
    assert r.exit_code == 9 and "publisher check" in r.stderr
    r = run("--attestation", str(attestation), "--publisher", "acme")
    assert r.exit_code == 2
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    r = run("--attestation", str(attestation), "--publisher", ACME)
    assert r.exit_code == 9 and "subject-digest" in r.stderr


@pytest.mark.parametrize(("artifact", "attestation", "publisher"), [*REAL, PROVENANCE])
def test_verify_command_on_real_vectors_offline(
    artifact: str, attestation: str, publisher: str, tmp_path: Path
) -> None:
    """Production trust root (the pinned default): no --trust-root, no network."""
    env = {"PYSETL_HUB_CONFIG": str(tmp_path / "config.toml"), "NO_COLOR": "1"}
    runner = CliRunner(env=env)
    file = tmp_path / artifact
    file.write_bytes((VECTORS / artifact).read_bytes())
    args = ["verify", str(file), "--attestation", str(VECTORS / attestation)]
    r = runner.invoke(main, [*args, "--publisher", publisher])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(main, [*args, "--publisher", publisher.replace("release.yml", "x.yml")])
    assert r.exit_code == 9
    data = bytearray(file.read_bytes())
    data[-1] ^= 1
    file.write_bytes(bytes(data))
    r = runner.invoke(main, [*args, "--publisher", publisher])
    assert r.exit_code == 9 and "subject-digest" in r.stderr
