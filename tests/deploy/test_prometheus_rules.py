"""Alert rules and the Grafana dashboard speak of metrics the API really exports: each
name in an expression is looked up in a live app's /metrics. promtool (Debian's
`prometheus` package, installed by scripts/bootstrap.sh) checks and unit-tests the rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from cloud_api.app import create_app
from tests.cloud.live import cloud_settings

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
TOKEN = "scrape-token-for-the-deploy-tests-0123456789"
PROMQL_WORDS = {
    "sum", "rate", "increase", "max", "min", "by", "le", "histogram_quantile", "clamp_min",
    "and", "or", "unless", "without", "on", "avg", "count",
}  # fmt: skip
SUFFIXES = ("_bucket", "_sum", "_count")


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Metric family names a running API exposes (with Prometheus's series suffixes)."""
    # no lifespan (no `with`): the registry is built with the app, and start-up's
    # password-hash warm-up would only add seconds
    client = TestClient(create_app(cloud_settings(metrics_token=TOKEN)))
    client.get("/healthz")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    return families | {f"{f}_total" for f in families} | {"up"}


def _metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges))
    names -= PROMQL_WORDS
    return {n for n in names if ("_" in n or n == "up") and not re.fullmatch(r"\d.*|e\d+", n)}


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _rules() -> list[dict]:
    groups = yaml.safe_load((PROM / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_alerts_cover_what_a_studio_must_hear_about() -> None:
    names = {rule["alert"] for rule in _rules()}
    for needed in (
        "PhotofluxHighErrorRate",
        "PhotofluxSlowRequests",
        "PhotofluxRenderQueueDeep",
        "PhotofluxRenderWorkersDown",
        "PhotofluxDeliveryFailures",
    ):
        assert needed in names


def test_every_alert_uses_metrics_the_api_exports(exported: set[str]) -> None:
    for rule in _rules():
        names = _metric_names(rule["expr"])
        assert names, rule["alert"]
        missing = {n for n in names if _base(n) not in exported and n not in exported}
        assert missing == set(), f"{rule['alert']}: {missing}"
        assert rule["labels"]["severity"] in ("page", "ticket")


def test_the_metric_check_would_catch_a_typo(exported: set[str]) -> None:
    names = _metric_names('sum(rate(photoflux_http_request_total{status="5xx"}[5m]))')
    assert names == {"photoflux_http_request_total"}
    assert "photoflux_http_request_total" not in exported


def test_dashboard_queries_use_exported_metrics_and_the_provisioned_source(exported: set[str]):
    dashboard = json.loads((GRAFANA / "dashboards" / "photoflux.json").read_text())
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid
        for target in panel["targets"]:
            missing = {n for n in _metric_names(target["expr"]) if _base(n) not in exported}
            assert missing == set(), f"{panel['title']}: {missing}"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/photoflux.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_prometheus_scrapes_every_api_replica_with_the_token() -> None:
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "photoflux-api")
    assert job["dns_sd_configs"][0]["names"] == ["api"]
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (scripts/bootstrap.sh installs `prometheus`)")
    return found


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(PROM / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_alerts_fire_on_a_broken_deployment_and_not_before() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", "alerts.test.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROM,
    )
    assert result.returncode == 0, result.stdout + result.stderr
