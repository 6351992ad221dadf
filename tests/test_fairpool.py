"""The connection pool's queue serves waiters in arrival order: a returned connection goes to the oldest waiter,
never to a newcomer, so no request starves under load. The hot paths' raw connections give heavy reads only a
share."""

import asyncio
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import queue as sqla_queue

from agentchat.config import Settings
from agentchat.db import create_engine
from agentchat.fairpool import FairAsyncQueuePool, FairQueue
from agentchat.rawdb import RawConnections


def test_returned_connections_go_to_waiters_in_arrival_order():
    async def scenario():
        queue = FairQueue(maxsize=3)
        served: list[tuple[str, str]] = []

        async def waiter(name: str) -> None:
            served.append((name, await queue._wait(None)))

        tasks = [asyncio.create_task(waiter(name)) for name in ("first", "second", "third")]
        await asyncio.sleep(0)
        queue.put_nowait("a")
        with pytest.raises(sqla_queue.Empty):
            queue.get_nowait()  # a newcomer does not take what a waiter was handed
        queue.put_nowait("b")
        queue.put_nowait("c")
        await asyncio.gather(*tasks)
        queue.put_nowait("d")  # nobody waiting: kept for the next caller
        return served, queue.get_nowait()

    served, kept = asyncio.run(scenario())
    assert served == [("first", "a"), ("second", "b"), ("third", "c")]
    assert kept == "d"


def test_a_waiter_that_gives_up_leaves_the_line_and_passes_on_what_it_was_handed():
    async def scenario():
        queue = FairQueue(maxsize=2)
        with pytest.raises(sqla_queue.Empty):
            await queue._wait(0.01)  # pool timeout
        assert not queue._waiters

        late = asyncio.create_task(queue._wait(None))
        behind = asyncio.create_task(queue._wait(None))
        await asyncio.sleep(0)
        queue.put_nowait("a")  # handed to `late`...
        late.cancel()  # ...which is cancelled before it runs: `behind` gets it
        with pytest.raises(asyncio.CancelledError):
            await late
        return await behind

    assert asyncio.run(scenario()) == "a"


@asynccontextmanager
async def postgres_raw_connections(server):
    """The hot paths' own connections (and an engine beside them) on the test server's PostgreSQL database."""
    if server.settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's driver connections only (SQLite's is the engine's single one)")
    engine = create_async_engine(server.settings.database_url)
    connections = RawConnections(engine)
    await connections.start()
    try:
        yield engine, connections
    finally:
        await connections.stop()
        await engine.dispose()


def test_heavy_reads_take_only_their_share_of_the_raw_connections(server):
    """GetChats-like reads hold at most READ_TURNS connections; a write does not queue behind the waiting ones."""
    async def scenario():
        holding, most, release = 0, 0, asyncio.Event()
        async with postgres_raw_connections(server) as (_, connections):
            async def read():
                nonlocal holding, most
                async with connections.connect(heavy_read=True) as raw:
                    holding += 1
                    most = max(most, holding)
                    await raw.fetchrow("SELECT 1")
                    await release.wait()
                    holding -= 1

            readers = [asyncio.create_task(read()) for _ in range(RawConnections.READ_TURNS + 3)]
            await asyncio.sleep(0.3)
            async with asyncio.timeout(5), connections.connect() as raw:
                assert (await raw.fetchrow("SELECT 41 + 1"))[0] == 42
            assert most == holding == RawConnections.READ_TURNS
            release.set()
            await asyncio.gather(*readers)
            assert holding == 0

    asyncio.run(scenario())


def test_a_statement_refused_before_it_is_bound_leaves_no_lock_behind(server):
    """An argument asyncpg cannot encode fails after the statement was prepared: that connection is not reused
    (it held the statement's locks, and a TRUNCATE waited for it)."""
    import asyncpg

    async def scenario():
        async with postgres_raw_connections(server) as (engine, connections):
            with pytest.raises(asyncpg.DataError):
                async with connections.connect() as raw:
                    await raw.fetchrow("SELECT id FROM chat WHERE id = $1 FOR UPDATE", "not a number")
            async with engine.connect() as other:
                await other.exec_driver_sql("SET lock_timeout = '2s'")
                await other.exec_driver_sql("LOCK TABLE chat IN ACCESS EXCLUSIVE MODE")  # waited a minute before
                await other.rollback()
            async with connections.connect() as raw:
                assert (await raw.fetchrow("SELECT 1"))[0] == 1

    asyncio.run(scenario())


def _sqlite_engine(tmp_path, **engine_args):
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", data_dir=tmp_path)
    if not engine_args:
        return create_engine(settings)
    return create_async_engine(settings.database_url, poolclass=FairAsyncQueuePool, pool_size=1, max_overflow=0,
                               **engine_args)


def test_sqlites_raw_connections_and_sessions_take_its_one_connection_in_arrival_order(tmp_path):
    """The hot paths take SQLite's single connection straight from the pool's queue (FairAsyncQueuePool.take_open):
    still one user at a time, in the same line as the ORM's checkouts."""
    async def scenario():
        engine = _sqlite_engine(tmp_path)
        connections = RawConnections(engine)
        order: list[str] = []
        try:
            async with connections.connect() as raw:  # the first: the pool opens its connection
                await raw.execute("CREATE TABLE note (who TEXT)")

            async def raw_writer(name: str) -> None:
                async with connections.connect() as raw:
                    order.append(name)
                    await raw.execute("INSERT INTO note VALUES ($1)", name)
                    await asyncio.sleep(0.05)  # holds it across a wait: nobody else may use it meanwhile
                    order.append(name + " done")

            async def session_writer(name: str) -> None:
                async with engine.begin() as connection:
                    order.append(name)
                    await connection.exec_driver_sql("INSERT INTO note VALUES (?)", (name,))
                    await asyncio.sleep(0.05)
                    order.append(name + " done")

            tasks = []
            for name, writer in [("raw 1", raw_writer), ("session 1", session_writer), ("raw 2", raw_writer),
                                 ("raw 3", raw_writer), ("session 2", session_writer)]:
                tasks.append(asyncio.create_task(writer(name)))
                await asyncio.sleep(0.01)  # arrival order
            await asyncio.gather(*tasks)
            async with connections.connect() as raw:
                stored = [row[0] for row in await raw.fetch("SELECT who FROM note ORDER BY rowid")]
        finally:
            await engine.dispose()
        return order, stored

    order, stored = asyncio.run(scenario())
    names = ["raw 1", "session 1", "raw 2", "raw 3", "session 2"]
    assert order == [step for name in names for step in (name, name + " done")]
    assert stored == names


def test_a_raw_connection_waits_no_longer_than_the_pools_timeout(tmp_path):
    async def scenario():
        engine = _sqlite_engine(tmp_path, pool_timeout=0.1)
        connections = RawConnections(engine)
        try:
            async with connections.connect() as raw:
                await raw.fetchrow("SELECT 1")
            async with engine.connect() as held:
                await held.exec_driver_sql("SELECT 1")
                with pytest.raises(exc.TimeoutError):
                    async with connections.connect():
                        pass
            async with connections.connect() as raw:  # the one that gave up left the line
                return (await raw.fetchrow("SELECT 41 + 1"))[0]
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 42


def test_a_closed_connection_is_opened_again_for_the_hot_paths(tmp_path):
    async def scenario():
        engine = _sqlite_engine(tmp_path)
        connections = RawConnections(engine)
        try:
            async with connections.connect() as raw:
                first = raw.connection
            async with engine.connect() as connection:
                await connection.invalidate()  # as after a connection error: the pool's record is closed
            async with connections.connect() as raw:
                assert raw.connection is not first
                return (await raw.fetchrow("SELECT 41 + 1"))[0]
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 42
