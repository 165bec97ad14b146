"""The style grid, driven as a user does: clicks on tiles, typing in search, a category."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from photoflux_desktop.engine.presets import bundled_presets


def open_and_wait_for_previews(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.looks.previewsShown, timeout=60000):
        assert window.open_photo(str(path))


def click_tile(qtbot, window, style_id: str) -> None:
    view = window.gallery.view
    rect = window.gallery.tile_rect(style_id)
    view.scrollTo(view.indexAt(rect.center()))
    rect = window.gallery.tile_rect(style_id)
    assert rect.isValid(), f"{style_id} is not shown"
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_grid_opens_at_the_top_with_two_or_three_columns(window):
    view = window.gallery.view
    assert view.verticalScrollBar().value() == 0
    assert view.columns() in (2, 3)
    window.gallery.view.resize(2 * 110 + 30, 400)
    assert view.columns() == 2
    window.gallery.view.resize(3 * 140 + 30, 400)
    assert view.columns() == 3


def test_opening_a_photo_shows_every_look_on_it_and_a_second_photo_replaces_them(
    qtbot, window, astronaut_path, tmp_path
):
    before = {style: window.gallery.preview_key(style) for style in bundled_presets()}
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    first = {style: window.gallery.preview_key(style) for style in bundled_presets()}
    assert all(first[style] != before[style] for style in before), "a tile kept its sample"
    assert not window.looks.previews_pending
    from PIL import Image

    other = tmp_path / "other.png"
    Image.new("RGB", (300, 200), (30, 140, 200)).save(other)
    open_and_wait_for_previews(qtbot, window, other)
    second = {style: window.gallery.preview_key(style) for style in bundled_presets()}
    assert all(second[style] != first[style] for style in first), "a tile kept the old photo"


def test_clicking_an_instant_tile_applies_it_without_render(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    with qtbot.waitSignal(window.resultShown, timeout=60000) as shown:
        click_tile(qtbot, window, "pencil-sketch")
    result = shown.args[0]
    assert result.backend == "instant" and result.parameters.style == "pencil-sketch"
    assert window.gallery.current_style() == "pencil-sketch"
    assert window.compare.after is not None
    assert len(window.history.entry_ids()) == 1  # filed like a render (the strip has group headers)
    # applied at the chosen size, not the tile's
    assert max(result.image.size) == min(1024, max(window.photo.image.size))


def test_clicking_an_ai_tile_selects_it_and_explains_render(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    click_tile(qtbot, window, "anime")
    assert window.gallery.current_style() == "anime"
    assert window.params.preset.id == "anime"
    assert not window.controller.busy and window.history.count() == 0
    assert "AI model" in window.progress.status.text()


def test_enter_applies_the_current_tile(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    view = window.gallery.view
    view.setFocus()
    window.gallery.select("pop-art")
    with qtbot.waitSignal(window.resultShown, timeout=60000) as shown:
        QTest.keyClick(view, Qt.Key.Key_Return)
    assert shown.args[0].parameters.style == "pop-art"


def test_search_filters_as_you_type(qtbot, window):
    QTest.keyClicks(window.gallery.search, "pencil")
    assert window.gallery.visible_styles() == ["pencil-sketch"]
    window.gallery.search.clear()
    QTest.keyClicks(window.gallery.search, "instant paint")  # every word must match
    shown = window.gallery.visible_styles()
    assert shown and all(bundled_presets()[s].kind == "instant" for s in shown)
    assert "oil-painting" in shown
    window.gallery.search.clear()
    assert len(window.gallery.visible_styles()) == len(bundled_presets())


def test_category_filter_shows_one_category(qtbot, window):
    combo = window.gallery.category
    combo.setCurrentIndex(combo.findText("Photo"))
    shown = window.gallery.visible_styles()
    assert set(shown) == {p.id for p in bundled_presets().values() if p.category == "Photo"}
    combo.setCurrentIndex(0)
    assert len(window.gallery.visible_styles()) == len(bundled_presets())


def test_badges_say_instant_or_ai_and_whether_a_model_is_needed(window):
    from photoflux_desktop.ui.widgets.style_tile import badge_text, tile_hint

    assert badge_text(bundled_presets()["watercolor"].kind) == "Instant"
    assert badge_text(bundled_presets()["anime"].kind) == "AI"
    assert not window.gallery.ai_ready  # no model installed in tests
    assert tile_hint("ai", window.gallery.ai_ready) == "Needs a model"
    assert tile_hint("instant", window.gallery.ai_ready) == "Applies on click"
    assert "AI style" in window.gallery._item("anime").toolTip()


def test_a_click_during_an_apply_runs_after_it(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    styles = []
    window.resultShown.connect(lambda result: styles.append(result.parameters.style))
    click_tile(qtbot, window, "pencil-sketch")
    click_tile(qtbot, window, "vintage-film")  # while the first is still being applied
    qtbot.waitUntil(lambda: len(styles) == 2, timeout=60000)
    assert styles == ["pencil-sketch", "vintage-film"]
    assert window.gallery.current_style() == "vintage-film"


def test_ai_tiles_stop_asking_for_a_model_once_one_is_installed(window, tiny_models):
    import os
    from pathlib import Path

    from tests.engine.diffusion_fixtures import install_as

    assert not window.gallery.ai_ready
    install_as(tiny_models["sd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "sd-turbo")
    window.open_model_manager()  # a finished download or delete tells the window so
    window._model_manager.modelsChanged.emit()
    assert window.gallery.ai_ready
    window._model_manager.close()
