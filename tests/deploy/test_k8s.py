"""deploy/k8s: every built-in resource validates against Kubernetes' own JSON schemas
(kubernetes-validate ships them, strict: unknown fields fail); KEDA's ScaledObject, which
has no offline schema, is checked by assertions against the real queue name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cloud_api.core.render_queue import NAMESPACE, QUEUE

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"
CRD_GROUPS = ("keda.sh/",)
# Secrets the manifests use; they are created in the cluster (README), never in git
CLUSTER_SECRETS = {
    "photoflux-api",
    "photoflux-worker",
    "photoflux-redis",
    "photoflux-mongodb-backup",
}


@cache
def _kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@cache
def _documents() -> list[dict]:
    docs = []
    for name in _kustomization()["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def _by_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == kind}


def test_every_builtin_resource_matches_the_kubernetes_schema() -> None:
    checked = 0
    for doc in _documents():
        if doc["apiVersion"].startswith(CRD_GROUPS):
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 15


def test_the_schema_check_catches_a_mistake() -> None:
    api = _by_kind("Deployment")["photoflux-api"]
    broken = yaml.safe_load(yaml.safe_dump(api))
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["limit"] = {"cpu": "1"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_generated_config_maps_have_their_files() -> None:
    for generator in _kustomization()["configMapGenerator"]:
        for path in generator["files"]:
            assert (K8S / path).is_file(), path


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "CronJob"])
def test_every_container_is_limited(kind: str) -> None:
    for name, doc in _by_kind(kind).items():
        spec = (
            doc["spec"]["template"]["spec"]
            if kind != "CronJob"
            else (doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        )
        for container in spec["containers"]:
            limits = container["resources"]["limits"]
            assert limits["cpu"] and limits["memory"], f"{name}/{container['name']}"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_api_pods_are_probed_read_only_and_unprivileged() -> None:
    pod = _by_kind("Deployment")["photoflux-api"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", "/data/objects"}


def test_api_scales_on_cpu_and_survives_drains() -> None:
    hpa = _by_kind("HorizontalPodAutoscaler")["photoflux-api"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "photoflux-api"
    assert hpa["minReplicas"] >= 2
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    pdb = _by_kind("PodDisruptionBudget")["photoflux-api"]["spec"]
    labels = _by_kind("Deployment")["photoflux-api"]["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    service = _by_kind("Service")["photoflux-api"]["spec"]
    assert service["selector"].items() <= labels.items()


def test_workers_scale_on_the_list_dramatiq_really_uses() -> None:
    scaled = _by_kind("ScaledObject")["photoflux-worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] in _by_kind("Deployment")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    # Dramatiq's RedisBroker pushes message ids onto "<namespace>:<queue>"
    assert trigger["metadata"]["listName"] == f"{NAMESPACE}:{QUEUE}"
    assert int(trigger["metadata"]["listLength"]) >= 1
    assert trigger["metadata"]["address"].startswith(
        f"{_by_kind('Service')['redis']['metadata']['name']}."
    )
    auth = _by_kind("TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert auth["spec"]["secretTargetRef"][0]["name"] in CLUSTER_SECRETS
    worker = _by_kind("Deployment")["photoflux-worker"]["spec"]["template"]["spec"]
    assert worker["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_secrets_come_from_the_cluster_never_from_git() -> None:
    assert not _by_kind("Secret"), "no Secret manifests: values would be in git"
    text = "\n".join((K8S / name).read_text() for name in _kustomization()["resources"])
    referenced = set()
    for doc in _documents():
        _collect_secret_names(doc, referenced)
    assert referenced == CLUSTER_SECRETS
    assert "mongodb://" not in text and "redis://" not in text


def _collect_secret_names(node: object, into: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("secretRef", "secretKeyRef") and isinstance(value, dict):
                into.add(value["name"])
            elif key == "secret" and isinstance(value, dict) and "secretName" in value:
                into.add(value["secretName"])
            elif key == "secretTargetRef":
                into.update(ref["name"] for ref in value)
            else:
                _collect_secret_names(value, into)
    elif isinstance(node, list):
        for item in node:
            _collect_secret_names(item, into)


def test_backup_runs_nightly_with_the_compose_script() -> None:
    job = _by_kind("CronJob")["mongo-backup"]["spec"]
    assert job["concurrencyPolicy"] == "Forbid"
    container = job["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["bash", "/scripts/mongo-backup.sh", "--once"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert int(env["BACKUP_RETENTION_DAYS"]) >= 1 and env["MONGO_URI_FILE"].startswith("/secrets/")


def test_the_keda_free_alternative_scales_on_an_exported_gauge() -> None:
    from cloud_api.core.observability import RenderMetrics

    path = K8S / "optional" / "worker-hpa-prometheus.yaml"
    (hpa,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
    kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)
    metric = hpa["spec"]["metrics"][0]["external"]["metric"]["name"]
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    RenderMetrics(registry)
    assert metric in {m.name for m in registry.collect()}
    assert hpa["spec"]["scaleTargetRef"]["name"] == "photoflux-worker"
