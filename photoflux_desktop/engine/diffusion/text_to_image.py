"""Text-to-image over the same loaded weights as img2img.

The cache holds one img2img pipeline per model; a text-to-image render builds the
family's text-to-image pipeline around those very modules (no copy, no cast, the same
offload hooks and OpenVINO parts), with a scheduler of its own, as `job_pipeline` does.
"""

from __future__ import annotations

from typing import Any

TEXT_TO_IMAGE = {
    "sd": "StableDiffusionPipeline",
    "sdxl": "StableDiffusionXLPipeline",
    "flux": "FluxPipeline",
}


def text_pipeline(base: Any, family: str) -> Any:
    """The family's text-to-image pipeline sharing `base`'s modules."""
    import diffusers

    cls = getattr(diffusers, TEXT_TO_IMAGE[family])
    expected, optional = cls._get_signature_keys(cls)
    modules = {name: base.components.get(name) for name in expected}
    modules["scheduler"] = type(base.scheduler).from_config(base.scheduler.config)
    options = {name: base.config[name] for name in optional if name in base.config}
    pipe = cls(**modules, **options)
    pipe.set_progress_bar_config(disable=True)
    return pipe
