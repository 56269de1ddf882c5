"""docker-compose.yml (the reference topology) and compose.dev.yml (the same on a laptop),
checked without a Docker engine: the compose model parsed with PyYAML (anchors and merge keys
resolved as compose resolves them), the secrets made by the real generator script, and the
hub's environment run through the real `Settings.from_env` and production checks."""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pysetl_hub_server.security.production import check_production
from pysetl_hub_server.settings import Settings
from tests.deploy.names import settings_variables

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION, DEV = ROOT / "docker-compose.yml", ROOT / "compose.dev.yml"
FILES = [PRODUCTION, DEV]
TOPOLOGY = {"nginx", "hub-1", "hub-2", "migrate", "db", "redis", "minio", "buckets", "meilisearch"}
REPLICAS = ("hub-1", "hub-2")
ONE_SHOT = {"migrate", "buckets"}
GENERATOR = ROOT / "deploy" / "secrets" / "generate.sh"
# An environment variable with one of these in its name holds a secret (or a URL that may carry
# one), so it may only appear as its *_FILE form.
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|_KEY_ID\b|MASTER_KEY|DATABASE_URL|REDIS_URL")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s@:]*:[^/\s@]+@")


def load(path: Path) -> dict[str, Any]:
    model: dict[str, Any] = yaml.safe_load(path.read_text())
    return model


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def every_string(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from every_string(value)
    elif isinstance(node, list):
        for item in node:
            yield from every_string(item)


@pytest.fixture(params=FILES, ids=lambda p: p.name)
def compose(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every secret file, made by the script `make secrets` runs."""
    target = tmp_path_factory.mktemp("secrets") / "generated"
    subprocess.run(["sh", str(GENERATOR), "--dev-cert", str(target)], check=True, timeout=60)
    return target


def test_both_files_have_the_same_topology(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == TOPOLOGY


def test_only_nginx_publishes_a_port_in_the_reference_topology() -> None:
    services = load(PRODUCTION)["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert not any(s.get("network_mode") == "host" for s in services.values())
    for port in services["nginx"]["ports"]:
        assert str(port).split(":")[-1] in ("80", "443"), port


def test_the_dev_file_publishes_on_loopback_only() -> None:
    for name, service in load(DEV)["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and check["test"] != ["NONE"], f"{name} has no health check"
        assert not check.get("disable"), name


def test_the_hub_services_are_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for name in (*REPLICAS, "migrate"):
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert services[name]["image"], name
        assert services[name].get("read_only") is True, name
        # A read-only root: the server writes only to the image's data volume and /tmp.
        image_data_dir = re.findall(r"PYSETL_HUB_DATA_DIR=(\S+)", dockerfile)[-1]
        assert environment(services[name])["PYSETL_HUB_DATA_DIR"] == image_data_dir
        assert re.search(rf'^VOLUME .*"{image_data_dir}"', dockerfile, re.M), image_data_dir
        assert "/tmp" in services[name]["tmpfs"], name
    for name in REPLICAS:
        assert services[name]["command"][:2] == ["pysetl-hub-server", "serve"]
    assert services["migrate"]["command"] == ["pysetl-hub-server", "db", "upgrade"]


def test_migrations_run_once_before_the_replicas_start(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in REPLICAS:
        needs = {dep: cond["condition"] for dep, cond in services[name]["depends_on"].items()}
        assert needs["migrate"] == "service_completed_successfully", name
        assert needs["buckets"] == "service_completed_successfully", name
        for part in ("db", "redis", "minio", "meilisearch"):
            assert needs[part] == "service_healthy", (name, part)
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["buckets"]["depends_on"]["minio"]["condition"] == "service_healthy"
    for name in REPLICAS:  # nginx sends traffic only to replicas that answer /readyz
        assert services["nginx"]["depends_on"][name]["condition"] == "service_healthy"
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])


def test_nginx_gets_its_config_and_certificate_from_the_repository_layout(
    compose: dict[str, Any],
) -> None:
    nginx = compose["services"]["nginx"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in nginx["volumes"]}
    source = mounts["/etc/nginx/nginx.conf"]
    assert (ROOT / source).resolve() == ROOT / "deploy" / "nginx" / "nginx.conf"
    assert all(m.endswith(":ro") for m in nginx["volumes"])
    conf = (ROOT / source).read_text()
    for name in ("tls_cert", "tls_key"):
        assert name in nginx["secrets"] and f"/run/secrets/{name};" in conf
    upstream = re.search(r"upstream hub \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream.group(1), re.M)
    assert sorted(servers) == [(name, "8000") for name in REPLICAS]


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for var, value in environment(service).items():
            if SECRETISH.search(var):
                assert var.endswith("_FILE"), f"{name}: {var} holds a literal secret"
                assert value.startswith("/run/secrets/"), (name, var, value)
            assert not CREDENTIALS_IN_URL.search(value), (name, var)
        argv = [*service.get("command", []), *service.get("entrypoint", [])]
        for arg in argv if isinstance(argv, list) else shlex.split(argv):
            assert not re.search(r"--(requirepass|pass(word)?)\b", arg), (name, arg)
            assert not CREDENTIALS_IN_URL.search(arg), (name, arg)
    for text in every_string(compose):
        assert not CREDENTIALS_IN_URL.search(text), text


def test_every_secret_file_is_one_the_script_makes_and_git_ignores(
    compose: dict[str, Any], generated: Path
) -> None:
    declared = compose["secrets"]
    made = {p.name for p in generated.iterdir()}
    for name, spec in declared.items():
        path = Path(spec["file"])
        assert path.parts[:3] == ("deploy", "secrets", "generated"), (name, path)
        assert path.name in made, f"{path} is not made by {GENERATOR.name}"
        ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} is not ignored by git"
    for name, service in compose["services"].items():
        given = set(service.get("secrets", []))
        assert given <= set(declared), (name, given - set(declared))
        for var, value in environment(service).items():
            if var.endswith("_FILE"):
                assert value.removeprefix("/run/secrets/") in given, (name, var)
        for text in every_string([service.get("command"), service.get("entrypoint"),
                                  service.get("healthcheck")]):  # fmt: skip
            for used in re.findall(r"/run/secrets/(\w+)", text):
                assert used in given, (name, used)


def test_the_generated_secrets_are_random_and_agree_with_each_other(
    generated: Path, tmp_path: Path
) -> None:
    read = {p.name: p.read_text().strip() for p in generated.iterdir()}
    assert read["database_url"].endswith(f":{read['postgres_password']}@db:5432/hub")
    assert read["redis_url"] == f"redis://:{read['redis_password']}@redis:6379/0"
    assert f">{read['redis_password']} " in read["redis_acl"]
    assert len(read["meili_master_key"]) >= 32 and len(read["metrics_token"]) >= 32
    assert (generated.stat().st_mode & 0o777) == 0o700
    again = tmp_path / "again"
    subprocess.run(["sh", str(GENERATOR), str(again)], check=True, timeout=60)
    assert (again / "postgres_password").read_text() != (
        generated / "postgres_password"
    ).read_text()
    before = (again / "postgres_password").read_text()
    subprocess.run(["sh", str(GENERATOR), str(again)], check=True, timeout=60)
    assert (again / "postgres_password").read_text() == before  # never replaced


def test_every_hub_variable_is_one_the_settings_read(compose: dict[str, Any]) -> None:
    known = settings_variables()
    for name, service in compose["services"].items():
        for var in environment(service):
            if var.startswith("PYSETL_HUB_"):
                assert var in known, f"{name}: {var} is not read by Settings.from_env"


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}; $$ is a literal $."""

    def one(match: re.Match[str]) -> str:
        var, op, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        if given.get(var):
            return given[var]
        if op == ":?":
            raise KeyError(f"{var} must be set: {rest}")
        return rest

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value).replace("$$", "$")


def hub_env(compose: dict[str, Any], secrets: Path, given: dict[str, str]) -> dict[str, str]:
    env = {k: interpolate(v, given) for k, v in environment(compose["services"]["hub-1"]).items()}
    return {k: v.replace("/run/secrets/", f"{secrets}/") for k, v in env.items()}


def test_the_reference_hub_would_start_in_production(generated: Path) -> None:
    compose = load(PRODUCTION)
    with pytest.raises(KeyError, match="PYSETL_HUB_BASE_URL"):
        hub_env(compose, generated, {})  # `docker compose up` refuses without the public URL
    env = hub_env(compose, generated, {"PYSETL_HUB_BASE_URL": "https://hub.example.org"})
    settings = Settings.from_env(env)
    check_production(settings)  # raises on any insecure or missing production setting
    assert settings.production and settings.log_format == "json"
    assert settings.database_url == (generated / "database_url").read_text().strip()
    assert settings.storage_url == "s3://pysetl-hub/blobs"
    assert settings.storage_access_key_id == (generated / "s3_access_key_id").read_text().strip()
    assert settings.redis_url and settings.search_key and settings.metrics_token
    bucket = environment(compose["services"]["buckets"])["BUCKET"]
    assert settings.storage_url.removeprefix("s3://").split("/")[0] == bucket
    # The hub's MinIO user may reach that bucket, and no other.
    policy = json.loads((ROOT / "deploy" / "minio" / "hub-policy.json").read_text())
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    endpoint = settings.storage_endpoint or ""
    host = re.sub(r"^\w+://|:\d+$", "", endpoint)
    assert host in compose["services"], endpoint
    search_host = re.sub(r"^\w+://|:\d+$", "", settings.search_url or "")
    assert search_host in compose["services"]


def test_the_dev_hub_starts_in_development(generated: Path) -> None:
    env = hub_env(load(DEV), generated, {})
    settings = Settings.from_env(env)
    check_production(settings)
    assert not settings.production
    assert settings.base_url == "https://localhost:8443"


def test_the_hubs_believe_only_nginx_about_the_client(compose: dict[str, Any]) -> None:
    """Per-IP limits and audit IPs behind the proxy: the replicas trust X-Forwarded-For from
    nginx's fixed address alone, which sits in the network the file declares."""
    nginx = compose["services"]["nginx"]["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(nginx) in ipaddress.ip_network(subnet)
    for name, service in compose["services"].items():
        if name.startswith("hub-"):
            assert environment(service)["PYSETL_HUB_TRUSTED_PROXIES"] == nginx
