"""`pysetl-hub flags`: a component's anomaly flags as a table or JSON (owners), every flag
(admins). The flag comes from a real history: a release whose wheel adds a `.pth` file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import Result

from tests.support.dists import Members, repack
from tests.support.governance import token_for
from tests.support.live import LiveServer
from tests.support.upload import upload


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def _hook(members: Members) -> None:
    members["zz_csv_dedupe.pth"] = b"import os\n"


def test_flags_of_a_component_and_of_the_hub(  # type: ignore[no-untyped-def]
    run,
    live: LiveServer,
    http: httpx.Client,
    published_catalog: str,
    example_dists: dict[str, Path],
    tmp_path: Path,
) -> None:
    quiet = ok(run("flags", "csv-dedupe", token=published_catalog))
    assert "no anomaly flags" in quiet.stderr

    hooked = repack(example_dists["csv-dedupe:wheel"], tmp_path, version="1.1.0", mutate=_hook)
    assert upload(http, published_catalog, hooked).status_code == 200

    table = ok(run("flags", "csv-dedupe", token=published_catalog))
    assert "flags of csv-dedupe" in table.stderr and "install_time_code" in table.stderr
    assert "zz_csv_dedupe.pth" in table.stderr and table.stdout == ""
    data = json.loads(ok(run("flags", "csv-dedupe", "--json", token=published_catalog)).stdout)
    [flag] = data["flags"]
    assert flag["kind"] == "install_time_code" and flag["detail"]["pth"] == ["zz_csv_dedupe.pth"]

    refused = run("flags", token=published_catalog)  # every flag: admins only
    assert refused.exit_code == 8 and "only a hub admin" in refused.stderr
    admin = token_for(live, "root", admin=True)
    every = json.loads(ok(run("flags", "--json", token=admin)).stdout)
    assert [f["component"] for f in every["flags"]] == ["csv-dedupe"]
    stranger = run("flags", "csv-dedupe", token=token_for(live, "eve"))
    assert stranger.exit_code != 0
