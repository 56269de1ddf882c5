"""HubClient and AsyncHubClient against a real hub, and the transport rules (retries, redirects)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from pathlib import Path

import msgspec
import pytest

from pysetl_hub import errors
from pysetl_hub.client import AsyncHubClient, HubClient
from pysetl_hub.config import Config
from pysetl_hub.core import retry_after, retry_delay
from pysetl_hub_schemas import FileInfo, Problem
from tests.support.live import LiveServer
from tests.support.scripted import Reply, scripted_server


def test_reads(client: HubClient, example_dists: dict[str, Path]) -> None:
    c = client.component("CSV_Dedupe")  # any spelling of the name
    assert c.name == "csv-dedupe" and c.owners == ["alice"] and c.versions == ["1.0.0"]
    assert client.versions("csv-dedupe") == ["1.0.0"]
    r = client.release("csv-dedupe", "1.0")
    assert r.version == "1.0.0" and r.kinds == ["factory"]
    assert any(d.startswith("pysetl") for d in r.requires_dist)
    hits = client.search("csv-dedupe").hits
    assert hits[0].name == "csv-dedupe" and hits[0].exact
    assert [h.name for h in client.search("daily", kind="pipeline").hits] == [
        "daily-sales-pipeline"
    ]
    assert client.search("csv", kind="pipeline").hits == []


def test_resolve_against_the_hub(client: HubClient) -> None:
    from pysetl_hub.environment import Environment

    env = Environment.probe().override(pysetl="1.2.1", pyspark="3.5.1")
    plan = client.resolve("csv-dedupe>=1", env)
    assert [(p.name, p.version) for p in plan.picks] == [("csv-dedupe", "1.0.0")]
    assert sorted(plan.external) == ["pysetl<2,>=1.2", "pyspark<4,>=3.4"]
    with pytest.raises(errors.ResolutionError) as info:
        client.resolve("daily-sales-pipeline", env.override(python_version="3.9"))
    assert "needs Python >=3.10, you have 3.9" in str(info.value)
    with pytest.raises(errors.ResolutionError, match="not on this hub"):
        client.resolve("no-such-thing", env)


def test_error_tree(client: HubClient, live: LiveServer, config: Config) -> None:
    with pytest.raises(errors.NotFound) as nf:
        client.component("no-such-component")
    assert nf.value.status == 404 and nf.value.problem.code == "component.missing"
    assert "pysetl-hub search" in nf.value.diagnostics()
    anonymous = HubClient(Config(url=live.url, cache_dir=config.cache_dir, path=config.path))
    with pytest.raises(errors.Unauthorized):
        anonymous.yank("csv-dedupe", "1.0.0")
    bob = HubClient(
        Config(
            url=live.url,
            token=live.user_with_token("bob"),
            cache_dir=config.cache_dir,
            path=config.path,
        )
    )
    with pytest.raises(errors.Forbidden):
        bob.yank("csv-dedupe", "1.0.0", "not mine")
    with pytest.raises(errors.Invalid) as inv:
        client.yank("csv-dedupe", "1.0.0", "x" * 600)
    assert inv.value.status == 400


def test_me_names_the_token_owner(config: Config, live: LiveServer) -> None:
    with HubClient(config) as client:
        me = client.me()
    assert me.username == "alice" and me.token.component is None
    assert me.token.id == (config.token or "").split("_")[1]

    async def go() -> None:
        async with AsyncHubClient(config) as client:
            assert (await client.me()) == me
        async with AsyncHubClient(replace(config, token=None)) as anonymous:
            with pytest.raises(errors.NotLoggedIn):
                await anonymous.me()

    asyncio.run(go())
    bad = HubClient(replace(config, token="pshub_" + "0" * 16 + "_" + "x" * 43))
    with bad, pytest.raises(errors.Unauthorized) as info:
        bad.me()
    assert info.value.status == 401 and info.value.problem.code == "auth.invalid"
    anonymous = HubClient(replace(config, token=None))
    with anonymous, pytest.raises(errors.NotLoggedIn) as missing:
        anonymous.me()
    assert "HTTP" not in str(missing.value) and "pysetl-hub login" in missing.value.hint


def test_download_checks_sha256_while_streaming(client: HubClient, tmp_path: Path) -> None:
    f = client.release("csv-dedupe", "1.0.0").files[0]
    path = client.download(f, tmp_path / "ok")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == f.hashes["sha256"]
    tampered = msgspec.structs.replace(f, hashes={"sha256": "0" * 64})
    with pytest.raises(errors.IntegrityError) as info:
        client.download(tampered, tmp_path / "bad")
    assert info.value.expected == "0" * 64 and info.value.actual == f.hashes["sha256"]
    assert list((tmp_path / "bad").iterdir()) == []  # the partial file is gone


def test_publish_yank_unyank(
    client: HubClient, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    wheel = example_dists["daily-sales-pipeline:wheel"]
    again = client.publish(wheel)  # same bytes again: accepted, nothing new (as PyPI)
    assert again.created is False
    sdist = example_dists["daily-sales-pipeline:sdist"]
    seen: list[int] = []
    result = client.publish(sdist, progress=seen.append)
    assert result.created and sum(seen) == sdist.stat().st_size
    assert client.yank("daily-sales-pipeline", "0.3.0", "bad totals").yanked
    assert client.release("daily-sales-pipeline", "0.3.0").yanked_reason == "bad totals"
    assert not client.unyank("daily-sales-pipeline", "0.3.0").yanked
    bogus = tmp_path / wheel.name
    bogus.write_bytes(wheel.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(errors.HubError):  # a broken zip never reaches the hub
        client.publish(bogus)


def test_publish_conflict(
    client: HubClient, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    from tests.support.dists import repack

    original = example_dists["csv-dedupe:wheel"]

    def touch(m: dict[str, bytes]) -> None:
        m["csv_dedupe/extra.txt"] = b"different bytes"

    changed = repack(original, tmp_path, name="csv-dedupe", version="1.0.0", mutate=touch)
    assert changed.name == original.name
    with pytest.raises(errors.Conflict) as info:
        client.publish(changed)
    assert "bump the version" in info.value.diagnostics()


def test_async_client_same_answers(config: Config, tmp_path: Path) -> None:
    async def go() -> None:
        async with AsyncHubClient(config) as ac:
            c = await ac.component("csv-dedupe")
            assert (await ac.versions("csv-dedupe")) == c.versions
            assert (await ac.search("csv")).hits[0].name == "csv-dedupe"
            f = c.releases[0].files[0]
            path = await ac.download(f, tmp_path / "a")
            assert hashlib.sha256(path.read_bytes()).hexdigest() == f.hashes["sha256"]
            with pytest.raises(errors.IntegrityError):
                await ac.download(
                    msgspec.structs.replace(f, hashes={"sha256": "1" * 64}), tmp_path / "b"
                )
            assert list((tmp_path / "b").iterdir()) == []
            with pytest.raises(errors.NotFound):
                await ac.release("csv-dedupe", "9.9.9")
            from pysetl_hub.environment import Environment

            env = Environment.probe().override(pysetl="1.2.1", pyspark="3.5.1")
            plan = await ac.resolve(["csv-dedupe", "daily-sales-pipeline"], env)
            assert [p.name for p in plan.picks] == ["csv-dedupe", "daily-sales-pipeline"]
            with pytest.raises(errors.ResolutionError, match="not on this hub"):
                await ac.resolve("nope", env)
            r = await ac.yank("csv-dedupe", "1.0.0", "async")
            assert r.yanked and not (await ac.unyank("csv-dedupe", "1.0.0")).yanked

    asyncio.run(go())


# -- transport: real loopback servers that misbehave on purpose -------------------------------


def _problem(status: int) -> bytes:
    return msgspec.json.encode(Problem(status=status, title="x", detail="busy"))


def test_retries_on_503_and_honours_retry_after(tmp_path: Path) -> None:
    body = msgspec.json.encode({"query": "", "hits": [], "total": 0, "page": 1, "per_page": 20})
    replies = [
        Reply(503, _problem(503), {"Retry-After": "2"}),
        Reply(502, b"bad gateway"),
        Reply(200, body, {"Content-Type": "application/json"}),
    ]
    slept: list[float] = []
    with scripted_server(replies) as server:
        cfg = Config(url=server.url, retries=3, cache_dir=tmp_path, path=tmp_path / "c.toml")
        with HubClient(cfg, sleep=slept.append) as c:
            assert c.search("").total == 0
    assert slept == [2.0, 0.5]  # Retry-After, then the backoff for the second attempt
    assert len(server.paths) == 3


def test_gives_up_after_the_retries(tmp_path: Path) -> None:
    with scripted_server([Reply(503, _problem(503))] * 3) as server:
        cfg = Config(url=server.url, retries=2, cache_dir=tmp_path, path=tmp_path / "c.toml")
        with HubClient(cfg, sleep=lambda _: None) as c, pytest.raises(errors.APIError) as info:
            c.search("")
    assert info.value.status == 503 and len(server.paths) == 3


def test_connection_refused_is_a_transport_error(tmp_path: Path) -> None:
    from tests.support.postgres import free_port

    cfg = Config(
        url=f"http://127.0.0.1:{free_port()}", retries=1, cache_dir=tmp_path, path=tmp_path / "c"
    )
    with HubClient(cfg, sleep=lambda _: None) as c, pytest.raises(errors.TransportError) as info:
        c.component("x")
    assert info.value.attempts == 2 and "check the hub URL" in info.value.diagnostics()


def test_a_slow_hub_times_out(tmp_path: Path) -> None:
    with scripted_server([Reply(200, b"{}", delay=2.0)] * 2) as server:
        cfg = Config(
            url=server.url, timeout=0.3, retries=1, cache_dir=tmp_path, path=tmp_path / "c"
        )
        with HubClient(cfg, sleep=lambda _: None) as c, pytest.raises(errors.TransportError):
            c.component("x")
    assert len(server.paths) == 2  # a timeout is retried like any connection failure


def test_token_never_follows_a_redirect_to_another_origin(tmp_path: Path) -> None:
    body = msgspec.json.encode({"name": "x", "version": "1.0"})
    with scripted_server([Reply(200, body)]) as elsewhere:
        moved = Reply(307, b"", {"Location": f"{elsewhere.url}/api/v1/components/x/1.0/yank"})
        with scripted_server([moved]) as hub:
            cfg = Config(url=hub.url, token="pshub_secret", cache_dir=tmp_path, path=tmp_path / "c")
            with HubClient(cfg) as c:
                c.yank("x", "1.0")
    assert hub.seen[0]["authorization"] == "Bearer pshub_secret"
    assert "authorization" not in elsewhere.seen[0]


def test_download_from_another_origin_gets_no_token(tmp_path: Path) -> None:
    data = b"wheel bytes"
    with scripted_server([Reply(200, data)]) as cdn:
        f = FileInfo(
            filename="x-1.0-py3-none-any.whl",
            url=f"{cdn.url}/x-1.0-py3-none-any.whl",
            packagetype="bdist_wheel",
            size=len(data),
            hashes={"sha256": hashlib.sha256(data).hexdigest()},
            upload_time="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
        )
        cfg = Config(url="http://127.0.0.1:9", token="pshub_t", cache_dir=tmp_path, path=tmp_path)
        with HubClient(cfg) as c:
            assert c.download(f, tmp_path / "d").read_bytes() == data
    assert "authorization" not in cdn.seen[0]
    assert cdn.seen[0]["user-agent"].startswith("pysetl-hub/")


def test_retry_arithmetic() -> None:
    assert retry_delay(0, 404) is None and retry_delay(0, 200) is None
    assert retry_delay(0, None) == 0.25 and retry_delay(10, None) == 8.0
    assert retry_delay(0, 503, "7") == 7.0 and retry_delay(0, 503, "9999") == 60.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == 10.0
    assert retry_after("soon") is None
