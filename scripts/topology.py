"""Start the production topology on this machine and leave it up until Ctrl-C (`make
topology-up`): PostgreSQL, moto's S3 server, Redis, three hub replicas and nginx in front, as
tests/topology runs it. Prints the URL to point pip, uv or twine at, and an upload token.

Everything runs from temporary directories and stops on Ctrl-C (or SIGTERM), leaving nothing.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.topology.harness and tests.support


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3, help="hub processes behind nginx")
    args = parser.parse_args()

    from tests.topology import harness

    topo = harness.start(args.replicas, log=lambda line: print(line, flush=True))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        print(f"\nPySetl Hub topology up: {topo.url}", flush=True)
        print(f"  index:  {topo.url}/simple/", flush=True)
        print(
            f"  upload: twine upload --repository-url {topo.url}/legacy/ -u __token__ "
            f"-p {topo.token} dist/*",
            flush=True,
        )
        print(f"  logs:   {topo.root}", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        topo.close()
        shutil.rmtree(topo.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
