"""The hot calls against their references: one scenario table run through the ORM service (chats/service.py, the
reference, kept callable even where production serves the fast path) and through the raw SQL of chats/fastpath.py,
on SQLite and PostgreSQL, from the same starting rows. Same answer (JSON or HTTP status and error code), same rows
written, same events and deliveries started. SearchCustomer's own comparison is in tests/test_search_customer.py.

Both paths run in the server's process, on its loop, with the clock stopped, so that every ID and time matches."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from agentchat import clock
from agentchat.agents.models import ROLE_AGENT, ROLE_MANAGER, STATUS_ONLINE, Agent, AgentDepartment
from agentchat.auth.models import AgentSession
from agentchat.chats import fastpath
from agentchat.chats import service as chats
from agentchat.chats.attachments import NewFile
from agentchat.chats.models import (
    ASSIGNED,
    BOT,
    CLOSED,
    UNASSIGNED,
    WEBCHAT,
    WHATSAPP,
    Chat,
    ChatEvent,
    ChatTag,
    Message,
)
from agentchat.chats.schemas import ChatListItem, ChatOut, ChatWithMessages, LastMessageOut, MessageOut
from agentchat.contract import ApiError, Paging
from agentchat.customers.models import Customer
from agentchat.departments.models import Department
from agentchat.security import PresentedSession, token_hash
from agentchat.tags.models import Tag, TagGroup

AGENTS = {"mia": (ROLE_MANAGER, ()), "alice": (ROLE_AGENT, ("Sales",)), "bob": (ROLE_AGENT, ("Sales",)),
          "carol": (ROLE_AGENT, ("Support",)), "erin": (ROLE_AGENT, ("Sales", "Support")), "nora": (ROLE_AGENT, ())}
HOUR = timedelta(hours=1)
# name: (channel, status, department, agent, minutes queued before now, customer's last message before now)
CHATS = {
    "mine": (WEBCHAT, ASSIGNED, "Sales", "alice", 50, None),
    "bobs": (WEBCHAT, ASSIGNED, "Sales", "bob", 40, None),
    "queued": (WEBCHAT, UNASSIGNED, "Sales", None, 10, None),
    "queued_tie": (WHATSAPP, UNASSIGNED, "Sales", None, 10, HOUR),
    "queued_support": (WEBCHAT, UNASSIGNED, "Support", None, 20, None),
    "closed": (WEBCHAT, CLOSED, "Sales", "alice", 60, None),
    "bot": (WHATSAPP, BOT, None, None, None, timedelta(minutes=1)),
    "wa_open": (WHATSAPP, ASSIGNED, "Sales", "alice", 30, 23 * HOUR),
    "wa_edge": (WHATSAPP, ASSIGNED, "Sales", "alice", 30, 24 * HOUR),
    "wa_shut": (WHATSAPP, ASSIGNED, "Sales", "alice", 30, 24 * HOUR + timedelta(seconds=1)),
    "wa_never": (WHATSAPP, ASSIGNED, "Sales", "alice", 30, None),
    "noras": (WEBCHAT, ASSIGNED, "Support", "nora", 30, None),
}
NO_SUCH_CHAT = 999_999


@dataclass
class World:
    chat_ids: dict[str, int]
    agent_ids: dict[str, int]


def token(name: str) -> str:
    return name.encode().hex().ljust(32, "0")


async def build(db) -> World:
    """The same offices, agents, chats, tags and messages every time, so that each path starts from equal rows."""
    now = clock.now()
    departments = {}
    for name in ("Sales", "Support"):
        departments[name] = Department(name=name, enabled=True, tags=[])
        db.add(departments[name])
    group = TagGroup(name="Topics", enabled=True)
    db.add(group)
    await db.flush()
    tags = [Tag(tag_group_id=group.id, name=name, enabled=True) for name in ("Billing", "Returns")]
    db.add_all(tags)
    agents = {}
    for name, (role, member_of) in AGENTS.items():
        agents[name] = Agent(name=name.title(), email_address=f"{name}@example.com", role_id=role, enabled=True,
                             status_id=STATUS_ONLINE, notifications=[], password_hash=None,
                             departments=[AgentDepartment(department_id=departments[d].id) for d in member_of])
        db.add(agents[name])
    await db.flush()
    for name, agent in agents.items():
        db.add(AgentSession(agent_id=agent.id, token_hash=token_hash(token(name)), expires_at=now + HOUR))
    chat_ids = {}
    for n, (key, (channel, status, department, agent, queued, customer_wrote)) in enumerate(CHATS.items()):
        customer = Customer(name=f"Customer {key}", phone_number=f"2782000{n:04d}", created_at=now - 2 * HOUR)
        db.add(customer)
        await db.flush()
        chat = Chat(customer_id=customer.id, channel=channel, status=status, created_at=now - 2 * HOUR,
                    department_id=departments[department].id if department else None,
                    agent_id=agents[agent].id if agent else None,
                    queued_at=now - timedelta(minutes=queued) if queued is not None else None,
                    assigned_at=now - HOUR if agent else None, closed_at=now - HOUR if status == CLOSED else None,
                    last_customer_message_at=now - customer_wrote if customer_wrote is not None else None)
        db.add(chat)
        await db.flush()
        chat_ids[key] = chat.id
    queued = chat_ids["queued"]
    db.add_all([ChatTag(chat_id=queued, tag_id=tags[1].id, added_at=now), ChatTag(chat_id=queued, tag_id=tags[0].id,
                                                                                 added_at=now)])
    db.add_all([
        Message(chat_id=queued, sender_type="Customer", text=" Hello\u00a0", created_at=now - 3 * HOUR),
        Message(chat_id=queued, sender_type="Bot", text="You are number 1.", created_at=now - 2 * HOUR,
                delivery_status="Sent", payload={"Menu": [{"Option": 1, "Name": "Sales"}]}),
        Message(chat_id=queued, sender_type="Customer", text=None, created_at=now - HOUR, file_name="photo.jpg",
                file_type="image/jpeg", file_size=10, file_key="k1", payload={"ReplyTo": {"MessageID": 1}},
                media_status="Pending"),
    ])
    await db.flush()
    return World(chat_ids, {name: agent.id for name, agent in agents.items()})


@dataclass
class Outcome:
    answer: object  # the JSON, or (HTTP status, error code)
    events: list
    deliveries: int
    rows: dict


async def rows(db) -> dict:
    """Every chat, message, history and tag row, by column, as the ORM reads them back."""
    found = {}
    for model in (Chat, Message, ChatEvent, ChatTag):
        table = model.__table__
        order = [c for c in table.primary_key.columns]
        found[table.name] = [dict(r._mapping) for r in await db.execute(select(table).order_by(*order))]
    return found


def run(server, call, *, hot: bool, who: str) -> Outcome:
    """`call` on a fresh copy of the world: hot(raw, session, world) on a driver connection as the lean route
    does, or reference(db, caller, world) in an ORM session as an everyday route does. Nothing is published."""
    server.truncate()
    app = server.app

    async def job():
        async with app.state.sessionmaker() as db:
            world = await build(db)
            await db.commit()
        session = PresentedSession(token(who), timedelta(minutes=server.settings.session_idle_minutes),
                                   app.state.raw)
        if hot:
            async with app.state.raw.connect() as raw:
                try:
                    answer = await call(raw, session, world)
                except ApiError as error:
                    answer = (error.status, error.code)
                info = raw.info
        else:
            caller = await session.check()
            async with app.state.sessionmaker() as db:
                try:
                    answer = await call(db, caller, world)
                    await db.commit()
                except ApiError as error:
                    answer = (error.status, error.code)
                    db.info.clear()
                    await db.rollback()
                info = db.info
        events = [e.envelope() for e in info.get("events", [])]
        deliveries = len(info.get("after_commit", []))
        async with app.state.sessionmaker() as db:
            return Outcome(answer, events, deliveries, await rows(db))
    return server.run(job())


@pytest.fixture(autouse=True)
def stopped_clock():
    clock.freeze()


def chat_id(world: World, key: str) -> int:
    return world.chat_ids.get(key, NO_SUCH_CHAT)


# ---- GrabChat ----------------------------------------------------------------------------------------------

GRABS = [  # who, the chat named (None: the longest-waiting of their queues), what they get
    ("alice", "queued", "queued"), ("alice", "queued_support", 404), ("alice", "bobs", 409), ("alice", "closed", 409),
    ("alice", "nothing", 404), ("carol", "queued", 404), ("mia", "queued_support", "queued_support"),
    ("mia", "bot", 409), ("bob", "bot", 404), ("alice", "mine", 409), ("nora", "noras", 409),
    ("alice", None, "queued"), ("carol", None, "queued_support"), ("erin", None, "queued_support"),
    ("mia", None, "queued_support"), ("nora", None, 409),
]


async def grab_reference(db, caller, world, key):
    chat = await chats.grab_chat(db, caller=caller, chat_id=None if key is None else chat_id(world, key))
    await db.flush()
    tags = await chats.chat_tag_ids(db, [chat.id])
    messages = await chats.chat_messages(db, chat.id)
    return ChatWithMessages(**ChatOut.of(chat, tags[chat.id]).model_dump(),
                            messages=[MessageOut.of(m) for m in messages]).model_dump(by_alias=True, mode="json")


class TestGrabChat:
    @pytest.mark.parametrize(("who", "key", "gets"), GRABS, ids=[f"{w}-{k}" for w, k, _ in GRABS])
    def test_the_same_as_the_reference(self, server, who, key, gets):
        async def hot(raw, session, world):
            return await fastpath.grab_chat_json(raw, session=session,
                                                 chat_id=None if key is None else chat_id(world, key))

        async def reference(db, caller, world):
            return await grab_reference(db, caller, world, key)

        fast, orm = run(server, hot, hot=True, who=who), run(server, reference, hot=False, who=who)
        assert fast == orm
        if isinstance(gets, int):
            assert fast.answer[0] == gets and fast.events == []
        else:
            world_ids = dict(zip(CHATS, range(1, len(CHATS) + 1), strict=True))
            assert fast.answer["ChatID"] == world_ids[gets] and fast.answer["Status"] == ASSIGNED
            assert [e["Type"] for e in fast.events] == ["ChatGrabbed"]
            assert [e["type"] for e in fast.rows["chat_event"]] == ["Grabbed"]
            if gets == "queued":
                assert len(fast.answer["Messages"]) == 3 and len(fast.answer["TagIDs"]) == 2


# ---- SendMessage -------------------------------------------------------------------------------------------

SENDS = [  # who, to which chat, what they get
    ("alice", "mine", 200), ("alice", "bobs", "not_chat_agent"), ("alice", "queued", "chat_not_assigned"),
    ("alice", "queued_support", "chat_not_found"), ("alice", "closed", "chat_closed"),
    ("alice", "nothing", "chat_not_found"), ("mia", "bobs", 200), ("mia", "queued", "chat_not_assigned"),
    ("mia", "bot", "chat_with_bot"), ("bob", "bot", "chat_not_found"), ("alice", "wa_open", 200),
    ("alice", "wa_edge", 200), ("alice", "wa_shut", "whatsapp_24h_window"),
    ("alice", "wa_never", "whatsapp_24h_window"), ("mia", "wa_shut", "whatsapp_24h_window"),
    ("nora", "noras", 200), ("carol", "noras", "not_chat_agent"), ("erin", "mine", "not_chat_agent"),
]
TEXT = "Good morning \u2014 here is your answer ж"
PICTURE = NewFile(name="note.txt", type="text/plain", content=b"a file for the customer\n")


class TestSendMessage:
    @pytest.mark.parametrize(("who", "key", "gets"), SENDS, ids=[f"{w}-{k}" for w, k, _ in SENDS])
    def test_text_the_same_as_the_reference_and_a_file_refused_alike(self, server, who, key, gets):
        async def hot(raw, session, world):
            return await fastpath.send_text_message(raw, session=session, chat_id=chat_id(world, key), text=TEXT)

        def reference(file):
            async def call(db, caller, world):
                message = await chats.send_message(db, caller=caller, chat_id=chat_id(world, key), text=TEXT,
                                                   file=file, storage=server.app.state.file_storage)
                return MessageOut.of(message).model_dump(by_alias=True, mode="json")
            return call

        fast = run(server, hot, hot=True, who=who)
        orm = run(server, reference(None), hot=False, who=who)
        assert fast == orm
        # A file goes through the reference in production (routes.send_message): refused alike, or sent alike.
        with_file = run(server, reference(PICTURE), hot=False, who=who)
        if gets == 200:
            assert fast.answer["Text"] == TEXT and fast.answer["DeliveryStatus"] == "Pending"
            assert [e["Type"] for e in fast.events] == ["MessageSent"] and fast.deliveries == 1
            assert with_file.answer["File"]["FileName"] == PICTURE.name
            assert {**with_file.answer, "File": None} == fast.answer
            assert with_file.rows["chat"] == fast.rows["chat"] and with_file.deliveries == 1
        else:
            assert fast.answer[1] == gets and fast.events == [] and fast.deliveries == 0
            assert with_file.answer == fast.answer and with_file.rows == fast.rows


# ---- GetChats ----------------------------------------------------------------------------------------------

LISTS = [  # who, the filter, the page
    ("mia", {}, (1, 50)), ("alice", {}, (1, 50)), ("carol", {}, (1, 50)), ("erin", {}, (1, 3)),
    ("erin", {}, (2, 3)), ("nora", {}, (1, 50)), ("alice", {"statuses": [ASSIGNED]}, (1, 50)),
    ("alice", {"statuses": [UNASSIGNED, CLOSED]}, (1, 2)), ("mia", {"statuses": [BOT]}, (1, 50)),
    ("mia", {"department": "Support"}, (1, 50)), ("alice", {"agent": "alice"}, (1, 50)),
    ("carol", {"agent": "nora"}, (1, 50)), ("mia", {"customer": "wa_open"}, (1, 50)),
    ("alice", {"customer": "queued_support"}, (1, 50)), ("mia", {}, (4, 4)), ("alice", {}, (9, 50)),
]


def chat_filter(world: World, spec: dict) -> chats.ChatFilter:
    department = {"Sales": 1, "Support": 2}.get(spec.get("department"))
    customer = spec.get("customer")
    return chats.ChatFilter(statuses=spec.get("statuses", []), department_id=department,
                            agent_id=world.agent_ids.get(spec.get("agent")),
                            customer_id=chat_id(world, customer) if customer else None)


async def list_item(db, chat: Chat) -> dict:
    """A GetChats item through the ORM and the schemas: the chat, its customer, its newest customer/agent message."""
    customer = await db.get(Customer, chat.customer_id)
    tags = await chats.chat_tag_ids(db, [chat.id])
    said = [m for m in await chats.chat_messages(db, chat.id) if m.sender_type in fastpath.LAST_MESSAGE_SENDERS]
    last = said[-1] if said else None
    last_out = last and LastMessageOut(
        sender=last.sender_type, agent_id=last.agent_id, created_at=last.created_at,
        text=None if last.text is None else last.text[:fastpath.SNIPPET_CHARS],
        file_type=(last.file_type or "application/octet-stream") if last.file_key else None)
    return ChatListItem(**ChatOut.of(chat, tags[chat.id]).model_dump(), customer_name=customer.name,
                        customer_phone_number=customer.phone_number, last_message=last_out
                        ).model_dump(by_alias=True, mode="json")


class TestGetChats:
    @pytest.mark.parametrize(("who", "spec", "page"), LISTS, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(LISTS)])
    def test_the_same_as_the_reference(self, server, who, spec, page):

        paging = Paging(page=page[0], page_size=page[1])

        async def hot(raw, session, world):
            return json.loads(await fastpath.list_chats_json(raw, session=session, where=chat_filter(world, spec),
                                                             paging=paging))

        async def reference(db, caller, world):
            found, total = await chats.list_chats(db, caller=caller, where=chat_filter(world, spec), paging=paging)
            return {"Items": [await list_item(db, chat) for chat in found], "Page": paging.page,
                    "PageSize": paging.page_size, "Total": total}

        fast, orm = run(server, hot, hot=True, who=who), run(server, reference, hot=False, who=who)
        assert fast == orm
        assert fast.events == [] and fast.deliveries == 0
        if (who, spec, page) == ("mia", {}, (1, 50)):
            assert fast.answer["Total"] == len(CHATS) == len(fast.answer["Items"])
