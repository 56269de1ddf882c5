"""What signed provenance costs: verification alone, publish with and without attestations,
and the client's per-file check at install.

Run by hand: `.venv/bin/python bench/provenance_bench.py [--uploads 40]`. Signs with the test
suite's private Sigstore deployment (tests/support/sigstore_instance.py), which the hub is
started to trust; the real-world vector is verified against the pinned production root.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pysetl_hub.client import HubClient  # noqa: E402
from pysetl_hub.config import Config  # noqa: E402
from pysetl_hub.environment import Environment  # noqa: E402
from pysetl_hub.signatures import Checker, Policy  # noqa: E402
from pysetl_hub.trust import TrustStore  # noqa: E402
from pysetl_hub_provenance import (  # noqa: E402
    PRODUCTION_TRUST_ROOT,
    parse_publisher,
    verify_attestation,
)
from tests.support import sigstore_instance as sig  # noqa: E402
from tests.support.dists import build_example, repack  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402
from tests.support.upload import upload  # noqa: E402
from tests.support.vectors import PA, PA_PUBLISHER, VECTORS  # noqa: E402

BIN = Path(sys.executable).parent


def timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """p50 and p99 in ms over n calls (after one warm-up call)."""
    fn()
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-prov-bench-"))
    instance = sig.SigstoreInstance(work / "sigstore")
    honest = sig.Signing(sig.github("bench/pub", "release.yml"))
    publisher = parse_publisher("github:bench/pub/release.yml")

    # 1. verification alone
    data = os.urandom(100_000)
    name = "pub_bench-1.0.0-py3-none-any.whl"
    att = instance.attest_bytes(name, data, honest)
    sha = hashlib.sha256(data).hexdigest()
    private = timed(
        lambda: verify_attestation(
            att, filename=name, sha256=sha, publishers=[publisher], trust_root=instance.trusted_root
        ),
        200,
    )
    real = json.loads((VECTORS / f"{PA}.publish.attestation").read_text())
    real_sha = hashlib.sha256((VECTORS / PA).read_bytes()).hexdigest()
    production = timed(
        lambda: verify_attestation(
            real, filename=PA, sha256=real_sha, publishers=[parse_publisher(PA_PUBLISHER)],
            trust_root=PRODUCTION_TRUST_ROOT,
        ),
        200,
    )  # fmt: skip

    # 2. publish p50, unsigned and signed, ~100 KB wheels, on a served hub
    data_dir = work / "hub-data"
    cli = [str(BIN / "pysetl-hub-server"), "--data-dir", str(data_dir)]
    subprocess.run([*cli, "db", "upgrade"], check=True, capture_output=True)
    subprocess.run(
        [*cli, "users", "create", "bench", "--email", "b@example.org"],
        input=b"benchpass\n", check=True, capture_output=True,
    )  # fmt: skip
    token = subprocess.run(
        [*cli, "tokens", "create", "bench"], check=True, capture_output=True, text=True
    ).stdout.strip()
    port = free_port()
    env = {**os.environ, "PYSETL_HUB_SIGSTORE_TRUST_ROOT": str(instance.trusted_root)}
    hub = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        base = next(p for p in build_example("csv-dedupe", work / "build") if p.suffix == ".whl")
        results: dict[str, list[float]] = {"unsigned": [], "signed": []}
        with httpx.Client(base_url=url, timeout=60) as http:
            r = http.post(
                "/api/v1/components/pub-bench/publishers",
                json={"kind": "github", "repository": "bench/pub", "workflow": "release.yml"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
            for i in range(args.uploads):
                for kind in ("unsigned", "signed"):

                    def pad(m: dict[str, bytes]) -> None:
                        m["csv_dedupe/blob.bin"] = os.urandom(100_000)

                    version = f"1.{i}.{0 if kind == 'unsigned' else 1}"
                    w = repack(base, work / "pub", name="pub-bench", version=version, mutate=pad)
                    fields = {}
                    if kind == "signed":
                        fields["attestations"] = json.dumps([instance.attest(w, honest)])
                    t = time.perf_counter()
                    r = upload(http, token, w, **fields)
                    results[kind].append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, r.text

        # 3. the client's check of one signed file at install (provenance + publishers + verify)
        config = Config(url=url, cache_dir=work / "cache", path=work / "cfg" / "config.toml",
                        trust_root=instance.trusted_root)  # fmt: skip
        with HubClient(config) as client:
            plan = client.resolve(
                f"pub-bench==1.{args.uploads - 1}.1", Environment.probe(None), with_deps=False
            )
            pick = plan.picks[0]

            def check() -> None:
                checker = Checker(
                    client, TrustStore(config.trust_file), Policy(trust_root=instance.trusted_root)
                )
                checker.check(pick, pick.file.hashes["sha256"])

            install_check = timed(check, 100)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    print("| measurement | p50 ms | p99 ms |")
    print("|---|---|---|")
    print(f"| verify one attestation, private root | {private[0]:.2f} | {private[1]:.2f} |")
    print(
        f"| verify the real vector, production root | {production[0]:.2f} | {production[1]:.2f} |"
    )
    for kind, lat in results.items():
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        label = f"publish ~100 KB wheel, {kind} ({len(lat)})"
        print(f"| {label} | {statistics.median(lat):.1f} | {p99:.1f} |")
    print(
        f"| client check of one file at install | {install_check[0]:.2f} | {install_check[1]:.2f} |"
    )


if __name__ == "__main__":
    main()
