"""The chat lifecycle: opening, queueing, messages and the history kept for every change."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.chats.models import (
    BOT,
    CLOSED,
    PENDING,
    SENDER_CUSTOMER,
    UNASSIGNED,
    Chat,
    ChatEvent,
    ChatTag,
    Message,
)
from agentchat.db import after_commit
from agentchat.departments.models import Department


def record_event(db: AsyncSession, chat: Chat, event_type: str, *, actor_agent_id: int | None = None,
                 from_status: str | None = None, at: datetime | None = None) -> ChatEvent:
    """Keep one step of the chat's history, with the chat's department and agent as they are after it."""
    event = ChatEvent(chat_id=chat.id, type=event_type, at=at or clock.now(), actor_agent_id=actor_agent_id,
                      department_id=chat.department_id, agent_id=chat.agent_id, from_status=from_status,
                      to_status=chat.status)
    db.add(event)
    return event


async def active_chat(db: AsyncSession, customer_id: int, *, for_update: bool = False) -> Chat | None:
    query = select(Chat).where(Chat.customer_id == customer_id, Chat.status != CLOSED)
    if for_update:
        query = query.with_for_update()
    return (await db.execute(query)).scalar_one_or_none()


async def has_closed_chats(db: AsyncSession, customer_id: int) -> bool:
    query = select(Chat.id).where(Chat.customer_id == customer_id, Chat.status == CLOSED).limit(1)
    return (await db.execute(query)).first() is not None


async def open_chat(db: AsyncSession, *, customer_id: int, channel: str) -> Chat:
    """A new chat in the bot's hands. The caller handles the IntegrityError of a concurrent opening."""
    now = clock.now()
    chat = Chat(customer_id=customer_id, channel=channel, status=BOT, created_at=now)
    db.add(chat)
    await db.flush()
    record_event(db, chat, "Created", at=now)
    return chat


async def add_message(db: AsyncSession, chat: Chat, *, sender_type: str, text: str | None,
                      agent_id: int | None = None, external_id: str | None = None,
                      file: dict | None = None, payload: dict | None = None,
                      at: datetime | None = None) -> Message:
    """Store a message; one that goes out to the customer is queued for delivery after commit."""
    now = at or clock.now()
    outbound = sender_type != SENDER_CUSTOMER
    message = Message(chat_id=chat.id, sender_type=sender_type, agent_id=agent_id, text=text,
                      external_id=external_id, created_at=now, payload=payload,
                      delivery_status=PENDING if outbound else None, **(file or {}))
    db.add(message)
    chat.last_message_at = now
    if sender_type == SENDER_CUSTOMER:
        chat.last_customer_message_at = now
    await db.flush()
    if outbound:
        deliver_after_commit(db, message.id)
    return message


def deliver_after_commit(db: AsyncSession, message_id: int) -> None:
    """Hand the message to its channel once committed. The dispatcher is set on the session by the app."""
    outbound = db.info.get("outbound")
    if outbound is not None:
        after_commit(db, lambda: outbound.deliver(message_id))


async def queue_chat(db: AsyncSession, chat: Chat, department: Department, *,
                     actor_agent_id: int | None = None, event_type: str = "Queued") -> None:
    """Put the chat in the department's queue (unassigned), applying the department's auto-tags."""
    from_status = chat.status
    now = clock.now()
    chat.status = UNASSIGNED
    chat.department_id = department.id
    chat.agent_id = None
    chat.queued_at = now
    await db.flush()
    record_event(db, chat, event_type, actor_agent_id=actor_agent_id, from_status=from_status, at=now)
    await apply_department_tags(db, chat, department)


async def apply_department_tags(db: AsyncSession, chat: Chat, department: Department) -> None:
    have = set((await db.execute(select(ChatTag.tag_id).where(ChatTag.chat_id == chat.id))).scalars())
    for tag_id in department.tag_ids:
        if tag_id not in have:
            db.add(ChatTag(chat_id=chat.id, tag_id=tag_id))
    await db.flush()


async def queue_position(db: AsyncSession, chat: Chat) -> int:
    """1 for the chat next in line in its department."""
    ahead = await db.execute(
        select(func.count()).where(Chat.status == UNASSIGNED, Chat.department_id == chat.department_id,
                                   Chat.queued_at < chat.queued_at)
    )
    return ahead.scalar_one() + 1

