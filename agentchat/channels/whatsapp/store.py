"""Storing what Meta's webhook delivered: customer messages into the bot, notices and reactions onto the chat,
delivery statuses onto our messages.

Each message is stored in its own transaction; Meta retries a delivery until we answer 200, and the wamid
(Message.external_id) makes a retried message a no-op. Nothing here waits for Meta: a customer's file is stored
Pending and fetched afterwards (media.py).
"""

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.bot import service as bot
from agentchat.channels.whatsapp.inbound import CustomerMessage, Parsed, StatusUpdate
from agentchat.channels.whatsapp.media import FAILED as MEDIA_FAILED
from agentchat.channels.whatsapp.media import PENDING as MEDIA_PENDING
from agentchat.channels.whatsapp.media import MediaFetcher
from agentchat.channels.whatsapp.statuses import EarlyStatuses
from agentchat.chats import events as chat_events
from agentchat.chats import service as chats
from agentchat.chats.models import (
    DELIVERED,
    FAILED,
    PENDING,
    READ,
    SENDER_CUSTOMER,
    SENDER_SYSTEM,
    SENT,
    WHATSAPP,
    Chat,
    Message,
)
from agentchat.customers import service as customers
from agentchat.db import commit_and_publish

log = logging.getLogger(__name__)

# A status may only move forward: Read is never followed by Delivered, and Failed replaces only what
# had not yet reached the phone.
MAY_BECOME = {
    SENT: (PENDING,),
    DELIVERED: (PENDING, SENT),
    READ: (PENDING, SENT, DELIVERED),
    FAILED: (PENDING, SENT),
}
STATUS_ORDER = (SENT, DELIVERED, READ, FAILED)


@dataclass
class WebhookContext:
    sessionmaker: async_sessionmaker[AsyncSession]
    media: MediaFetcher | None
    early: EarlyStatuses | None
    max_file_bytes: int


async def receive_payload(ctx: WebhookContext, parsed: Parsed) -> bool:
    """Store every message and status. False when the database failed: Meta should deliver again."""
    stored_all = True
    for message in parsed.messages:
        try:
            await receive_one(ctx, message)
        except (SQLAlchemyError, OSError):
            log.exception("could not store WhatsApp message %s; Meta will deliver it again", message.external_id)
            stored_all = False
        except Exception:  # a bug with one odd message must not lose the others
            log.exception("skipping WhatsApp message %s", message.external_id)
    if parsed.statuses:
        try:
            await receive_statuses(ctx, parsed.statuses)
        except SQLAlchemyError:
            log.exception("could not record WhatsApp statuses")
            stored_all = False
    return stored_all


async def receive_one(ctx: WebhookContext, message: CustomerMessage) -> None:
    async with ctx.sessionmaker() as db:
        if message.reaction is not None:
            await react(db, message)
        elif message.system is not None:
            await system_notice(db, message)
        else:
            stored = await _store(db, ctx, message)
            if stored is None and message.media is not None:
                # A delivery again: if its file is still to fetch (the first answer to COMMIT was lost, say), the
                # fetch starts here unless it is already under way on this instance.
                stored = await _pending_media(db, message.external_id)
            if stored is not None and stored.media_status == MEDIA_PENDING and ctx.media is not None:
                ctx.media.start(stored.id)


async def _store(db: AsyncSession, ctx: WebhookContext, message: CustomerMessage) -> Message | None:
    payload = message.payload()
    media_status = None
    if message.media is not None:
        media_status = MEDIA_PENDING
        size = message.media.file_size
        if size is not None and size > ctx.max_file_bytes:
            # Meta says how big it is: no need to fetch 16 MiB to learn that it is over our limit.
            media_status = MEDIA_FAILED
            note = (f"[The customer sent a file of {size} bytes, over this inbox's limit of {ctx.max_file_bytes}; "
                    "it was not downloaded.]")
            message.text = f"{message.text}\n{note}" if message.text else note
    if message.reply_to and payload is not None:  # a reply's payload names the message it answers
        payload["ReplyTo"]["MessageID"] = await _message_id(db, message.reply_to)
    customer = await customers.customer_for_whatsapp(db, message.sender)
    inbound = bot.Inbound(channel=WHATSAPP, customer_id=customer.id, text=message.text,
                          external_id=message.external_id, choice_id=message.choice_id, sent_at=message.sent_at,
                          payload=payload, media_status=media_status)
    try:
        stored = await bot.receive_message(db, inbound)
        if stored is not None and message.referral:
            chat = await db.get(Chat, stored.chat_id)
            if chat is not None and chat.referral is None:
                chat.referral = message.referral
        await commit_and_publish(db)
    except IntegrityError:
        # The same delivery, retried by Meta, was stored by a concurrent request a moment ago.
        await db.rollback()
        if not await already_received(db, message.external_id):
            raise
        return None
    return stored


async def already_received(db: AsyncSession, external_id: str) -> bool:
    return (await db.execute(select(Message.id).where(Message.external_id == external_id))).first() is not None


async def _pending_media(db: AsyncSession, external_id: str) -> Message | None:
    query = select(Message).where(Message.external_id == external_id, Message.media_status == MEDIA_PENDING)
    return (await db.execute(query)).scalar_one_or_none()


async def _message_id(db: AsyncSession, external_id: str) -> int | None:
    return (await db.execute(select(Message.id).where(Message.external_id == external_id))).scalar_one_or_none()


# ---- reactions and system notices -----------------------------------------------------------------------------

async def react(db: AsyncSession, message: CustomerMessage) -> None:
    """The customer's reaction goes onto the message reacted to (an empty emoji takes it back); none of the bot's
    business. A reaction to a message we do not have is logged and dropped."""
    assert message.reaction is not None
    target_wamid, emoji = message.reaction
    target = (await db.execute(select(Message).where(Message.external_id == target_wamid)
                               .with_for_update())).scalar_one_or_none()
    if target is None:
        log.info("a WhatsApp reaction to an unknown message (%s) was dropped", target_wamid)
        return
    payload = dict(target.payload or {})
    if (payload.get("Reaction") or "") == emoji:
        return
    if emoji:
        payload["Reaction"] = emoji
    else:
        payload.pop("Reaction", None)
    target.payload = payload
    await db.flush()
    chat = await db.get(Chat, target.chat_id)
    if chat is not None:
        chat_events.message_updated(db, chat, target)
    await commit_and_publish(db)


async def system_notice(db: AsyncSession, message: CustomerMessage) -> None:
    """Meta's system messages: a changed number moves the customer to it (their history and chats stay theirs);
    every notice shows in their chat as a System line for the agents. The bot never sees them."""
    notice = message.system
    assert notice is not None
    if await already_received(db, message.external_id):
        return
    who = message.sender
    if notice.type in ("user_changed_number", "user_changed_user_id"):
        customer = await customers.change_whatsapp_number(db, old_wa_id=who.wa_id, new_wa_id=notice.new_wa_id,
                                                          old_user_id=notice.old_user_id or who.user_id,
                                                          new_user_id=notice.new_user_id)
    else:
        customer = await customers.customer_for_whatsapp(db, who) if who.wa_id or who.user_id else None
    if customer is None:
        log.info("a WhatsApp system notice (%s) about someone we do not know was dropped", notice.type)
        return
    chat = await chats.active_chat(db, customer.id) or await _latest_chat(db, customer.id)
    if chat is None:
        await commit_and_publish(db)
        return
    text = _notice_text(notice.type, notice.body, old=who.wa_id, new=notice.new_wa_id)
    await chats.add_message(db, chat, sender_type=SENDER_SYSTEM, text=text, external_id=message.external_id,
                            note=True, payload={"Content": {"Type": "System", "SystemType": notice.type or None}})
    try:
        await commit_and_publish(db)
    except IntegrityError:
        await db.rollback()  # a retried delivery stored concurrently


def _notice_text(kind: str, body: str, *, old: str | None, new: str | None) -> str:
    if kind == "user_changed_number" and new:
        return f"The customer changed their WhatsApp number{' from +' + old if old else ''} to +{new}."
    if kind == "customer_identity_changed":
        return "The customer's WhatsApp identity changed (new phone or reinstalled WhatsApp): their security " \
               "code is new."
    return f"WhatsApp: {body or kind or 'a system notice'}"


async def _latest_chat(db: AsyncSession, customer_id: int) -> Chat | None:
    query = select(Chat).where(Chat.customer_id == customer_id).order_by(Chat.id.desc()).limit(1)
    return (await db.execute(query)).scalar_one_or_none()


# ---- statuses of our messages ----------------------------------------------------------------------------------

async def receive_statuses(ctx: WebhookContext, statuses: list[StatusUpdate]) -> None:
    early = []
    async with ctx.sessionmaker() as db:
        for status in statuses:
            if not await apply_status(db, status) and ctx.early is not None \
                    and not await already_received(db, status.external_id):
                early.append(status)
        await commit_and_publish(db)
    for status in early:
        if ctx.early is not None:  # else nothing was kept for later
            await ctx.early.keep(status.external_id, status.status, status.failure_reason)


async def apply_status(db: AsyncSession, status: StatusUpdate) -> bool:
    """Move our outbound message (by wamid) forward; True if it changed."""
    values: dict[str, Any] = {"delivery_status": status.status}
    if status.status == FAILED:
        values["failure_reason"] = status.failure_reason
    changed = (await db.execute(
        update(Message)
        .where(Message.external_id == status.external_id, Message.sender_type != SENDER_CUSTOMER,
               Message.delivery_status.in_(MAY_BECOME[status.status]))
        .values(**values)
        .returning(Message.id, Message.chat_id)
    )).first()
    if changed is None:
        return False
    await chat_events.message_status_changed(db, message_id=changed.id, chat_id=changed.chat_id,
                                             status=status.status, failure_reason=values.get("failure_reason"))
    return True


async def apply_early(sessionmaker: async_sessionmaker[AsyncSession], early: EarlyStatuses, wamid: str) -> None:
    """After a send is recorded: the statuses that came for its wamid before, in order."""
    kept = dict(await early.take(wamid))
    if not kept:
        return
    async with sessionmaker() as db:
        for status in STATUS_ORDER:
            if status in kept:
                await apply_status(db, StatusUpdate(external_id=wamid, status=status, failure_reason=kept[status]))
        await commit_and_publish(db)
