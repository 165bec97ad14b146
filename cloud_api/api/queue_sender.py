"""The loop both background senders share (e-mail deliveries, lead webhooks): send every
due item, then sleep until the next one is due, a wake-up, or the idle poll."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from cloud_api.api.context import AppContext

IDLE_POLL_S = 5.0


class QueueSender:
    """Subclasses name their task, say how long until the next item is due, and send one."""

    task_name = "queue-sender"

    def __init__(self, ctx: AppContext, seconds_until_due: Callable[..., float | None]) -> None:
        self.ctx = ctx
        self._seconds_until_due = seconds_until_due
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger(f"cloud_api.{self.task_name}")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """An item was queued: look now rather than at the next poll."""
        self._wake.set()

    async def send_next(self) -> bool:
        """Sends one due item; False when none is due."""
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            try:
                while await self.send_next():
                    pass
            except Exception as exc:  # the loop must outlive any one bad item
                self._log.error(f"{self.task_name}_loop_error", exc_info=exc)
            self._wake.clear()
            due = await self.ctx.storage.run(self._seconds_until_due)
            pause = IDLE_POLL_S if due is None else min(IDLE_POLL_S, due)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
