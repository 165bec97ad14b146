"""Fetch a catalog model into the models folder (`photoflux models download`, the app).

huggingface_hub lists the files (a dry run: names, sizes, the commit); each file is
then fetched here into `<name>.part` and renamed when whole. A transfer cut short keeps
its partial, and the next attempt (a retry, or the same download started again after
a pause or a crash) continues it with an HTTP Range request; complete files are not
fetched again (tests/cli and tests/ui: a fake hub over loopback).

A `DownloadProgress` receives the bytes as they are written and carries the cancel
request, checked between chunks.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.catalog import ADDONS, CATALOG, PREVIEW_DECODERS
from photoflux_desktop.engine.errors import bad_input, cancelled, cloud_error
from photoflux_desktop.engine.model_store import disk_usage, model_folder
from photoflux_desktop.engine.paths import models_dir

GB = 1024**3
CHUNK = 1 << 16
LORA_SUBFOLDER = "lcm-lora"


@dataclass(frozen=True)
class DownloadResult:
    model_id: str
    path: Path
    bytes_on_disk: int

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_id, "path": str(self.path), "bytes": self.bytes_on_disk}


class DownloadProgress:
    """Bytes done of bytes expected, and a cancel flag; shared with a front end's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self.total_bytes = 0  # every file of the download, known once it has been planned
        self._done = 0

    @property
    def done_bytes(self) -> int:
        with self._lock:
            return self._done

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _planned(self, total: int, done: int) -> None:
        with self._lock:
            self.total_bytes, self._done = total, done

    def _add(self, n: int) -> None:
        with self._lock:
            self._done += n


class _Cancelled(Exception):
    """Raised between chunks once cancel() was asked; becomes a CANCELLED error."""


@dataclass(frozen=True)
class _File:
    repo: str
    url: str
    dest: Path
    size: int | None

    @property
    def part(self) -> Path:
        return self.dest.with_name(self.dest.name + ".part")

    def complete(self) -> bool:
        return self.dest.is_file() and (self.size is None or self.dest.stat().st_size == self.size)

    def have(self) -> int:
        """Bytes already on disk: the whole file, or its partial."""
        if self.complete():
            return self.dest.stat().st_size
        return self.part.stat().st_size if self.part.is_file() else 0


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
            "Free some space, or choose a models folder on a bigger disk.",
        )


def download_model(
    model_id: str,
    tqdm_class: Any = None,
    root: Path | None = None,
    progress: DownloadProgress | None = None,
) -> DownloadResult:
    """Fetch a catalog model or likeness add-on into `root` (None: the environment's or
    default models folder).

    With `progress`, its bytes are counted there (instead of `tqdm_class`) and its
    `cancel()` stops the download with a CANCELLED error, partial files kept."""
    spec = CATALOG.get(model_id)
    if spec is None and model_id not in ADDONS:
        known = ", ".join([*CATALOG, *ADDONS])
        raise bad_input(f"Unknown model '{model_id}'.", f"Known models and add-ons: {known}.")
    if _offline():
        raise cloud_error(
            "Offline mode is on, so nothing can be downloaded.",
            "Unset HF_HUB_OFFLINE and run the command again.",
            gui_hint="PhotoFlux was started in offline mode: start it with offline mode "
            "off to download models.",
        )
    target = model_folder(model_id, root)
    already = disk_usage(target) if target.exists() else 0
    disk_gb = spec.disk_gb if spec is not None else ADDONS[model_id].disk_gb
    check_free_space(target, max(0, int(disk_gb * GB * 1.05) - already))
    files = _plan(_parts(model_id, root))
    if progress is not None and tqdm_class is None:
        tqdm_class = _quiet_tqdm()  # a window shows its own progress; nothing on stderr
    progress = progress or DownloadProgress()
    total = sum(f.size or 0 for f in files)
    progress._planned(total, sum(f.have() for f in files))
    bar = _bar(tqdm_class, model_id, total, progress.done_bytes)
    try:
        for file in files:
            if not file.complete():
                _get_file(file, progress, bar)
    except _Cancelled as exc:
        raise cancelled("Download paused; the part already fetched is kept.") from exc
    finally:
        bar.close()
    return DownloadResult(model_id, target, disk_usage(target))


def _bar(tqdm_class: Any, model_id: str, total: int, initial: int) -> Any:
    """The console's progress bar (the CLI passes a silent one for --json)."""
    if tqdm_class is None:
        from tqdm.auto import tqdm as tqdm_class
    return tqdm_class(total=total, initial=initial, unit="B", unit_scale=True, desc=model_id)


_Part = tuple[str, str, Path, list[str]]


def _parts(model_id: str, root: Path | None) -> list[_Part]:
    """The repositories a model needs: its own, its built-in LoRA, its preview decoder
    (a likeness add-on is one repository)."""
    target = model_folder(model_id, root)
    if model_id in ADDONS:
        addon = ADDONS[model_id]
        return [(addon.hub_id, addon.revision, target, list(addon.allow_patterns))]
    spec = CATALOG[model_id]
    parts: list[_Part] = [(spec.hub_id, spec.revision, target, list(spec.allow_patterns))]
    if spec.lora_hub_id:
        parts.append(
            (spec.lora_hub_id, "main", target / LORA_SUBFOLDER, ["*.safetensors", "*.json"])
        )
    if spec.preview_decoder:
        decoder = PREVIEW_DECODERS[spec.preview_decoder]
        folder = models_dir(root) / decoder.id
        parts.append((decoder.hub_id, decoder.revision, folder, ["config.json", "*.safetensors"]))
    return parts


def _plan(parts: list[_Part]) -> list[_File]:
    """Every file to fetch, with its size and address (a dry run of huggingface_hub: the
    hub's file list, nothing transferred). The model's index comes last, so a folder
    counts as installed (model_store.is_complete) only once every weight is in."""
    from huggingface_hub import hf_hub_url

    endpoint = os.environ.get("HF_ENDPOINT") or None
    files: list[_File] = []
    for part in parts:
        part[2].mkdir(parents=True, exist_ok=True)
        for info in _call_hub(part, _quiet_tqdm(), dry_run=True) or ():
            url = hf_hub_url(part[0], info.filename, revision=info.commit_hash, endpoint=endpoint)
            files.append(_File(part[0], url, Path(info.local_path), info.file_size))
    files.sort(key=lambda f: f.dest.name == "model_index.json")
    return files


def _get_file(file: _File, progress: DownloadProgress, bar: Any, attempts: int = 4) -> None:
    """One file into `<name>.part`, continued with a Range request after a drop or a
    pause, then renamed into place."""
    # the HTTP stack loads with the first download, not with the window that offers it
    import http.client
    import urllib.error

    last: Exception | None = None
    for _ in range(attempts):
        try:
            _transfer(file, progress, bar)
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403, 404):
                raise _refused(file.repo, exc.code) from exc
            last = exc
            continue
        if file.size is None or file.part.stat().st_size == file.size:
            os.replace(file.part, file.dest)
            return
        last = OSError(f"{file.dest.name} ended early")
    raise _unreachable(file.repo, last or OSError("no answer"))


def _transfer(file: _File, progress: DownloadProgress, bar: Any) -> None:
    import urllib.request

    from huggingface_hub.utils import build_hf_headers

    have = file.part.stat().st_size if file.part.is_file() else 0
    headers = build_hf_headers()
    if have:
        headers["Range"] = f"bytes={have}-"
    timeout = float(os.environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 30)
    request = urllib.request.Request(file.url, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if have and response.status != 206:  # the server ignored the Range: start over
            progress._add(-have)
            bar.update(-have)
            have = 0
        file.dest.parent.mkdir(parents=True, exist_ok=True)
        with file.part.open("ab" if have else "wb") as out:
            while chunk := response.read(CHUNK):
                if progress.cancelled:
                    raise _Cancelled
                out.write(chunk)
                progress._add(len(chunk))
                bar.update(len(chunk))


def _quiet_tqdm() -> type:
    from tqdm.auto import tqdm

    class Quiet(tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Quiet


def _refused(repo: str, code: int) -> Exception:
    if code == 404:
        return cloud_error(f"{repo} was not found on Hugging Face.")
    return cloud_error(
        f"{repo} needs you to accept its licence on Hugging Face first.",
        "Accept the licence on the model's Hugging Face page, sign in to Hugging Face "
        "on this computer, then try again.",
    )


def _call_hub(part: _Part, tqdm_class: Any, *, dry_run: bool = False) -> Any:
    repo, revision, target, patterns = part
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        return snapshot_download(
            repo,
            revision=revision,
            local_dir=target,
            allow_patterns=patterns,
            tqdm_class=tqdm_class,
            dry_run=dry_run,
            # read at call time: huggingface_hub freezes HF_ENDPOINT when first imported
            endpoint=os.environ.get("HF_ENDPOINT") or None,
        )
    except GatedRepoError as exc:
        raise cloud_error(
            f"{repo} needs you to accept its licence on Hugging Face first.",
            "Accept the licence on the model's Hugging Face page, sign in to Hugging Face "
            "on this computer, then try again.",
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
        "Check your connection and start the download again: files already "
        "downloaded are kept and not fetched again.",
    )
