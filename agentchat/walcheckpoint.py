"""SQLite: the WAL's checkpoints, off the event loop, instead of inside commits.

The hot paths commit on the event loop's thread (rawdb.Raw.in_one_hop). SQLite's automatic checkpoint runs inside
whichever COMMIT takes the WAL past 1,000 pages: it copies them into the database file and syncs it, milliseconds
(more on a busy disk) during which the loop would serve nothing. The serving process turns that off
(db.create_engine(background_checkpoints=True)) and checkpoints here instead, every INTERVAL_SECONDS, in two steps:

1. a PASSIVE checkpoint on a connection of its own, in a worker thread: it copies what the WAL holds while the
   writer goes on (it neither waits for nor blocks readers and writers);
2. if the WAL is past FINISH_FRAMES and still growing, the rest is copied on the process's own
   connection, in aiosqlite's thread, while the hot paths wait for that connection (not the loop). A WAL copied to
   its end starts again from its beginning at the next write; under steady writes, step 1 alone never gets there,
   and the WAL grew by hundreds of MB a minute.
"""

import asyncio
import logging
import sqlite3

from agentchat import rawdb

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
FINISH_FRAMES = 1000  # SQLite's own threshold for its automatic checkpoint


class WalCheckpoints:
    def __init__(self, raw_connections: rawdb.RawConnections):
        self.raw_connections = raw_connections
        # Only a file database has a WAL to checkpoint (app.py starts this for file SQLite only).
        self.path: str = raw_connections.engine.url.database or ""
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._connection: sqlite3.Connection | None = None
        self._frames_seen = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wal-checkpoints")

    async def stop(self) -> None:
        """Waits for a checkpoint under way (not cancelled: its thread would go on with the connection)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._stopping.wait(), INTERVAL_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                await self.checkpoint()
            except Exception:  # the next round tries again; meanwhile the WAL only grows
                log.exception("WAL checkpoint failed")

    async def checkpoint(self) -> tuple[int, int, int]:
        """Both steps: SQLite's (busy, frames in the WAL, frames copied into the database) after the last one."""
        result = await asyncio.to_thread(self._alongside)
        # What step 1 copied is the WAL as it stood when it began: if it grew since the last round, the writer is
        # still at it. A WAL that stopped growing is copied to its end already and starts again at the next write
        # (step 2 then only held the connection: GetChats after a burst of SendMessages paid for it).
        growing = result[1] != self._frames_seen
        self._frames_seen = result[1]
        if result[1] >= FINISH_FRAMES and growing:
            async with self.raw_connections.connect(here=False) as raw:
                result = await raw.in_one_hop(lambda db: db.fetchrow(_CHECKPOINT))
        return result[0], result[1], result[2]

    def _alongside(self) -> tuple[int, int, int]:
        if self._connection is None:
            self._connection = sqlite3.connect(self.path, timeout=rawdb.SQLITE_BUSY_TIMEOUT_MS / 1000,
                                               check_same_thread=False, isolation_level=None)
        return self._connection.execute(_CHECKPOINT).fetchone()


_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


def start_wal_checkpoints(raw_connections: rawdb.RawConnections) -> WalCheckpoints | None:
    """For an engine made with background_checkpoints=True: None unless it is SQLite's, in a file."""
    engine = raw_connections.engine
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    checkpoints = WalCheckpoints(raw_connections)
    checkpoints.start()
    return checkpoints
