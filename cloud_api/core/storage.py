"""The MongoDB connection: a real server through pymongo, or the embedded stand-in.

With no `PHOTOFLUX_MONGODB_URI` the service runs on mongomock, an in-memory imitation
of pymongo: good for a trial on one machine and for tests, gone on restart. Start-up
says so loudly (see app.py).

Repository functions are synchronous pymongo code. `Storage.run` calls them in a worker
thread: for a real server because of network I/O, for the embedded store because
mongomock copies every document in Python (a 60-event batch takes ~25 ms, which on the
event loop would hold up every other request, /healthz included). The embedded store
runs one call at a time, which keeps mongomock's unique checks race-free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import mongomock
import pymongo
from pymongo.database import Database

T = TypeVar("T")


class Storage:
    def __init__(self, uri: str | None, db_name: str) -> None:
        self.embedded = uri is None
        if uri is None:
            self.client: Any = mongomock.MongoClient()
        else:
            self.client = pymongo.MongoClient(
                uri, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000, appname="photoflux"
            )
        self.db: Database = self.client[db_name]
        # mongomock is not thread-safe: one call at a time, in order
        self._one_at_a_time = anyio.CapacityLimiter(1) if uri is None else None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(
            lambda: fn(self.db, *args, **kwargs), limiter=self._one_at_a_time
        )

    def ping(self) -> bool:
        try:
            self.client.admin.command("ping")
        except pymongo.errors.PyMongoError:
            return False
        return True

    def close(self) -> None:
        self.client.close()
