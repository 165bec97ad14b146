"""The `photoflux` argument parser (contract in design.md)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from photoflux_desktop import __version__
from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.request import (
    GENERATE_SIDE_RANGE,
    GUIDANCE_RANGE,
    LIKENESS_STRENGTH_RANGE,
    MAX_SIDE_RANGE,
    MIN_LIKENESS_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    STRENGTH_RANGE,
    Backend,
    Device,
    Likeness,
    MemoryMode,
    Quantize,
)
from photoflux_desktop.engine.request_checks import LORA_WEIGHT_RANGE


class CliParser(argparse.ArgumentParser):
    """Raises a typed error instead of printing usage, so --json stays one JSON object."""

    def error(self, message: str):  # type: ignore[override]
        raise bad_input(f"{message}.", f"Run `{self.prog} --help` for usage.")


def _bounded(kind: Callable[[str], float], low: float, high: float, name: str):
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not '{text}'") from None
        if not low <= value <= high:
            shown = (f"{low:g}", f"{high:g}") if kind is float else (f"{low}", f"{high}")
            raise argparse.ArgumentTypeError(f"{name} must be between {shown[0]} and {shown[1]}")
        return value

    return parse


def _strength(text: str) -> float:
    value = _bounded(float, *STRENGTH_RANGE, "strength")(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError("strength must be above 0 (0 would return the photo)")
    return value


def _likeness_strength(text: str) -> float:
    value = _bounded(float, *LIKENESS_STRENGTH_RANGE, "likeness-strength")(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError("likeness-strength must be above 0 (or --likeness none)")
    return value


def _min_likeness(text: str) -> float:
    value = _bounded(float, *MIN_LIKENESS_RANGE, "min-likeness")(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError("min-likeness must be above 0 (leave it out for none)")
    return value


def _seed(text: str) -> int:
    try:
        return _bounded(int, *SEED_RANGE, "seed")(text)
    except argparse.ArgumentTypeError as exc:
        # other tools take -1 for "random"; here that is leaving --seed out
        raise argparse.ArgumentTypeError(f"{exc} (leave --seed out for a random seed)") from None


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="style one photo and write the result")
    p.add_argument("photo", help="input photo (JPEG, PNG, TIFF or WebP)")
    p.add_argument("-o", "--output", required=True, help="output file: .png, .jpg or .webp")
    p.add_argument("--style", default="watercolor", help="style preset id (see `photoflux styles`)")
    p.add_argument("--prompt", default="", help="what the photo shows / extra words for the style")
    _add_model_options(p, "catalog id, diffusers folder, or 'instant' (default: auto)")
    p.add_argument("--strength", type=_strength, default=None, help="0-1: how far from the photo")
    p.add_argument(
        "--likeness",
        choices=[m.value for m in Likeness],
        default="none",
        help="keep the person: canny/depth hold the photo's structure (ControlNet), face "
        "holds the face (IP-Adapter plus-face), both = canny + face; SD/SDXL models, add-ons "
        "from `photoflux models`",
    )
    p.add_argument(
        "--likeness-strength",
        type=_likeness_strength,
        default=None,
        metavar="F",
        help=f"above {LIKENESS_STRENGTH_RANGE[0]:g} to {LIKENESS_STRENGTH_RANGE[1]:g}: how "
        "strongly --likeness binds (default: per model family)",
    )
    p.add_argument(
        "--min-likeness",
        type=_min_likeness,
        default=None,
        metavar="F",
        help="above 0 to 1: when the result's likeness score (0.5 = dlib's same-person "
        "line) is lower and the photo has a face, render again with stronger likeness "
        "control, at most 3 tries; the best is kept",
    )
    _add_output_options(p)


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="make an image from a prompt alone (no photo), e.g. of a trained subject",
        description="Generate an image from text with a diffusion model: the style's prompt "
        "template with your words as its subject. With --adapter, the trained subject's "
        "token and class word lead the subject unless the prompt names the token already.",
    )
    p.add_argument("-o", "--output", required=True, help="output file: .png, .jpg or .webp")
    p.add_argument("--prompt", default="", help="what to show (required without --adapter)")
    p.add_argument(
        "--style", default="studio-portrait", help="style preset id (see `photoflux styles`)"
    )
    _add_model_options(p, "catalog id or diffusers folder (default: the best installed)")
    for side in ("width", "height"):
        p.add_argument(
            f"--{side}",
            type=_bounded(int, *GENERATE_SIDE_RANGE, side),
            default=None,
            help=f"{GENERATE_SIDE_RANGE[0]}-{GENERATE_SIDE_RANGE[1]} px, rounded to the "
            "model's multiple (default: the model's native square; one side alone: a square)",
        )
    _add_output_options(p)


def _add_model_options(p: argparse.ArgumentParser, model_help: str) -> None:
    """What `render` and `generate` share: the model, its settings, LoRAs, the device."""
    p.add_argument("--negative-prompt", default=None, help="what to avoid (diffusion only)")
    p.add_argument("--model", default=None, help=model_help)
    p.add_argument("--steps", type=_bounded(int, *STEPS_RANGE, "steps"), default=None)
    p.add_argument("--guidance", type=_bounded(float, *GUIDANCE_RANGE, "guidance"), default=None)
    p.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help=f"{SEED_RANGE[0]} to {SEED_RANGE[1]}; leave out for a random seed",
    )
    p.add_argument("--max-side", type=_bounded(int, *MAX_SIDE_RANGE, "max-side"), default=1024)
    p.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="PATH[:WEIGHT]",
        help="LoRA file for this model's family; weight "
        f"{LORA_WEIGHT_RANGE[0]:g} to {LORA_WEIGHT_RANGE[1]:g} (default 1)",
    )
    p.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME[:WEIGHT]",
        help="a trained subject from `photoflux adapters` (repeatable); weight "
        f"{LORA_WEIGHT_RANGE[0]:g} to {LORA_WEIGHT_RANGE[1]:g} (default 1); its token "
        "and class word must be in the prompt (generate adds them)",
    )
    p.add_argument("--preview-dir", default=None, help="save a preview image per step here")
    # choices come from the request's enums, which check the values again
    p.add_argument("--device", choices=[m.value for m in Device], default="auto")
    p.add_argument(
        "--backend",
        choices=[m.value for m in Backend],
        default=None,
        help="who computes a diffusion render: auto (OpenVINO on a CPU-only machine for "
        "SD/SDXL, else torch), torch or openvino (default: the 'backend' setting, auto)",
    )
    p.add_argument("--memory", choices=[m.value for m in MemoryMode], default="auto")
    p.add_argument(
        "--quantize",
        choices=[m.value for m in Quantize],
        default="none",
        help="weights in fewer bits: int8, fp8, int4 (torch, to fit a GPU); on OpenVINO "
        "int8 compresses the UNet's weights and w8a8 (OpenVINO only, the fastest on a CPU) "
        "also computes in 8 bits, calibrated once at export (default: none)",
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the denoiser; each new size compiles once in a warm-up stage",
    )
    p.add_argument(
        "--fast-vae",
        action="store_true",
        help="encode and decode with the tiny autoencoder (TAESD/TAESDXL, SD and SDXL): "
        "several times faster on a CPU, softer fine detail (default: the 'fast_vae' setting)",
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    """The written file: watermarks, quality, and --json."""
    p.add_argument("--no-watermark", action="store_true", help="skip the invisible watermark")
    p.add_argument(
        "--visible-watermark",
        nargs="?",
        const="PhotoFlux",
        default=None,
        metavar="TEXT",
        help="stamp a visible text mark (default text: PhotoFlux)",
    )
    p.add_argument("--watermark-logo", default=None, metavar="PNG", help="stamp this logo instead")
    p.add_argument(
        "--watermark-corner",
        choices=["top-left", "top-right", "bottom-left", "bottom-right"],
        default="bottom-right",
    )
    p.add_argument("--watermark-opacity", type=_bounded(float, 0.0, 1.0, "opacity"), default=0.6)
    p.add_argument("--quality", type=_bounded(int, 1, 100, "quality"), default=92)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _interval(text: str) -> float:
    return _bounded(float, 1.0, 3600.0, "interval")(text)


def _add_sync(sub: argparse._SubParsersAction) -> None:
    connect = sub.add_parser(
        "connect", help="link this install to a studio cloud (token to the OS keyring)"
    )
    connect.add_argument("url", help="the studio cloud's address (https; http only for localhost)")
    connect.add_argument("--device-token", required=True, help="from the studio dashboard")
    connect.add_argument("--json", action="store_true")
    disconnect = sub.add_parser("disconnect", help="remove the studio link and its token")
    disconnect.add_argument("--json", action="store_true")

    lead = sub.add_parser("lead", help="leads (e-mail with consent) waiting for the cloud")
    lead_sub = lead.add_subparsers(dest="lead_command", parser_class=CliParser, required=True)
    add = lead_sub.add_parser("add", help="record a lead in the outbox (consent required)")
    add.add_argument("--email", required=True)
    add.add_argument("--name", default=None)
    add.add_argument(
        "--consent",
        action="store_true",
        help="the person agreed to the processing of their photo and delivery of the result "
        "(required: without it nothing is recorded)",
    )
    add.add_argument(
        "--marketing", action="store_true", help="also agreed to marketing contact (optional)"
    )
    add.add_argument("--campaign", default=None, help="the event or campaign this lead belongs to")
    add.add_argument("--json", action="store_true")

    sync = sub.add_parser("sync", help="send the outbox (leads, deliveries, events) to the cloud")
    sync.add_argument("--once", action="store_true", help="one pass, then exit (else loop)")
    sync.add_argument(
        "--interval", type=_interval, default=30.0, help="seconds between passes (loop mode)"
    )
    sync.add_argument("--json", action="store_true")


def _add_training(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train",
        help="teach a model a subject from 3-30 photos (a LoRA adapter for the library)",
        description="Checks and crops the photos, trains a LoRA on the model's denoiser and "
        "installs it in the adapter library (`photoflux adapters`). Ctrl+C stops with a "
        "checkpoint; run the same command with --resume to continue.",
    )
    train.add_argument("--images", required=True, help="folder of 3-30 photos (4-30 ideal)")
    train.add_argument(
        "--out",
        required=True,
        help="the run's folder: prepared photos and captions (dataset/), checkpoints/, "
        "samples/ and the adapter file; created if new",
    )
    train.add_argument(
        "--name", default=None, help="adapter name in the library (default: --out's folder name)"
    )
    train.add_argument("--model", default=None, help="catalog id or diffusers folder")
    train.add_argument(
        "--preset",
        default="auto",
        help="cpu, 8gb, 12gb, 16gb or 24gb (default: the largest that fits this device)",
    )
    train.add_argument("--steps", type=_bounded(int, 1, 100_000, "steps"), default=None)
    train.add_argument("--rank", type=_bounded(int, 1, 256, "rank"), default=None)
    train.add_argument("--resolution", type=_bounded(int, 32, 2048, "resolution"), default=None)
    train.add_argument(
        "--learning-rate", type=_bounded(float, 1e-7, 1.0, "learning-rate"), default=None
    )
    train.add_argument("--batch", type=_bounded(int, 1, 64, "batch"), default=None)
    train.add_argument("--grad-accum", type=_bounded(int, 1, 64, "grad-accum"), default=None)
    train.add_argument("--token", default="ohwx", help="the subject's unique word (default ohwx)")
    train.add_argument(
        "--class-word", default="person", help="what the subject is: person, dog, mug…"
    )
    train.add_argument("--augment", type=_bounded(int, 1, 8, "augment"), default=2,
                       help="pictures per photo, the plain crop included (1 = none)")  # fmt: skip
    train.add_argument("--no-flip", action="store_true", help="never mirror (text, asymmetry)")
    train.add_argument("--seed", type=_seed, default=0)
    train.add_argument(
        "--checkpoint-every", type=_bounded(int, 1, 100_000, "checkpoint-every"), default=100
    )
    train.add_argument(
        "--sample-every",
        type=_bounded(int, 0, 100_000, "sample-every"),
        default=0,
        help="write sample images every N steps (0: at the end only)",
    )
    train.add_argument("--sample-steps", type=_bounded(int, 1, 200, "sample-steps"), default=None)
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--device", choices=[m.value for m in Device], default="auto")
    train.add_argument("--json", action="store_true", help="print one JSON object")

    adapters = sub.add_parser("adapters", help="the trained subjects (LoRA adapters) library")
    adapters.add_argument("--json", action="store_true")


def build_parser() -> CliParser:
    parser = CliParser(
        prog="photoflux",
        description="PhotoFlux: turn a photo into a styled image. "
        "Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"photoflux {__version__}")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", parser_class=CliParser)

    gui = sub.add_parser("gui", help="open the desktop app")
    gui.add_argument("photo", nargs="?", help="photo to load")
    gui.add_argument(
        "--kiosk",
        action="store_true",
        help="event mode: full screen, camera, guests' e-mail/QR; leaving it needs the "
        "operator PIN (set on first start)",
    )

    _add_render(sub)
    _add_generate(sub)

    styles = sub.add_parser("styles", help="list style presets")
    styles.add_argument("--json", action="store_true")

    models = sub.add_parser("models", help="model catalog and what is installed")
    models.add_argument("--json", action="store_true")
    models_sub = models.add_subparsers(dest="models_command", parser_class=CliParser)
    download = models_sub.add_parser("download", help="download a model (resumable)")
    download.add_argument("model_id")
    download.add_argument("--json", action="store_true")

    doctor = sub.add_parser(
        "doctor", help="device, versions, paths, Qt system libraries and what is missing"
    )
    doctor.add_argument("--json", action="store_true")

    _add_sync(sub)
    _add_training(sub)

    verify = sub.add_parser("verify", help="was this image made by PhotoFlux?")
    verify.add_argument("image")
    verify.add_argument("--json", action="store_true")

    _add_checks(sub)
    return parser


def _add_checks(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check",
        help="quality / NSFW / style-consistency report for every image in a folder",
        description="Checks each image of FOLDER on its own (black, blank, badly exposed, "
        "clipped, NSFW where a detector is installed, and how far it is from its style's "
        "reference signature, the style read from the image's PhotoFlux metadata), then "
        "sums up per style. Unreadable files are reported, not fatal. Exit 0 when the "
        "report was made, 2 when FOLDER is not a folder of images.",
    )
    check.add_argument("folder", help="folder of images (rendered by PhotoFlux or not)")
    check.add_argument("--json", action="store_true", help="print one JSON object")

    audit = sub.add_parser(
        "audit",
        help="bias audit: render a labelled set in each style and compare groups",
        description="Renders every photo listed in LABELS (a CSV: a 'file' column, then one "
        "column per grouping such as skin tone, age or gender, as your studio labels them) "
        "in each chosen style, and reports per group and style: likeness scores, no-face "
        "rates, NSFW flag rates and failed quality checks ('not measured' where a check is "
        "not installed).",
    )
    audit.add_argument("folder", help="folder of the photos named in the labels file")
    audit.add_argument("--labels", required=True, help="CSV: file,<group column>,...")
    audit.add_argument(
        "--styles", default=None, help="comma-separated style ids (default: every style)"
    )
    audit.add_argument(
        "--model", default=None, help="catalog id, diffusers folder, or 'instant' (default: auto)"
    )
    audit.add_argument("--seed", type=_seed, default=0, help="one seed for every render")
    audit.add_argument("--max-side", type=_bounded(int, *MAX_SIDE_RANGE, "max-side"), default=768)
    audit.add_argument("--out", default=None, help="also write every render to this folder")
    audit.add_argument("--json", action="store_true", help="print one JSON object")
