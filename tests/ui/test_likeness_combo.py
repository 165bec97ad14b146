"""The parameter panel's Likeness combo offers every engine mode and passes the choice on."""

from __future__ import annotations

from PySide6.QtCore import Qt

from photoflux_desktop.engine.request import Likeness
from photoflux_desktop.ui.widgets.parameter_panel import ParameterPanel


def test_every_likeness_mode_can_be_picked(qtbot):
    panel = ParameterPanel()
    qtbot.addWidget(panel)
    combo = panel.likeness
    offered = [combo.itemData(index) for index in range(combo.count())]
    assert offered == [mode.value for mode in Likeness]
    for index in range(combo.count()):
        assert combo.model().item(index).isEnabled()  # no "coming soon" left
    combo.setCurrentIndex(offered.index("face"))
    assert panel.values().likeness == "face"
    assert combo.itemData(offered.index("canny"), Qt.ItemDataRole.ToolTipRole)
