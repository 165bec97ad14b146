"""Which renderer takes a request: this computer's, or the studio's cloud when the user
chose it and the cloud can run the request. Light on purpose (no HTTP import): the
window builds it at start-up and the cloud renderer is made on its first use."""

from __future__ import annotations

from collections.abc import Callable

from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressCallback,
    Renderer,
    RenderRequest,
    RenderResult,
    ignore_progress,
)


def runs_in_cloud(request: RenderRequest) -> bool:
    """What a cloud worker can run: a catalog model (or the automatic choice) and no LoRA
    files (they live on this computer). Instant looks stay here: they take milliseconds,
    and an Instant tile with the automatic model is one (a model chosen by name is not).
    Text-to-image stays here too: the cloud's upload-then-generate contract needs a photo."""
    if request.image is None:
        return False
    model = request.model
    automatic = model in (None, "", "auto")
    preset = bundled_presets().get(request.style_id)
    if model == "instant" or (automatic and preset is not None and preset.kind == "instant"):
        return False
    return not request.loras and (automatic or model in CATALOG)


class RoutedRenderer:
    """The local renderer, or the cloud one when `use_cloud(request)` says so."""

    def __init__(
        self,
        local: Renderer,
        cloud: Callable[[], Renderer],
        use_cloud: Callable[[RenderRequest], bool],
    ) -> None:
        self.local = local
        self._cloud = cloud
        self.use_cloud = use_cloud

    def render(
        self,
        request: RenderRequest,
        on_progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        target = self._cloud() if self.use_cloud(request) else self.local
        return target.render(request, on_progress, cancel)
