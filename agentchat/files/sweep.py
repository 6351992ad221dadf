"""Stored files that no message names ("orphans"), removed by a timed job (jobs.py).

A file is stored before the message naming it is committed. If that commit fails, or the process stops in
between, the file stays behind; deleting it when the commit raises is unsafe (a COMMIT that raised may still have
committed). EraseCustomer deletes its files after its commit, so a crash there leaves orphans too. The sweep
finds them later, and only among files older than a grace period, so that a file whose message is still on its
way to a commit is never touched.
"""

import logging
from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat import clock
from agentchat.chats.models import Message
from agentchat.files.storage import FileStorage

log = logging.getLogger(__name__)

GRACE = timedelta(hours=1)
BATCH = 500  # keys asked about in one statement: well under SQLite's 999 parameters


async def sweep_orphan_files(sessionmaker: async_sessionmaker, storage: FileStorage, *,
                             grace: timedelta = GRACE) -> int:
    """Delete the stored files older than `grace` that no message names; returns how many.

    Safe on several instances at once: the file store is shared, and removing a file already removed is no error.
    """
    async with sessionmaker() as db:
        if not await any_message_has_file(db):
            # A database without a single file message next to a store holding files is far likelier to be the
            # wrong database (a misconfigured URL, a restore half done) than a store of orphans: keep everything.
            return 0
    cutoff = (clock.now() - grace).replace(tzinfo=UTC).timestamp()
    removed = 0
    async for keys in storage.stored_before(cutoff):
        for start in range(0, len(keys), BATCH):
            batch = keys[start:start + BATCH]
            async with sessionmaker() as db:
                named = await keys_named_by_messages(db, keys=batch)
            for key in batch:
                if key not in named:
                    await storage.delete(key)
                    removed += 1
    if removed:
        log.info("removed %d orphaned stored files", removed)
    return removed


async def any_message_has_file(db: AsyncSession) -> bool:
    return (await db.execute(select(Message.id).where(Message.file_key.is_not(None)).limit(1))).first() is not None


async def keys_named_by_messages(db: AsyncSession, *, keys: list[str]) -> set[str]:
    found = (await db.execute(select(Message.file_key).where(Message.file_key.in_(keys)))).scalars()
    return {key for key in found if key is not None}
