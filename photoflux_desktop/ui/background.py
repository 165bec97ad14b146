"""Runs a function on a pool thread (a superqt worker) and reports back on the GUI thread.

superqt's worker signals live on a QObject created here, in the GUI thread; the worker
emits them from its pool thread, so Qt queues every `returned`/`errored` call (and any
signal the function emits on a GUI-thread QObject) to the GUI thread: widgets are only
touched there. What superqt does not give is a wait for one particular job (closing the
window waits for a render), which `BackgroundJob.wait` adds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThreadPool

if TYPE_CHECKING:
    from superqt.utils import FunctionWorker


class BackgroundJob:
    """One function running on a pool thread."""

    def __init__(self, worker: FunctionWorker, ended: threading.Event) -> None:
        self.worker = worker
        self._ended = ended

    @property
    def running(self) -> bool:
        return not self._ended.is_set()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the function has returned or raised; False on timeout.

        Its `returned`/`errored` handlers run later, when the GUI thread's event
        loop delivers them.
        """
        return self._ended.wait(timeout_ms / 1000)


def start_job(
    fn: Callable[[], Any],
    *,
    returned: Callable[[Any], None],
    errored: Callable[[BaseException], None],
) -> BackgroundJob:
    """Run `fn()` off the GUI thread; `returned` or `errored` gets the outcome."""
    # superqt's package import costs ~0.3 s (it loads every widget it has): paid at the
    # first job, after the window is up, not at start-up (bench/ui_startup.py)
    from superqt.utils import create_worker

    ended = threading.Event()

    def run() -> Any:
        try:
            return fn()
        finally:
            _pool_room.release()
            ended.set()

    _pool_room.reserve()
    worker = create_worker(run, _connect={"returned": returned, "errored": errored})
    return BackgroundJob(worker, ended)


class _PoolRoom:
    """Keeps a pool thread free for every job: the global pool is sized to the CPU count
    (2 on small machines), and a render must not queue behind a download and a preload."""

    def __init__(self) -> None:
        self._running = 0
        self._lock = threading.Lock()

    def reserve(self) -> None:
        with self._lock:
            self._running += 1
            pool = QThreadPool.globalInstance()
            if self._running > pool.maxThreadCount():
                pool.setMaxThreadCount(self._running)

    def release(self) -> None:
        with self._lock:
            self._running -= 1


_pool_room = _PoolRoom()
