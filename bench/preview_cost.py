"""Preview cost: full-size TAESD vs full-size SD VAE decode vs linear projection.

Both autoencoders are built from their published architectures with random weights
(decode time does not depend on weight values), on the same 512 px latents.
"""

from __future__ import annotations

import argparse

import torch

from bench._util import emit, summary_ms, time_runs
from photoflux_desktop.engine.diffusion.previews import project_latents


def sd_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(  # Stable Diffusion 1.x/2.x VAE architecture
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        sample_size=512,
    ).eval()


def taesd():
    from diffusers import AutoencoderTiny

    return AutoencoderTiny().eval()  # the default config is TAESD's


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    latents = torch.randn(1, 4, args.size // 8, args.size // 8, device=device)
    vae, tiny = sd_vae().to(device), taesd().to(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def run(fn):
        def timed() -> None:
            with torch.inference_mode():
                fn()
            sync()

        return timed

    full = summary_ms(time_runs(run(lambda: vae.decode(latents)), args.runs))
    small = summary_ms(time_runs(run(lambda: tiny.decode(latents)), args.runs))
    projection = summary_ms(
        time_runs(run(lambda: project_latents(latents, "sd", (args.size, args.size))), args.runs)
    )
    emit(
        "preview_cost",
        {
            "device": str(device),
            "image_px": args.size,
            "full_vae_decode": full,
            "taesd_decode": small,
            "latent_projection": projection,
            "taesd_speedup_x": round(full["median_ms"] / small["median_ms"], 1),
        },
    )


if __name__ == "__main__":
    main()
