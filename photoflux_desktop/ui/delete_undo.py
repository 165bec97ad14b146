"""Delete with undo: entries leave the library view at once, their files only later.

A delete moves entries to the library's trash; they are purged when the undo window
closes, or at quit. Undo (the toast's button or Ctrl+Z) restores the most recent delete
still pending, so nothing is lost by undoing.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from photoflux_desktop.engine.library import Library

UNDO_SECONDS = 12


class DeleteUndo(QObject):
    restored = Signal(list)  # entry ids back in the library

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._pending: list[tuple[list[str], QTimer]] = []
        library.purge()  # anything left in the trash by a crash: its undo window is long gone

    def delete(self, entry_ids: list[str]) -> None:
        self.library.trash(entry_ids)
        timer = QTimer(self, singleShot=True)
        batch = (list(entry_ids), timer)
        timer.timeout.connect(lambda: self._expire(batch))
        timer.start(UNDO_SECONDS * 1000)
        self._pending.append(batch)

    @property
    def can_undo(self) -> bool:
        return bool(self._pending)

    def undo(self) -> list[str]:
        if not self._pending:
            return []
        ids, timer = self._pending.pop()
        timer.stop()
        self.library.restore(ids)
        self.restored.emit(ids)
        return ids

    def flush(self) -> None:
        """Purge every pending delete now (the window is closing)."""
        while self._pending:
            self._expire(self._pending[-1])

    def _expire(self, batch: tuple[list[str], QTimer]) -> None:
        if batch in self._pending:
            self._pending.remove(batch)
            batch[1].stop()
            self.library.purge(batch[0])
