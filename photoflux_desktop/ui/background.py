"""Runs a function on a pool thread and reports back on the GUI thread.

A small QRunnable bridge (design.md allows one instead of superqt's workers, whose
package import cost 0.3-1 s on the GUI thread at the first job): the relay QObject is
created here, in the GUI thread, and the runnable emits its signals from the pool
thread, so Qt queues every `returned`/`errored` call to the GUI thread; widgets are only
touched there. `BackgroundJob.wait` waits for one particular job (closing the window
waits for a render).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Relay(QObject):
    """Lives in the GUI thread; its own slots receive the pool thread's signals, so Qt
    queues them to the GUI thread (a plain lambda would carry no thread of its own)."""

    returned = Signal(object)
    errored = Signal(object)

    def __init__(self, on_returned: Callable[[Any], None], on_errored: Callable[[Any], None]):
        super().__init__()
        self._on_returned, self._on_errored = on_returned, on_errored
        self.returned.connect(self._deliver_returned)
        self.errored.connect(self._deliver_errored)

    @Slot(object)
    def _deliver_returned(self, value: Any) -> None:
        _live.discard(self)
        self._on_returned(value)

    @Slot(object)
    def _deliver_errored(self, exc: Any) -> None:
        _live.discard(self)
        self._on_errored(exc)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay

    def run(self) -> None:
        try:
            value = self.fn()
        except BaseException as exc:  # the GUI thread decides what it means
            self.relay.errored.emit(exc)
        else:
            self.relay.returned.emit(value)


_live: set[_Relay] = set()  # relays of running jobs: kept alive until their answer lands


class BackgroundJob:
    """One function running on a pool thread."""

    def __init__(self, relay: _Relay, ended: threading.Event) -> None:
        self.relay = relay
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
    ended = threading.Event()
    relay = _Relay(returned, errored)
    _live.add(relay)

    def run() -> Any:
        try:
            return fn()
        finally:
            _pool_room.release()
            ended.set()

    _pool_room.reserve()
    QThreadPool.globalInstance().start(_Runnable(run, relay))
    return BackgroundJob(relay, ended)


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
