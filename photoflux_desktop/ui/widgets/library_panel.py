"""The library under the compare view: a tool row, the grouped results, the batch queue."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget

from photoflux_desktop.ui.widgets.fit import fit_to_text
from photoflux_desktop.ui.widgets.history_strip import HistoryStrip


class LibraryPanel(QWidget):
    allStylesRequested = Signal()
    folderRequested = Signal()

    def __init__(self, strip: HistoryStrip, queue: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.strip, self.queue = strip, queue
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(4)
        # short labels: the row must fit the centre column of an 800 px window
        self.favourites = QPushButton("★ Favourites")
        self.favourites.setCheckable(True)
        self.favourites.setToolTip("Show only favourite results")
        self.export_selected = QPushButton("Export")
        self.export_selected.setToolTip("Save the selected results to the export folder")
        self.delete_selected = QPushButton("Delete")
        self.delete_selected.setToolTip("Delete the selected results (Delete; undo with Ctrl+Z)")
        self.all_styles = QToolButton()
        self.all_styles.setText("All styles")
        self.all_styles.setToolTip("Every style on this photo, as a contact sheet")
        self.all_styles.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        batch_menu = QMenu(self.all_styles)
        self.folder_action = batch_menu.addAction("Style a folder of photos…")
        self.folder_action.setToolTip("Apply the chosen style to every photo in a folder")
        self.all_styles.setMenu(batch_menu)
        row.addWidget(self.favourites)
        row.addStretch(1)
        for button in (self.export_selected, self.delete_selected, self.all_styles):
            row.addWidget(button)
        fit_to_text(self.favourites, self.export_selected, self.delete_selected, self.all_styles)
        layout.addLayout(row)
        layout.addWidget(strip)
        layout.addWidget(queue)
        self.favourites.toggled.connect(strip.set_favourites_only)
        self.export_selected.clicked.connect(
            lambda: strip.exportRequested.emit(strip.selected_ids())
        )
        self.delete_selected.clicked.connect(
            lambda: strip.deleteRequested.emit(strip.selected_ids())
        )
        self.all_styles.clicked.connect(self.allStylesRequested)
        self.folder_action.triggered.connect(self.folderRequested)
        strip.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()

    def _selection_changed(self) -> None:
        count = len(self.strip.selected_ids())
        self.export_selected.setEnabled(count > 0)
        self.delete_selected.setEnabled(count > 0)
        self.export_selected.setText(f"Export {count}" if count > 1 else "Export")
