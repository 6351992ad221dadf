"""Database engine, ORM base, the request session, and work deferred until after commit."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import CursorResult, MetaData, Result, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from agentchat import dbunreachable, rawdb
from agentchat.config import Settings
from agentchat.events.model import Recorder
from agentchat.fairpool import FairAsyncQueuePool

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings, *, background_checkpoints: bool = False) -> AsyncEngine:
    """`background_checkpoints` (SQLite): the WAL is not checkpointed by the commits of this engine's connection;
    the caller runs walcheckpoint.WalCheckpoints instead (the serving process: its commits run on the event loop's
    thread, see rawdb.Raw.in_one_hop)."""
    if settings.is_sqlite:
        _ensure_sqlite_dir(settings.database_url)
        # One connection per process: SQLite has a single writer anyway, and queueing on the pool
        # is fairer and faster than SQLITE_BUSY retries between connections of one process.
        # No rollback on return to the pool: sessions and connections end their transactions themselves, and
        # on aiosqlite each rollback is one more hop to its thread (two per SendMessage).
        # check_same_thread: the hot paths also use the connection from the event loop's thread, while they have
        # it checked out of the pool (rawdb.Raw.in_one_hop); aiosqlite's thread then has nothing to run on it.
        engine = create_async_engine(settings.database_url, pool_size=1, max_overflow=0, pool_timeout=60,
                                     hide_parameters=True,
                                     poolclass=FairAsyncQueuePool, pool_reset_on_return=None,
                                     connect_args={"check_same_thread": False})
        event.listen(engine.sync_engine, "connect",
                     _sqlite_pragmas_without_checkpoints if background_checkpoints else _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # 64 concurrent requests plus deliveries need more than 10 connections: an overflow connection is closed on
    # return and opened again (TLS attempt, authentication) under load, which cost more than any statement.
    # Waiters are served in arrival order (fairpool.py): asyncio's queue let newcomers starve them for seconds.
    # hide_parameters: a statement's values (messages, names, token hashes) stay out of errors and so of the log.
    return create_async_engine(settings.database_url, pool_size=24, max_overflow=16, pool_pre_ping=False,
                               hide_parameters=True,
                               poolclass=FairAsyncQueuePool,
                               connect_args=_postgres_connect_args(settings))


def _postgres_connect_args(settings: Settings) -> dict:
    args: dict = {"server_settings": settings.postgres_server_settings}
    if settings.postgres_pooler:
        # Each statement prepared unnamed, in the same trip as its execution's start (asyncpg flushes, not syncs,
        # between them, so PgBouncer keeps the server connection): nothing named outlives a transaction.
        args.update(statement_cache_size=0, prepared_statement_cache_size=0,
                    prepared_statement_name_func=_unnamed)
    return args


def _unnamed() -> str:
    return ""


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout must come before WAL, or a second process fails at start with "database is locked".
    cursor.execute(f"PRAGMA busy_timeout={rawdb.SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # We issue BEGIN ourselves (below): the driver's own implicit transactions break SAVEPOINT.
    dbapi_connection.isolation_level = None


def _sqlite_pragmas_without_checkpoints(dbapi_connection, record) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    # A WAL that grew while checkpoints lagged is cut back to this when it starts again from its beginning.
    cursor.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def create_sessionmaker(engine: AsyncEngine | AsyncConnection | None, **info) -> async_sessionmaker[AsyncSession]:
    """Sessions carry `info` (e.g. the outbound dispatcher) so services can defer work to it."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        try:
            await session.close()
        except Exception as error:
            # The database went away during the request, whose answer (503) is already on its way: the session's
            # connection is dropped rather than rolled back, and the error goes no further.
            if not dbunreachable.database_unreachable(error):
                raise
            await session.invalidate()


DbSession = Annotated[AsyncSession, Depends(get_db)]

AfterCommit = Callable[[], Awaitable[None]]


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (executing one gives a CursorResult; the session's types say Result)."""
    return cast(CursorResult[Any], result).rowcount or 0


def after_commit(db: Recorder, job: AfterCommit) -> None:
    """Run `job` once the current transaction has committed; dropped if it rolls back."""
    db.info.setdefault("after_commit", []).append(job)


def before_commit(db: AsyncSession, job: AfterCommit) -> None:
    """Run `job` in commit_and_publish just before the commit, once (e.g. to announce rows with their new IDs)."""
    jobs = db.info.setdefault("before_commit", [])
    if job not in jobs:
        jobs.append(job)


async def commit_and_publish(db: AsyncSession) -> None:
    """Commit, then publish the recorded events and start deferred work; neither happens on rollback."""
    for job in db.info.pop("before_commit", []):
        await job()
    jobs = db.info.pop("after_commit", [])
    events = db.info.pop("events", [])
    # Outgoing webhooks (integrations/outbox.py): their deliveries join this transaction, only when some endpoint
    # wants one of these events (known from memory: no extra statement otherwise).
    webhooks = db.info.get("webhooks") if events else None
    staged = webhooks is not None and await webhooks.stage(db, events)
    await db.commit()
    if webhooks is not None and staged:
        webhooks.nudge()
    await _publish_and_start(db.info.get("broker"), events, jobs)


async def publish_committed(work: "rawdb.Raw") -> None:
    """commit_and_publish for work on a raw connection (rawdb.RawConnections), already committed: it ran in
    autocommit or in a transaction that has ended. Not to be called when that work failed."""
    events = work.info.pop("events", [])
    webhooks = work.info.get("webhooks") if events else None
    # Already committed in one statement: their webhook deliveries follow in a transaction of their own.
    if webhooks is not None and webhooks.wants_any(events) is not False:
        start_background(webhooks.stage_committed(events))
    await _publish_and_start(work.info.get("broker"), events, work.info.pop("after_commit", []))


async def _publish_and_start(broker, events: list, jobs: list[AfterCommit]) -> None:
    if events and broker is not None:
        try:
            await broker.publish(events)
        except Exception:
            # The change is committed; clients that missed the event re-fetch (ResyncRequired or a reload).
            log.exception("publishing %d event(s) failed", len(events))
    for job in jobs:
        start_background(job())


def start_background(work: Awaitable) -> None:
    """Run `work` off the caller's path, fire-and-forget; drain_background waits for it (shutdown and tests)."""
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_finish_background)


_background: set[asyncio.Task] = set()


def _finish_background(task: asyncio.Task) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("deferred job failed", exc_info=task.exception())


async def drain_background() -> None:
    """Wait for deferred jobs (shutdown and tests)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)
