"""Every `pysetl-hub` command against a real hub on loopback (click's runner, real HTTP)."""

from __future__ import annotations

import json
import re
import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import Result

from pysetl_hub.config import Config
from tests.support.live import LiveServer
from tests.support.postgres import free_port


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def test_search_and_json(run) -> None:  # type: ignore[no-untyped-def]
    r = ok(run("search", "csv"))
    assert "csv-dedupe" in r.stderr and r.stdout == ""  # tables go to stderr
    data = json.loads(ok(run("search", "csv-dedupe", "--json")).stdout)
    assert data["hits"][0]["name"] == "csv-dedupe" and data["hits"][0]["exact"]
    every = json.loads(ok(run("search", "", "--json")).stdout)
    assert {h["name"] for h in every["hits"]} == {"csv-dedupe", "daily-sales-pipeline"}
    compat = json.loads(
        ok(run("search", "", "--compatible", "--spark-version", "3.4", "--json")).stdout
    )
    assert [h["name"] for h in compat["hits"]] == ["csv-dedupe"]  # the pipeline needs 3.5+
    assert "no component matches" in ok(run("search", "zzzz")).stderr


def test_info_and_versions(run) -> None:  # type: ignore[no-untyped-def]
    r = ok(run("info", "csv-dedupe"))
    assert "factory CsvDedupe = csv_dedupe:CsvDedupe" in r.stderr
    assert "Spark : 3.3.4 ✗  3.4.4 ✓" in r.stderr and "owners: alice" in r.stderr
    release = json.loads(ok(run("info", "csv-dedupe==1.0.0", "--json")).stdout)
    assert release["version"] == "1.0.0" and release["compatibility"]["pyspark"] == "<4,>=3.4"
    v = json.loads(ok(run("versions", "csv-dedupe", "--pysetl-version", "1.1.0", "--json")).stdout)
    assert v["versions"][0]["fits"] is False
    assert v["versions"][0]["why_not"] == "needs pysetl<2,>=1.2, you have 1.1.0"
    assert "fits" in ok(run("versions", "csv-dedupe")).stderr


def test_install_dry_run_and_download(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = json.loads(
        ok(run("install", "csv-dedupe", "--dry-run", "--json", "--spark-version", "3.5")).stdout
    )
    assert [i["name"] for i in plan["install"]] == ["csv-dedupe"]
    assert sorted(plan["external"]) == ["pysetl<2,>=1.2", "pyspark<4,>=3.4"]
    assert plan["environment"]["pyspark"] == "3.5"
    out = json.loads(ok(run("download", "csv-dedupe", "-d", str(tmp_path / "d"), "--json")).stdout)
    saved = Path(out["files"][0])
    assert saved.parent == tmp_path / "d" and saved.name == "csv_dedupe-1.0.0-py3-none-any.whl"
    import hashlib

    assert hashlib.sha256(saved.read_bytes()).hexdigest() == out["install"][0]["sha256"]


def test_errors_print_a_hint_and_a_documented_exit_code(run, live: LiveServer) -> None:  # type: ignore[no-untyped-def]
    r = run("info", "nope")
    assert r.exit_code == 3 and "error:" in r.stderr and "hint:" in r.stderr
    r = run("install", "csv-dedupe", "--spark-version", "4.0", "--dry-run")
    assert r.exit_code == 4
    assert "1.0.0: needs pyspark<4,>=3.4, you have 4.0" in r.stderr
    r = run("yank", "csv-dedupe", "1.0.0")
    assert r.exit_code == 8 and "pysetl-hub login" in r.stderr
    r = run("--url", f"http://127.0.0.1:{free_port()}", "info", "csv-dedupe")
    assert r.exit_code == 7 and "could not reach" in r.stderr
    assert run("install").exit_code == 2  # usage error


def test_login_config_logout(run, config: Config, published_catalog: str, live: LiveServer) -> None:  # type: ignore[no-untyped-def]
    ok(run("login", input=published_catalog + "\n"))
    mode = stat.S_IMODE(config.path.stat().st_mode)
    assert mode == 0o600
    stored = tomllib.loads(config.path.read_text())
    assert stored["tokens"] == {config.url: published_catalog}
    shown = json.loads(ok(run("config", "--json")).stdout)
    assert shown["url"] == config.url
    assert shown["token"] != published_catalog and published_catalog not in json.dumps(shown)
    # the stored token is used: yank works without PYSETL_HUB_TOKEN
    assert "yanked" in ok(run("yank", "csv-dedupe", "1.0.0", "--reason", "oops")).stderr
    assert "not yanked" in ok(run("unyank", "csv-dedupe", "1.0.0")).stderr
    ok(run("config", "installer", "uv"))
    assert json.loads(ok(run("config", "installer", "--json")).stdout) == {"installer": "uv"}
    assert run("config", "colour", "red").exit_code == 1
    assert "token removed" in ok(run("logout")).stderr
    assert "tokens" not in tomllib.loads(config.path.read_text())
    # another hub's origin never gets this hub's token
    ok(run("login", input=live.user_with_token("bob") + "\n"))
    other = Config.load(url="http://127.0.0.1:1", path=config.path, env={})
    assert other.token is None


def test_publish(run, example_dists: dict[str, Path], published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    wheel = example_dists["daily-sales-pipeline:wheel"]
    sdist = example_dists["daily-sales-pipeline:sdist"]
    r = ok(run("publish", str(wheel), str(sdist), "--json", token=published_catalog))
    results = json.loads(r.stdout)
    assert [x["created"] for x in results] == [False, True]
    r = run("publish", str(wheel), token=None)
    assert r.exit_code == 8


def test_publish_skip_existing_skips_only_a_taken_filename(  # type: ignore[no-untyped-def]
    run, example_dists: dict[str, Path], published_catalog: str, tmp_path: Path
) -> None:
    from tests.support.dists import repack

    wheel = example_dists["csv-dedupe:wheel"]
    other = repack(
        wheel, tmp_path / "o", mutate=lambda m: m.__setitem__("csv_dedupe/x.py", b"# other\n")
    )
    assert other.name == wheel.name
    r = run("publish", str(other), token=published_catalog)
    assert r.exit_code == 1 and "file.exists" in r.stderr
    r = ok(run("publish", str(other), "--skip-existing", token=published_catalog))
    assert "skipped" in r.stderr
    # The same bytes under another (valid) name is not "already published": still refused.
    renamed = tmp_path / "csv_dedupe-1.0.0-1-py3-none-any.whl"
    renamed.write_bytes(wheel.read_bytes())
    r = run("publish", str(renamed), "--skip-existing", token=published_catalog)
    assert r.exit_code == 1 and "file.duplicate_content" in r.stderr


def test_publish_sends_attestation_files(  # type: ignore[no-untyped-def]
    run, example_dists: dict[str, Path], published_catalog: str, tmp_path: Path, sigstore
) -> None:
    """As twine --attestations: the files beside the dist go up as one JSON list, and the hub
    verifies them against the component's trusted publisher."""
    from tests.support import sigstore_instance as sig
    from tests.support.dists import repack

    wheel = repack(example_dists["csv-dedupe:wheel"], tmp_path, version="1.0.1")
    r = run("publish", "--attestations", str(wheel), token=published_catalog)
    assert r.exit_code == 1 and "no csv_dedupe-1.0.1-py3-none-any.whl.*.attestation" in r.stderr
    sigstore.write(wheel, sig.Signing(sig.github("acme/csv-dedupe", "release.yml")))
    r = run("publish", "--attestations", str(wheel), token=published_catalog)
    assert r.exit_code == 1 and "attestation.publisher" in r.stderr and not r.stdout
    assert "no trusted publisher" in r.stderr
    ok(
        run(
            "publishers", "add", "csv-dedupe", "github:acme/csv-dedupe/release.yml",
            token=published_catalog,
        )
    )  # fmt: skip
    ok(run("publish", "--attestations", str(wheel), token=published_catalog))
    r = ok(run("info", "csv-dedupe", "--json"))
    files = json.loads(r.stdout)["files"]
    assert files[0]["signer"]["repository"] == "acme/csv-dedupe"


def test_publishers_commands(run, published_catalog: str) -> None:  # type: ignore[no-untyped-def]
    spec = "github:acme/csv-dedupe/release.yml"
    assert (
        run("publishers", "add", "csv-dedupe", "acme/csv-dedupe", token=published_catalog).exit_code
        == 2
    )
    ok(
        run(
            "publishers", "add", "csv-dedupe", spec, "--environment", "hub", token=published_catalog
        )
    )
    listing = json.loads(ok(run("publishers", "list", "csv-dedupe", "--json")).stdout)
    (entry,) = listing["publishers"]
    assert entry["spec"] == spec and entry["publisher"]["environment"] == "hub"
    r = ok(run("publishers", "require", "csv-dedupe", token=published_catalog))
    assert "unsigned uploads: refused" in r.stderr
    r = ok(run("publishers", "remove", "csv-dedupe", str(entry["id"]), token=published_catalog))
    assert spec not in r.stderr
    assert (
        run(
            "publishers", "remove", "csv-dedupe", str(entry["id"]), token=published_catalog
        ).exit_code
        == 3
    )
    ok(run("publishers", "require", "csv-dedupe", "--off", token=published_catalog))


def test_publish_attest_outside_ci_is_a_clear_error(  # type: ignore[no-untyped-def]
    run, example_dists: dict[str, Path], published_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ambient OIDC credential here (the variables CI would set are removed)."""
    for var in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "GITLAB_CI", "SIGSTORE_ID_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_NAME", "")
    r = run("publish", "--attest", str(example_dists["csv-dedupe:wheel"]), token=published_catalog)
    assert r.exit_code == 1
    assert "no ambient OIDC credential" in r.stderr and "id-token: write" in r.stderr
    assert "hint:" in r.stderr


def assert_locale_neutral(readme: str) -> None:
    """The README's sample data reads the same in every locale, and it says how to read data
    written the local way."""
    sample = readme.split("```csv\n", 1)[1].split("```", 1)[0].splitlines()
    header, rows = sample[0].split(","), [line.split(",") for line in sample[1:]]
    assert len(rows) >= 2 and all(len(row) == len(header) for row in rows)  # no 1,5 decimals
    cells = [cell for row in rows for cell in row]
    assert any(re.fullmatch(r"\d+\.\d+", c) for c in cells)  # a dot as decimal separator
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c) for c in cells)  # ISO 8601 dates
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", c) for c in cells)
    for cell in cells:  # no local dates, thousands separators or currency symbols
        assert not re.search(r"\d+/\d+|\d\.\d{3}\.|[€$£¥]", cell), cell
        assert re.fullmatch(r"[a-z]+|\d+(\.\d+)?|[\dTZ:-]+", cell), cell
    assert "dateFormat" in readme and "timestampFormat" in readme
    assert "decimal separator" in readme and "`locale`" in readme
    assert "spark.sql.session.timeZone" in readme


def test_new_scaffolds_a_buildable_project(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok(run("new", "factory", "my-dedupe", "--dir", str(tmp_path)))
    root = tmp_path / "my-dedupe"
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pysetl.factories"] == {
        "MyDedupe": "my_dedupe:MyDedupe"
    }
    assert any(d.startswith("pysetl") for d in pyproject["project"]["dependencies"])
    assert "class MyDedupe(Factory[DataFrame])" in (root / "src/my_dedupe/__init__.py").read_text()
    assert (root / "tests/test_my_dedupe.py").exists() and (root / "README.md").exists()
    workflow = (root / ".github/workflows/publish.yml").read_text()
    assert "id-token: write" in workflow and "pysetl-hub publish --attest dist/" in workflow
    assert "secrets." not in workflow and "PYSETL_HUB_TOKEN" not in workflow  # trusted publishing
    assert "pysetl-hub publishers add my-dedupe github:" in (root / "README.md").read_text()
    assert_locale_neutral((root / "README.md").read_text())
    ok(run("new", "pipeline", "nightly_totals", "--dir", str(tmp_path)))
    code = (tmp_path / "nightly-totals/src/nightly_totals/__init__.py").read_text()
    assert "class NightlyTotals(Pipeline)" in code
    assert_locale_neutral((tmp_path / "nightly-totals/README.md").read_text())
    assert run("new", "factory", "my-dedupe", "--dir", str(tmp_path)).exit_code == 1
    assert run("new", "factory", "9bad!", "--dir", str(tmp_path)).exit_code == 1
