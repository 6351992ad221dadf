"""Raw statements on the driver connection (asyncpg / aiosqlite), for the hot paths.

The hot paths (session check, SendMessage, GrabChat, GetChats, outbound delivery) run a few hand-written
statements here instead of the async ORM, which costs several times more CPU per statement
(see docs/performance.md). They run on a `RawConnections` connection, with no ORM session at all (creating
an AsyncSession alone cost ~8 % of a SendMessage): on PostgreSQL an asyncpg pool of its own, on SQLite the
engine's single connection (one writer per process). Such a connection is in autocommit: on PostgreSQL each hot
path is written as ONE statement that checks and changes at once (a CTE, `UPDATE … RETURNING`); on SQLite its few
statements run together, in a transaction (`Raw.in_one_hop`), right on the event loop's thread when that cannot
wait (see `_here_without_waiting`), else in one hop to aiosqlite's thread. `raw(db)` gives the driver connection
behind an ORM session instead, sharing its transaction.

SQL is written once with PostgreSQL's `$1` placeholders; for SQLite they become `?1` (numbered parameters).
Datetimes are naive UTC everywhere: PostgreSQL `timestamp without time zone`; on SQLite the text SQLAlchemy's
DateTime writes ('YYYY-MM-DD HH:MM:SS.ffffff'), so rows written here and by the ORM compare and order alike.
Rows are tuples (asyncpg Records index the same way).
"""

import asyncio
import contextlib
import enum
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, TypeVar, overload

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from agentchat.fairpool import FairAsyncQueuePool

T = TypeVar("T")

# How long a SQLite statement waits for another connection's lock before it fails with "database is locked".
# Set on every connection (db.py); statements run on the event loop's thread wait not at all (Raw.in_one_hop).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def sqlite_time(value: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite DateTime stores it."""
    if value.tzinfo is None:  # ours are naive UTC; isoformat is the same text, in C (a few per hot call)
        return value.isoformat(" ", "microseconds")
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


@overload
def to_time(value: None) -> None: ...
@overload
def to_time(value: datetime | str) -> datetime: ...
def to_time(value: datetime | str | None) -> datetime | None:
    """A datetime column read raw: asyncpg gives datetimes, SQLite the stored text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


# What pydantic's str_strip_whitespace strips (Unicode White_Space), so JSON written from raw rows (or by the
# database) matches what the response schemas would have written.
WHITE_SPACE = " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
              "\u2028\u2029\u202f\u205f\u3000"


def parameter(args: list, value: Any) -> str:
    """`value` as the statement's next parameter: its placeholder ($n; Raw turns it into ?n on SQLite)."""
    args.append(value)
    return f"${len(args)}"


def time_sql(column: str, sqlite: bool) -> str:
    """A timestamp column as the contract writes it (contract.format_time: 2024-05-01T10:00:00Z), in SQL."""
    if sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]'
        return f"substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || 'Z'"
    return f"to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


def json_object_sql(fields: list[tuple[str, str]], sqlite: bool) -> str:
    """SQL for a JSON object of (name, SQL expression) fields, built by the database."""
    pairs = ", ".join(f"'{name}', {sql}" for name, sql in fields)
    return f"json_object({pairs})" if sqlite else f"json_build_object({pairs})"


def record_sql(fields: list[tuple[str, str]]) -> str:
    """PostgreSQL: a SELECT of the fields as named columns, for json_agg(r) over a LATERAL of it (cheaper per row
    than json_build_object)."""
    return "SELECT " + ", ".join(f'{sql} AS "{name}"' for name, sql in fields)


def wire_time(value: Any) -> str | None:
    """A datetime column read raw, in the contract's form (contract.format_time): 2024-05-01T10:00:00Z."""
    # Hot (GetChats formats five per chat): the common shapes without a detour.
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if len(value) >= 19 and value[10] == " " and (len(value) == 19 or value[19] == "."):
        return f"{value[:10]}T{value[11:19]}Z"  # SQLite's stored text: 'YYYY-MM-DD HH:MM:SS[.ffffff]'
    return to_time(value).isoformat(timespec="seconds") + "Z"


@lru_cache(maxsize=256)
def _sqlite_sql(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class Raw:
    """One driver connection; `sqlite` tells which SQL dialect a caller must write where they differ.

    `info` holds what an ORM session's info would (the broker, the outbound dispatcher) and, like it, the
    events and after-commit jobs of the work done here (events.emit, db.after_commit; db.publish_committed).
    `here`: SQLite statements may run on the event loop's thread, sharing its turns as LoopTurns says (a
    RawConnections connection, which nothing else uses meanwhile; not an ORM session's)."""

    __slots__ = ("connection", "sqlite", "info", "here")

    def __init__(self, connection: Any, sqlite: bool, info: dict | None = None, *, here: "LoopTurns | None" = None):
        self.connection = connection
        self.sqlite = sqlite
        self.info = info if info is not None else {}
        self.here = here

    async def fetch(self, sql: str, *args: Any) -> list:
        if self.sqlite:
            return await self.in_one_hop(lambda db: db.fetch(sql, *args))
        return await self.connection.fetch(sql, *args)

    async def in_one_hop(self, work: Callable[["SqliteInThread"], T]) -> T:
        """SQLite: run `work`, whose statements run synchronously, all at once. On a `here` connection it runs
        right here, on the event loop's thread, unless that would wait for another process's lock; otherwise
        inside aiosqlite's thread (work that SQLite may take milliseconds over, like SearchCustomer's scans, asks
        for a connection that is not `here`: there it overlaps the loop's other work). Each statement through
        aiosqlite is a hop to that thread and back (~100 µs of CPU, and the two threads then take turns at the
        GIL): SendMessage served 1.4-1.7× the requests here than in one hop (bench/HISTORY.md, Round 7). `work` must not
        wait on anything but the database, and must be safe to run again after failing with SQLITE_BUSY (it then
        changed nothing, or nothing that matters twice)."""
        connection = self.connection
        if self.here is not None:
            result = self.here.run(connection._conn, lambda: work(SqliteInThread(connection._conn)))
            if result is not _WOULD_WAIT:
                return result
        # aiosqlite's own way of running a call in its thread (Connection._execute, as its execute() does).
        return await connection._execute(lambda: work(SqliteInThread(connection._conn)))

    async def fetchrow(self, sql: str, *args: Any):
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def record(self, sql: str, *args: Any):
        """fetchrow with the columns by name as well (asyncpg's Record; sqlite3.Row on SQLite)."""
        if self.sqlite:
            return await self.in_one_hop(lambda db: db.record(sql, *args))
        return await self.connection.fetchrow(sql, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        if self.sqlite:
            await self.fetch(sql, *args)
        else:
            await self.connection.execute(sql, *args)


class SqliteInThread:
    """The sqlite3 connection, used from aiosqlite's thread (Raw.in_one_hop): Raw's calls, synchronous."""

    __slots__ = ("connection",)
    sqlite = True

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def fetch(self, sql: str, *args: Any) -> list:
        return self.connection.execute(_sqlite_sql(sql), _sqlite_params(args)).fetchall()

    def fetchrow(self, sql: str, *args: Any):
        return self.connection.execute(_sqlite_sql(sql), _sqlite_params(args)).fetchone()

    def execute(self, sql: str, *args: Any) -> None:
        self.connection.execute(_sqlite_sql(sql), _sqlite_params(args))

    def record(self, sql: str, *args: Any) -> sqlite3.Row | None:
        """fetchrow with the columns by name as well (as asyncpg's Record): for rows a hot path reads by name."""
        cursor = self.connection.execute(_sqlite_sql(sql), _sqlite_params(args))
        cursor.row_factory = sqlite3.Row
        return cursor.fetchone()

    def record_of_aggregate(self, sql: str, *args: Any) -> sqlite3.Row:
        """record for a statement that answers one row whatever it finds (an aggregate's)."""
        found = self.record(sql, *args)
        if found is None:
            raise ValueError("an aggregate answered no row")
        return found

    def records(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        cursor = self.connection.execute(_sqlite_sql(sql), _sqlite_params(args))
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE: take the write lock now, so a read-then-write cannot fail half way with SQLITE_BUSY.
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()


class _Sentinel(enum.Enum):
    WOULD_WAIT = enum.auto()


_WOULD_WAIT = _Sentinel.WOULD_WAIT  # an enum member, so that `is not _WOULD_WAIT` narrows the result's type


class LoopTurns:
    """SQLite work run on the event loop's thread (Raw.here), at most about BUDGET_SECONDS of it per turn of the loop.

    uvloop (libuv) accepts one new connection per turn of the loop. Run inline, 64 concurrent SendMessages made
    each turn ~30 ms long, and a client that connected meanwhile waited up to 1.6 s for its connection to be taken
    (the bench's p99 went from 70 ms to 1 s). Once a turn has run BUDGET_SECONDS of such work, the next caller
    waits for the next turn (asyncio.sleep(0) queues it behind what is ready now), so turns stay short, as they
    are when every statement is a hop to aiosqlite's thread. With 0.5 ms (about one SendMessage's statements),
    p99 stayed at 77-84 ms; 2 ms gave 190-410 ms, 5 ms up to 550 ms (bench/)."""

    BUDGET_SECONDS = 0.0005
    # A caller waits at most this many turns, then runs anyway: under load a waiter was once put off for 14 s (the
    # WAL checkpoint's, which now takes no turn), though the requests around it waited ~60 ms (bench/).
    MAX_TURNS_WAITED = 64
    # What the work's time is measured with (a test counts it with a clock of its own: a loaded machine's would
    # decide for it whether the budget was spent).
    now = staticmethod(time.perf_counter)

    def __init__(self) -> None:
        self._used = 0.0
        self._reset_due = False

    async def wait(self) -> None:
        """Before checking the connection out (RawConnections.connect): waiting with it would hold up everyone."""
        for _ in range(self.MAX_TURNS_WAITED):
            if self._used < self.BUDGET_SECONDS:
                return
            await asyncio.sleep(0)

    def run(self, connection: sqlite3.Connection, work: Callable[[], T]) -> T | Literal[_Sentinel.WOULD_WAIT]:
        """_here_without_waiting, counted against this turn."""
        started = self.now()
        try:
            return _here_without_waiting(connection, work)
        finally:
            self._used += self.now() - started
            if not self._reset_due:
                # Runs at the start of the next turn: after what is ready now, before what this turn queues.
                self._reset_due = True
                asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._used = 0.0
        self._reset_due = False


def _here_without_waiting(connection: sqlite3.Connection,
                          work: Callable[[], T]) -> T | Literal[_Sentinel.WOULD_WAIT]:
    """`work` on this thread (the event loop's), or _WOULD_WAIT if it met another connection's lock: it must not wait
    here, where SQLite's busy handler would sleep the whole loop. Only another process can hold a lock (this one
    has a single connection, checked out by the caller); SQLite then failed at once, before changing anything
    (BEGIN IMMEDIATE, or a single statement), and its transaction is rolled back."""
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        return work()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        if connection.in_transaction:
            connection.rollback()
        return _WOULD_WAIT
    finally:
        connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _sqlite_params(args: tuple) -> tuple:
    return tuple(sqlite_time(a) if isinstance(a, datetime) else a for a in args)


class RawConnections:
    """Driver connections without an ORM session, for the hot paths; `info` is copied into each Raw.

    PostgreSQL: an asyncpg pool of its own beside the engine's (the engine keeps the ORM's many low-traffic
    calls). SQLite: the engine's own connection, checked out without a session, so that the process keeps
    a single writer (a second connection would meet the first one's write lock and wait in SQLite's busy loop)."""

    # 64 concurrent requests on 2 cores: PostgreSQL does best with a few busy connections (the bench's
    # ceiling uses 10); more only queue inside the server.
    POOL_SIZE = 16
    # Of those, how many may run a read that keeps PostgreSQL busy (GetChats): 64 concurrent GetChats on 16
    # connections gave p99 85-96 ms at p50 40-43; on 6, p99 59-62 at p50 44 (bench/HISTORY.md, Round 6). A write
    # mostly waits for its commit and gains from company, so writes may use every connection.
    READ_TURNS = 6

    def __init__(self, engine: AsyncEngine, server_settings: dict[str, str] | None = None,
                 statement_cache_size: int = 100):
        self.engine = engine
        self.server_settings = server_settings or {}  # PostgreSQL: for each connection (Settings)
        self.statement_cache_size = statement_cache_size  # 0 behind PgBouncer in transaction mode (Settings)
        self.sqlite = engine.dialect.name == "sqlite"
        self.info: dict = {}
        self._pool = None
        # asyncpg's pool lets a newcomer take a returned connection before the waiter it woke (which then goes
        # to the back of the line): under load most requests waited 0 ms and 1 % over 200 ms. Turns are taken
        # first come, first served here (asyncio.Semaphore is fair), one per pooled connection, so the pool
        # itself never makes anyone wait. See also fairpool.py, the same fix for SQLAlchemy's pool.
        self._turns = asyncio.Semaphore(self.POOL_SIZE)
        self._read_turns = asyncio.Semaphore(self.READ_TURNS)
        self._loop_turns = LoopTurns()

    async def start(self) -> None:
        if self.sqlite or self._pool is not None:
            return
        url = make_url(self.engine.url).set(drivername="postgresql")
        self._pool = await asyncpg.create_pool(url.render_as_string(hide_password=False), min_size=2,
                                               max_size=self.POOL_SIZE, reset=_no_session_state,
                                               server_settings=self.server_settings,
                                               statement_cache_size=self.statement_cache_size)

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @asynccontextmanager
    async def connect(self, *, heavy_read: bool = False, here: bool = True) -> AsyncIterator[Raw]:
        """A Raw on a pooled connection; `heavy_read` for a read that keeps the database busy (READ_TURNS).
        SQLite: `here=False` for work to run in aiosqlite's thread (a scan SQLite may take milliseconds over, the
        WAL checkpoint): it then takes no turn of the loop (LoopTurns)."""
        if self._pool is not None:
            async with self._read_turns if heavy_read else _NO_WAIT, self._turns, self._pool.acquire() as connection:
                try:
                    yield Raw(connection, False, dict(self.info))
                except _REFUSED_BEFORE_BINDING:
                    # Refused on our side of the wire (a wrong argument count or type): the statement was prepared
                    # but never finished, and the server held its locks until the connection was used again (a
                    # TRUNCATE waited a minute). Closed, not reused; the pool opens another.
                    connection.terminate()
                    raise
            return
        # SQLite: the engine's own connection, taken from its pool without a checkout (FairAsyncQueuePool.take_open)
        # or, until the pool has opened it, checked out without an AsyncConnection around it.
        if here:
            await self._loop_turns.wait()
        turns = self._loop_turns if here else None
        pool = self.engine.sync_engine.pool
        if isinstance(pool, FairAsyncQueuePool) and (record := await pool.take_open()) is not None:
            try:
                yield Raw(record.driver_connection, self.sqlite, dict(self.info), here=turns)
            finally:
                pool.give_back(record)
            return
        fairy = await self.engine.raw_connection()
        try:
            yield Raw(fairy.driver_connection, self.sqlite, dict(self.info), here=turns)
        finally:
            await greenlet_spawn(fairy.close)


_NO_WAIT = contextlib.nullcontext()
# What asyncpg raises for a statement it refused on our side of the wire (DataError too, for an argument it cannot
# encode; a server-side DataError also closes the connection, which only costs a reconnect).
_REFUSED_BEFORE_BINDING = (asyncpg.InterfaceError, asyncpg.DataError)


async def _no_session_state(connection) -> None:
    """The pool's reset on release, instead of asyncpg's default: a reset query (RESET ALL, UNLISTEN *, CLOSE
    ALL, advisory unlock) on every release was a second round trip per checkout (~13 % of a SendMessage). The
    hot paths never SET, LISTEN, open cursors or take advisory locks; an open transaction is still rolled back
    by asyncpg before this runs."""


async def raw(db: AsyncSession) -> Raw:
    """The driver connection of the session (checked out, and on SQLite in its transaction)."""
    connection = await db.connection()
    fairy = await connection.get_raw_connection()
    return Raw(fairy.driver_connection, connection.dialect.name == "sqlite")
