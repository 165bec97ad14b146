"""Renders a preset with its instant (OpenCV) stand-in: no model, well under a second."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator

from PIL import Image

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.instant_styles import apply_instant_style, scale_thumbnail
from photoflux_desktop.engine.presets import Preset
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressCallback,
    ProgressEvent,
    RenderParameters,
    RenderRequest,
    RenderResult,
    Stage,
    Status,
    ignore_progress,
)


def render_instant(
    request: RenderRequest,
    preset: Preset,
    on_progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    notes: tuple[str, ...] = (),
) -> RenderResult:
    if preset.instant is None:
        raise bad_input(
            f"The style '{preset.id}' has no instant version.",
            "Install a diffusion model (`photoflux models`) to use it.",
        )
    # strength means "how far from the photo" for both backends
    amount = request.strength if request.strength is not None else preset.instant.amount
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    parameters = RenderParameters(
        style=preset.id,
        backend="instant",
        model=f"instant:{preset.instant.style}",
        seed=seed,
        subject=request.prompt,
        instant_style=preset.instant.style,
        strength=amount,
        render_width=request.image.width,
        render_height=request.image.height,
    )
    if cancel is not None and cancel.cancelled:
        return RenderResult(Status.CANCELLED, None, parameters, notes=notes)
    on_progress(ProgressEvent(Stage.STYLING, 0, 1, message=f"Applying {preset.name}"))
    started = time.perf_counter()
    image = apply_instant_style(request.image, preset.instant.style, amount, seed)
    elapsed = time.perf_counter() - started
    on_progress(ProgressEvent(Stage.DONE, 1, 1, preview=image))
    return RenderResult(
        status=Status.COMPLETED,
        image=image,
        parameters=parameters,
        timings={"style": elapsed, "total": elapsed},
        notes=notes,
    )


# The seed every look preview and every look applied from a tile use, so the result of a
# click is the picture its tile promised (instant looks ignore the seed otherwise).
PREVIEW_SEED = 0


def look_previews(
    image: Image.Image,
    presets: Iterable[Preset],
    side: int = 192,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[str, Image.Image]]:
    """Each preset's instant look on a square `side`-pixel crop of `image`, one at a time.

    A generator, so a caller on a worker thread can show each preview as it lands and stop
    between looks (`cancel`) when the photo changes; presets without a look are skipped.
    """
    square = scale_thumbnail(image, side)
    for preset in presets:
        if cancel is not None and cancel.cancelled:
            return
        if preset.instant is None:
            continue
        look = apply_instant_style(
            square, preset.instant.style, preset.instant.amount, PREVIEW_SEED
        )
        yield preset.id, look
