"""deploy/compose.yaml: valid against the compose-spec schema (the copy check-jsonschema
vendors; nothing is downloaded) and the rules we hold it to: limits and a health check on
every service, no host port for MongoDB or Redis, no secret written inline, the files it
mounts present. `docker compose config` also runs where the compose plugin exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY|FIELD_KEYS|MONGODB_URI|REDIS_URL)")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _schema() -> dict:
    vendored = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    return json.loads(vendored.read_text())


def test_compose_file_matches_the_compose_spec_schema(compose: dict) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_check_catches_a_broken_file(compose: dict) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["deploy"]["replicas"] = "two"
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"
    validator = jsonschema.Draft202012Validator(_schema())
    assert len(list(validator.iter_errors(broken))) >= 2


def test_the_stack_has_every_service(compose: dict) -> None:
    assert set(compose["services"]) == {
        "proxy", "api", "worker", "mongo", "redis", "clamav", "prometheus", "grafana", "backup",
    }  # fmt: skip
    assert compose["services"]["mongo"]["image"].startswith("mongo:")
    assert compose["services"]["clamav"]["image"].startswith("clamav/clamav:")


@pytest.mark.parametrize(
    "name",
    ["proxy", "api", "worker", "mongo", "redis", "clamav", "prometheus", "grafana", "backup"],
)
def test_every_service_is_limited_and_health_checked(compose: dict, name: str) -> None:
    service = compose["services"][name]
    limits = service["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and re.fullmatch(r"\d+[MG]", limits["memory"])
    assert service["healthcheck"]["test"] and "disable" not in service["healthcheck"]
    assert service["restart"] == "unless-stopped"


def test_only_the_proxy_faces_the_world(compose: dict) -> None:
    services = compose["services"]
    for name in ("api", "worker", "mongo", "redis", "clamav", "backup"):
        assert "ports" not in services[name], name
    assert set(services["proxy"]["ports"]) == {"443:443", "80:80"}
    for name in ("prometheus", "grafana"):
        assert all(p.startswith("127.0.0.1:") for p in services[name]["ports"])


def test_api_runs_two_read_only_replicas_behind_the_proxy(compose: dict) -> None:
    api = compose["services"]["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["read_only"] is True and any(t.startswith("/tmp") for t in api["tmpfs"])
    assert compose["services"]["worker"]["read_only"] is True
    # uploads shared by the replicas; the proxy's network is the one trusted for X-Forwarded
    assert "objects:/data/objects" in api["volumes"]
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert api["environment"]["PHOTOFLUX_FORWARDED_ALLOW_IPS"] == subnet
    assert api["environment"]["PHOTOFLUX_CLAMD_URL"] == "tcp://clamav:3310"


def test_the_worker_gets_a_gpu_and_only_what_it_needs(compose: dict) -> None:
    worker = compose["services"]["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert worker["command"] == ["worker"]
    assert set(worker["environment"]) == {
        "PHOTOFLUX_REDIS_URL", "PHOTOFLUX_WORKER_TOKEN", "PHOTOFLUX_WORKER_API_URL",
        "PHOTOFLUX_MODELS_DIR",
    }  # fmt: skip
    assert "env_file" not in worker  # no database URI, no keys


def test_mongo_authenticates_and_redis_persists_its_queue(compose: dict) -> None:
    mongo = compose["services"]["mongo"]
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "mongo-data:/data/db" in mongo["volumes"]
    redis_cmd = " ".join(compose["services"]["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--maxmemory-policy noeviction" in redis_cmd
    assert "--requirepass" in redis_cmd and "/run/secrets/redis_password" in redis_cmd
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]


def test_no_secret_is_written_inline(compose: dict) -> None:
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert str(value).startswith("${"), f"{name}: {key} is written inline"
    for name, secret in compose["secrets"].items():
        assert secret["file"].startswith("./secrets/"), name
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/secrets/" in ignored and "deploy/.env" in ignored


def test_every_mounted_file_exists(compose: dict) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).exists()


def test_caddy_terminates_tls_for_every_api_replica(tmp_path: Path) -> None:
    caddyfile = DEPLOY / "caddy" / "Caddyfile"
    text = caddyfile.read_text()
    assert re.search(r"dynamic a \{\s*name api\s*port 8000", text)
    assert "lb_policy" in text and "fail_duration" in text
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (scripts/bootstrap.sh installs it)")
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(caddyfile)],
        capture_output=True,
        text=True,
        timeout=60,
        env=home | {"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "enabling automatic HTTP->HTTPS redirects" in result.stderr


def test_docker_compose_config_where_the_plugin_exists(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    probe = subprocess.run(
        [docker or "false", "compose", "version"], capture_output=True, text=True, timeout=30
    )
    if docker is None or probe.returncode != 0:
        pytest.skip("no docker compose plugin here; the schema test above stands in for it")
    result = subprocess.run(
        [docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "PHOTOFLUX_REDIS_URL": "redis://x",
            "PHOTOFLUX_WORKER_TOKEN": "x",
        },
    )
    assert result.returncode == 0, result.stderr
