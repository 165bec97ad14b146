"""The app's window paints its frame first and assembles its parts right after: the way
`photoflux gui PHOTO` starts (ui/app.py create_window)."""

from __future__ import annotations

import json

from photoflux_desktop.engine.paths import config_dir
from photoflux_desktop.ui import main_window
from photoflux_desktop.ui.app import create_window, saved_theme


def test_the_frame_shows_first_then_the_parts_and_the_photo_arrive(qtbot, astronaut_path):
    seen_at_first_paint = []
    window = create_window(str(astronaut_path))
    qtbot.addWidget(window)
    window.firstShown.connect(lambda: seen_at_first_paint.append(window.assembled))
    with qtbot.waitSignal(window.ready, timeout=30000):
        pass
    assert seen_at_first_paint == [False]  # on screen before its parts were built
    assert window.assembled and window.gallery.current_style() is not None
    qtbot.waitUntil(lambda: window.photo is not None, timeout=10000)
    assert window.source_name == astronaut_path.name
    assert "Render" in [a.text().replace("&", "") for a in window.actions_by_name.values()]
    window.close()


def test_closing_while_it_starts_loses_nothing_and_raises_nothing(qtbot):
    window = main_window.MainWindow(deferred=True)
    qtbot.addWidget(window)
    window.close()  # before any part exists: nothing to save or stop
    assert not window.assembled


def test_the_saved_theme_is_read_without_the_settings_model(tmp_path):
    path = config_dir() / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"theme": "light"}))
    assert saved_theme() == "light"
    path.write_text("{broken")
    assert saved_theme() == "system"  # the window's own load reports the broken file
    path.write_text(json.dumps({"theme": "<script>"}))
    assert saved_theme() == "system"
