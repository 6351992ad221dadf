"""A connection pool whose waiters are served first come, first served.

SQLAlchemy's AsyncAdaptedQueuePool sits on an asyncio.Queue: a returned connection wakes the longest waiter,
but any coroutine that asks before that waiter runs takes the connection instead (get_nowait), and the woken
waiter goes back to the END of the line. Under load (more concurrent requests and deliveries than
connections) a few requests starved for seconds while the median stayed at tens of milliseconds. Here a
returned connection is handed straight to the oldest waiter, and nobody takes one while others wait.
"""

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any, cast

from sqlalchemy import exc
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import queue as sqla_queue
from sqlalchemy.util.concurrency import await_


class FairQueue(sqla_queue.QueueCommon):
    """The pool's idle connections and, when there are none, its waiters in arrival order."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False):
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque = deque()
        self._waiters: deque[asyncio.Future] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise sqla_queue.Full()
        self._items.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise sqla_queue.Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if self._items or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> Any:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise sqla_queue.Empty() from exc
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    _queue_class = FairQueue

    async def take_open(self) -> Any | None:
        """One of the pool's open connections (its _ConnectionRecord), taken straight from the queue, in the same
        line as the pool's checkouts and within its timeout; give it back with give_back. None, to check one out
        the usual way, while the pool may still open a connection or if the one it holds was closed.

        For a caller that leaves the connection as it found it (no transaction open) and needs none of a
        checkout's work: on SQLite's single connection, the two greenlet_spawns and SQLAlchemy's checkout and
        checkin around each hot call were ~8 % of a SendMessage (rawdb.RawConnections; bench/HISTORY.md, Round 8)."""
        if self._overflow < self._max_overflow:
            return None  # opening connections is the pool's business
        queue = cast(FairQueue, self._pool)  # made from _queue_class
        if not queue.empty():
            record = queue.get_nowait()
        else:
            try:
                record = await queue._wait(self._timeout)
            except sqla_queue.Empty:
                raise exc.TimeoutError(f"No connection came free within {self._timeout} seconds") from None
        if record.dbapi_connection is None:  # closed (invalidated): a checkout opens it again
            self.give_back(record)
            return None
        return record

    def give_back(self, record: Any) -> None:
        self._do_return_conn(record)


# SQLAlchemy names a pool's logger after its class, which puts this one under "agentchat" (INFO): SQLAlchemy's
# routine "Pool disposed" / "Pool recreating" lines, at every engine.dispose() (each start disposes two engines),
# then read like errors. SQLAlchemy keeps its own pools' loggers at WARNING; so does this.
logging.getLogger(f"{FairAsyncQueuePool.__module__}.{FairAsyncQueuePool.__name__}").setLevel(logging.WARNING)
