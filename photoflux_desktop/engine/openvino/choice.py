"""Which compute backend renders a diffusion request: torch or OpenVINO, and why.

Light on purpose (no torch, no openvino import): doctor and the router call it.
Rule: an explicit `--backend` wins (refused with a reason when it cannot work); `auto`
picks OpenVINO only on a machine with no usable GPU, for a family it supports (SD,
SDXL), when the request needs nothing the exported UNet cannot do (LoRAs, likeness
control, fp8/int4 weights), and when openvino is installed.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from photoflux_desktop.engine.errors import bad_input

OPENVINO_FAMILIES = ("sd", "sdxl")
ENV_BACKEND = "PHOTOFLUX_BACKEND"  # what "auto" means when set (the test suite: torch)
BACKENDS = ("auto", "torch", "openvino")
INSTALL_HINT = "Install the openvino extra (see the README's CPU fast path section)."


@dataclass(frozen=True)
class BackendDecision:
    backend: str  # "torch" or "openvino"
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"backend": self.backend, "reason": self.reason}


def openvino_installed() -> bool:
    return (
        importlib.util.find_spec("openvino") is not None
        and importlib.util.find_spec("nncf") is not None
    )


def physical_cores() -> int:
    """Physical cores (OpenVINO runs best with one stream per physical core)."""
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:  # psutil is optional; logical count is close enough
        return os.cpu_count() or 1


def _obstacle(family: str, loras: bool, likeness: bool, quantize: str) -> str:
    """Why OpenVINO cannot render this request ("" when it can)."""
    if family not in OPENVINO_FAMILIES:
        return f"the {family.upper()} family has no OpenVINO export here (SD and SDXL only)"
    if loras:
        return "LoRAs are applied by torch at render time"
    if likeness:
        return "likeness control adds inputs the exported UNet does not take"
    if quantize not in ("none", "int8", "w8a8"):
        return f"--quantize {quantize} is a torch option (OpenVINO offers int8 and w8a8)"
    if not openvino_installed():
        return "openvino and nncf are not installed"
    return ""


def requested_backend(value: str, setting: str = "auto") -> str:
    """`value`, or for "auto" the PHOTOFLUX_BACKEND environment variable when it names
    a backend (an unknown value is ignored), else the `backend` setting."""
    if value != "auto":
        return value
    env = os.environ.get(ENV_BACKEND, "auto").strip().lower()
    if env in BACKENDS and env != "auto":
        return env
    return setting if setting in BACKENDS else "auto"


def decide_backend(
    requested: str,
    device_kind: str | None,
    family: str,
    *,
    loras: bool = False,
    likeness: bool = False,
    quantize: str = "none",
) -> BackendDecision:
    """The backend for a request on a device of `device_kind` ("cuda", "mps", "cpu")."""
    requested = requested_backend(requested)
    obstacle = _obstacle(family, loras, likeness, quantize)
    decision = _decide(requested, device_kind, family, obstacle)
    if quantize == "w8a8" and decision.backend == "torch":
        way = INSTALL_HINT if "not installed" in obstacle else "Use --quantize int8 (or none)"
        if not obstacle:
            way += ", or render on OpenVINO with --backend openvino"
        raise bad_input(
            f"--quantize w8a8 runs on the OpenVINO backend only, and this render would run "
            f"on torch: {decision.reason}.",
            way.rstrip(".") + ".",
            gui_hint="Choose int8 or none under Settings ▸ Quantization.",
        )
    return decision


def _decide(requested: str, device_kind: str | None, family: str, obstacle: str) -> BackendDecision:
    if requested == "torch":
        return BackendDecision("torch", "the torch backend was asked for")
    if requested == "openvino":
        if obstacle:
            hint = INSTALL_HINT if "not installed" in obstacle else "Use --backend auto or torch."
            raise bad_input(f"--backend openvino cannot render this: {obstacle}.", hint)
        return BackendDecision("openvino", "the OpenVINO backend was asked for")
    if device_kind in ("cuda", "mps"):
        return BackendDecision("torch", f"a {device_kind} GPU is available")
    if obstacle:
        return BackendDecision("torch", f"no GPU, but {obstacle}")
    return BackendDecision("openvino", f"no GPU, and OpenVINO runs {family.upper()} faster on CPU")
