"""`photoflux models download`: fetch a catalog model into the models folder.

Files are fetched into the target folder with huggingface_hub, which retries a broken
transfer; files that completed are kept, so running the same command again after an
interruption fetches only what is missing (tests/cli: a fake hub over loopback).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.catalog import ADDONS, CATALOG, PREVIEW_DECODERS
from photoflux_desktop.engine.errors import bad_input, cloud_error
from photoflux_desktop.engine.model_store import disk_usage, model_folder
from photoflux_desktop.engine.paths import models_dir

GB = 1024**3
LORA_SUBFOLDER = "lcm-lora"


@dataclass(frozen=True)
class DownloadResult:
    model_id: str
    path: Path
    bytes_on_disk: int

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_id, "path": str(self.path), "bytes": self.bytes_on_disk}


def _offline() -> bool:
    flag = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return flag.strip().lower() in ("1", "true", "yes", "on")


def check_free_space(folder: Path, needed_bytes: int) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed_bytes:
        raise bad_input(
            f"Not enough free disk space in {probe}: {free / GB:.1f} GB free, "
            f"about {needed_bytes / GB:.1f} GB more needed.",
            "Free some space or set PHOTOFLUX_MODELS_DIR to a bigger disk.",
        )


def download_model(
    model_id: str, tqdm_class: Any = None, root: Path | None = None
) -> DownloadResult:
    """Fetch a catalog model or likeness add-on into `root` (None: the environment's or
    default models folder)."""
    spec = CATALOG.get(model_id)
    if spec is None and model_id not in ADDONS:
        known = ", ".join([*CATALOG, *ADDONS])
        raise bad_input(f"Unknown model '{model_id}'.", f"Known models and add-ons: {known}.")
    if _offline():
        raise cloud_error(
            "Offline mode is on (HF_HUB_OFFLINE), so nothing can be downloaded.",
            "Unset HF_HUB_OFFLINE and run the command again.",
        )
    target = model_folder(model_id, root)
    already = disk_usage(target) if target.exists() else 0
    if spec is None:  # a likeness add-on: one repository, no extras
        addon = ADDONS[model_id]
        check_free_space(target, max(0, int(addon.disk_gb * GB * 1.05) - already))
        _fetch(addon.hub_id, addon.revision, target, list(addon.allow_patterns), tqdm_class)
        return DownloadResult(model_id, target, disk_usage(target))
    check_free_space(target, max(0, int(spec.disk_gb * GB * 1.05) - already))
    _fetch(spec.hub_id, spec.revision, target, list(spec.allow_patterns), tqdm_class)
    if spec.lora_hub_id:
        _fetch(
            spec.lora_hub_id,
            "main",
            target / LORA_SUBFOLDER,
            ["*.safetensors", "*.json"],
            tqdm_class,
        )
    if spec.preview_decoder:
        decoder = PREVIEW_DECODERS[spec.preview_decoder]
        _fetch(
            decoder.hub_id,
            decoder.revision,
            models_dir(root) / decoder.id,
            ["config.json", "*.safetensors"],
            tqdm_class,
        )
    return DownloadResult(model_id, target, disk_usage(target))


def _fetch(repo: str, revision: str, target: Path, patterns: list[str], tqdm_class: Any) -> None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    target.mkdir(parents=True, exist_ok=True)
    try:
        snapshot_download(
            repo,
            revision=revision,
            local_dir=target,
            allow_patterns=patterns,
            tqdm_class=tqdm_class,
            # read at call time: huggingface_hub freezes HF_ENDPOINT when first imported
            endpoint=os.environ.get("HF_ENDPOINT") or None,
        )
    except GatedRepoError as exc:
        raise cloud_error(
            f"{repo} needs you to accept its licence on Hugging Face first.",
            "Accept it on the model page, run `hf auth login`, then try again.",
        ) from exc
    except RepositoryNotFoundError as exc:
        raise cloud_error(f"{repo} was not found on Hugging Face.") from exc
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise _unreachable(repo, exc) from exc
    # The HTTP stack under huggingface_hub raises its own transport errors (a dropped
    # connection is not an OSError): at this network boundary any failure is "retry".
    except Exception as exc:
        raise _unreachable(repo, exc) from exc


def _unreachable(repo: str, exc: Exception) -> Exception:
    return cloud_error(
        f"Could not download {repo}: {exc.__class__.__name__}.",
        "Check your connection and run the same command again: files already "
        "downloaded are kept and not fetched again.",
    )
