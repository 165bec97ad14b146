"""The model catalog: which diffusion models PhotoFlux knows and how to run them."""

from __future__ import annotations

from dataclasses import dataclass, field

# likeness add-ons (ControlNets, IP-Adapters, a depth estimator) live in their own
# module: they are not pipelines, but are downloaded and listed like models
from photoflux_desktop.engine.catalog_addons import ADDONS, AddonSpec
from photoflux_desktop.engine.presets import Family

__all__ = ["ADDONS", "CATALOG", "PREVIEW_DECODERS", "AddonSpec", "ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    family: Family
    hub_id: str
    revision: str
    licence: str
    disk_gb: float
    native_px: int
    steps: int
    guidance: float
    strength: float
    # estimated peak VRAM (GB) at native size per memory plan, fp16/bf16 weights
    vram_gb: dict[str, float]
    allow_patterns: tuple[str, ...]
    variant: str | None = None
    preview_decoder: str | None = None  # id in PREVIEW_DECODERS
    lora_hub_id: str | None = None  # an adapter that is part of the model (LCM-LoRA)
    scheduler: str | None = None  # override the repo's scheduler class
    notes: str = ""
    min_steps: int = 1
    # rough seconds per image at native size on a mid-range device of each kind, for
    # the first-run estimate (a 12 GB NVIDIA card, an M1-class Mac, a 4-core CPU)
    seconds_per_image: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    commercial_use: bool = True  # the licence allows commercial use (perhaps with terms)


@dataclass(frozen=True)
class PreviewDecoderSpec:
    id: str
    hub_id: str
    revision: str
    disk_gb: float


_DIFFUSERS_FP16 = (
    "model_index.json",
    "scheduler/*",
    "tokenizer*/*",
    "text_encoder*/config.json",
    "text_encoder*/*.fp16.safetensors",
    "unet/config.json",
    "unet/*.fp16.safetensors",
    "vae/config.json",
    "vae/*.fp16.safetensors",
)

CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            id="sd-turbo",
            name="SD-Turbo",
            family="sd",
            hub_id="stabilityai/sd-turbo",
            revision="main",
            licence="Stability AI Community License (free under US$1M annual revenue)",
            disk_gb=2.6,
            native_px=512,
            steps=2,
            guidance=0.0,
            strength=0.5,
            vram_gb={"full": 3.2, "offload": 2.0, "sequential": 0.8},
            allow_patterns=_DIFFUSERS_FP16,
            variant="fp16",
            preview_decoder="taesd",
            notes="Fastest; the right first download, and the only practical one on CPU.",
            seconds_per_image={"cuda": 0.4, "mps": 3.0, "cpu": 15.0},
        ),
        ModelSpec(
            id="sdxl-turbo",
            name="SDXL-Turbo",
            family="sdxl",
            hub_id="stabilityai/sdxl-turbo",
            revision="main",
            licence="Stability AI Community License (free under US$1M annual revenue)",
            disk_gb=6.9,
            native_px=512,
            steps=2,
            guidance=0.0,
            strength=0.5,
            vram_gb={"full": 8.5, "offload": 5.0, "sequential": 1.5},
            allow_patterns=_DIFFUSERS_FP16,
            variant="fp16",
            preview_decoder="taesdxl",
            seconds_per_image={"cuda": 1.0, "mps": 8.0, "cpu": 60.0},
        ),
        ModelSpec(
            id="sdxl-lcm",
            name="SDXL + LCM-LoRA",
            family="sdxl",
            hub_id="stabilityai/stable-diffusion-xl-base-1.0",
            revision="main",
            licence="CreativeML Open RAIL++-M",
            disk_gb=7.3,
            native_px=1024,
            steps=6,
            guidance=1.0,
            strength=0.55,
            vram_gb={"full": 11.0, "offload": 6.5, "sequential": 2.0},
            allow_patterns=_DIFFUSERS_FP16,
            variant="fp16",
            preview_decoder="taesdxl",
            lora_hub_id="latent-consistency/lcm-lora-sdxl",
            scheduler="LCMScheduler",
            min_steps=4,
            notes="Full SDXL quality at 1024 px in 4-8 steps.",
            seconds_per_image={"cuda": 4.0, "mps": 30.0, "cpu": 400.0},
        ),
        ModelSpec(
            id="flux-schnell",
            name="FLUX.1 [schnell]",
            family="flux",
            hub_id="black-forest-labs/FLUX.1-schnell",
            revision="main",
            licence="Apache-2.0",
            disk_gb=33.7,
            native_px=1024,
            steps=4,
            guidance=0.0,
            strength=0.65,
            vram_gb={"full": 34.0, "offload": 24.0, "sequential": 3.0},
            allow_patterns=(
                "model_index.json",
                "scheduler/*",
                "tokenizer*/*",
                "text_encoder*/*",
                "transformer/*",
                "vae/*",
            ),
            preview_decoder="taef1",
            notes="Best prompt following; needs a 24 GB card, or --quantize int8.",
            extra={"max_sequence_length": 256},
            seconds_per_image={"cuda": 12.0, "mps": 120.0, "cpu": 1500.0},
        ),
    )
}

PREVIEW_DECODERS: dict[str, PreviewDecoderSpec] = {
    spec.id: spec
    for spec in (
        PreviewDecoderSpec("taesd", "madebyollin/taesd", "main", 0.01),
        PreviewDecoderSpec("taesdxl", "madebyollin/taesdxl", "main", 0.01),
        PreviewDecoderSpec("taef1", "madebyollin/taef1", "main", 0.01),
    )
}

# the order "automatic" picks from what is installed: fastest useful first
AUTO_PREFERENCE = ("sd-turbo", "sdxl-turbo", "sdxl-lcm", "flux-schnell")


def download_hint(model_id: str = "sd-turbo") -> str:
    if model_id in ADDONS:
        addon = ADDONS[model_id]
        return f"Run `photoflux models download {addon.id}` ({addon.disk_gb:g} GB) and try again."
    spec = CATALOG.get(model_id, CATALOG["sd-turbo"])
    return f"Run `photoflux models download {spec.id}` ({spec.disk_gb:g} GB) and try again."


def commercial_models(commercial_only: bool) -> list[ModelSpec]:
    """The catalog models a user may pick ("commercial-use models only" hides the rest)."""
    return [spec for spec in CATALOG.values() if spec.commercial_use or not commercial_only]


def likeness_addons(commercial_only: bool) -> list[AddonSpec]:
    """The likeness add-ons to show; opt-in non-commercial ones go when `commercial_only`."""
    return [addon for addon in ADDONS.values() if addon.commercial_use or not commercial_only]
