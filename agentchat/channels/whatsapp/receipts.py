"""Read receipts and the typing indicator, from the agent's side to the WhatsApp customer.

- An agent typing in a WhatsApp chat (a Typing frame on /ws) marks the customer's newest message read and shows
  "typing…" on the customer's phone: at most once per chat every TYPING_EVERY_SECONDS (Meta shows it for up to
  25 s, or until our message arrives).
- The chat's assigned agent (or a Manager) opening it with GetChat marks the customer's newest message read, once
  per customer message: the last wamid marked read is remembered per chat.

Each instance notes both in memory; with Redis as the broker they are also noted there (SharedNotes), so that
several instances send what one would. Without Redis, or while it is unreachable, another instance or a restart
may mark the same message read once more, which Meta accepts and the customer never sees.

Both are fire-and-forget background tasks: the socket or the request never waits for Meta. A failure is logged
(Meta's code and message, never the access token) and never retried.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat import clock
from agentchat.channels.whatsapp.outbound import GraphApi, GraphError
from agentchat.chats.models import SENDER_CUSTOMER, Message
from agentchat.db import start_background
from agentchat.events.broker import REDIS_UNREACHABLE

log = logging.getLogger(__name__)

TYPING_EVERY_SECONDS = 10
# Memory bound: the per-chat notes are forgotten wholesale past this many chats (the worst case is one extra
# receipt or typing indicator per chat).
MAX_REMEMBERED = 10_000
# How long Redis keeps a chat's last wamid marked read: a chat quiet for longer may be marked once more.
READ_NOTE_SECONDS = 7 * 24 * 3600


class SharedNotes:
    """The instances' common notes in Redis. Each answers whether this instance should send; while Redis is
    unreachable, yes (the instance's own notes have already held back what it sent itself)."""

    def __init__(self, redis, prefix: str):
        self.redis = redis
        self.prefix = prefix

    async def typing_due(self, chat_id: int) -> bool:
        """True for the first instance to ask in TYPING_EVERY_SECONDS."""
        key = f"{self.prefix}:whatsapp_typing:{chat_id}"
        try:
            return bool(await self.redis.set(key, 1, nx=True, px=TYPING_EVERY_SECONDS * 1000))
        except REDIS_UNREACHABLE:
            return True

    async def first_to_mark(self, chat_id: int, wamid: str) -> bool:
        """Notes `wamid` as the chat's last message marked read; True unless it already was."""
        key = f"{self.prefix}:whatsapp_read:{chat_id}"
        try:
            before = await self.redis.set(key, wamid, get=True, ex=READ_NOTE_SECONDS)
        except REDIS_UNREACHABLE:
            return True
        return before is None or before.decode() != wamid


async def newest_customer_wamid(db: AsyncSession, chat_id: int) -> str | None:
    """The wamid of the newest message the customer sent in this chat (None if there is none)."""
    return (await db.execute(
        select(Message.external_id)
        .where(Message.chat_id == chat_id, Message.sender_type == SENDER_CUSTOMER, Message.external_id.is_not(None))
        .order_by(Message.id.desc()).limit(1))).scalar_one_or_none()


class Receipts:
    def __init__(self, graph: GraphApi, sessionmaker: async_sessionmaker, shared: SharedNotes | None = None):
        self.graph = graph
        self.sessionmaker = sessionmaker
        self.shared = shared
        self._typing_at: dict[int, datetime] = {}
        self._marked: dict[int, str] = {}

    def forget(self) -> None:
        """Drop what was sent (tests: every test starts with empty tables, so chat ids come round again)."""
        self._typing_at.clear()
        self._marked.clear()

    def agent_typing(self, chat_id: int) -> None:
        """An agent is typing in this WhatsApp chat: read + typing indicator, rate-limited per chat."""
        now = clock.now()
        last = self._typing_at.get(chat_id)
        if last is not None and now - last < timedelta(seconds=TYPING_EVERY_SECONDS):
            return
        if len(self._typing_at) >= MAX_REMEMBERED:
            self._typing_at.clear()
        self._typing_at[chat_id] = now
        start_background(self._typing(chat_id))

    async def _typing(self, chat_id: int) -> None:
        if self.shared is not None and not await self.shared.typing_due(chat_id):
            return
        async with self.sessionmaker() as db:
            wamid = await newest_customer_wamid(db, chat_id)
        if wamid is not None:
            self._remember(chat_id, wamid)
            if self.shared is not None:
                await self.shared.first_to_mark(chat_id, wamid)  # typing marks it read too
            await self._send(chat_id, wamid, typing=True)

    def chat_read(self, chat_id: int, wamid: str | None) -> None:
        """The assigned agent or a Manager opened the chat: mark `wamid` read unless it already was."""
        if wamid is None or self._marked.get(chat_id) == wamid:
            return
        self._remember(chat_id, wamid)
        start_background(self._read(chat_id, wamid))

    async def _read(self, chat_id: int, wamid: str) -> None:
        if self.shared is None or await self.shared.first_to_mark(chat_id, wamid):
            await self._send(chat_id, wamid, typing=False)

    def _remember(self, chat_id: int, wamid: str) -> None:
        if len(self._marked) >= MAX_REMEMBERED and chat_id not in self._marked:
            self._marked.clear()
        self._marked[chat_id] = wamid

    async def _send(self, chat_id: int, wamid: str, *, typing: bool) -> None:
        what = "typing indicator" if typing else "read receipt"
        try:
            await self.graph.mark_read(wamid, typing=typing)
        except GraphError as exc:
            log.warning("WhatsApp %s for chat %s (message %s) failed: %s", what, chat_id, wamid, exc.reason)
        except Exception as exc:  # never let a receipt take anything else down
            log.warning("WhatsApp %s for chat %s (message %s) failed: %s", what, chat_id, wamid,
                        type(exc).__name__)
