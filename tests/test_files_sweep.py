"""The orphaned-files sweep: stored files that no message names, removed once past the grace period."""

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from chat_helpers import agent_with_a_chat
from sqlalchemy import select

from agentchat.chats.models import Message
from agentchat.files import sweep
from agentchat.files.storage import LocalFileStorage
from agentchat.jobs import sweep_orphan_files

HOUR = 60 * 60


@pytest.fixture
def alice(server, api):
    return agent_with_a_chat(server, api)


def sent_file(server, api, alice) -> tuple[int, Path]:
    """Alice sends a file in her chat: its MessageID, and where it is stored."""
    token, chat_id = alice
    sent = api.ok(api.post("SendMessage", token, {
        "ChatID": chat_id, "FileName": "statement.pdf", "FileType": "application/pdf",
        "FileContent": base64.b64encode(b"%PDF-1.4 statement").decode()}))

    async def work(db):
        return (await db.execute(select(Message.file_key).where(Message.id == sent["MessageID"]))).scalar_one()
    return sent["MessageID"], stored_path(server, server.with_db(work))


def orphan(server) -> Path:
    """A file stored for a message whose commit then failed."""
    key = server.run(server.app.state.file_storage.save(b"never sent", file_name="lost.png"))
    return stored_path(server, key)


def stored_path(server, key: str) -> Path:
    return Path(server.settings.files_dir) / key[:2] / key


@pytest.fixture
def age():
    """Make a file look `seconds` old. The files store outlives each test's tables: what a test aged goes after it,
    lest a later test's sweep find it."""
    aged: list[Path] = []

    def set_age(path: Path, seconds: float) -> Path:
        then = time.time() - seconds
        os.utime(path, (then, then))
        aged.append(path)
        return path

    yield set_age
    for path in aged:
        path.unlink(missing_ok=True)


def run_sweep(server, storage=None) -> int:
    return server.run(sweep.sweep_orphan_files(server.app.state.sessionmaker,
                                               storage or server.app.state.file_storage))


class TestOrphanFileSweep:
    def test_an_old_orphan_goes_and_a_file_a_message_names_stays(self, server, api, alice, age):
        message_id, named = sent_file(server, api, alice)
        age(named, 30 * 24 * HOUR)
        lost = age(orphan(server), 2 * HOUR)
        # Not ours to judge: an NFS client's placeholder, and a file that is not in a key's folder.
        strays = [lost.parent / ".nfs0000000000123", lost.parent.parent / "notes.txt"]
        for path in strays:
            path.write_bytes(b"stray")
            age(path, 2 * HOUR)

        server.run(sweep_orphan_files(server.app))  # the timed job itself

        assert not lost.exists()
        assert named.exists()
        fetched = api.http.get("/api/GetFile", params={"MessageID": message_id},
                               headers={"Authorization": f"Bearer {alice[0]}"})
        assert fetched.status_code == 200 and fetched.content == b"%PDF-1.4 statement"
        assert all(path.exists() for path in strays)

    def test_an_orphan_younger_than_the_grace_period_stays(self, server, api, alice, age):
        age(sent_file(server, api, alice)[1], 2 * HOUR)
        recent = age(orphan(server), HOUR - 60)
        just_stored = orphan(server)  # young: another test's sweep leaves it alone too

        assert run_sweep(server) == 0
        assert recent.exists() and just_stored.exists()

    def test_nothing_goes_while_no_message_has_a_file(self, server, age):
        # Such a database next to a store full of files is likelier the wrong one than a store of orphans.
        lost = age(orphan(server), 2 * HOUR)
        assert run_sweep(server) == 0
        assert lost.exists()

    def test_sweeps_racing_each_other_and_a_deletion_do_not_fail(self, server, api, alice, age):
        named = age(sent_file(server, api, alice)[1], 2 * HOUR)
        lost = [age(orphan(server), 2 * HOUR) for _ in range(3)]
        lost_keys = {path.name for path in lost}

        class OtherInstanceFirst(LocalFileStorage):
            """Another instance's sweep removes the orphans this one has just listed, before this one can."""

            async def stored_before(self, cutoff: float) -> AsyncIterator[list[str]]:
                async for keys in super().stored_before(cutoff):
                    for key in lost_keys.intersection(keys):
                        await self.delete(key)
                    yield keys

        async def at_once():
            return await asyncio.gather(
                sweep.sweep_orphan_files(server.app.state.sessionmaker, server.app.state.file_storage),
                sweep.sweep_orphan_files(server.app.state.sessionmaker, OtherInstanceFirst(server.settings.files_dir)))

        server.run(at_once())
        assert not any(path.exists() for path in lost)
        assert named.exists()
        assert run_sweep(server) == 0
