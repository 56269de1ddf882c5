"""deploy/kubernetes, rendered offline with the real `kubectl kustomize`, every object checked
against the Kubernetes 1.33 schemas (kubernetes-validate, bundled, strict: an unknown field is
an error), then the rules a schema cannot say: probes, resources, a locked-down pod, selectors
that meet, the migration Job, secrets only as files, and settings the server reads."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.names import settings_variables
from tests.support.parts import missing

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
GENERATOR = ROOT / "deploy" / "secrets" / "generate.sh"
VERSION = "1.33.0"
OVERLAYS = ("production", "dev")
SECRET_DIR = "/run/secrets/pysetl-hub"


def image_facts() -> tuple[int, str, int]:
    """The Dockerfile's user id, data directory and port: the pods must agree with the image."""
    text = (ROOT / "Dockerfile").read_text()
    user = re.findall(r"^USER (\d+)", text, re.M)[-1]
    data_dir = re.findall(r"PYSETL_HUB_DATA_DIR=(\S+)", text)[-1]
    port = re.findall(r"^EXPOSE (\d+)", text, re.M)[-1]
    return int(user), data_dir, int(port)


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        missing("kubectl", "install kubectl (it renders kustomize offline)")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Each overlay's objects. The dev overlay generates its Secrets from gitignored files,
    made here in a copy by the script a developer runs."""
    copy = tmp_path_factory.mktemp("k8s") / "kubernetes"
    shutil.copytree(KUBERNETES, copy, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run(
        ["sh", str(GENERATOR), "--dev-cert", str(copy / "overlays" / "dev" / "secrets")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    out = {}
    for overlay in OVERLAYS:
        done = subprocess.run(
            [kubectl(), "kustomize", str(copy / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        out[overlay] = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    return out


@pytest.fixture(params=OVERLAYS)
def objects(request: pytest.FixtureRequest, rendered: dict[str, list[dict[str, Any]]]) -> list[Any]:
    return rendered[request.param]


def one(objects: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [
        o
        for o in objects
        if o["kind"] == kind
        and (
            component is None
            or o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        )
    ]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def test_every_object_is_valid_against_the_kubernetes_schemas(objects: list[Any]) -> None:
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "Ingress", "ConfigMap", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "Job", "NetworkPolicy", "Namespace"} <= kinds  # fmt: skip
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}"
            )


def test_the_validator_rejects_what_it_should(objects: list[Any]) -> None:
    """The check above is not vacuous: a misspelt field fails it."""
    deployment = one(objects, "Deployment")
    bad = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSION, strict=True)


def pod_containers(obj: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    pod = obj["spec"]["template"]["spec"]
    return pod, pod["containers"]


def test_the_pods_are_locked_down(objects: list[Any]) -> None:
    uid, data_dir, _ = image_facts()
    for obj in (one(objects, "Deployment"), one(objects, "Job")):
        pod, containers = pod_containers(obj)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid  # the image's own user
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod.get("automountServiceAccountToken") is False
        for container in containers:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc["seccompProfile"]["type"] == "RuntimeDefault"
            assert sc.get("runAsNonRoot", True) and sc.get("runAsUser", uid) == uid
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), kind
            # A read-only root: the server writes only to its data dir and /tmp, both emptyDir.
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["volumes"]}
            assert env_names(container, objects)["PYSETL_HUB_DATA_DIR"] == data_dir
            for path in ("/tmp", data_dir):
                assert "emptyDir" in volumes[mounts[path]], path


def test_the_deployment_probes_and_rolls_gracefully(objects: list[Any]) -> None:
    deployment = one(objects, "Deployment")
    _, (hub,) = pod_containers(deployment)
    # A shared outage must not empty the Service: the cached pages keep serving.
    assert hub["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert hub["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert hub["startupProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"]: p["containerPort"] for p in hub["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert hub[probe]["httpGet"]["port"] in ports
    assert ports["http"] == image_facts()[2]
    assert env_names(hub, objects).get("PYSETL_HUB_PORT", str(ports["http"])) == str(ports["http"])
    assert hub["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > hub["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert hub["command"][:2] == ["pysetl-hub-server", "serve"]


def test_production_runs_several_replicas(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["production"]
    assert one(objects, "Deployment")["spec"]["replicas"] >= 2
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    configmap = one(objects, "ConfigMap")
    assert configmap["data"]["PYSETL_HUB_ENV"] == "production"
    assert configmap["data"]["PYSETL_HUB_BASE_URL"].startswith("https://")


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def test_selectors_meet_the_pods_they_mean(objects: list[Any]) -> None:
    deployment = one(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert matches(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    service = one(objects, "Service")
    assert matches(service["spec"]["selector"], pod_labels)
    job_labels = one(objects, "Job")["spec"]["template"]["metadata"]["labels"]
    assert not matches(service["spec"]["selector"], job_labels)  # no traffic to the Job
    pdb = one(objects, "PodDisruptionBudget")
    assert matches(pdb["spec"]["selector"]["matchLabels"], pod_labels)
    assert not matches(pdb["spec"]["selector"]["matchLabels"], job_labels)
    policy = one(objects, "NetworkPolicy")
    assert matches(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    hpa = one(objects, "HorizontalPodAutoscaler")["spec"]
    target = hpa["scaleTargetRef"]
    # Each apply resets the Deployment's replicas: at the HPA's floor, an apply never shrinks.
    assert deployment["spec"]["replicas"] == hpa["minReplicas"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert namespaces == {one(objects, "Namespace")["metadata"]["name"]}


def test_the_ingress_reaches_the_service_over_tls(objects: list[Any]) -> None:
    ingress, service = one(objects, "Ingress"), one(objects, "Service")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert backend["port"]["name"] in ports
    _, (hub,) = pod_containers(one(objects, "Deployment"))
    container_ports = {p["name"] for p in hub["ports"]}
    assert ports[backend["port"]["name"]]["targetPort"] in container_ports
    (tls,) = ingress["spec"]["tls"]
    assert rule["host"] in tls["hosts"] and tls["secretName"]
    size = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert size.endswith("m") and int(size[:-1]) > 50  # the hub's 50 MiB upload limit


def test_the_job_migrates_and_nothing_else(objects: list[Any]) -> None:
    job = one(objects, "Job")
    _, (container,) = pod_containers(job)
    assert container["command"] == ["pysetl-hub-server", "db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1
    _, (hub,) = pod_containers(one(objects, "Deployment"))
    assert container["image"] == hub["image"]  # migrates to the schema the pods expect


def env_names(container: dict[str, Any], objects: list[Any]) -> dict[str, str]:
    names = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        configmap = next(
            o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == ref
        )
        names.update(configmap["data"])
    return names


def test_secrets_are_files_and_every_variable_is_read_by_the_server(objects: list[Any]) -> None:
    known = settings_variables()
    secrets = [o for o in objects if o["kind"] == "Secret"]
    for obj in (one(objects, "Deployment"), one(objects, "Job")):
        pod, (container,) = pod_containers(obj)
        env = env_names(container, objects)
        for name, value in env.items():
            assert name.startswith("PYSETL_HUB_") and name in known, name
            if name.removesuffix("_FILE") + "_FILE" in known:  # a secret setting
                assert name.endswith("_FILE"), f"{name} must come from a file"
                assert value.startswith(f"{SECRET_DIR}/"), (name, value)
        assert not any("valueFrom" in e for e in container.get("env", []))  # not secretKeyRef
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == SECRET_DIR)
        assert mount["readOnly"] is True
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        secret_name = volume["secret"]["secretName"]
        assert volume["secret"]["defaultMode"] & 0o007 == 0  # not world-readable
        # Production references a Secret the operator creates; dev generates it.
        generated = next((s for s in secrets if s["metadata"]["name"] == secret_name), None)
        if generated is not None:
            for name, value in env.items():
                if name.endswith("_FILE"):
                    assert value.removeprefix(f"{SECRET_DIR}/") in generated["data"], name
    deployment_env = env_names(pod_containers(one(objects, "Deployment"))[1][0], objects)
    for needed in ("PYSETL_HUB_DATABASE_URL_FILE", "PYSETL_HUB_REDIS_URL_FILE",
                   "PYSETL_HUB_SEARCH_KEY_FILE", "PYSETL_HUB_METRICS_TOKEN_FILE",
                   "PYSETL_HUB_STORAGE_ACCESS_KEY_ID_FILE",
                   "PYSETL_HUB_STORAGE_SECRET_ACCESS_KEY_FILE"):  # fmt: skip
        assert needed in deployment_env, needed


def test_no_secret_value_is_committed(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert not [o for o in rendered["production"] if o["kind"] == "Secret"]
    for path in KUBERNETES.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Secret":
                pytest.fail(f"{path} holds a Secret: reference one the operator creates")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/kubernetes/overlays/dev/secrets/database_url"],
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0, "the dev overlay's generated secrets are not gitignored"
