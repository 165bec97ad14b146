"""Screenshots of the desktop app's states, for reviewing the UI as a user sees it.

    .venv/bin/python scripts/screenshots.py [OUT_DIR] [--only SUBSTRING]
    (default OUT_DIR: out/screenshots)

Every state is a function registered with `@state(name)`: it gets a fresh, shown main
window and puts it in that state; the window is then captured as
`{theme}-{width}x{height}-{name}.png`, for every theme and size the state is registered
for (both themes, 1280×800 and 800×600 unless it says otherwise). A state that raises,
or that could not be captured, is listed at the end and the script exits 1: a missing
screenshot is a failure, not a quiet gap. To add states, append functions decorated
with `@state` near the end of this file. Flows that need their own windows or several
captures in a row (first run, library, studio delivery, kiosk) are SCENARIOS: each lists
the files it must produce, and a missing one fails the run the same way.

Runs offscreen with private folders; the diffusion state uses a tiny random-weight
model (no download), so its preview shows noise-like colour, not a real painting.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="photoflux-shots-"))
for _name in ("DATA", "CONFIG", "CACHE"):
    os.environ[f"PHOTOFLUX_{_name}_DIR"] = str(_TMP / _name.lower())
os.environ["PHOTOFLUX_MODELS_DIR"] = str(_TMP / "models")
os.environ["HF_HOME"] = str(_TMP / "hf")
os.environ["HF_HUB_OFFLINE"] = "1"

from PySide6.QtCore import QEventLoop, QThreadPool, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from photoflux_desktop.engine.request import Stage  # noqa: E402
from photoflux_desktop.engine.resources import sample_photo  # noqa: E402
from photoflux_desktop.ui.app import create_app  # noqa: E402
from photoflux_desktop.ui.main_window import MainWindow  # noqa: E402
from photoflux_desktop.ui.theme import apply_theme  # noqa: E402

THEMES = ("dark", "light")
SIZES = ((1280, 800), (800, 600))


@dataclass(frozen=True)
class State:
    name: str
    setup: Callable[[MainWindow], None]
    themes: tuple[str, ...] = THEMES
    sizes: tuple[tuple[int, int], ...] = SIZES


STATES: list[State] = []  # the registry, in the order the states run


def state(
    name: str,
    themes: tuple[str, ...] = THEMES,
    sizes: tuple[tuple[int, int], ...] = SIZES,
) -> Callable[[Callable[[MainWindow], None]], Callable[[MainWindow], None]]:
    """Registers `setup(window)` as the state `name` (see the module docstring)."""

    def register(setup: Callable[[MainWindow], None]) -> Callable[[MainWindow], None]:
        STATES.append(State(name, setup, themes, sizes))
        return setup

    return register


def settle(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(signal, timeout_ms: int = 120000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def shoot(widget, out: Path, name: str) -> Path:
    """A scenario's capture (see SCENARIOS): saves `name`.png and answers its path."""
    settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path)
    return path


class _Camera:
    """Saves the state being run; `snap` lets a state capture mid-way (a live preview)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.file = ""
        self.captured: set[str] = set()

    def snap(self, window: MainWindow) -> None:
        if self.file in self.captured:
            return
        settle()
        path = self.out / self.file
        pixmap = window.grab()
        if not pixmap.isNull() and pixmap.save(str(path)):
            self.captured.add(self.file)
            print(path)


_cameras: list[_Camera] = []  # the run in progress


def snap(window: MainWindow) -> None:
    """Capture the current state now (else it is captured when its setup returns)."""
    _cameras[-1].snap(window)


def run_states(out: Path, only: str = "") -> list[str]:
    """Runs every registered state; returns the files that were not captured."""
    _camera = _Camera(out)
    _cameras.append(_camera)
    app = create_app()
    expected: list[str] = []
    for item in STATES:
        if only and only not in item.name:
            continue
        for theme in item.themes:
            for width, height in item.sizes:
                _camera.file = f"{theme}-{width}x{height}-{item.name}.png"
                expected.append(_camera.file)
                apply_theme(app, theme)
                window = MainWindow()
                window.resize(width, height)
                window.show()
                wait_for(window.firstShown, 10000)
                settle(300)
                try:
                    item.setup(window)
                    _camera.snap(window)
                except Exception:  # reported below as missing; the other states still run
                    traceback.print_exc()
                finally:
                    window.close()
                    QThreadPool.globalInstance().waitForDone()  # its warm-up reports to it
                    window.deleteLater()
                    QApplication.processEvents()
    return [name for name in expected if name not in _camera.captured]


def main(argv: list[str]) -> int:
    only = ""
    if "--only" in argv:
        index = argv.index("--only")
        only = argv[index + 1]
        argv = argv[:index] + argv[index + 2 :]
    out = Path(argv[0] if argv else "out/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    missing = run_scenarios(out, only, first=True)
    missing += run_states(out, only)
    missing += run_scenarios(out, only, first=False)
    if missing:
        print(f"NOT CAPTURED ({len(missing)}): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


def run_scenarios(out: Path, only: str, first: bool) -> list[str]:
    """Runs the multi-step flows (each captures several files itself); returns the files
    that were not captured. The first-run flow runs before the states: it leaves the
    welcome and analytics cards answered, as they are after a real first run."""
    app = QApplication.instance() or create_app()
    missing: list[str] = []
    for name, run, files in SCENARIOS:
        if (name == "first-run") != first or (only and only not in name):
            continue
        try:
            run(app, out)
        except (Exception, SystemExit):  # reported as missing; the other flows still run
            traceback.print_exc()
        missing += [f for f in files if not (out / f).is_file()]
    return missing


def _both(prefix: str, sizes=((1280, 800), (800, 600))) -> list[str]:
    return [f"{t}-{prefix}-{w}x{h}.png" for t in THEMES for w, h in sizes]


# -- states ------------------------------------------------------------------------------
def _photo_with(window: MainWindow, style: str) -> None:
    window.open_photo(str(sample_photo()))
    window.gallery.select(style)


def _render(window: MainWindow) -> None:
    window.render()
    wait_for(window.resultShown)


@state("1-empty")
def empty(window: MainWindow) -> None:
    pass


@state("2-photo-loaded")
def photo_loaded(window: MainWindow) -> None:
    _photo_with(window, "comic")


@state("3-compare-split")
def compare_split(window: MainWindow) -> None:
    _photo_with(window, "comic")
    _render(window)


@state("4-side-by-side")
def side_by_side(window: MainWindow) -> None:
    compare_split(window)
    window.set_compare_mode("side")


@state("5-gallery")
def gallery(window: MainWindow) -> None:
    compare_split(window)
    window.gallery.select("pop-art")
    _render(window)
    window.compare.set_split(0.35)


@state("6-rendering-with-preview", themes=("dark",), sizes=((1280, 800),))
def rendering_with_preview(window: MainWindow) -> None:
    from photoflux_desktop.engine.diffusion.tiny_models import build_tiny_pipeline

    _photo_with(window, "comic")
    folder = _TMP / "tiny-sd"
    if not folder.exists():
        build_tiny_pipeline("sd", folder)
    window.params.set_model(str(folder))
    window.params.steps.setValue(30)
    window.params.strength.setValue(1.0)
    window.params.size.setCurrentIndex(0)

    def on_progress(event) -> None:
        if event.stage is Stage.DENOISING and event.step == 5:
            snap(window)
            window.cancel_render()

    window.controller.progress.connect(on_progress)
    window.render()
    wait_for(window.controller.idle)


@state("8-error-banner")
def error_banner(window: MainWindow) -> None:
    window.open_photo(b"not an image")


# -- first run (welcome card, analytics question, a download in progress) ----------------

FIRST_RUN_SIZES = ((1280, 800), (800, 600))


def first_run_states(app: QApplication, out: Path) -> None:
    """A fresh install at both sizes and themes; then a download from a loopback fake hub
    held part-way, so the card shows real progress. Leaves the cards answered, so the
    later states show the window as it looks after the first run."""
    from photoflux_desktop.engine.settings import load_settings, save_settings, settings_path

    for theme in ("dark", "light"):
        apply_theme(app, theme)
        for width, height in FIRST_RUN_SIZES:
            settings_path().unlink(missing_ok=True)  # a first run each time
            window = MainWindow()
            window.resize(width, height)
            window.show()
            _wait_until(lambda w=window: w.first_run.welcome.download_button.isEnabled())
            shoot(window, out, f"{theme}-first-run-{width}x{height}")
            _download_in_progress(window, out, f"{theme}-welcome-download-{width}x{height}")
            window.close()
            QApplication.processEvents()
    settings = load_settings()[0].with_analytics(False)
    settings.welcome_dismissed = True
    save_settings(settings)


def _wait_until(condition, timeout_ms: int = 20000) -> None:
    waited = 0
    while not condition():
        if waited > timeout_ms:
            raise SystemExit("screenshots: a first-run state never appeared")
        settle(50)
        waited += 50


def _download_in_progress(window: MainWindow, out: Path, name: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import huggingface_hub.constants

    from photoflux_desktop.engine.model_store import model_folder
    from tests.fake_hub import FakeHub

    weights = "unet/diffusion_pytorch_model.fp16.safetensors"
    turbo = {
        "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
        weights: os.urandom(3_000_000),
    }
    card = window.first_run.welcome
    with FakeHub({"stabilityai/sd-turbo": turbo, "madebyollin/taesd": {}}) as hub:
        os.environ.pop("HF_HUB_OFFLINE", None)
        huggingface_hub.constants.HF_HUB_OFFLINE = False
        os.environ["HF_ENDPOINT"] = hub.url
        hub.pace[weights] = 0.05  # about 1.3 MB/s: slow enough to catch part-way
        card.download_button.click()
        _wait_until(lambda: card.bar.value() > 250 and "/s" in card.status.text())
        shoot(window, out, name)
        card.pause_button.click()
        _wait_until(lambda: card.download_button.text() == "Resume")
    shutil.rmtree(model_folder("sd-turbo"), ignore_errors=True)  # the next shot starts afresh
    os.environ["HF_HUB_OFFLINE"] = "1"
    huggingface_hub.constants.HF_HUB_OFFLINE = True


LIBRARY_SIZES = ((1280, 800), (800, 600))


def library_states(app: QApplication, out: Path) -> None:
    """The library grouped by photo, the All styles contact sheet and the export toast,
    at both sizes in both themes; exits non-zero when one was not captured."""
    from PIL import Image

    second = _TMP / "harbour.jpg"
    with Image.open(sample_photo()) as image:
        width, height = image.size
        image.convert("RGB").crop((0, height // 4, width, height * 3 // 4)).save(second)
    expected = []
    for theme in ("dark", "light"):
        apply_theme(app, theme)
        window = MainWindow()
        window.settings.export_dir = str(_TMP / "exports")
        window.export_bar.set_folder(window.exports.export_folder())
        window.resize(*LIBRARY_SIZES[0])
        window.show()
        settle(300)
        for photo, styles in ((sample_photo(), ("comic", "watercolor")), (second, ("pop-art",))):
            window.open_photo(str(photo))
            for style in styles:
                window.gallery.select(style)
                window.render()
                wait_for(window.resultShown)
        ids = window.history.entry_ids()
        window.lib.set_favourite([ids[-1]], True)
        window.history.item_for(ids[0]).setSelected(True)
        window.history.item_for(ids[1]).setSelected(True)
        window.show_entry(ids[1])
        for width, height in LIBRARY_SIZES:
            window.resize(width, height)
            expected.append(shoot(window, out, f"{theme}-library-grouped-{width}x{height}"))
        window.export_bar.save_button.click()
        for width, height in LIBRARY_SIZES:
            window.resize(width, height)
            window.toast.show_message(window.toast.text.text(), _toast_actions(window))
            expected.append(shoot(window, out, f"{theme}-export-toast-{width}x{height}"))
        sheet = window.batches.all_styles()
        while window.batch.busy:
            settle(100)
        for width, height in LIBRARY_SIZES:
            sheet.resize(width, height)
            expected.append(shoot(sheet, out, f"{theme}-contact-sheet-{width}x{height}"))
        sheet.close()
        window.close()
        QApplication.processEvents()
    missing = [str(path) for path in expected if not path.is_file()]
    if missing:
        raise SystemExit(f"screenshots not captured: {missing}")


def _toast_actions(window: MainWindow) -> tuple:
    folder = window.exports.export_folder()
    return (("Open folder", lambda: window.exports.open_folder(folder)),)


def studio_delivery(out: Path) -> None:
    """E-mail / QR delivery: the consent form being filled in, then the QR code, with the
    sync status in the status bar (the studio here is unreachable: offline, pending)."""
    from PySide6.QtCore import Qt

    os.environ["PHOTOFLUX_CLOUD_URL"] = "https://studio.example"
    os.environ["PHOTOFLUX_DEVICE_TOKEN"] = "screenshot-device-token"
    app = QApplication.instance()
    apply_theme(app, "dark")
    window = MainWindow()
    window.resize(1280, 820)
    window.show()
    settle(400)
    window.open_photo(str(sample_photo()))
    window.gallery.select("watercolor")
    window.render()
    wait_for(window.resultShown)
    dialog = window.studio.send_email()
    form = dialog.form
    form.email.setText("guest@example")  # the inline message while typing
    form.name.setText("Alex")
    settle()
    dialog.grab().save(str(out / "dark-9-email-typing.png"))
    form.email.setText("alex.guest@example.org")
    form.processing.setCheckState(Qt.CheckState.Checked)
    settle()
    dialog.grab().save(str(out / "dark-10-email-ready.png"))
    form.submit()
    settle()
    dialog.grab().save(str(out / "dark-11-email-done.png"))
    dialog.accept()
    qr = window.studio.show_qr()
    settle(600)
    qr.grab().save(str(out / "dark-12-qr-code.png"))
    qr.accept()
    shoot(window, out, "dark-13-studio-status")
    for name in (
        "dark-9-email-typing",
        "dark-10-email-ready",
        "dark-11-email-done",
        "dark-12-qr-code",
    ):
        print(out / f"{name}.png")
    window.close()
    QApplication.processEvents()


def kiosk_states(out: Path) -> None:
    """Kiosk mode at 1280×800: attract screen, camera countdown, styles, reveal, take-home.
    The "camera" is a video file made from the bundled sample portrait."""
    import cv2
    import numpy as np

    from photoflux_desktop.engine.kiosk_pin import hash_pin
    from photoflux_desktop.engine.local_renderer import LocalRenderer
    from photoflux_desktop.engine.settings import Settings
    from photoflux_desktop.sync.outbox import Outbox
    from photoflux_desktop.ui.kiosk.config import KioskConfig
    from photoflux_desktop.ui.kiosk.window import KioskWindow

    apply_theme(QApplication.instance(), "dark")
    video = str(_TMP / "kiosk-camera.avi")
    portrait = cv2.imread(str(sample_photo()))
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"MJPG"), 10, portrait.shape[1::-1])
    for _ in range(5):
        writer.write(np.ascontiguousarray(portrait))
    writer.release()
    config = KioskConfig(
        camera=video,
        campaign="Summer fair",
        model="instant",
        countdown_tick_ms=60_000,  # the countdown holds at "3" for the screenshot
        reveal_ms=200,
        cloud_url="https://studio.example.com",
    )
    settings = Settings(kiosk_pin_hash=hash_pin("2468"))
    kiosk = KioskWindow(config, settings, LocalRenderer(), outbox=Outbox(), library=None)
    kiosk.resize(1024, 768)
    kiosk.show()
    shoot(kiosk, out, "kiosk-1-attract")
    kiosk.start_session()
    wait_for(kiosk.capture.cameraReady, 10000)
    settle(300)
    kiosk.capture.start_countdown()
    shoot(kiosk, out, "kiosk-2-countdown")
    kiosk.capture.use_file(str(sample_photo()))
    shoot(kiosk, out, "kiosk-3-styles")
    kiosk.render_style("comic")
    wait_for(kiosk.revealed)
    shoot(kiosk, out, "kiosk-4-reveal")
    kiosk.pages.setCurrentWidget(kiosk.deliver)
    kiosk.deliver.form.email.setText("guest@example.com")
    kiosk.deliver.form.processing.setChecked(True)
    kiosk.show_qr()
    shoot(kiosk, out, "kiosk-5-take-home")
    kiosk.leave()
    QApplication.processEvents()


SCENARIOS: list[tuple[str, Callable[[QApplication, Path], None], list[str]]] = [
    ("first-run", first_run_states, _both("first-run") + _both("welcome-download")),
    (
        "library",
        library_states,
        _both("library-grouped") + _both("export-toast") + _both("contact-sheet"),
    ),
    (
        "studio-delivery",
        lambda app, out: studio_delivery(out),
        [f"dark-{name}.png" for name in ("9-email-typing", "10-email-ready", "11-email-done")]
        + ["dark-12-qr-code.png", "dark-13-studio-status.png"],
    ),
    (
        "kiosk",
        lambda app, out: kiosk_states(out),
        [
            f"kiosk-{name}.png"
            for name in ("1-attract", "2-countdown", "3-styles", "4-reveal", "5-take-home")
        ],
    ),
]


@state("style-grid")
def style_grid_on_a_loaded_photo(window: MainWindow) -> None:
    """The style grid showing every look on the user's photo, once all previews landed."""
    shown: list[float] = []
    window.looks.previewsShown.connect(shown.append)
    window.open_photo(str(sample_photo()))
    if not shown:
        wait_for(window.looks.previewsShown, 60000)
    if not shown:
        raise RuntimeError("the style grid's previews were never shown")
    window.gallery.select("watercolor")


@state("likeness-score")
def likeness_score(window: MainWindow) -> None:
    """The side panel's Likeness control after a render measured with dlib's real model."""
    _photo_with(window, "comic")
    control = window.params.likeness_control
    control.mode.setCurrentIndex(control.mode.findData("face"))
    control.strength.setValue(9)
    control.min_score.setValue(0.6)
    _render(window)


@state("likeness-lost", themes=("dark",))
def likeness_lost(window: MainWindow) -> None:
    """The warning when every --min-likeness try stayed below (a scorer that says so)."""
    from photoflux_desktop.engine.checks.likeness import LikenessMeasure
    from photoflux_desktop.engine.local_renderer import LocalRenderer

    window.controller.renderer = LocalRenderer(
        likeness_scorer=lambda output, photo: LikenessMeasure(0.31, True, True)
    )
    _photo_with(window, "comic")
    window.params.likeness_control.min_score.setValue(0.6)
    _render(window)


class _ScreenshotFlagger:
    """Flags every image, so the state shows what a flagged render looks like."""

    def detect(self, image):
        from photoflux_desktop.engine.checks.nsfw import Detection

        return [Detection("BUTTOCKS_EXPOSED", 0.87, (0, 0, 8, 8))]


@state("14-flagged-result", sizes=((1280, 800), (800, 600)))
def flagged_result(window: MainWindow) -> None:
    """A render the NSFW screen flagged: blurred, labelled, and the banner says why."""
    from photoflux_desktop.engine.checks.nsfw import NsfwPolicy, register_detector

    register_detector("screenshot-flagger", _ScreenshotFlagger)
    window.renderer.nsfw_policy = NsfwPolicy(detector="screenshot-flagger")
    try:
        _photo_with(window, "comic")
        _render(window)
    finally:
        window.renderer.nsfw_policy = None


# -- Generate mode (text-to-image) and the adapter picker ---------------------------------
def _library_adapters() -> None:
    """Two trained subjects in the adapter library: one for SD, one for SDXL (shown
    disabled with the tiny SD model chosen). Headers only: they are never rendered."""
    import numpy as np
    from PIL import Image
    from safetensors.numpy import save_file

    from photoflux_desktop.engine.training.adapters import (
        AdapterInfo,
        adapter_metadata,
        library_dir,
    )

    folder = library_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(sample_photo()) as photo:
        sample = photo.convert("RGB")
    sample.thumbnail((128, 128))
    for name, family, token, word in (
        ("anna", "sd", "ohwx", "person"),
        ("rex", "sdxl", "sks", "dog"),
    ):
        info = AdapterInfo(name, "", family, "tiny", token, word, 600, 8, "2026-11-22", "", None)
        path = folder / f"{name}.safetensors"
        save_file({"x": np.zeros(1, np.float32)}, str(path), adapter_metadata(info, sample))
        sample.save(path.with_suffix(".png"))


def _generate_setup(window: MainWindow) -> None:
    from photoflux_desktop.engine.diffusion.tiny_models import build_tiny_pipeline

    _library_adapters()
    window.adapters.refresh_adapters()
    folder = _TMP / "tiny-sd"
    if not folder.exists():
        build_tiny_pipeline("sd", folder)
    window.params.set_model(str(folder))
    window.params.steps.setValue(2)
    window.actions_by_name["generate_mode"].trigger()
    window.gallery.select("anime")
    window.params.prompt.setText("a lighthouse at dusk")


@state("9-generate-result")
def generate_result(window: MainWindow) -> None:
    """Generate mode after a render: no photo, the result alone, the full prompt shown,
    a trained subject ticked and another family's shown disabled with the reason."""
    _generate_setup(window)
    _render(window)
    window.adapters.choose_adapter("anna", 0.8)


@state("9-generate-instant-tile", themes=("dark",), sizes=((1280, 800),))
def generate_instant_tile(window: MainWindow) -> None:
    """An instant look clicked in Generate mode: explained in the status line."""
    _generate_setup(window)
    window.gallery.lookActivated.emit("watercolor")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
