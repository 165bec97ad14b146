"""Finding models on disk: the user's models folder, the Hugging Face cache, or a path.

Every lookup takes `root`, the models folder the caller configured (None: the
environment or the platform default, see paths.models_dir).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from photoflux_desktop.engine.catalog import (
    AUTO_PREFERENCE,
    CATALOG,
    PREVIEW_DECODERS,
    ModelSpec,
    download_hint,
)
from photoflux_desktop.engine.errors import model_missing
from photoflux_desktop.engine.paths import models_dir
from photoflux_desktop.engine.presets import Family

_PIPELINE_FAMILIES: dict[str, Family] = {
    "StableDiffusionPipeline": "sd",
    "StableDiffusionImg2ImgPipeline": "sd",
    "StableDiffusionXLPipeline": "sdxl",
    "StableDiffusionXLImg2ImgPipeline": "sdxl",
    "FluxPipeline": "flux",
    "FluxImg2ImgPipeline": "flux",
}
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class LocatedModel:
    ref: str  # what the user asked for: a catalog id or a path
    path: Path
    family: Family
    spec: ModelSpec | None
    source: str  # "models-folder", "hf-cache" or "path"

    @property
    def label(self) -> str:
        return self.spec.id if self.spec else str(self.path)


def model_folder(model_id: str, root: Path | None = None) -> Path:
    return models_dir(root) / model_id


def family_of(folder: Path) -> Family:
    """The model family of a diffusers folder, from its model_index.json."""
    index = folder / "model_index.json"
    try:
        class_name = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "")
    except FileNotFoundError as exc:
        raise model_missing(
            f"{folder} is not a diffusers model folder (no model_index.json).",
            "Point --model at a folder saved with diffusers' save_pretrained, or use a catalog id.",
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise model_missing(
            f"The model at {folder} is damaged (unreadable model_index.json).",
            "Delete it and download it again.",
        ) from exc
    family = _PIPELINE_FAMILIES.get(class_name)
    if family is None:
        raise model_missing(
            f"{folder} holds a {class_name or 'unknown'} pipeline, which PhotoFlux cannot run.",
            "Supported: Stable Diffusion 1.x/2.x, SDXL and FLUX.1 pipelines.",
        )
    return family


def is_complete(folder: Path) -> bool:
    """A cheap presence check: an index and at least one weight file."""
    if not (folder / "model_index.json").is_file():
        return False
    return any(path.suffix in _WEIGHT_SUFFIXES for path in folder.rglob("*") if path.is_file())


def _hf_cache_root() -> Path:
    """huggingface_hub's cache folder, by its documented variables, without importing it."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.environ[name]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def _hf_cache_snapshot(spec_hub_id: str, revision: str) -> Path | None:
    """A complete snapshot of the repo in huggingface_hub's cache, read from its documented
    layout (`models--org--name/refs/<revision>` names the commit, `snapshots/<commit>` holds
    the files) rather than through huggingface_hub, whose import costs ~0.5 s and which the
    window's start-up probe would pay on the GUI thread."""
    repo = _hf_cache_root() / f"models--{spec_hub_id.replace('/', '--')}"
    if not repo.is_dir():
        return None
    commit = revision
    ref = repo / "refs" / revision
    if "/" not in revision and ".." not in revision and ref.is_file():
        try:
            commit = ref.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
    if not commit or "/" in commit or commit.startswith("."):
        return None
    path = repo / "snapshots" / commit
    return path if path.is_dir() and is_complete(path) else None


def find_installed(model_id: str, root: Path | None = None) -> LocatedModel | None:
    spec = CATALOG[model_id]
    folder = model_folder(model_id, root)
    if is_complete(folder):
        return LocatedModel(model_id, folder, spec.family, spec, "models-folder")
    snapshot = _hf_cache_snapshot(spec.hub_id, spec.revision)
    if snapshot is not None:
        return LocatedModel(model_id, snapshot, spec.family, spec, "hf-cache")
    return None


def locate(ref: str, root: Path | None = None) -> LocatedModel:
    """Resolve a catalog id or a folder path to a model on disk, or explain what to do."""
    if ref in CATALOG:
        located = find_installed(ref, root)
        if located is None:
            spec = CATALOG[ref]
            raise model_missing(
                f"{spec.name} is not installed.",
                download_hint(ref),
                gui_hint="Download it in the model manager, or choose the instant style.",
                model=ref,
            )
        return located
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise model_missing(
                f"{path} is a single file; PhotoFlux loads diffusers model folders.",
                "Convert the checkpoint to a diffusers folder, or use a catalog id "
                "(`photoflux models`).",
            )
        return LocatedModel(ref, path, family_of(path), None, "path")
    known = ", ".join(CATALOG)
    raise model_missing(
        f"'{ref}' is neither a known model id nor an existing folder.",
        f"Use one of {known}, or a path to a diffusers folder.",
    )


def first_installed(root: Path | None = None) -> LocatedModel | None:
    for model_id in AUTO_PREFERENCE:
        located = find_installed(model_id, root)
        if located is not None:
            return located
    return None


def installed_models(root: Path | None = None) -> dict[str, LocatedModel]:
    return {
        model_id: located
        for model_id in CATALOG
        if (located := find_installed(model_id, root)) is not None
    }


def preview_decoder_folder(decoder_id: str, root: Path | None = None) -> Path | None:
    """A tiny autoencoder for previews, if the user has one (models folder or HF cache)."""
    folder = models_dir(root) / decoder_id
    if (folder / "config.json").is_file():
        return folder
    spec = PREVIEW_DECODERS.get(decoder_id)
    if spec is None:
        return None
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        return None
    try:
        path = Path(snapshot_download(spec.hub_id, revision=spec.revision, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return path if (path / "config.json").is_file() else None


def disk_usage(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def find_addon(addon_id: str, root: Path | None = None) -> Path | None:
    """A likeness add-on's folder (models folder, then the HF cache), or None."""
    from photoflux_desktop.engine.catalog import ADDONS

    addon = ADDONS[addon_id]
    marker = addon.weight_name or "config.json"  # the file that makes the folder usable
    folder = models_dir(root) / addon_id
    if (folder / marker).is_file():
        return folder
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        return None
    try:
        path = Path(snapshot_download(addon.hub_id, revision=addon.revision, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return path if (path / marker).is_file() else None
