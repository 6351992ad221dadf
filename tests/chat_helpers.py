"""Test data for chats: departments, and customers whose chats wait in a queue, made through the services.

Chats are made the way a channel makes them: every customer message goes through the bot's
receive_message, so a queued chat has the same history, messages and tags as a real one.
"""

from dataclasses import dataclass

from conftest import add_agent
from sqlalchemy import select

from agentchat.bot import service as bot
from agentchat.chats.models import WHATSAPP, Chat, ChatEvent
from agentchat.customers import service as customers
from agentchat.departments.models import Department
from agentchat.tags.models import Tag, TagGroup


@dataclass
class QueuedChat:
    customer_id: int
    chat_id: int


def add_department(server, name: str, *, menu_option: int | None = None, enabled: bool = True) -> int:
    """A department; in the welcome menu when it has a menu option."""
    async def work(db):
        department = Department(name=name, include_in_welcome_menu=menu_option is not None,
                                menu_option=menu_option, enabled=enabled, tags=[])
        db.add(department)
        await db.flush()
        return department.id
    return server.with_db(work)


def add_tag(server, name: str, *, enabled: bool = True) -> int:
    async def work(db):
        group = (await db.execute(select(TagGroup).where(TagGroup.name == "Topics"))).scalar_one_or_none()
        if group is None:
            group = TagGroup(name="Topics", enabled=True)
            db.add(group)
            await db.flush()
        tag = Tag(tag_group_id=group.id, name=name, enabled=enabled)
        db.add(tag)
        await db.flush()
        return tag.id
    return server.with_db(work)


def customer_writes(server, customer_id: int, text: str, *, channel: str = WHATSAPP) -> int:
    """One inbound message from the customer, as a channel hands it to the bot; returns the chat's ID."""
    async def work(db):
        message = await bot.receive_message(db, bot.Inbound(channel=channel, customer_id=customer_id, text=text))
        return message.chat_id
    return server.with_db(work)


def bot_chat(server, *, phone: str = "27821234567", name: str | None = "Thandi Nkosi") -> QueuedChat:
    """A WhatsApp customer who greeted the bot and has not chosen a department yet."""
    async def work(db):
        customer = await customers.customer_by_phone(db, phone_number=phone, profile_name=name)
        await db.flush()
        first = await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id, text="Hi"))
        return QueuedChat(customer_id=customer.id, chat_id=first.chat_id)
    return server.with_db(work)


def queued_chat(server, department_id: int, *, phone: str = "27821234567", name: str | None = "Thandi Nkosi",
                first_text: str = "Hello") -> QueuedChat:
    """A WhatsApp customer who greeted the bot and chose the department: the chat waits, Unassigned."""
    async def work(db):
        customer = await customers.customer_by_phone(db, phone_number=phone, profile_name=name)
        await db.flush()
        first = await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id,
                                                          text=first_text))
        await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id,
                                                  choice_id=f"{bot.MENU_CHOICE_PREFIX}{department_id}"))
        chat = await db.get(Chat, first.chat_id)
        assert chat.status == "Unassigned", chat.status
        return QueuedChat(customer_id=customer.id, chat_id=chat.id)
    return server.with_db(work)


def event_types(server, chat_id: int) -> list[str]:
    """The chat's history, oldest first."""
    async def work(db):
        query = select(ChatEvent.type).where(ChatEvent.chat_id == chat_id).order_by(ChatEvent.id)
        return list((await db.execute(query)).scalars())
    return server.with_db(work)


def chat_events(server, chat_id: int) -> list[ChatEvent]:
    async def work(db):
        query = select(ChatEvent).where(ChatEvent.chat_id == chat_id).order_by(ChatEvent.id)
        return list((await db.execute(query)).scalars())
    return server.with_db(work)


def agent_with_a_chat(server, api) -> tuple[str, int]:
    """Alice, an agent of Sales, logged on, with a WhatsApp chat she grabbed: her token and the ChatID."""
    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Alice", department_ids=(sales,))
    token = api.logon("alice@example.com")
    chat = queued_chat(server, sales)
    api.ok(api.post("GrabChat", token, {"ChatID": chat.chat_id}))
    return token, chat.chat_id
