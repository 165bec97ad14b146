"""The adapter library: trained LoRAs with what they are, in the user data folder.

An adapter is one safetensors file whose header says what it was made from
(`photoflux.*` keys, plus `modelspec.architecture` that other tools read), with a
small sample picture embedded and saved next to it. Listing reads headers only.
Render applies an adapter as a LoRA (`adapter_lora`); `lora_family.check_lora_fits`
refuses one trained on another family by this metadata before any model loads.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.paths import data_dir

KEY = "photoflux."
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ARCHITECTURE = {
    "sd": "stable-diffusion-v1/lora",
    "sdxl": "stable-diffusion-xl-v1-base/lora",
    "flux": "flux-1/lora",
}
FAMILY_NAMES = {"sd": "Stable Diffusion 1/2", "sdxl": "SDXL", "flux": "FLUX"}


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    path: str
    family: str
    base_model: str
    token: str
    class_word: str
    steps: int
    rank: int
    created: str  # ISO 8601, UTC
    licence: str
    sample: str | None  # a PNG next to the adapter, if present

    @property
    def trigger(self) -> str:
        """Words a prompt needs for the subject to appear."""
        return f"{self.token} {self.class_word}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def library_dir() -> Path:
    return data_dir() / "adapters"


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise bad_input(
            f"'{name}' cannot be an adapter name.",
            "Use letters, digits, '-', '_' or '.', up to 64 characters.",
            field="name",
        )
    return name


def adapter_metadata(info: AdapterInfo, sample: Image.Image | None) -> dict[str, str]:
    meta = {KEY + k: str(v) for k, v in info.to_dict().items() if k not in ("path", "sample")}
    meta["modelspec.architecture"] = ARCHITECTURE[info.family]
    meta["modelspec.title"] = info.name
    if sample is not None:
        thumb = sample.convert("RGB")
        thumb.thumbnail((128, 128))
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=80)
        meta[KEY + "sample_jpeg"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    return meta


def info_from_metadata(path: Path, meta: dict[str, str]) -> AdapterInfo | None:
    if KEY + "family" not in meta:
        return None
    sample = path.with_suffix(".png")

    def number(key: str) -> int:
        try:
            return int(meta.get(KEY + key, "0"))
        except ValueError:
            return 0

    return AdapterInfo(
        name=meta.get(KEY + "name", path.stem),
        path=str(path),
        family=meta[KEY + "family"],
        base_model=meta.get(KEY + "base_model", ""),
        token=meta.get(KEY + "token", ""),
        class_word=meta.get(KEY + "class_word", ""),
        steps=number("steps"),
        rank=number("rank"),
        created=meta.get(KEY + "created", ""),
        licence=meta.get(KEY + "licence", ""),
        sample=str(sample) if sample.is_file() else None,
    )


def read_adapter(path: Path) -> AdapterInfo | None:
    """The adapter's description from its header; None for a plain LoRA or a bad file."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            meta = handle.metadata() or {}
    except Exception:  # not a safetensors file: not an adapter of ours
        return None
    return info_from_metadata(path, meta)


def sample_thumbnail(path: Path) -> Image.Image | None:
    """The small sample picture embedded in the adapter's header."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        encoded = (handle.metadata() or {}).get(KEY + "sample_jpeg")
    if not encoded:
        return None
    return Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")


def list_adapters(folder: Path | None = None) -> list[AdapterInfo]:
    folder = folder or library_dir()
    if not folder.is_dir():
        return []
    found = (read_adapter(path) for path in sorted(folder.glob("*.safetensors")))
    return [info for info in found if info is not None]


def find_adapter(name: str, folder: Path | None = None) -> AdapterInfo:
    for info in list_adapters(folder):
        if info.name == name or Path(info.path).stem == name:
            return info
    known = ", ".join(info.name for info in list_adapters(folder)) or "none yet"
    raise bad_input(
        f"There is no adapter named '{name}' in the library ({known}).",
        "See `photoflux adapters`, or train one with `photoflux train`.",
        gui_hint="Choose an adapter from the list, or teach a new subject.",
        field="adapter",
    )


def adapter_path(name: str, folder: Path | None = None) -> Path:
    return (folder or library_dir()) / f"{check_name(name)}.safetensors"


def adapter_lora(text: str) -> tuple[str, float]:
    """NAME[:WEIGHT] -> (adapter file, weight); the request checks the weight's range."""
    name, _, weight = text.partition(":")
    try:
        value = float(weight) if weight else 1.0
    except ValueError:
        raise bad_input(
            f"--adapter {text}: the strength '{weight}' is not a number.",
            "Write NAME or NAME:WEIGHT, e.g. anna:0.8.",
        ) from None
    return find_adapter(name).path, value


def subject_with_adapters(prompt: str, adapters: list[AdapterInfo]) -> str:
    """The words a style's template gets as its subject: the prompt, led by each
    adapter's token and class word that the prompt does not name yet (a subject the
    model was taught appears only when its token is in the prompt)."""
    missing = [
        info.trigger
        for info in adapters
        if not re.search(rf"(?<!\w){re.escape(info.token)}(?!\w)", prompt)
    ]
    return ", ".join([*missing, prompt.strip()] if prompt.strip() else missing)


def family_mismatch(meta: dict[str, str], family: str, model_label: str) -> str | None:
    """Why an adapter of ours cannot run on `family`, or None."""
    made_for = meta.get(KEY + "family")
    if made_for is None or made_for == family:
        return None
    name = meta.get(KEY + "name", "this adapter")
    base = meta.get(KEY + "base_model", "")
    return (
        f"The adapter '{name}' was trained on {FAMILY_NAMES.get(made_for, made_for)}"
        f"{f' ({base})' if base else ''}; this render uses {model_label} "
        f"({FAMILY_NAMES.get(family, family)})"
    )
