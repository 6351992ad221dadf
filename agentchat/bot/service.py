"""The welcome-menu bot: every inbound customer message, from any channel, comes through here."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock, queues
from agentchat.chats import service as chats
from agentchat.chats.models import BOT, SENDER_BOT, SENDER_CUSTOMER, Chat, Message
from agentchat.company import service as company
from agentchat.csat import service as csat
from agentchat.departments import service as departments
from agentchat.departments.models import Department
from agentchat.hours import service as hours

# Interactive list replies carry this id, so a tapped choice never depends on the text shown.
MENU_CHOICE_PREFIX = "department:"


@dataclass
class Inbound:
    """One message from a customer, as a channel hands it over."""

    channel: str
    customer_id: int
    text: str | None = None
    external_id: str | None = None
    choice_id: str | None = None
    file: dict | None = None
    # When the customer sent it by the channel's clock (WhatsApp's timestamp); None: now.
    sent_at: datetime | None = None
    # What the message holds beyond text (Content, ReplyTo, Referral, Media); see chats.models.Message.payload.
    payload: dict | None = None
    media_status: str | None = None


async def receive_message(db: AsyncSession, inbound: Inbound) -> Message | None:
    """Store the message in the customer's open chat (opening one if needed) and let the bot answer.

    Returns None for a duplicate delivery (same external id), which is stored only once.
    """
    if inbound.external_id and await _already_received(db, inbound.external_id):
        return None
    # A rating (docs/csat.md): a tapped choice always; a typed one or a comment only when no chat is open, so that
    # an ongoing conversation costs nothing more.
    tapped = (inbound.choice_id or "").startswith(csat.CHOICE_PREFIX)
    open_chat = None if tapped else await chats.active_chat(db, inbound.customer_id, for_update=True)
    if open_chat is None and (answered := await _rating(db, inbound)) is not None:
        return answered
    chat, is_new = (open_chat, False) if open_chat is not None else await _chat_for(db, inbound)
    message = await _store(db, chat, inbound)
    if is_new:
        await _welcome(db, chat)
    elif chat.status == BOT:
        await _handle_choice(db, chat, inbound)
    return message


async def start_chat(db: AsyncSession, *, customer_id: int, channel: str) -> tuple[Chat, bool]:
    """A chat the customer asks for before writing (the web chat's "Start a new chat"), so that what they write
    next belongs to it (not, say, to the chat they just rated); the bot greets them with its menu at once. Their
    open chat, unchanged, if they have one. True when it is new."""
    chat, is_new = await _chat_for(db, Inbound(channel=channel, customer_id=customer_id))
    if is_new:
        await _welcome(db, chat)
    return chat, is_new


async def _store(db: AsyncSession, chat: Chat, inbound: Inbound) -> Message | None:
    return await chats.add_message(db, chat, sender_type=SENDER_CUSTOMER, text=inbound.text,
                                   external_id=inbound.external_id, file=inbound.file, payload=inbound.payload,
                                   sent_at=inbound.sent_at, media_status=inbound.media_status)


async def _rating(db: AsyncSession, inbound: Inbound) -> Message | None:
    return await csat.receive(db, customer_id=inbound.customer_id, text=inbound.text, choice_id=inbound.choice_id,
                              has_file=inbound.file is not None, store=lambda chat: _store(db, chat, inbound))


async def _already_received(db: AsyncSession, external_id: str) -> bool:
    return (await db.execute(select(Message.id).where(Message.external_id == external_id))).first() is not None


async def _chat_for(db: AsyncSession, inbound: Inbound) -> tuple[Chat, bool]:
    chat = await chats.active_chat(db, inbound.customer_id, for_update=True)
    if chat is not None:
        return chat, False
    try:
        async with db.begin_nested():
            chat = await chats.open_chat(db, customer_id=inbound.customer_id, channel=inbound.channel)
        return chat, True
    except IntegrityError:
        # A concurrent delivery opened the chat first; continue it.
        chat = await chats.active_chat(db, inbound.customer_id, for_update=True)
        assert chat is not None
        return chat, False


async def _welcome(db: AsyncSession, chat: Chat) -> None:
    returning = await chats.has_closed_chats(db, chat.customer_id)
    key = "WelcomeMessageReturningCustomer" if returning else "WelcomeMessageNewCustomer"
    greeting = await company.get_setting(db, key)
    await _send_menu(db, chat, greeting)


async def _send_menu(db: AsyncSession, chat: Chat, lead: str) -> None:
    menu = await departments.welcome_menu(db)
    lines = [lead, ""] + [f"{d.menu_option}. {menu_title(d)}" for d in menu]
    payload = {"Menu": [{"Option": d.menu_option, "Title": menu_title(d), "ID": f"{MENU_CHOICE_PREFIX}{d.id}"}
                        for d in menu]}
    await chats.add_message(db, chat, sender_type=SENDER_BOT, text="\n".join(lines).strip(), payload=payload)


def menu_title(department: Department) -> str:
    return department.welcome_menu_name or department.name


async def _handle_choice(db: AsyncSession, chat: Chat, inbound: Inbound) -> None:
    department = _match_choice(await departments.welcome_menu(db), inbound)
    if department is None:
        await _send_menu(db, chat, await company.get_setting(db, "InvalidOptionMessage"))
        return
    open_now = await hours.is_open(db, department_id=department.id, at=clock.now())
    if not open_now and not await company.get_setting(db, "QueueOutOfHours"):
        await _close_out_of_hours(db, chat, department)
        return
    await queues.queue_chat(db, chat, department)
    returning = await chats.has_closed_chats(db, chat.customer_id)
    greeting = department.returning_customer_message if returning else department.new_customer_message
    if greeting:
        await chats.add_message(db, chat, sender_type=SENDER_BOT, text=greeting)
    if not open_now:
        # Queued for the next opening: the customer hears that nobody is there yet, not a queue position.
        await chats.add_message(db, chat, sender_type=SENDER_BOT,
                                text=await company.get_setting(db, "OutOfHoursMessage"))
        return
    position = await chats.queue_position(db, chat)
    # Later changes of place are told by agentchat.notifications.queue_positions, from this one on.
    chat.position_told, chat.position_told_at = position, clock.now()
    queued = (await company.get_setting(db, "QueuedMessage")).replace("{Position}", str(position))
    await chats.add_message(db, chat, sender_type=SENDER_BOT, text=queued)


async def _close_out_of_hours(db: AsyncSession, chat: Chat, department: Department) -> None:
    """The QueueOutOfHours=false way: the customer is told, the chat is kept (with its department) and closed."""
    await chats.add_message(db, chat, sender_type=SENDER_BOT, text=await company.get_setting(db, "OutOfHoursMessage"))
    chat.department_id = department.id
    await chats.close(db, chat, actor_agent_id=None)


def _match_choice(menu: list[Department], inbound: Inbound) -> Department | None:
    if inbound.choice_id and inbound.choice_id.startswith(MENU_CHOICE_PREFIX):
        wanted = inbound.choice_id.removeprefix(MENU_CHOICE_PREFIX)
        return next((d for d in menu if str(d.id) == wanted), None)
    text = (inbound.text or "").strip()
    number = re.fullmatch(r"(\d{1,3})\.?", text)
    if number:
        return next((d for d in menu if d.menu_option == int(number.group(1))), None)
    return next((d for d in menu if menu_title(d).casefold() == text.casefold()), None)
