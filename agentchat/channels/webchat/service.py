"""Web chat visitors: made with a random token, writing through the same bot and queue as WhatsApp."""

import base64
import binascii
import re

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.agents.models import Agent
from agentchat.bot import service as bot
from agentchat.chats import events as chat_events
from agentchat.chats import service as chats
from agentchat.chats.models import (
    BOT,
    CLOSED,
    DELIVERED,
    PENDING,
    READ,
    SENDER_CUSTOMER,
    SENDER_NOTE,
    SENT,
    WEBCHAT,
    Chat,
    Message,
)
from agentchat.contract import Conflict, Invalid, NotFound, TooLarge, Unauthorized
from agentchat.csat import service as csat
from agentchat.customers import service as customers
from agentchat.customers.models import Customer
from agentchat.departments import service as departments
from agentchat.events import Event
from agentchat.files.storage import FileStorage
from agentchat.security import new_token, token_hash

_TOKEN_FORM = re.compile(r"^[0-9a-f]{32}$")
# One GET answers at most this many messages; the page asks again with After = the last one it got.
MAX_MESSAGES_PER_READ = 200
# A status only moves forward (as with WhatsApp's statuses): Read is never followed by Delivered, and a
# Failed message stays Failed.
MAY_BECOME = {DELIVERED: (PENDING, SENT), READ: (PENDING, SENT, DELIVERED)}


async def create_visitor(db: AsyncSession, *, name: str | None, email_address: str | None) -> tuple[Customer, str]:
    """A new web chat customer; returns it and its token, which is shown this once and stored only hashed."""
    token = new_token()
    customer = await customers.create_visitor(db, visitor_token_hash=token_hash(token), name=name,
                                              email_address=email_address)
    return customer, token


async def visitor_by_token(db: AsyncSession, token: str | None) -> Customer | None:
    # Anything not shaped like a token cannot match one: no need to hash it or ask the database.
    if not token or not _TOKEN_FORM.match(token):
        return None
    customer = await customers.customer_by_visitor(db, visitor_token_hash=token_hash(token))
    if customer is None or customer.erased_at is not None:
        return None
    return customer


async def receive_visitor_message(db: AsyncSession, *, customer_id: int, text: str | None, choice: str | None,
                                  file: dict | None = None) -> Message:
    """Store what the visitor wrote (text, a tapped menu item or a file) and let the bot answer."""
    check_message_kind(text=text, choice=choice, has_file=file is not None)
    customer = await db.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise Unauthorized("This visitor no longer exists; start a new conversation.", code="visitor_invalid")
    if choice is not None:
        text = await _choice_title(db, customer_id, choice)
    inbound = bot.Inbound(channel=WEBCHAT, customer_id=customer_id, text=text, choice_id=choice, file=file)
    message = await bot.receive_message(db, inbound)
    assert message is not None  # only a repeated external id is dropped, and web messages have none
    return message


async def start_chat(db: AsyncSession, *, customer_id: int) -> tuple[Chat, bool]:
    """The visitor's "Start a new chat": a new chat with the bot's welcome, or their open one."""
    customer = await db.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise Unauthorized("This visitor no longer exists; start a new conversation.", code="visitor_invalid")
    return await bot.start_chat(db, customer_id=customer_id, channel=WEBCHAT)


async def last_chat_closed(db: AsyncSession, *, customer_id: int) -> bool:
    """Whether the visitor's latest chat has closed (the page then shows its closed state)."""
    latest = select(Chat.status).where(Chat.customer_id == customer_id).order_by(Chat.id.desc()).limit(1)
    return (await db.execute(latest)).scalar_one_or_none() == CLOSED


def check_message_kind(*, text: str | None, choice: str | None, has_file: bool) -> None:
    if choice is not None and (text is not None or has_file):
        raise Invalid("Send a Choice on its own, without Text or a file.", code="choice_with_text", field="Choice")
    if choice is None and text is None and not has_file:
        raise Invalid("Text, Choice or FileContent is required.", code="missing_field", field="Text")


async def _choice_title(db: AsyncSession, customer_id: int, choice: str) -> str:
    """The menu item's title (kept as the message text, so agents read what was picked); checks it is on offer."""
    rating = csat.choice_title(choice)
    if rating is not None:  # a rating of a closed chat (docs/csat.md): csat judges whether it still counts
        return rating
    chat = await chats.active_chat(db, customer_id)
    if chat is None or chat.status != BOT:
        raise Conflict("The menu is no longer open; write a message instead.", code="menu_closed", field="Choice")
    for department in await departments.welcome_menu(db):
        if choice == f"{bot.MENU_CHOICE_PREFIX}{department.id}":
            return bot.menu_title(department)
    raise Invalid("That is not one of the menu's items.", code="unknown_choice", field="Choice")


def decode_upload(*, content: str, max_bytes: int) -> bytes:
    """The bytes of a base64 upload, refused when malformed, empty or over the size limit."""
    if len(content) > (max_bytes + 2) // 3 * 4 + 4:
        raise TooLarge(f"Files may be at most {max_bytes} bytes.", code="file_too_large", field="FileContent")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("FileContent is not valid base64.", code="invalid_file", field="FileContent") from exc
    if not data:
        raise Invalid("The file is empty.", code="invalid_file", field="FileContent")
    if len(data) > max_bytes:
        raise TooLarge(f"Files may be at most {max_bytes} bytes.", code="file_too_large", field="FileContent")
    return data


async def store_upload(storage: FileStorage, data: bytes, *, file_name: str, file_type: str | None) -> dict:
    key = await storage.save(data, file_name=file_name)
    return {"file_name": file_name, "file_type": file_type or "application/octet-stream", "file_size": len(data),
            "file_key": key}


def _visible():
    """Messages with the name of the agent who wrote them (visitors see names, never agent IDs); never the agents'
    internal notes."""
    return (select(Message, Agent.name).outerjoin(Agent, Agent.id == Message.agent_id)
            .where(Message.sender_type != SENDER_NOTE))


async def visitor_messages(db: AsyncSession, *, customer_id: int, after: int | None,
                           limit: int = MAX_MESSAGES_PER_READ) -> list[tuple[Message, str | None]]:
    """After an ID: the visitor's messages since then, in any of their chats (a chat may have closed and a new
    one begun meanwhile). Without: the latest messages of the visitor's current or most recent chat."""
    if after is not None:
        query = (_visible().join(Chat, Chat.id == Message.chat_id)
                 .where(Chat.customer_id == customer_id, Message.id > after).order_by(Message.id).limit(limit))
        return [tuple(row) for row in await db.execute(query)]
    latest = select(Chat.id).where(Chat.customer_id == customer_id).order_by(Chat.id.desc()).limit(1)
    chat_id = (await db.execute(latest)).scalar_one_or_none()
    if chat_id is None:
        return []
    query = _visible().where(Message.chat_id == chat_id).order_by(Message.id.desc()).limit(limit)
    return [tuple(row) for row in reversed((await db.execute(query)).all())]


async def mark_seen(db: AsyncSession, message_ids: list[int]) -> None:
    """The visitor's page has these messages (it fetched them): outbound ones not yet known to have arrived
    now have."""
    if message_ids:
        await _advance(db, DELIVERED, Message.id.in_(message_ids))


async def mark_received(db: AsyncSession, *, customer_id: int, message_id: int) -> int:
    """The page acknowledged a pushed message: Delivered, if it is an outbound message of this visitor's
    conversation that was not further along. Returns how many messages changed (0 or 1)."""
    return await _advance(db, DELIVERED, Message.id == message_id,
                          Message.chat_id.in_(select(Chat.id).where(Chat.customer_id == customer_id)))


async def mark_read(db: AsyncSession, *, customer_id: int, up_to: int) -> int:
    """The page was visible with every message up to `up_to` shown: those outbound messages are Read
    (the latest MAX_MESSAGES_PER_READ of them, which is all a page shows). Returns how many changed."""
    latest = (select(Message.id).join(Chat, Chat.id == Message.chat_id)
              .where(Chat.customer_id == customer_id, Message.id <= up_to, Message.sender_type != SENDER_CUSTOMER,
                     Message.delivery_status.in_(MAY_BECOME[READ]))
              .order_by(Message.id.desc()).limit(MAX_MESSAGES_PER_READ))
    return await _advance(db, READ, Message.id.in_(latest))


async def _advance(db: AsyncSession, status: str, *conditions) -> int:
    """One conditional UPDATE moves the messages forward (never back); each change is a MessageStatusChanged."""
    changed = (await db.execute(
        update(Message)
        .where(*conditions, Message.sender_type != SENDER_CUSTOMER, Message.delivery_status.in_(MAY_BECOME[status]))
        .values(delivery_status=status)
        .returning(Message.id, Message.chat_id)
        .execution_options(synchronize_session=False)
    )).all()
    if changed:
        chat_ids = {chat_id for _, chat_id in changed}
        audiences = {chat_id: (department_id, agent_id) for chat_id, department_id, agent_id in await db.execute(
            select(Chat.id, Chat.department_id, Chat.agent_id).where(Chat.id.in_(chat_ids)))}
        for message_id, chat_id in sorted(changed):
            department_id, agent_id = audiences.get(chat_id, (None, None))
            chat_events.message_status_emit(db, message_id=message_id, chat_id=chat_id, department_id=department_id,
                                            agent_id=agent_id, status=status, failure_reason=None)
    return len(changed)


async def customer_typing(db: AsyncSession, *, customer_id: int) -> Event | None:
    """CustomerTyping for those who see the visitor's open chat (nothing is stored); None without one."""
    chat = (await db.execute(
        select(Chat.id, Chat.department_id, Chat.agent_id)
        .where(Chat.customer_id == customer_id, Chat.status != CLOSED).order_by(Chat.id.desc()).limit(1)
    )).first()
    if chat is None:
        return None
    chat_id, department_id, agent_id = chat
    return Event("CustomerTyping", {"ChatID": chat_id, "CustomerID": customer_id},
                 department_ids=(department_id,) if department_id else (), agent_ids=(agent_id,) if agent_id else ())


async def visitor_message(db: AsyncSession, message_id: int) -> tuple[Message, str | None] | None:
    row = (await db.execute(_visible().where(Message.id == message_id))).first()
    return None if row is None else (row[0], row[1])


async def visitor_file(db: AsyncSession, *, customer_id: int, message_id: int) -> Message:
    """A message's attachment, only if the message is in one of this visitor's chats."""
    query = (select(Message).join(Chat, Chat.id == Message.chat_id)
             .where(Message.id == message_id, Chat.customer_id == customer_id, Message.file_key.is_not(None)))
    message = (await db.execute(query)).scalar_one_or_none()
    if message is None:
        raise NotFound("No such file in this conversation.", code="file_not_found", field="MessageID")
    return message
