"""CPU backends compared: PyTorch float32 against OpenVINO float32 and 8-bit (NNCF).

OpenVINO 8-bit comes in two modes: int8 (the UNet's weights compressed, computed in
float32) and w8a8 (weights and activations of UNet and VAE quantized after calibration
on sample renders, computed on the CPU's int8 units).

Full-size SD-Turbo (SD 2.1 UNet, OpenCLIP ViT-H text encoder, full VAE) is built from
its published config with random weights (bench/gpu_diffusion.py; latency does not
depend on weight values) and saved to a temporary models folder, then rendered through
the engine's own renderers (DiffusionRenderer, OpenVinoRenderer): 512², img2img, one
denoising step, guidance 0, no previews. Each variant runs in its own process so its
peak RSS is its own: one untimed render (OpenVINO: export and compile happen there, and
their seconds are reported), then the timed renders. One JSON object on stdout.

    python -m bench.cpu_backends                 # SD-Turbo, 512², 3 timed renders each
    python -m bench.cpu_backends --smoke         # tiny SD pipeline, 64², checks the script
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import emit

# "+tiny-vae": the fast autoencoder (TAESD) encodes and decodes (--fast-vae)
VARIANTS = (
    "torch",
    "openvino-fp32",
    "openvino-int8",
    "openvino-w8a8",
    "torch+tiny-vae",
    "openvino-fp32+tiny-vae",
    "openvino-int8+tiny-vae",
    "openvino-w8a8+tiny-vae",
)


def build_model(folder: Path, smoke: bool) -> None:
    """The model, and beside it (the models folder) TAESD, where --fast-vae finds it."""
    from diffusers import AutoencoderTiny

    from bench.gpu_diffusion import build_sd_turbo
    from photoflux_desktop.engine.diffusion.tiny_models import (
        build_tiny_pipeline,
        build_tiny_preview_decoder,
        write_tokenizer,
    )

    if smoke:
        build_tiny_pipeline("sd", folder)
        build_tiny_preview_decoder(folder.parent / "taesd")
        return
    AutoencoderTiny().save_pretrained(str(folder.parent / "taesd"))  # TAESD's own shape
    tokenizer = write_tokenizer(folder / "tokenizer")
    build_sd_turbo(False, tokenizer).save_pretrained(str(folder))


def _quantize(variant: str) -> str:
    for mode in ("int8", "w8a8"):
        if variant.startswith(f"openvino-{mode}"):
            return mode
    return "none"


def run_variant(variant: str, folder: Path, size: int, runs: int) -> dict[str, Any]:
    """Runs in a child process: one warm-up render, then `runs` timed renders."""
    from PIL import Image

    from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
    from photoflux_desktop.engine.model_store import locate
    from photoflux_desktop.engine.openvino.renderer import OpenVinoRenderer
    from photoflux_desktop.engine.presets import get_preset
    from photoflux_desktop.engine.request import RenderRequest

    photo = Image.open(Path("tests/data/astronaut.png")).convert("RGB").resize((size, size))
    request = RenderRequest(
        image=photo,
        style_id="comic",
        model=str(folder),
        seed=7,
        steps=2,
        strength=0.5,  # one denoising step
        guidance=0.0,
        max_side=size,
        previews=False,
        quantize=_quantize(variant),
        fast_vae=variant.endswith("+tiny-vae"),
    )
    models = folder.parent
    if variant.startswith("torch"):
        renderer = DiffusionRenderer(models_dir=models)
    else:
        renderer = OpenVinoRenderer(models_dir=models)
    located, preset = locate(str(folder)), get_preset("comic")
    first = renderer.render(request, preset, located)
    if first.parameters.autoencoder != ("tiny" if request.fast_vae else "full"):
        raise RuntimeError(f"{variant}: the autoencoder was {first.parameters.autoencoder}")
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        result = renderer.render(request, preset, located)
        results.append((time.perf_counter() - started, result))
    out_dir = Path(os.environ.get("BENCH_OUT", tempfile.gettempdir()))
    results[-1][1].image.save(out_dir / f"cpu-backends-{variant}.png")
    return {
        "variant": variant,
        "first_render": {k: round(v, 2) for k, v in first.timings.items()},
        "end_to_end_s": round(statistics.median(t for t, _ in results), 3),
        "denoise_s": round(statistics.median(r.timings["denoise"] for _, r in results), 3),
        "encode_s": round(statistics.median(r.timings["encode"] for _, r in results), 3),
        "decode_s": round(statistics.median(r.timings["decode"] for _, r in results), 3),
        "steps_run": results[-1][1].parameters.steps_run,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": runs,
    }


COMPARED = (
    ("openvino-fp32", "torch"),
    ("openvino-int8", "openvino-fp32"),
    ("openvino-w8a8", "openvino-fp32"),
    ("openvino-fp32+tiny-vae", "torch+tiny-vae"),
)


def image_difference(out_dir: Path, a: str, b: str) -> dict[str, float]:
    """Mean and max absolute pixel difference (0-255) and PSNR between two variants."""
    import numpy as np
    from PIL import Image

    x = np.asarray(Image.open(out_dir / f"cpu-backends-{a}.png"), dtype=np.float64)
    y = np.asarray(Image.open(out_dir / f"cpu-backends-{b}.png"), dtype=np.float64)
    mse = float(((x - y) ** 2).mean())
    psnr = float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)
    return {
        "mean_abs": round(float(np.abs(x - y).mean()), 3),
        "max_abs": float(np.abs(x - y).max()),
        "psnr_db": round(psnr, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny SD pipeline at 64 px")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}"
    )
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = 64 if args.smoke else 512
    if args.variant:  # the child
        sys.stdout.write(json.dumps(run_variant(args.variant, Path(args.folder), size, args.runs)))
        return
    with tempfile.TemporaryDirectory(prefix="cpu-backends-") as tmp:
        folder = Path(tmp) / "sd-turbo-random"
        started = time.perf_counter()
        build_model(folder, args.smoke)
        built = time.perf_counter() - started
        env = {**os.environ, "BENCH_OUT": tmp}
        variants = {}
        chosen = [v for v in VARIANTS if v in args.variants.split(",")]
        for variant in chosen:
            command = [sys.executable, "-m", "bench.cpu_backends", "--variant", variant]
            command += ["--folder", str(folder), "--runs", str(args.runs)]
            command += ["--smoke"] if args.smoke else []
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            variants[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        torch_s = variants["torch"]["end_to_end_s"]
        emit(
            "cpu_backends",
            {
                "model": "tiny SD (smoke)"
                if args.smoke
                else "SD-Turbo (SD 2.1 UNet), random weights",
                "size": size,
                "build_s": round(built, 1),
                "load_average_at_end": os.getloadavg(),
                "variants": variants,
                "speedup_vs_torch": {
                    v: round(torch_s / variants[v]["end_to_end_s"], 2) for v in chosen[1:]
                },
                "denoise_speedup_vs_torch": {
                    v: round(variants["torch"]["denoise_s"] / variants[v]["denoise_s"], 2)
                    for v in chosen[1:]
                },
                "pixel_difference": {
                    f"{a}_vs_{b}": image_difference(Path(tmp), a, b)
                    for a, b in COMPARED
                    if a in variants and b in variants
                },
                "pixel_difference_note": "random weights: shows the paths agree (OpenVINO vs "
                "PyTorch) and what 8-bit changes; the tiny autoencoder's quality cost needs "
                "real weights and is not measured by these figures",
            },
        )


if __name__ == "__main__":
    main()
