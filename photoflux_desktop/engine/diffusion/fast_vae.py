"""The fast autoencoder: a tiny one (TAESD / TAESDXL) in place of the model's VAE for
the photo's encode and the final decode.

On a CPU the full VAE is most of an SD-Turbo render (bench/cpu_backends.py: ~17 of 31 s
at 512² on 2 cores, the UNet's one step ~6 s); the tiny autoencoder does both ends in a
fraction of that, at a visible cost in fine detail, so it is an option, never a default.
The same tiny autoencoders draw the step previews (previews.py). FLUX is left out: its
16-channel tiny autoencoder (TAEF1) is not wired or tested here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from photoflux_desktop.engine.model_store import LocatedModel, preview_decoder_folder

# the tiny autoencoder each family's latents decode with (ids in catalog.PREVIEW_DECODERS)
FAMILY_DECODERS = {"sd": "taesd", "sdxl": "taesdxl"}


def fast_vae_folder(located: LocatedModel, models_dir: Path | None) -> Path | None:
    """The installed tiny autoencoder for this model, or None."""
    decoder_id = located.spec.preview_decoder if located.spec else None
    decoder_id = decoder_id or FAMILY_DECODERS.get(located.family)
    if located.family not in FAMILY_DECODERS or decoder_id is None:
        return None
    return preview_decoder_folder(decoder_id, models_dir)


def missing_note(located: LocatedModel) -> str:
    """Why the full VAE ran although the fast one was asked for."""
    if located.family not in FAMILY_DECODERS:
        return (
            f"The fast autoencoder is not available for {located.family.upper()} models; "
            "the model's own VAE was used."
        )
    if located.spec is not None:
        how = (
            f"Run `photoflux models download {located.spec.id}` again: it fetches the model's "
            "tiny autoencoder too."
        )
    else:
        how = (
            f"Put a tiny autoencoder (diffusers AutoencoderTiny) in the models folder as "
            f"'{FAMILY_DECODERS[located.family]}'."
        )
    return "The fast autoencoder is not installed, so the model's own VAE was used. " + how


class FastVaes:
    """Loaded tiny autoencoders, one per (folder, device, dtype); they are small (~10 MB)."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str, str], Any] = {}

    def get(self, folder: Path, device: str, dtype: Any) -> Any:
        key = (str(folder), device, str(dtype))
        if key not in self._loaded:
            from diffusers import AutoencoderTiny

            vae = AutoencoderTiny.from_pretrained(str(folder), dtype=dtype)
            self._loaded[key] = vae.to(device).eval()
        return self._loaded[key]
