"""The visible batch queue: one row per item with its state; cancel one or all."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.ui.batch_queue import BatchQueue, ItemState

MARKS = {
    ItemState.QUEUED: "Waiting",
    ItemState.RUNNING: "Rendering…",
    ItemState.DONE: "Done",
    ItemState.FAILED: "Failed",
    ItemState.CANCELLED: "Cancelled",
}


class QueueView(QWidget):
    def __init__(self, queue: BatchQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self.cancel_one = QPushButton("Cancel item")
        self.cancel_one.setToolTip("Cancel the selected item")
        self.cancel_all = QPushButton("Cancel all")
        self.clear = QPushButton("Clear finished")
        row.addWidget(self.summary, 1)
        for button in (self.cancel_one, self.cancel_all, self.clear):
            row.addWidget(button)
        self.list = QListWidget()
        self.list.setMaximumHeight(96)
        layout.addLayout(row)
        layout.addWidget(self.list)
        self.cancel_one.clicked.connect(self._cancel_selected)
        # clicked(bool) would pass False, read as index 0
        self.cancel_all.clicked.connect(lambda _checked=False: queue.cancel())
        self.clear.clicked.connect(queue.clear_finished)
        queue.changed.connect(self.refresh)
        queue.itemChanged.connect(self._update_row)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for index in range(len(self.queue.items)):
            self.list.addItem(QListWidgetItem())
            self._update_row(index)
        self.setVisible(bool(self.queue.items))

    def row_text(self, index: int) -> str:
        return self.list.item(index).text()

    def _update_row(self, index: int) -> None:
        if index >= self.list.count():
            self.refresh()
            return
        item = self.queue.items[index]
        text = f"{MARKS[item.state]} · {item.label}"
        if item.message:
            text += f" · {item.message}"
        self.list.item(index).setText(text)
        self.list.item(index).setToolTip(item.message or item.label)
        counts = [i.state for i in self.queue.items]
        done = sum(s in (ItemState.DONE, ItemState.FAILED, ItemState.CANCELLED) for s in counts)
        failed = counts.count(ItemState.FAILED)
        self.summary.setText(
            f"Batch: {done} of {len(counts)} finished" + (f", {failed} failed" if failed else "")
        )
        live = any(s in (ItemState.QUEUED, ItemState.RUNNING) for s in counts)
        self.cancel_all.setEnabled(live)
        self.cancel_one.setEnabled(live)

    def _cancel_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.queue.cancel(row)
