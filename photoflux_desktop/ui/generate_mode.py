"""Generate mode: text-to-image in the main window, beside the photo mode.

No photo goes in: the prompt box is the main input, the style's prompt template with
the subject filled in is shown under it, a shape choice (square, portrait, landscape)
sets the size at the model's native resolution, and Render reads "Generate". The
render itself runs through the window's usual path (previews, cancel, progress, error
banner, library, export with provenance and watermark). Each mode keeps its own state
(photo or none, result, prompt, style) while the other is in use.

The adapter picker (trained subjects) lives here too because both modes use it: its
LoRAs and its tokens join every request the window builds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.request import LoraSpec, RenderRequest
from photoflux_desktop.engine.training.adapters import subject_with_adapters
from photoflux_desktop.ui.widgets.adapter_picker import AdapterPicker
from photoflux_desktop.ui.widgets.compare_view import CompareMode

if TYPE_CHECKING:
    from photoflux_desktop.ui.main_window import MainWindow

SHORTCUT = "Ctrl+G"
# the long side each family was trained at, for a model folder the catalog does not name
FAMILY_NATIVE_PX = {"sd": 512, "sdxl": 1024, "flux": 1024}
SHAPES = (("square", "Square"), ("portrait", "Portrait 3:4"), ("landscape", "Landscape 4:3"))
GENERATE_MAX_SIDE = 2048  # the native size decides; this only caps it


@dataclass
class ModeState:
    """What one mode shows; kept while the other mode is in use."""

    photo: Any = None
    source_name: str = "generated"  # the library's "from …" for a picture with no photo
    result: Any = None
    result_image: Any = None
    current_entry: Any = None
    before: Any = None  # QImage
    after: Any = None  # QImage
    compare_mode: str = CompareMode.AFTER.value
    prompt: str = ""
    style: str | None = None


def shape_size(shape: str, native: int | None) -> tuple[int | None, int | None]:
    """Width and height for a shape; None, None (the model's own size) for a square.
    Portrait and landscape keep the native long side at 3:4, rounded to 8 px."""
    if shape == "square" or native is None:
        return None, None
    short = max(64, round(native * 3 / 4 / 8) * 8)
    return (short, native) if shape == "portrait" else (native, short)


class GenerateMode(QObject):
    toggled = Signal(bool)  # True: Generate mode

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.active = False
        self._other = ModeState()  # the state of the mode not on screen
        self.action = QAction("&Generate from a prompt", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(f"Switch between restyling a photo and generating ({SHORTCUT})")
        self.action.triggered.connect(self.set_active)
        window.addAction(self.action)
        self.picker = AdapterPicker()
        self.picker.family_of = window.params.family
        self._build_rows()
        self._connect()

    # -- widgets ---------------------------------------------------------------------
    def _build_rows(self) -> None:
        form = self.w.params.layout()
        form.insertRow(0, self._switch())
        prompt_row, _role = form.getWidgetPosition(self.w.params.prompt)
        self.full_prompt = QLabel()
        self.full_prompt.setObjectName("hint")
        self.full_prompt.setWordWrap(True)
        self.full_prompt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.insertRow(prompt_row + 1, "", self.full_prompt)
        self.shape = QComboBox()
        for value, label in SHAPES:
            self.shape.addItem(label, value)
        self.shape.setToolTip("The picture's shape, at the model's native size")
        form.insertRow(prompt_row + 2, "Shape", self.shape)
        likeness_row, _role = form.getWidgetPosition(self.w.params.likeness_control)
        form.insertRow(likeness_row + 1, "Subjects", self.picker)
        self._show_rows()

    def _switch(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.switch = QButtonGroup(box)
        self.photo_button = QPushButton("Photo")
        self.generate_button = QPushButton("Generate")
        self.photo_button.setToolTip("Restyle a photo")
        self.generate_button.setToolTip(f"Make a picture from the prompt alone ({SHORTCUT})")
        for button in (self.photo_button, self.generate_button):
            button.setCheckable(True)
            button.setObjectName("segment")
            self.switch.addButton(button)
            row.addWidget(button, 1)
        self.photo_button.setChecked(True)
        self.photo_button.clicked.connect(lambda: self.set_active(False))
        self.generate_button.clicked.connect(lambda: self.set_active(True))
        return box

    def _connect(self) -> None:
        w = self.w
        # an instant tile in Generate mode is explained, not applied (it needs a photo)
        w.gallery.lookActivated.disconnect(w.looks.activate)
        w.gallery.lookActivated.connect(self._tile_activated)
        w.params.changed.connect(lambda: self.picker.set_family(w.params.family()))
        w.params.prompt.textChanged.connect(self._show_full_prompt)
        w.gallery.styleChosen.connect(self._show_full_prompt)
        self.picker.changed.connect(self._show_full_prompt)
        w.photoLoaded.connect(self._photo_opened)

    def _show_rows(self) -> None:
        form = self.w.params.layout()
        p = self.w.params
        for widget in (self.full_prompt, self.shape):
            form.setRowVisible(widget, self.active)
        for widget in (p.strength, p.size, p.likeness_control):
            form.setRowVisible(widget, not self.active)  # they follow a photo

    # -- switching -------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        """Switch modes, keeping what each one shows for when the user comes back."""
        if active == self.active:
            self._sync_switch()
            return
        if self.w.controller.busy:
            self.w.progress.set_status("Wait for the render to finish, or cancel it, first")
            self._sync_switch()
            return
        shown = self._take_state()
        self._put_state(self._other)
        self._other = shown
        self.active = active
        self._sync_switch()
        self._show_rows()
        self._show_full_prompt()
        self._dress_window()
        self.toggled.emit(active)

    def _sync_switch(self) -> None:
        self.action.setChecked(self.active)
        (self.generate_button if self.active else self.photo_button).setChecked(True)

    def _take_state(self) -> ModeState:
        w = self.w
        return ModeState(
            photo=w.photo,
            source_name=w.source_name,
            result=w.result,
            result_image=w.result_image,
            current_entry=w.current_entry,
            before=w.compare.before,
            after=w.compare.after,
            compare_mode=w.compare.mode.value,
            prompt=w.params.prompt.text(),
            style=w.gallery.current_style(),
        )

    def _put_state(self, state: ModeState) -> None:
        w = self.w
        w.photo, w.source_name = state.photo, state.source_name
        w.result, w.result_image = state.result, state.result_image
        w.current_entry = state.current_entry
        w.compare.set_before(state.before)
        w.compare.set_after(state.after)
        w.set_compare_mode(state.compare_mode)
        w.params.prompt.setText(state.prompt)
        if state.style:
            w.gallery.select(state.style)
        w.export_bar.set_has_result(state.result_image is not None)
        w.banner.hide()  # an error belonged to the other mode

    def _dress_window(self) -> None:
        """Buttons and words that differ between the modes."""
        w = self.w
        generating = self.active
        button = w.progress.render_button
        button.setText("Generate" if generating else "Render")
        button.setToolTip(
            "Make a picture from the prompt (Ctrl+R)"
            if generating
            else "Render with the chosen style (Ctrl+R)"
        )
        w.actions_by_name["render"].setText("&Generate" if generating else "&Render")
        # no photo, nothing to compare with: the result alone
        for mode_button in w.mode_buttons.buttons():
            mode_button.setEnabled(not generating)
        w.hold_button.setEnabled(not generating)
        self._placeholder(generating)
        if generating:
            w.set_compare_mode(CompareMode.AFTER.value)
            w.params.prompt.setPlaceholderText("What to generate, e.g. a lighthouse at dusk")
            w.progress.set_status("Describe a picture, pick a style and press Generate")
        else:
            w.params._sync_prompt()  # the photo mode's own placeholder
            w.progress.set_status("Photo mode: open a photo, then pick a style")

    def _placeholder(self, generating: bool) -> None:
        """What the empty picture area says: a photo to drop, or the prompt to write."""
        compare = self.w.compare
        if not hasattr(self, "_photo_words"):
            self._photo_words = (compare.placeholder, compare.caption)
        compare.placeholder, compare.caption = (
            ("Describe a picture in the prompt, then press Generate", "Ctrl+R generates")
            if generating
            else self._photo_words
        )
        compare.update()

    def _photo_opened(self) -> None:
        """A photo opened (drop, paste, Ctrl+O) while generating: the photo mode takes it."""
        if not self.active:
            return
        # the photo replaced what was on screen; Generate mode starts afresh, its prompt kept
        shown = self._take_state()
        self._other = ModeState(prompt=shown.prompt, style=shown.style)
        self.active = False
        self.w.set_compare_mode(CompareMode.SPLIT.value)
        self._sync_switch()
        self._show_rows()
        self._dress_window()
        self.toggled.emit(False)

    # -- the gallery -----------------------------------------------------------------
    def _tile_activated(self, style_id: str) -> None:
        preset = bundled_presets()[style_id]
        if not self.active:
            self.w.looks.activate(style_id)
        elif preset.kind == "instant":
            self.w.progress.set_status(
                f"{preset.name} is an instant look for photos (switch to Photo); "
                "Generate paints it with the AI model"
            )
        else:
            self.w.progress.set_status(f"{preset.name}: press Generate to create it")

    def _show_full_prompt(self) -> None:
        if not self.active:
            return
        style = self.w.gallery.current_style()
        subject = subject_with_adapters(self.w.params.prompt.text(), self.picker.chosen())
        if style is None or not subject:
            self.full_prompt.setText("The style's prompt appears here with your subject")
            return
        self.full_prompt.setText(bundled_presets()[style].render_prompt(subject))

    # -- requests --------------------------------------------------------------------
    def native_px(self) -> int | None:
        model = self.w.params.model.currentData()
        if model in CATALOG:
            return CATALOG[model].native_px
        return FAMILY_NATIVE_PX.get(self.w.params.family())

    def with_adapters(self, request: RenderRequest) -> RenderRequest:
        """The request plus the ticked adapters: their LoRAs, and their tokens in the
        subject (without the token the trained subject would not appear)."""
        chosen = self.picker.chosen()
        if not chosen:
            return request
        try:
            return replace(
                request,
                prompt=subject_with_adapters(request.prompt, chosen),
                loras=request.loras + self.picker.lora_specs(),
            )
        except PhotoFluxError as exc:
            self.w.show_error(exc.error)
            return request

    def build_request(self) -> RenderRequest | None:
        """The text-to-image request the controls describe; errors go to the banner."""
        w = self.w
        p = w.params.values()
        if (refusal := self._refusal(p.model)) is not None:
            w.show_error(refusal)
            return None
        subject = subject_with_adapters(p.prompt, self.picker.chosen())
        if not subject:
            w.show_error(
                Error(
                    ErrorKind.BAD_INPUT,
                    "Describe what to generate.",
                    "Type a subject in the prompt box, e.g. a lighthouse at dusk, "
                    "or tick a trained subject.",
                )
            )
            return None
        if not p.seed_locked:
            w.params.seed.setValue(secrets.randbelow(2**31))
        width, height = shape_size(self.shape.currentData(), self.native_px())
        loras = (LoraSpec(p.lora_path, p.lora_weight),) if p.lora_path else ()
        try:
            return RenderRequest(
                image=None,
                style_id=w.gallery.current_style() or "watercolor",
                prompt=subject,
                model=None if p.model == "auto" else p.model,
                steps=p.steps,
                guidance=p.guidance,
                seed=w.params.seed.value(),
                max_side=GENERATE_MAX_SIDE,
                width=width,
                height=height,
                loras=loras + self.picker.lora_specs(),
                device=w.settings.device,
                backend=w.settings.backend,
                memory=w.settings.memory,
                quantize=w.settings.quantize,
                previews=True,
            )
        except PhotoFluxError as exc:
            w.show_error(exc.error)
            return None

    def _refusal(self, model: str) -> Error | None:
        if model == "instant":
            return Error(
                ErrorKind.BAD_INPUT,
                "Instant looks restyle a photo; without one there is nothing to restyle.",
                "Choose a diffusion model under Model, or switch to Photo.",
            )
        if self.w.params.family() == "instant":  # "Automatic" found no diffusion model
            return Error(
                ErrorKind.MODEL_MISSING,
                "Generating a picture needs an AI model, and none is installed.",
                "Install one in the model manager.",
            )
        return None
