"""SQLite's hot paths run on the event loop's thread (rawdb.Raw.here) without ever making the loop wait: another
process's lock sends the work to aiosqlite's thread instead, the WAL is checkpointed off the loop
(walcheckpoint.py), and the loop keeps turning between such work (rawdb.LoopTurns)."""

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chat_helpers import agent_with_a_chat
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from agentchat.config import Settings
from agentchat.db import create_engine, drain_background
from agentchat.migrate import migrate
from agentchat.rawdb import (
    _WOULD_WAIT,
    SQLITE_BUSY_TIMEOUT_MS,
    LoopTurns,
    RawConnections,
    _here_without_waiting,
    sqlite_time,
)
from agentchat.walcheckpoint import FINISH_FRAMES, WalCheckpoints


def _database_file(server) -> str:
    if not server.settings.is_sqlite:
        pytest.skip("SQLite's hot paths only")
    return server.settings.database_url.split(":///", 1)[1]


def _wal_frames(path: str) -> int:
    """The frames in the WAL now (an outside PASSIVE checkpoint reports them; copying them changes nothing seen)."""
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


@pytest.fixture
def assigned_chat(server, api) -> tuple[str, int]:
    return agent_with_a_chat(server, api)


def test_a_message_sent_while_another_process_holds_the_lock_waits_beside_the_loop_and_is_stored_once(
        server, api, assigned_chat):
    alice, chat_id = assigned_chat
    other_process = sqlite3.connect(_database_file(server), isolation_level=None, check_same_thread=False)
    other_process.execute("BEGIN IMMEDIATE")  # the write lock, as a second worker or a CLI command would hold it
    try:
        with ThreadPoolExecutor(1) as pool:
            sending = pool.submit(api.post, "SendMessage", alice, {"ChatID": chat_id, "Message": "Still there?"})
            requests = server.app.state.request_metrics
            deadline = time.monotonic() + 10
            while requests.in_progress < 1:  # the request is in, waiting for the lock
                assert time.monotonic() < deadline, "SendMessage never reached the server"
                time.sleep(0.01)
            # The service still serves: had SendMessage waited on the event loop's thread (10 s, SQLite's busy
            # timeout), nothing would answer now.
            assert api.http.get("/openapi.json", timeout=3).status_code == 200
            assert not sending.done()
            other_process.execute("COMMIT")
            sent = api.ok(sending.result(timeout=15))
    finally:
        other_process.close()
    messages = api.ok(api.get("GetChat", alice, {"ChatID": chat_id}))["Messages"]
    assert [m["MessageID"] for m in messages if m["Text"] == "Still there?"] == [sent["MessageID"]]


def test_the_wal_starts_again_from_its_beginning_while_messages_keep_coming(server, api, assigned_chat):
    alice, chat_id = assigned_chat
    path = _database_file(server)
    for n in range(250):  # a few thousand frames: past FINISH_FRAMES, as SQLite's own checkpoint would be
        api.ok(api.post("SendMessage", alice, {"ChatID": chat_id, "Message": f"Update {n}"}))
    server.run(drain_background())  # the deliveries' records: written by now
    server.run(server.app.state.wal_checkpoints.checkpoint())
    api.ok(api.post("SendMessage", alice, {"ChatID": chat_id, "Message": "One more"}))
    # Copied to its end, the WAL was started again by the next write: it holds that message's frames, not thousands.
    assert _wal_frames(path) < 100


def test_the_service_leaves_checkpoints_to_its_own_thread(tmp_path):
    """Commits of the serving engine do not checkpoint (their COMMIT would copy and sync on the event loop's
    thread); WalCheckpoints copies the WAL and lets it start again, including what was written meanwhile."""
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}", data_dir=tmp_path)
    asyncio.run(migrate(settings))
    path = str(tmp_path / "wal.db")

    async def scenario():
        engine = create_engine(settings, background_checkpoints=True)
        raw_connections = RawConnections(engine)
        checkpoints = WalCheckpoints(raw_connections)
        try:
            async def write(first: int, rows: int) -> None:
                async with raw_connections.connect() as raw:
                    for n in range(first, first + rows):
                        await raw.execute("INSERT INTO tag_group (name, enabled) VALUES ($1, TRUE)", f"group {n}")

            await write(0, 3 * FINISH_FRAMES)
            written = Path(path + "-wal").stat().st_size // 4096
            busy, frames, copied = await checkpoints.checkpoint()
            await write(3 * FINISH_FRAMES, 1)
            return written, (busy, frames, copied), _wal_frames(path)
        finally:
            await checkpoints.stop()
            await engine.dispose()

    written, (busy, frames, copied), frames_after = asyncio.run(scenario())
    assert written > 2 * FINISH_FRAMES  # no automatic checkpoint started it again at 1,000 frames
    assert busy == 0 and frames == copied >= 3 * FINISH_FRAMES
    assert frames_after < 10


def test_work_past_the_turns_budget_waits_for_the_next_turn_of_the_loop():
    async def scenario(spend: float) -> list[str]:
        loop = asyncio.get_running_loop()
        turns, seen = LoopTurns(), []
        # The work takes exactly `spend` on the turns' clock: on a loaded machine, even no work at all (two PRAGMAs
        # around it) could take past the budget by the wall clock.
        clock = [0.0]
        turns.now = lambda: clock[0]
        connection = sqlite3.connect(":memory:")
        assert turns.run(connection, lambda: clock.__setitem__(0, clock[0] + spend)) is None
        loop.call_soon(seen.append, "ready before the wait")
        await turns.wait()
        seen.append("waited")
        await asyncio.sleep(0)
        return seen

    assert asyncio.run(scenario(LoopTurns.BUDGET_SECONDS)) == ["ready before the wait", "waited"]
    assert asyncio.run(scenario(0)) == ["waited", "ready before the wait"]


def test_no_caller_waits_for_a_turn_forever_and_work_beside_the_loop_takes_none(tmp_path):
    """The WAL checkpoints' second step (in aiosqlite's thread) once waited 14 s for a turn under load."""
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", data_dir=tmp_path)

    async def scenario() -> tuple[int, bool]:
        engine = create_engine(settings)
        raw_connections = RawConnections(engine)
        turns = raw_connections._loop_turns
        turns._used, turns._reset_due = LoopTurns.BUDGET_SECONDS, True  # as if every turn were spent before ours
        turns_seen = 0

        def count() -> None:
            nonlocal turns_seen
            turns_seen += 1
            if not waited.done():
                loop.call_soon(count)

        loop = asyncio.get_running_loop()
        waited = asyncio.ensure_future(turns.wait())
        loop.call_soon(count)
        await waited
        async with raw_connections.connect(here=False) as raw:  # no turn to wait for
            beside = raw.here is None
        await engine.dispose()
        return turns_seen, beside

    turns_seen, beside = asyncio.run(scenario())
    assert LoopTurns.MAX_TURNS_WAITED - 2 <= turns_seen <= LoopTurns.MAX_TURNS_WAITED + 2
    assert beside


def test_work_that_meets_a_lock_is_not_run_here_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE note (text TEXT)")
    mine = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    holder.execute("BEGIN IMMEDIATE")

    def write() -> str:
        mine.execute("BEGIN IMMEDIATE")
        mine.execute("INSERT INTO note VALUES ('mine')")
        mine.execute("COMMIT")
        return "written"

    release = threading.Timer(5, lambda: holder.execute("COMMIT"))  # had it waited, it would end here and fail
    release.start()
    assert _here_without_waiting(mine, write) is _WOULD_WAIT
    release.cancel()
    assert not mine.in_transaction
    assert mine.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS
    holder.execute("COMMIT")
    assert _here_without_waiting(mine, write) == "written"
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _here_without_waiting(mine, lambda: mine.execute("SELECT * FROM missing"))
    assert [row[0] for row in holder.execute("SELECT text FROM note")] == ["mine"]


def test_times_written_raw_are_the_text_sqlalchemy_writes():
    """Rows written by the hot paths and by the ORM compare and order alike (rawdb.sqlite_time)."""
    orm_text = DateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    for moment in (datetime(2026, 12, 3, 14, 5, 9, 120), datetime(2026, 12, 3, 14, 5, 9), datetime(1, 1, 1),
                   datetime(2026, 12, 3, 14, 5, 9, 999_999, tzinfo=UTC)):
        assert sqlite_time(moment) == orm_text(moment)
