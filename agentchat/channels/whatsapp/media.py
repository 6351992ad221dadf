"""Customers' files, fetched from Meta after the webhook has answered.

The webhook stores the message first with its media Pending (the details in payload["Media"]) and answers Meta
at once; a MediaFetcher then downloads the file in the background and puts it on the message, telling the agents
(MessageUpdated). A failed round is retried after a pause that grows each time; the count of rounds is kept on
the message, so a restart carries on where the last run stopped (resume() at start). When the rounds run out, or
Meta's answer is final (the media is gone, too large), the message is marked Failed with a note saying so.

Several instances resuming at once may fetch the same file twice; only the first to record it keeps it (the
record is conditional on the message still being Pending), and the other's copy is deleted.
"""

import asyncio
import logging
import mimetypes

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.channels.whatsapp.content import a_or_an
from agentchat.channels.whatsapp.outbound import GraphApi, GraphError, Media
from agentchat.chats import events as chat_events
from agentchat.chats.models import Chat, Message
from agentchat.db import commit_and_publish
from agentchat.files.storage import FileStorage

log = logging.getLogger(__name__)

PENDING = "Pending"
FAILED = "Failed"
# Rounds of download attempts (each with the Graph client's own quick retries) before a file is given up on.
ROUNDS = 5
# The pause before round n+1 is base × 4^n: with the default base of 0.5 s, 2 s, 8 s, 32 s, ~2 min.
GROWTH = 4


class MediaFetcher:
    def __init__(self, graph: GraphApi | None, sessionmaker: async_sessionmaker[AsyncSession], storage: FileStorage,
                 *, max_bytes: int, base_delay: float, rounds: int = ROUNDS):
        self.graph = graph
        self.sessionmaker = sessionmaker
        self.storage = storage
        self.max_bytes = max_bytes
        self.base_delay = base_delay
        self.rounds = rounds
        self._tasks: dict[int, asyncio.Task] = {}

    def start(self, message_id: int) -> None:
        """Fetch the message's file in the background (once per message on this instance)."""
        if message_id in self._tasks:
            return
        task = asyncio.ensure_future(self._fetch(message_id))
        self._tasks[message_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(message_id, None))

    async def resume(self) -> int:
        """At start: fetch what an earlier run stored but had not finished fetching; returns how many."""
        async with self.sessionmaker() as db:
            ids = list((await db.execute(select(Message.id).where(Message.media_status == PENDING)
                                         .order_by(Message.id))).scalars())
        for message_id in ids:
            self.start(message_id)
        return len(ids)

    async def drain(self) -> None:
        """Wait for the fetches under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Shutdown: a fetch in flight is dropped and resumed at the next start."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _fetch(self, message_id: int) -> None:
        try:
            await self._fetch_rounds(message_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not kill the loop; the message stays Pending and is resumed at start
            log.exception("fetching the WhatsApp media of message %s failed", message_id)

    async def _fetch_rounds(self, message_id: int) -> None:
        async with self.sessionmaker() as db:
            message = await db.get(Message, message_id)
            if message is None or message.media_status != PENDING:
                return
            media = dict((message.payload or {}).get("Media") or {})
        attempts = int(media.get("Attempts") or 0)
        while True:
            try:
                if self.graph is None:
                    raise GraphError("not_configured", "The WhatsApp access token is not set.")
                fetched = await self.graph.download_media(str(media.get("ID")), max_bytes=self.max_bytes)
            except GraphError as exc:
                attempts += 1
                log.warning("could not fetch WhatsApp media %s (round %d of %d): %s", media.get("ID"), attempts,
                            self.rounds, exc.reason)
                if not exc.retryable or attempts >= self.rounds:
                    await self._fail(message_id, media, exc.reason)
                    return
                await self._note_attempts(message_id, attempts)
                await asyncio.sleep(self.base_delay * GROWTH ** attempts)
                continue
            await self._complete(message_id, media, fetched)
            return

    async def _note_attempts(self, message_id: int, attempts: int) -> None:
        async with self.sessionmaker() as db:
            message = await db.get(Message, message_id)
            if message is not None and message.media_status == PENDING:
                payload = dict(message.payload or {})
                payload["Media"] = {**payload.get("Media", {}), "Attempts": attempts}
                message.payload = payload
                await db.commit()

    async def _complete(self, message_id: int, media: dict, fetched: Media) -> None:
        mime_type = (media.get("MimeType") or fetched.mime_type).split(";")[0].strip()[:127] \
            or "application/octet-stream"
        file_name = file_name_for(media, mime_type)
        key = await self.storage.save(fetched.content, file_name=file_name)
        recorded, message = False, None
        try:
            async with self.sessionmaker() as db:
                message = await _pending(db, message_id)
                if message is not None:
                    message.file_name, message.file_type, message.file_key = file_name, mime_type, key
                    message.file_size = len(fetched.content)
                    message.media_status = None
                    await _updated(db, message)
                    await commit_and_publish(db)
                    recorded = True
        finally:
            # Another instance recorded it first: its copy is the one kept. (If the write failed, the message
            # stays Pending and is fetched again at the next start; a COMMIT that raised may still have committed,
            # so the file is left to the orphaned-files sweep then.)
            if not recorded and message is None:
                await self.storage.delete(key)

    async def _fail(self, message_id: int, media: dict, reason: str) -> None:
        async with self.sessionmaker() as db:
            message = await _pending(db, message_id)
            if message is None:
                return
            kind = str(media.get("Kind") or "file")
            note = f"[The customer sent {a_or_an(kind)} that could not be downloaded from WhatsApp ({reason}).]"
            message.text = f"{message.text}\n{note}" if message.text else note
            message.media_status = FAILED
            await _updated(db, message)
            await commit_and_publish(db)


async def _pending(db: AsyncSession, message_id: int) -> Message | None:
    query = select(Message).where(Message.id == message_id, Message.media_status == PENDING).with_for_update()
    return (await db.execute(query)).scalar_one_or_none()


async def _updated(db: AsyncSession, message: Message) -> None:
    await db.flush()
    chat = await db.get(Chat, message.chat_id)
    if chat is not None:
        chat_events.message_updated(db, chat, message)


def file_name_for(media: dict, mime_type: str) -> str:
    name = str(media.get("FileName") or "").replace("/", "_").replace("\\", "_").replace("\x00", "").strip()
    if name:
        return name[:255]
    extension = {"image/jpeg": ".jpg", "audio/ogg": ".ogg", "image/webp": ".webp"}.get(mime_type) \
        or mimetypes.guess_extension(mime_type) or ""
    return f"{media.get('Kind') or 'file'}-{str(media.get('ID'))[:40]}{extension}"
