"""The chat lifecycle: opening, queueing, messages and the history kept for every change."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock, rawdb, routing
from agentchat.agents.models import STATUS_ONLINE, Agent, AgentDepartment
from agentchat.channels.outbound import Outgoing
from agentchat.chats import events as chat_events
from agentchat.chats.attachments import NewFile
from agentchat.chats.models import (
    ASSIGNED,
    BOT,
    CLOSED,
    PENDING,
    SENDER_AGENT,
    SENDER_CUSTOMER,
    SENDER_SYSTEM,
    UNASSIGNED,
    WHATSAPP,
    Chat,
    ChatEvent,
    ChatTag,
    Message,
)
from agentchat.company import service as company
from agentchat.contract import Conflict, Forbidden, NotFound, Paging
from agentchat.db import after_commit
from agentchat.departments.models import Department
from agentchat.events import Event, emit
from agentchat.files.storage import FileStorage
from agentchat.security import Caller


def record_event(db: AsyncSession, chat: Chat, event_type: str, *, actor_agent_id: int | None = None,
                 from_status: str | None = None, at: datetime | None = None) -> ChatEvent:
    """Keep one step of the chat's history, with the chat's department and agent as they are after it."""
    event = ChatEvent(chat_id=chat.id, type=event_type, at=at or clock.now(), actor_agent_id=actor_agent_id,
                      department_id=chat.department_id, agent_id=chat.agent_id, from_status=from_status,
                      to_status=chat.status)
    db.add(event)
    chat_events.chat_changed(db, chat, event_type, actor_agent_id=actor_agent_id, from_status=from_status)
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
    chat_events.message_added(db, chat, message)
    if outbound:
        deliver_after_commit(db, message.id, chat.id)
    return message


def deliver_after_commit(db: AsyncSession, message_id: int, chat_id: int | None = None) -> None:
    """Hand the message to its channel once committed. The dispatcher is set on the session by the app."""
    outbound = db.info.get("outbound")
    if outbound is not None:
        after_commit(db, lambda: outbound.deliver(message_id, chat_id))


async def queue_chat(db: AsyncSession, chat: Chat, department: Department, *,
                     actor_agent_id: int | None = None, event_type: str = "Queued") -> None:
    """Put the chat in the department's queue (unassigned), applying the department's auto-tags."""
    from_status, previous_agent_id = chat.status, chat.agent_id
    now = clock.now()
    chat.status = UNASSIGNED
    chat.department_id = department.id
    chat.agent_id = None
    chat.queued_at = now
    await db.flush()
    record_event(db, chat, event_type, actor_agent_id=actor_agent_id, from_status=from_status, at=now)
    await apply_department_tags(db, chat, department)
    # The previous agent has a free place now; the chat may be routed in its new department.
    routing.route_after_commit(db, department_ids=(department.id,) if department.routing_enabled else (),
                               agent_ids=(previous_agent_id,) if from_status == ASSIGNED else ())


async def apply_department_tags(db: AsyncSession, chat: Chat, department: Department) -> None:
    """The department's auto-tags, except disabled ones, recorded in the tag history."""
    # Imported here: the tags service builds on this module (visibility of chats).
    from agentchat.tags import service as tags

    await tags.apply_tags(db, chat, department.tag_ids)


async def queue_position(db: AsyncSession, chat: Chat) -> int:
    """1 for the chat next in line in its department."""
    ahead = await db.execute(
        select(func.count()).where(Chat.status == UNASSIGNED, Chat.department_id == chat.department_id,
                                   Chat.queued_at < chat.queued_at)
    )
    return ahead.scalar_one() + 1



# ---- what an agent may see ---------------------------------------------------------------------------------

def visible_to(caller: Caller) -> ColumnElement[bool]:
    """Managers see every chat; agents the chats of their departments and the chats assigned to them."""
    if caller.is_manager:
        return true()
    mine = select(AgentDepartment.department_id).where(AgentDepartment.agent_id == caller.agent_id)
    return or_(Chat.department_id.in_(mine), Chat.agent_id == caller.agent_id)


def _not_found(chat_id: int) -> NotFound:
    # The same answer for "no such chat" and "not yours to see", so IDs cannot be probed.
    return NotFound(f"No chat has ID {chat_id}.", code="chat_not_found", field="ChatID")


async def get_visible_chat(db: AsyncSession, *, caller: Caller, chat_id: int, lock: bool = False) -> Chat:
    """The chat if the caller may see it, else 404. `lock` holds the row until commit (PostgreSQL)."""
    query = select(Chat).where(Chat.id == chat_id, visible_to(caller))
    if lock:
        query = query.with_for_update(of=Chat)
    chat = (await db.execute(query)).scalar_one_or_none()
    if chat is None:
        raise _not_found(chat_id)
    return chat


async def chat_tag_ids(db: AsyncSession, chat_ids: list[int]) -> dict[int, list[int]]:
    """Tag IDs per chat, for a whole page of chats in one query."""
    found: dict[int, list[int]] = {chat_id: [] for chat_id in chat_ids}
    if chat_ids:
        rows = await db.execute(select(ChatTag.chat_id, ChatTag.tag_id).where(ChatTag.chat_id.in_(chat_ids))
                                .order_by(ChatTag.chat_id, ChatTag.tag_id))
        for chat_id, tag_id in rows:
            found[chat_id].append(tag_id)
    return found


async def chat_messages(db: AsyncSession, chat_id: int) -> list[Message]:
    return list((await db.execute(select(Message).where(Message.chat_id == chat_id).order_by(Message.id))).scalars())


# ---- the rules of acting on a chat -----------------------------------------------------------------------

def check_can_act(caller: Caller, chat: Chat, *, manager_statuses: tuple[str, ...] = (ASSIGNED,)) -> None:
    """Agents act only on chats assigned to them; managers on any chat in `manager_statuses`."""
    if chat.status == CLOSED:
        raise Conflict("The chat is closed.", code="chat_closed", field="ChatID")
    if caller.is_manager:
        if chat.status not in manager_statuses:
            if chat.status == BOT:
                raise Conflict("The customer is still choosing a department in the welcome menu.",
                               code="chat_with_bot", field="ChatID")
            raise Conflict("The chat is not assigned to an agent.", code="chat_not_assigned", field="ChatID")
        return
    if chat.status != ASSIGNED:
        raise Conflict("The chat is not assigned to an agent; grab it first.", code="chat_not_assigned",
                       field="ChatID")
    if chat.agent_id != caller.agent_id:
        raise Conflict("The chat is assigned to another agent; only they or a Manager may act on it.",
                       code="not_chat_agent", field="ChatID")


# ---- grabbing and assigning --------------------------------------------------------------------------------

# How many queued chats one GrabChat without ChatID tries before giving up to concurrent grabbers.
GRAB_ATTEMPTS = 10


async def _take(db: AsyncSession, *, caller: Caller, chat_id: int, agent_id: int, event_type: str) -> Chat | None:
    """The one conditional UPDATE that settles a race for a queued chat: None if someone else won."""
    now = clock.now()
    conditions = [Chat.id == chat_id, Chat.status == UNASSIGNED]
    if not caller.is_manager:
        mine = select(AgentDepartment.department_id).where(AgentDepartment.agent_id == caller.agent_id)
        conditions.append(Chat.department_id.in_(mine))
    statement = (update(Chat).where(*conditions).values(agent_id=agent_id, status=ASSIGNED, assigned_at=now)
                 .returning(Chat).execution_options(synchronize_session=False, populate_existing=True))
    chat = (await db.execute(statement)).scalar_one_or_none()
    if chat is not None:
        record_event(db, chat, event_type, actor_agent_id=caller.agent_id, from_status=UNASSIGNED, at=now)
    return chat


async def grab_chat(db: AsyncSession, *, caller: Caller, chat_id: int | None) -> Chat:
    """The named queued chat, or the longest-waiting one of the caller's departments, becomes the caller's."""
    if chat_id is not None:
        chat = await _take(db, caller=caller, chat_id=chat_id, agent_id=caller.agent_id, event_type="Grabbed")
        if chat is None:
            await get_visible_chat(db, caller=caller, chat_id=chat_id)
            raise Conflict("The chat is not waiting in a queue: another agent may have taken it.",
                           code="chat_not_unassigned", field="ChatID")
        return chat
    tried: set[int] = set()
    while len(tried) < GRAB_ATTEMPTS:
        query = (select(Chat.id).where(Chat.status == UNASSIGNED, visible_to(caller), Chat.id.not_in(tried))
                 .order_by(Chat.queued_at, Chat.id).limit(GRAB_ATTEMPTS - len(tried)))
        candidates = list((await db.execute(query)).scalars())
        if not candidates:
            break
        for candidate in candidates:
            tried.add(candidate)
            chat = await _take(db, caller=caller, chat_id=candidate, agent_id=caller.agent_id,
                               event_type="Grabbed")
            if chat is not None:
                return chat
    raise Conflict("No chat is waiting in your departments' queues.", code="no_unassigned_chats")


async def assign_chat(db: AsyncSession, *, caller: Caller, chat_id: int, agent_id: int) -> Chat:
    """A Manager assigns a queued or assigned chat to an agent of its department; an agent only to self."""
    if not caller.is_manager:
        if agent_id != caller.agent_id:
            raise Forbidden("Agents may assign chats only to themselves; a Manager assigns to others.",
                            code="manager_only", field="AgentID")
        chat = await _take(db, caller=caller, chat_id=chat_id, agent_id=agent_id, event_type="Assigned")
        if chat is None:
            await get_visible_chat(db, caller=caller, chat_id=chat_id)
            raise Conflict("The chat is not waiting in a queue: another agent may have taken it.",
                           code="chat_not_unassigned", field="ChatID")
        return chat
    chat = await get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    check_can_act(caller, chat, manager_statuses=(UNASSIGNED, ASSIGNED))
    await _check_target_agent(db, chat, agent_id, must_be_online=False)
    if chat.agent_id == agent_id:
        return chat
    from_status = chat.status
    now = clock.now()
    chat.agent_id = agent_id
    chat.status = ASSIGNED
    chat.assigned_at = now
    await db.flush()
    record_event(db, chat, "Assigned", actor_agent_id=caller.agent_id, from_status=from_status, at=now)
    return chat


async def _check_target_agent(db: AsyncSession, chat: Chat, agent_id: int, *, must_be_online: bool) -> Agent:
    agent = await db.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"No agent has ID {agent_id}.", code="agent_not_found", field="AgentID")
    if not agent.enabled:
        raise Conflict("That agent is disabled.", code="agent_disabled", field="AgentID")
    if chat.department_id not in agent.department_ids:
        raise Conflict("That agent is not a member of the chat's department.", code="agent_not_in_department",
                       field="AgentID")
    if must_be_online and agent.status_id != STATUS_ONLINE:
        raise Conflict("That agent is not Online (StatusID 4).", code="agent_not_online", field="AgentID")
    return agent


# ---- transfers and closing ---------------------------------------------------------------------------------

async def transfer_to_department(db: AsyncSession, *, caller: Caller, chat_id: int, department_id: int) -> Chat:
    """Back to Unassigned, at the end of the target department's queue; the history is kept."""
    chat = await get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    # A Manager may also route a chat that is stuck in the welcome menu.
    check_can_act(caller, chat, manager_statuses=(BOT, UNASSIGNED, ASSIGNED))
    department = await db.get(Department, department_id)
    if department is None:
        raise NotFound(f"No department has ID {department_id}.", code="department_not_found", field="DepartmentID")
    if not department.enabled:
        raise Conflict("That department is disabled.", code="department_disabled", field="DepartmentID")
    if chat.status == UNASSIGNED and chat.department_id == department.id:
        raise Conflict("The chat is already waiting in that department's queue.", code="already_in_department",
                       field="DepartmentID")
    await queue_chat(db, chat, department, actor_agent_id=caller.agent_id, event_type="TransferredToDepartment")
    return chat


async def transfer_to_agent(db: AsyncSession, *, caller: Caller, chat_id: int, agent_id: int) -> Chat:
    chat = await get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    check_can_act(caller, chat)
    if chat.agent_id == agent_id:
        raise Conflict("The chat is already assigned to that agent.", code="already_assigned_to_agent",
                       field="AgentID")
    await _check_target_agent(db, chat, agent_id, must_be_online=True)
    routing.route_after_commit(db, agent_ids=(chat.agent_id,))
    now = clock.now()
    chat.agent_id = agent_id
    chat.assigned_at = now
    await db.flush()
    record_event(db, chat, "TransferredToAgent", actor_agent_id=caller.agent_id, from_status=ASSIGNED, at=now)
    return chat


async def close_chat(db: AsyncSession, *, caller: Caller, chat_id: int) -> Chat:
    """Agents close their own chats; a Manager any open chat. The customer may get ChatClosedMessage."""
    chat = await get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    check_can_act(caller, chat, manager_statuses=(BOT, UNASSIGNED, ASSIGNED))
    if await company.get_setting(db, "SendChatClosedMessage"):
        text = await company.get_setting(db, "ChatClosedMessage")
        await add_message(db, chat, sender_type=SENDER_SYSTEM, text=text)
    await close(db, chat, actor_agent_id=caller.agent_id)
    return chat


async def close(db: AsyncSession, chat: Chat, *, actor_agent_id: int | None) -> None:
    from_status = chat.status
    now = clock.now()
    chat.status = CLOSED
    chat.closed_at = now
    await db.flush()
    record_event(db, chat, "Closed", actor_agent_id=actor_agent_id, from_status=from_status, at=now)
    if from_status == ASSIGNED:
        routing.route_after_commit(db, agent_ids=(chat.agent_id,))


# ---- agents' messages --------------------------------------------------------------------------------------

# WhatsApp's customer-service window: free-form messages only within 24 hours of the customer's last one.
WHATSAPP_WINDOW = timedelta(hours=24)


async def send_message(db: AsyncSession, *, caller: Caller, chat_id: int, text: str | None,
                       file: NewFile | None, storage: FileStorage) -> Message:
    """An agent's message (text and/or one file) to the customer, delivered by the channel after commit."""
    chat = await get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    check_can_act(caller, chat)
    if chat.channel == WHATSAPP and (chat.last_customer_message_at is None
                                     or clock.now() - chat.last_customer_message_at > WHATSAPP_WINDOW):
        raise Conflict("WhatsApp allows free-form messages only within 24 hours of the customer's last message; "
                       "wait for the customer to write again.", code="whatsapp_24h_window", field="ChatID")
    stored = None
    if file is not None:
        key = await storage.save(file.content, file_name=file.name)
        stored = {"file_name": file.name, "file_type": file.type, "file_size": len(file.content), "file_key": key}
    try:
        return await add_message(db, chat, sender_type=SENDER_AGENT, agent_id=caller.agent_id, text=text,
                                 file=stored)
    except BaseException:
        if stored is not None:
            await storage.delete(stored["file_key"])
        raise


async def get_file_message(db: AsyncSession, *, caller: Caller, message_id: int) -> Message:
    """A message with a stored file, in a chat the caller may see; 404 otherwise."""
    query = (select(Message).join(Chat, Chat.id == Message.chat_id)
             .where(Message.id == message_id, Message.file_key.is_not(None), visible_to(caller)))
    message = (await db.execute(query)).scalar_one_or_none()
    if message is None:
        raise NotFound(f"No file belongs to message {message_id}.", code="file_not_found", field="MessageID")
    return message


# ---- lists ---------------------------------------------------------------------------------------------------

@dataclass
class ChatFilter:
    statuses: list[str] = field(default_factory=list)
    department_id: int | None = None
    agent_id: int | None = None
    customer_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_chats(db: AsyncSession, *, caller: Caller, where: ChatFilter, paging: Paging
                     ) -> tuple[list[tuple[Chat, list[int]]], int]:
    """Newest first. One query for the page and its total (a window count), one for the page's tags."""
    conditions = [visible_to(caller)]
    if where.statuses:
        conditions.append(Chat.status.in_(where.statuses))
    if where.department_id is not None:
        conditions.append(Chat.department_id == where.department_id)
    if where.agent_id is not None:
        conditions.append(Chat.agent_id == where.agent_id)
    if where.customer_id is not None:
        conditions.append(Chat.customer_id == where.customer_id)
    if where.created_from is not None:
        conditions.append(Chat.created_at >= where.created_from)
    if where.created_to is not None:
        conditions.append(Chat.created_at <= where.created_to)
    query = (select(Chat, func.count().over()).where(*conditions).order_by(Chat.created_at.desc(), Chat.id.desc())
             .offset(paging.offset).limit(paging.page_size))
    rows = (await db.execute(query)).all()
    if rows:
        total = rows[0][1]
    elif paging.page == 1:
        total = 0
    else:
        total = (await db.execute(select(func.count()).select_from(Chat).where(*conditions))).scalar_one()
    chats = [row[0] for row in rows]
    tags = await chat_tag_ids(db, [chat.id for chat in chats])
    return [(chat, tags[chat.id]) for chat in chats], total



# ---- the hot paths on the driver connection (agentchat/rawdb.py) ---------------------------------------------
# SendMessage, GrabChat and GetChats run as few raw statements as possible (one on PostgreSQL), with the same
# checks, history, events and delivery as the ORM code above, and return the contract's JSON directly.

# What pydantic's str_strip_whitespace strips (Unicode White_Space), so raw JSON matches the Schema output.
_WHITE_SPACE = " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
               "\u2028\u2029\u202f\u205f\u3000"


def _strip(value: str | None) -> str | None:
    return value.strip(_WHITE_SPACE) if value is not None else None


def message_json(message_id: int, chat_id: int, sender_type: str, agent_id: int | None, text: str | None,
                 file_name: str | None, file_type: str | None, file_size: int | None, file_key: str | None,
                 created_at, delivery_status: str | None, failure_reason: str | None) -> dict:
    """MessageOut's JSON (by alias) from raw column values."""
    file = None
    if file_key is not None:
        file = {"FileName": _strip(file_name or "file"), "FileType": _strip(file_type or "application/octet-stream"),
                "Size": file_size or 0, "URL": f"/api/GetFile?MessageID={message_id}"}
    return {"MessageID": message_id, "ChatID": chat_id, "SenderType": _strip(sender_type), "AgentID": agent_id,
            "Text": _strip(text), "File": file, "CreatedAt": rawdb.wire_time(created_at),
            "DeliveryStatus": _strip(delivery_status), "FailureReason": _strip(failure_reason)}


def _visible_sql(caller: Caller, agent_param: str) -> str:
    """visible_to() in SQL, for the chat table."""
    if caller.is_manager:
        return "TRUE"
    return (f"(chat.department_id IN (SELECT department_id FROM agent_department WHERE agent_id = {agent_param})"
            f" OR chat.agent_id = {agent_param})")


_SEND_CHAT_COLUMNS = ("chat.status, chat.agent_id, chat.channel, chat.last_customer_message_at, chat.department_id, "
                      "chat.customer_id, customer.phone_number")
_SEND_CHAT = (f"SELECT {_SEND_CHAT_COLUMNS} FROM chat JOIN customer ON customer.id = chat.customer_id "
              "WHERE chat.id = $1 AND {visible}")
_SEND_INSERT = ("INSERT INTO message (chat_id, sender_type, agent_id, text, created_at, delivery_status) "
                "VALUES ($1, 'Agent', $2, $3, $4, 'Pending') RETURNING id")
_SEND_TOUCH = "UPDATE chat SET last_message_at = $2 WHERE id = $1"
# PostgreSQL: lock the visible chat, insert only if the agent may write now, touch the chat; one trip.
_SEND_PG = (
    f"WITH c AS (SELECT chat.id, {_SEND_CHAT_COLUMNS} FROM chat JOIN customer ON customer.id = chat.customer_id "
    "WHERE chat.id = $1 AND {visible} FOR UPDATE OF chat), "
    "m AS (INSERT INTO message (chat_id, sender_type, agent_id, text, created_at, delivery_status) "
    "SELECT c.id, 'Agent', $2::integer, $3::text, $4::timestamp, 'Pending' FROM c WHERE c.status = 'Assigned' "
    "AND ({may_act}) AND (c.channel <> 'WhatsApp' OR c.last_customer_message_at >= $5::timestamp) RETURNING id), "
    "u AS (UPDATE chat SET last_message_at = $4::timestamp FROM m WHERE chat.id = $1 RETURNING chat.id) "
    "SELECT c.status, c.agent_id, c.channel, c.last_customer_message_at, c.department_id, c.customer_id, "
    "c.phone_number, m.id FROM c LEFT JOIN m ON TRUE"
)


def _check_send(caller: Caller, chat_id: int, row, now: datetime) -> None:
    """send_message's refusals, from the chat's row, in the same order."""
    if row is None:
        raise _not_found(chat_id)
    status, agent_id, channel, last_customer = row[0], row[1], row[2], rawdb.to_time(row[3])
    check_can_act(caller, _ChatState(status, agent_id))
    if channel == WHATSAPP and (last_customer is None or now - last_customer > WHATSAPP_WINDOW):
        raise Conflict("WhatsApp allows free-form messages only within 24 hours of the customer's last message; "
                       "wait for the customer to write again.", code="whatsapp_24h_window", field="ChatID")


@dataclass(slots=True)
class _ChatState:
    status: str
    agent_id: int | None


async def send_text_message(db: AsyncSession, *, caller: Caller, chat_id: int, text: str) -> dict:
    """send_message for a text without a file: MessageOut's JSON. Emits MessageSent; delivers after commit."""
    now = clock.now()
    raw = await rawdb.raw(db)
    if raw.sqlite:
        args = (chat_id,) if caller.is_manager else (chat_id, caller.agent_id)
        row = await raw.fetchrow(_SEND_CHAT.format(visible=_visible_sql(caller, "$2")), *args)
        _check_send(caller, chat_id, row, now)
        message_id = (await raw.fetchrow(_SEND_INSERT, chat_id, caller.agent_id, text, now))[0]
        await raw.execute(_SEND_TOUCH, chat_id, now)
    else:
        sql = _SEND_PG.format(visible=_visible_sql(caller, "$2"), may_act="TRUE" if caller.is_manager
                              else "c.agent_id = $2")
        row = await raw.fetchrow(sql, chat_id, caller.agent_id, text, now, now - WHATSAPP_WINDOW)
        if row is None or row[7] is None:
            _check_send(caller, chat_id, row, now)
            raise AssertionError("a chat the agent may write to was not written")  # pragma: no cover
        message_id = row[7]
    department_id, customer_id, phone_number = row[4], row[5], row[6]
    data = message_json(message_id, chat_id, SENDER_AGENT, caller.agent_id, text, None, None, None, None, now,
                        PENDING, None)
    emit(db, Event("MessageSent", data, department_ids=(department_id,) if department_id else (),
                   agent_ids=(row[1],) if row[1] else ()))
    outbound = db.info.get("outbound")
    if outbound is not None:
        item = Outgoing(message_id=message_id, chat_id=chat_id, channel=row[2], customer_id=customer_id,
                        phone_number=phone_number, text=text, file_name=None, file_type=None, file_key=None,
                        payload=None)
        after_commit(db, lambda: outbound.deliver_item(item))
    return data


_CHAT_COLUMNS = ("id, customer_id, channel, status, department_id, agent_id, created_at, queued_at, assigned_at, "
                 "closed_at, last_message_at")
_MESSAGE_COLUMNS = ("id, chat_id, sender_type, agent_id, text, file_name, file_type, file_size, file_key, created_at, "
                    "delivery_status, failure_reason")
_GRAB_MINE = "department_id IN (SELECT department_id FROM agent_department WHERE agent_id = $1)"
# The queued chat the caller takes: the named one, or the longest-waiting one of the caller's departments
# (on PostgreSQL skipping those another grabber holds right now). The UPDATE re-checks that it is still queued.
_GRAB_NAMED = "$3"
_GRAB_NEXT = ("(SELECT id FROM chat WHERE status = 'Unassigned' AND {mine} ORDER BY queued_at, id LIMIT 1{skip})")
_GRAB_UPDATE = (f"UPDATE chat SET agent_id = $1, status = 'Assigned', assigned_at = $2 WHERE id = {{target}} "
                f"AND status = 'Unassigned' AND {{mine}} RETURNING {_CHAT_COLUMNS}")
_GRAB_EVENT = ("INSERT INTO chat_event (chat_id, type, at, actor_agent_id, department_id, agent_id, from_status, "
               "to_status) VALUES ($1, 'Grabbed', $2, $3, $4, $3, 'Unassigned', 'Assigned')")
_GRAB_PG = ("WITH u AS ({update}), "
            "e AS (INSERT INTO chat_event (chat_id, type, at, actor_agent_id, department_id, agent_id, from_status, "
            "to_status) SELECT id, 'Grabbed', $2::timestamp, $1, department_id, $1, 'Unassigned', 'Assigned' FROM u) "
            f"SELECT {_CHAT_COLUMNS}, ARRAY(SELECT tag_id FROM chat_tag WHERE chat_id = u.id ORDER BY tag_id) FROM u")
_CHAT_TAGS = "SELECT tag_id FROM chat_tag WHERE chat_id = $1 ORDER BY tag_id"
_CHAT_MESSAGES = f"SELECT {_MESSAGE_COLUMNS} FROM message WHERE chat_id = $1 ORDER BY id"


def chat_json(row, tag_ids: list[int]) -> dict:
    """ChatOut's JSON from a row of _CHAT_COLUMNS."""
    return {"ChatID": row[0], "CustomerID": row[1], "Channel": _strip(row[2]), "Status": _strip(row[3]),
            "DepartmentID": row[4], "AgentID": row[5], "TagIDs": tag_ids, "CreatedAt": rawdb.wire_time(row[6]),
            "QueuedAt": rawdb.wire_time(row[7]), "AssignedAt": rawdb.wire_time(row[8]),
            "ClosedAt": rawdb.wire_time(row[9]), "LastMessageAt": rawdb.wire_time(row[10])}


def _chat_of(row) -> Chat:
    """A detached Chat for the event helpers (not added to the session)."""
    return Chat(id=row[0], customer_id=row[1], channel=row[2], status=row[3], department_id=row[4], agent_id=row[5],
                created_at=rawdb.to_time(row[6]), queued_at=rawdb.to_time(row[7]), assigned_at=rawdb.to_time(row[8]),
                closed_at=rawdb.to_time(row[9]), last_message_at=rawdb.to_time(row[10]))


async def grab_chat_json(db: AsyncSession, *, caller: Caller, chat_id: int | None) -> dict:
    """grab_chat with ChatWithMessages' JSON as the answer: one statement on PostgreSQL takes the chat and
    writes its history; the chat's messages are read in the same transaction."""
    now = clock.now()
    raw = await rawdb.raw(db)
    mine = "TRUE" if caller.is_manager else _GRAB_MINE
    if chat_id is not None:
        target = _GRAB_NAMED
    else:
        target = _GRAB_NEXT.format(mine=mine, skip="" if raw.sqlite else " FOR UPDATE SKIP LOCKED")
    update_sql = _GRAB_UPDATE.format(target=target, mine=mine)
    args = (caller.agent_id, now) + ((chat_id,) if chat_id is not None else ())
    if raw.sqlite:
        row = await raw.fetchrow(update_sql, *args)
        if row is not None:
            await raw.execute(_GRAB_EVENT, row[0], now, caller.agent_id, row[4])
            tag_ids = [tag for (tag,) in await raw.fetch(_CHAT_TAGS, row[0])]
    else:
        row = await raw.fetchrow(_GRAB_PG.format(update=update_sql), *args)
        if row is not None:
            tag_ids = list(row[11])
    if row is None:
        if chat_id is not None:
            await get_visible_chat(db, caller=caller, chat_id=chat_id)
            raise Conflict("The chat is not waiting in a queue: another agent may have taken it.",
                           code="chat_not_unassigned", field="ChatID")
        raise Conflict("No chat is waiting in your departments' queues.", code="no_unassigned_chats")
    chat_events.chat_changed(db, _chat_of(row), "Grabbed", actor_agent_id=caller.agent_id, from_status=UNASSIGNED)
    messages = [message_json(*m) for m in await raw.fetch(_CHAT_MESSAGES, row[0])]
    return {**chat_json(row, tag_ids), "Messages": messages}


async def list_chats_json(db: AsyncSession, *, caller: Caller, where: ChatFilter, paging: Paging) -> dict:
    """list_chats as Page[ChatOut]'s JSON. PostgreSQL: one statement for the page, its tags and the total."""
    raw = await rawdb.raw(db)
    args: list = []

    def param(value) -> str:
        args.append(value)
        return f"${len(args)}"

    conditions = []
    if not caller.is_manager:
        conditions.append(_visible_sql(caller, param(caller.agent_id)))
    if where.statuses:
        conditions.append(f"chat.status IN ({', '.join(param(s) for s in where.statuses)})")
    for column, op, value in (("department_id", "=", where.department_id), ("agent_id", "=", where.agent_id),
                              ("customer_id", "=", where.customer_id), ("created_at", ">=", where.created_from),
                              ("created_at", "<=", where.created_to)):
        if value is not None:
            conditions.append(f"chat.{column} {op} {param(value)}")
    condition = " AND ".join(conditions) or "TRUE"
    count_sql = f"SELECT count(*) FROM chat WHERE {condition}"
    page = f"ORDER BY chat.created_at DESC, chat.id DESC LIMIT {paging.page_size:d} OFFSET {paging.offset:d}"
    if raw.sqlite:
        rows = await raw.fetch(f"SELECT {_CHAT_COLUMNS}, ({count_sql}) FROM chat WHERE {condition} {page}", *args)
        tags: dict[int, list[int]] = {row[0]: [] for row in rows}
        if rows:
            ids = ", ".join(str(int(chat_id)) for chat_id in tags)
            for chat_id, tag_id in await raw.fetch(f"SELECT chat_id, tag_id FROM chat_tag WHERE chat_id IN ({ids}) "
                                                   "ORDER BY chat_id, tag_id"):
                tags[chat_id].append(tag_id)
        items = [chat_json(row, tags[row[0]]) for row in rows]
        total_column = 11
    else:
        rows = await raw.fetch(
            f"SELECT {_CHAT_COLUMNS}, ARRAY(SELECT tag_id FROM chat_tag WHERE chat_tag.chat_id = chat.id "
            f"ORDER BY tag_id), ({count_sql}) FROM chat WHERE {condition} {page}", *args)
        items = [chat_json(row, list(row[11])) for row in rows]
        total_column = 12
    if rows:
        total = rows[0][total_column]
    elif paging.page == 1:
        total = 0
    else:
        total = (await raw.fetchrow(count_sql, *args))[0]
    return {"Items": items, "Page": paging.page, "PageSize": paging.page_size, "Total": total}
