"""Delivery of stored outbound messages (bot and agent) to the customer's channel.

A message is stored first (Pending) and handed over only after its transaction commits, so an accepted
message is never lost: if the process dies before delivery, `resume_pending` sends it at the next start.
Delivery runs outside any database transaction (channels may retry for a while), one chat at a time
so that a customer sees messages in the order they were written.
"""

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat import rawdb
from agentchat.chats import events as chat_events
from agentchat.chats.models import FAILED, PENDING, SENDER_CUSTOMER, Chat, Message
from agentchat.customers.models import Customer
from agentchat.db import publish_committed, start_background

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    """What a channel needs to send one message."""

    message_id: int
    chat_id: int
    channel: str
    customer_id: int
    # The WhatsApp address: the phone number, or else Meta's business-scoped user id (e.g. "US.1349…").
    phone_number: str | None
    text: str | None
    file_name: str | None
    file_type: str | None
    file_key: str | None
    payload: dict | None
    # Set when an agent's text is sent on the fast path (chats/fastpath.py), which has them at hand: the web
    # chat sender then shows the message without reading it back.
    created_at: datetime | None = None
    agent_name: str | None = None


@dataclass
class DeliveryResult:
    status: str  # Sent, Delivered or Failed
    external_id: str | None = None
    failure_reason: str | None = None


class ChannelSender(Protocol):
    async def send(self, item: Outgoing) -> DeliveryResult: ...


class Outbound:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], raw_connections: rawdb.RawConnections,
                 senders: dict[str, ChannelSender]):
        self.sessionmaker = sessionmaker
        self.raw_connections = raw_connections
        self.records = DeliveryRecords(raw_connections)
        self.senders = senders
        self._chat_locks: dict[int, asyncio.Lock] = {}

    async def deliver(self, message_id: int, chat_id: int | None = None) -> None:
        """Load the Pending message, send and record it. With its chat known, the chat's turn is taken first,
        so messages of one chat go out in the order their deliveries were started."""
        if chat_id is None:
            async with self.sessionmaker() as db:
                item = await load_outgoing(db, message_id)
            if item is not None:
                await self.deliver_item(item)
            return
        async with self._turn(chat_id):
            async with self.sessionmaker() as db:
                item = await load_outgoing(db, message_id)
            if item is not None:
                await self._send_and_record(item)

    async def deliver_item(self, item: Outgoing) -> None:
        """Send a committed Pending message (what the channel needs is passed in: no reload), then record the
        outcome with one raw UPDATE and publish MessageStatusChanged."""
        async with self._turn(item.chat_id):
            await self._send_and_record(item)

    @asynccontextmanager
    async def _turn(self, chat_id: int):
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._chat_locks.get(chat_id) is lock:
                del self._chat_locks[chat_id]

    async def _send_and_record(self, item: Outgoing) -> None:
        result = await self._send(item)
        await self.records.record(item.message_id, result)
        # The channel may have heard of the message before the send's answer (WhatsApp's early statuses).
        recorded = getattr(self.senders.get(item.channel), "recorded", None)
        if recorded is not None:
            try:
                await recorded(result)
            except Exception:
                log.exception("after recording the delivery of message %s", item.message_id)

    async def _send(self, item: Outgoing) -> DeliveryResult:
        sender = self.senders.get(item.channel)
        if sender is None:
            return DeliveryResult(FAILED, failure_reason=f"The {item.channel} channel is not configured.")
        try:
            return await sender.send(item)
        except Exception as exc:  # a channel bug must not leave the message Pending forever
            log.exception("delivery of message %s failed", item.message_id)
            return DeliveryResult(FAILED, failure_reason=f"Delivery failed: {type(exc).__name__}")

    async def resume_pending(self) -> int:
        """Deliver what an earlier run stored but did not hand over; returns how many."""
        async with self.sessionmaker() as db:
            ids = list((await db.execute(
                select(Message.id).where(Message.delivery_status == PENDING,
                                         Message.sender_type != SENDER_CUSTOMER).order_by(Message.id)
            )).scalars())
        for message_id in ids:
            await self.deliver(message_id)
        return len(ids)


async def load_outgoing(db: AsyncSession, message_id: int) -> Outgoing | None:
    row = (await db.execute(
        select(Message, Chat.channel, Chat.customer_id,
               func.coalesce(Customer.phone_number, Customer.whatsapp_user_id))
        .join(Chat, Chat.id == Message.chat_id)
        .join(Customer, Customer.id == Chat.customer_id)
        .where(Message.id == message_id, Message.delivery_status == PENDING)
    )).first()
    if row is None:
        return None
    message, channel, customer_id, phone_number = row
    return Outgoing(message_id=message.id, chat_id=message.chat_id, channel=channel, customer_id=customer_id,
                    phone_number=phone_number, text=message.text, file_name=message.file_name,
                    file_type=message.file_type, file_key=message.file_key, payload=message.payload)


# Only a Pending message moves: a status the channel reported meanwhile (Delivered, Read) is kept. The chat's
# department and agent (as they are now) say who hears of it.
_RECORD_RETURNING = ("RETURNING message.id, message.chat_id, "
                     "(SELECT department_id FROM chat WHERE chat.id = message.chat_id), "
                     "(SELECT agent_id FROM chat WHERE chat.id = message.chat_id)")
_RECORD_MANY_PG = (
    "UPDATE message SET delivery_status = v.status, external_id = v.external_id, failure_reason = v.reason "
    "FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[]) AS v(id, status, external_id, reason) "
    f"WHERE message.id = v.id AND message.delivery_status = 'Pending' {_RECORD_RETURNING}"
)
_RECORD_MANY_SQLITE = (
    "UPDATE message SET delivery_status = v.status, external_id = v.external_id, failure_reason = v.reason "
    "FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS status, "
    "json_extract(value, '$[2]') AS external_id, json_extract(value, '$[3]') AS reason FROM json_each($1)) AS v "
    f"WHERE message.id = v.id AND message.delivery_status = 'Pending' {_RECORD_RETURNING}"
)


class DeliveryRecords:
    """The outcomes of deliveries, written in batches: whatever finished while one write was in flight goes
    in the next (one statement), so a burst of N deliveries costs a few round trips instead of N, and a lone
    one waits for no timer. Each changed message is then published as MessageStatusChanged."""

    def __init__(self, raw_connections: rawdb.RawConnections):
        self.raw_connections = raw_connections
        self._waiting: list[tuple[int, DeliveryResult, asyncio.Future]] = []
        self._writing = False

    async def record(self, message_id: int, result: DeliveryResult) -> None:
        """Returns once the batch holding this outcome is written (or its failure logged)."""
        written = asyncio.get_running_loop().create_future()
        self._waiting.append((message_id, result, written))
        if not self._writing:
            self._writing = True
            start_background(self._write())
        await written

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write_batch({message_id: result for message_id, result, _ in batch})
                except Exception:  # they stay Pending: resume_pending sends them again at the next start
                    log.exception("recording the delivery of %d message(s) failed", len(batch))
                for _, _, written in batch:
                    if not written.done():
                        written.set_result(None)
        finally:
            self._writing = False

    async def _write_batch(self, results: dict[int, DeliveryResult]) -> None:
        async with self.raw_connections.connect() as raw:
            if raw.sqlite:
                rows = await raw.fetch(_RECORD_MANY_SQLITE, json.dumps(
                    [[i, r.status, r.external_id, r.failure_reason] for i, r in results.items()]))
            else:
                rows = await raw.fetch(_RECORD_MANY_PG, list(results), [r.status for r in results.values()],
                                       [r.external_id for r in results.values()],
                                       [r.failure_reason for r in results.values()])
            for message_id, chat_id, department_id, agent_id in rows:
                result = results[message_id]
                chat_events.message_status_emit(raw, message_id=message_id, chat_id=chat_id,
                                                department_id=department_id, agent_id=agent_id, status=result.status,
                                                failure_reason=result.failure_reason)
        await publish_committed(raw)
