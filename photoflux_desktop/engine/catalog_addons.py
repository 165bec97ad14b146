"""Likeness add-ons: ControlNets, IP-Adapters and a depth estimator, with their licences.

Each entry is downloadable like a model (`photoflux models download ID`) into
`<models folder>/<id>`. `commercial_use` says whether the licence allows commercial
use; the "commercial-use models only" setting hides the others. Entries that depend on
insightface (InstantID, PuLID, IP-Adapter-FaceID) are listed only as opt-in,
non-commercial downloads: insightface's pretrained face models are for non-commercial
research, and no likeness mode uses them by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from photoflux_desktop.engine.presets import Family

AddonKind = str  # "controlnet", "controlnet-union", "ip-adapter", "depth-estimator"


@dataclass(frozen=True)
class AddonSpec:
    id: str
    name: str
    kind: AddonKind
    families: tuple[Family, ...]  # the model families it fits; () = any (an estimator)
    hub_id: str
    revision: str
    licence: str
    commercial_use: bool
    disk_gb: float
    allow_patterns: tuple[str, ...]
    weight_name: str | None = None  # IP-Adapter: the weights file, relative to the folder
    image_encoder: str | None = None  # IP-Adapter: the CLIP image encoder's subfolder
    opt_in: bool = False  # never picked by a likeness mode; the user chooses it
    notes: str = ""


_CONTROLNET_FILES = ("config.json", "diffusion_pytorch_model.safetensors")

ADDONS: dict[str, AddonSpec] = {
    addon.id: addon
    for addon in (
        AddonSpec(
            id="controlnet-canny-sd21",
            name="ControlNet canny (SD 2.1)",
            kind="controlnet",
            families=("sd",),
            hub_id="thibaud/controlnet-sd21-canny-diffusers",
            revision="main",
            licence="other: follows its preprocessor's licence (canny: OpenCV, Apache-2.0)",
            commercial_use=True,
            disk_gb=1.5,
            allow_patterns=_CONTROLNET_FILES,
            notes="Fits SD 2.1 models such as SD-Turbo.",
        ),
        AddonSpec(
            id="controlnet-depth-sd21",
            name="ControlNet depth (SD 2.1)",
            kind="controlnet",
            families=("sd",),
            hub_id="thibaud/controlnet-sd21-depth-diffusers",
            revision="main",
            licence="other: follows its preprocessor's licence (depth: MIT)",
            commercial_use=True,
            disk_gb=1.5,
            allow_patterns=_CONTROLNET_FILES,
            notes="Needs the depth estimator (depth-anything-v2-small).",
        ),
        AddonSpec(
            id="controlnet-union-sdxl",
            name="ControlNet Union (SDXL: canny, depth and more)",
            kind="controlnet-union",
            families=("sdxl",),
            hub_id="xinsir/controlnet-union-sdxl-1.0",
            revision="main",
            licence="Apache-2.0",
            commercial_use=True,
            disk_gb=2.5,
            allow_patterns=_CONTROLNET_FILES,
            notes="One download for every structure mode on SDXL.",
        ),
        AddonSpec(
            id="depth-anything-v2-small",
            name="Depth Anything V2 Small (depth estimator)",
            kind="depth-estimator",
            families=(),
            hub_id="depth-anything/Depth-Anything-V2-Small-hf",
            revision="main",
            licence="Apache-2.0",
            commercial_use=True,
            disk_gb=0.1,
            allow_patterns=("*.json", "*.safetensors"),
            notes="Small only: the Base and Large versions are non-commercial (CC-BY-NC-4.0).",
        ),
        AddonSpec(
            id="ip-adapter-plus-face-sd15",
            name="IP-Adapter plus-face (SD 1.5)",
            kind="ip-adapter",
            families=("sd",),
            hub_id="h94/IP-Adapter",
            revision="main",
            licence="Apache-2.0",
            commercial_use=True,
            disk_gb=2.6,
            allow_patterns=(
                "models/ip-adapter-plus-face_sd15.safetensors",
                "models/image_encoder/*",
            ),
            weight_name="models/ip-adapter-plus-face_sd15.safetensors",
            image_encoder="models/image_encoder",
            notes="SD 1.5 models only (not SD 2.1 / SD-Turbo). Uses CLIP, no insightface.",
        ),
        AddonSpec(
            id="ip-adapter-plus-face-sdxl",
            name="IP-Adapter plus-face (SDXL, ViT-H)",
            kind="ip-adapter",
            families=("sdxl",),
            hub_id="h94/IP-Adapter",
            revision="main",
            licence="Apache-2.0",
            commercial_use=True,
            disk_gb=3.5,
            allow_patterns=(
                "sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors",
                "models/image_encoder/*",
            ),
            weight_name="sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors",
            image_encoder="models/image_encoder",
            notes="Uses the ViT-H CLIP image encoder, no insightface.",
        ),
        AddonSpec(
            id="ip-adapter-faceid-sdxl",
            name="IP-Adapter-FaceID (SDXL) — non-commercial",
            kind="ip-adapter-faceid",
            families=("sdxl",),
            hub_id="h94/IP-Adapter-FaceID",
            revision="main",
            licence="non-commercial research only (needs insightface face models)",
            commercial_use=False,
            disk_gb=1.1,
            allow_patterns=("ip-adapter-faceid_sdxl.bin",),
            opt_in=True,
            notes="Opt-in; not used by any likeness mode in this build.",
        ),
        AddonSpec(
            id="instantid",
            name="InstantID (SDXL) — non-commercial",
            kind="instantid",
            families=("sdxl",),
            hub_id="InstantX/InstantID",
            revision="main",
            licence="Apache-2.0 weights, but needs insightface models (non-commercial research)",
            commercial_use=False,
            disk_gb=4.0,
            allow_patterns=("ip-adapter.bin", "ControlNetModel/*"),
            opt_in=True,
            notes="Opt-in; not used by any likeness mode in this build.",
        ),
        AddonSpec(
            id="pulid-flux",
            name="PuLID (FLUX) — non-commercial",
            kind="pulid",
            families=("flux",),
            hub_id="guozinan/PuLID",
            revision="main",
            licence="Apache-2.0 weights, but needs insightface models (non-commercial research)",
            commercial_use=False,
            disk_gb=1.1,
            allow_patterns=("pulid_flux_v0.9.1.safetensors",),
            opt_in=True,
            notes="Opt-in; not used by any likeness mode in this build.",
        ),
    )
}
