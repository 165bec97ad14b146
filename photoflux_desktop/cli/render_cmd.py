"""`photoflux render`: one photo in, one styled file out; `photoflux generate`: a
prompt (and trained subjects) in, one file out. Both share the render, the write and
the report."""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path
from typing import Any

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.errors import bad_input, cancelled
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.output import OutputOptions, output_format, write_image
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.provenance import result_record
from photoflux_desktop.engine.request import (
    CancelToken,
    LoraSpec,
    ProgressEvent,
    RenderRequest,
    RenderResult,
    Status,
)
from photoflux_desktop.engine.training.adapters import (
    adapter_lora,
    find_adapter,
    subject_with_adapters,
)
from photoflux_desktop.engine.watermark import Corner, VisibleWatermark, load_logo


def parse_lora(text: str) -> LoraSpec:
    """PATH[:WEIGHT]; the request checks that the file exists and the weight's range."""
    path, _, weight = text.rpartition(":") if ":" in text else (text, "", "")
    if not path:
        path, weight = text, ""
    try:
        value = float(weight) if weight else 1.0
    except ValueError:
        path, value = text, 1.0  # a Windows drive letter, not a weight
    return LoraSpec(path=path, weight=value)


def adapter_loras(args: argparse.Namespace) -> tuple[LoraSpec, ...]:
    """--adapter NAME[:WEIGHT] from the library, applied as LoRAs."""
    specs = []
    for text in getattr(args, "adapter", []):
        path, weight = adapter_lora(text)
        specs.append(LoraSpec(path=path, weight=weight))
    return tuple(specs)


def build_request(args: argparse.Namespace, image: Any) -> RenderRequest:
    """The request checks every value itself (bad input names the field); argparse's
    choices and ranges only give early messages and the --help text."""
    if image is None:
        source: dict[str, Any] = {
            "prompt": generation_subject(args),
            "width": args.width,
            "height": args.height,
        }
    else:
        source = {
            "prompt": args.prompt,
            "strength": args.strength,
            "likeness": args.likeness,
            "likeness_strength": args.likeness_strength,
            "min_likeness": args.min_likeness,
        }
    return RenderRequest(
        image=image,
        style_id=args.style,
        negative_prompt=args.negative_prompt,
        model=args.model,
        steps=args.steps,
        guidance=args.guidance,
        seed=args.seed,
        max_side=args.max_side,
        loras=tuple(parse_lora(text) for text in args.lora) + adapter_loras(args),
        device=args.device,
        backend=args.backend or "auto",  # auto: the setting, then the automatic rule
        memory=args.memory,
        quantize=args.quantize,
        compile=args.compile,
        previews=args.preview_dir is not None,
        fast_vae=args.fast_vae,
        **source,
    )


def generation_subject(args: argparse.Namespace) -> str:
    """--prompt, led by each --adapter's token and class word it does not name yet."""
    adapters = [find_adapter(text.partition(":")[0]) for text in args.adapter]
    subject = subject_with_adapters(args.prompt, adapters)
    if not subject:
        raise bad_input(
            "Nothing to generate: give --prompt, or --adapter for a trained subject.",
            'For example: photoflux generate --prompt "a lighthouse at dusk" -o out.png',
        )
    return subject


def output_options(args: argparse.Namespace) -> OutputOptions:
    visible = None
    if args.visible_watermark is not None or args.watermark_logo:
        logo = Path(args.watermark_logo) if args.watermark_logo else None
        if logo is not None:
            load_logo(logo)  # a wrong file is refused before any render work
        visible = VisibleWatermark(
            text=args.visible_watermark or "PhotoFlux",
            logo=logo,
            corner=Corner(args.watermark_corner),
            opacity=args.watermark_opacity,
        )
    return OutputOptions(
        quality=args.quality, invisible_watermark=not args.no_watermark, visible_watermark=visible
    )


class _PreviewSaver:
    def __init__(self, console: Console, folder: Path | None):
        self.console = console
        self.folder = folder
        self.saved: list[str] = []
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file of that name, no permission, a read-only disk
                raise bad_input(
                    f"--preview-dir {folder} cannot be used as a folder ({exc.strerror}).",
                    "Pass a folder path that is new or an existing folder you can write to.",
                ) from exc

    def __call__(self, event: ProgressEvent) -> None:
        total = f"/{event.total}" if event.total else ""
        self.console.progress(f"{event.stage.value} {event.step}{total} {event.message}".rstrip())
        if self.folder is not None and event.preview is not None and event.stage.value != "done":
            path = self.folder / f"step-{event.step:03d}.jpg"
            event.preview.convert("RGB").save(path, quality=85)
            self.saved.append(str(path))


def run_render(args: argparse.Namespace, console: Console) -> int:
    started = time.perf_counter()
    output_path = Path(args.output)
    output_format(output_path)  # refuse a bad output name before any work
    _refuse_overwriting_the_photo(Path(args.photo), output_path)
    options = output_options(args)
    get_preset(args.style)
    photo = load_photo(args.photo, max_side=args.max_side)
    for note in photo.notes:
        console.note(f"{photo.source}: {note}")
    source = {
        "path": str(args.photo),
        "format": photo.format,
        "original_size": list(photo.original_size),
        "working_size": list(photo.size),
        "notes": list(photo.notes),
    }
    request = build_request(args, photo.image)
    return _render_and_write(args, console, request, options, source=source, started=started)


def run_generate(args: argparse.Namespace, console: Console) -> int:
    started = time.perf_counter()
    output_format(Path(args.output))  # refuse a bad output name before any work
    options = output_options(args)
    get_preset(args.style)
    request = build_request(args, None)
    return _render_and_write(args, console, request, options, source=None, started=started)


def _render_and_write(
    args: argparse.Namespace,
    console: Console,
    request: RenderRequest,
    options: OutputOptions,
    *,
    source: dict[str, Any] | None,
    started: float,
) -> int:
    """Render, write the file (watermarks, provenance), report; `source` describes the
    input photo (None: generated from text)."""
    output_path = Path(args.output)
    previews = _PreviewSaver(console, Path(args.preview_dir) if args.preview_dir else None)
    cancel = CancelToken()
    result = _render_interruptible(request, previews, cancel)
    if result.status is Status.CANCELLED or cancel.cancelled:
        # a Ctrl-C that lands after the last step still means "do not write"
        raise cancelled("Render cancelled; nothing was written.")
    written = write_image(result.image, output_path, result_record(result), options)
    for note in result.notes:
        console.note(note)
    for check in result.checks:
        if not check["passed"]:
            console.note(f"Check '{check['name']}' failed: {check['reason']}")
    payload = {
        "output": written.to_dict(),
        "input": source,
        "result": result.summary(),
        "checks": list(result.checks),
        # the score only (and whether faces were found, every --min-likeness try)
        "likeness": result.likeness_summary(),
        "previews": previews.saved,
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
    human = (
        f"Wrote {written.path} ({written.size[0]}×{written.size[1]} {written.format}) "
        f"with {result.model} in {payload['elapsed_s']:.2f} s"
    )
    console.result(payload, human)
    return 0


def _refuse_overwriting_the_photo(photo: Path, output: Path) -> None:
    """`-o` naming the input (or a link to it) would replace the user's original."""
    try:
        same = output.exists() and photo.exists() and output.samefile(photo)
    except OSError:  # unreadable either way: intake or the writer will say why
        same = False
    if same:
        raise bad_input(
            f"-o {output} is the input photo itself; rendering would replace the original.",
            "Write the result to a new file name.",
        )


def _render_interruptible(
    request: RenderRequest, on_progress: _PreviewSaver, cancel: CancelToken
) -> RenderResult:
    """First Ctrl-C cancels cleanly within one step; a second one stops at once."""

    def on_sigint(signum: int, frame: object) -> None:
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return LocalRenderer().render(request, on_progress, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
