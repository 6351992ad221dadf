"""The chat lifecycle: opening, queueing, messages and the history kept for every change."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.agents.models import STATUS_ONLINE, Agent
from agentchat.channels.whatsapp.outbound import NotSendable, media_kind
from agentchat.chats import events as chat_events
from agentchat.chats import rules
from agentchat.chats.attachments import NewFile
from agentchat.chats.events import record_event
from agentchat.chats.models import (
    ASSIGNED,
    BOT,
    CLOSED,
    PENDING,
    SENDER_AGENT,
    SENDER_BOT,
    SENDER_CUSTOMER,
    SENDER_SYSTEM,
    UNASSIGNED,
    WEBCHAT,
    WHATSAPP,
    Chat,
    ChatTag,
    Message,
)

# The rules are written once in rules.py; these names stay here for the callers that read them as the service's.
from agentchat.chats.rules import (  # noqa: F401
    WHATSAPP_WINDOW,
    check_can_act,
    window_closed_error,
    window_closes_at,
    window_open,
)
from agentchat.company import service as company
from agentchat.contract import Conflict, Forbidden, Invalid, NotFound, Paging
from agentchat.db import after_commit
from agentchat.departments.models import Department
from agentchat.files.storage import FileStorage
from agentchat.routing import triggers as routing
from agentchat.security import Caller

log = logging.getLogger(__name__)


async def active_chat(db: AsyncSession, customer_id: int, *, for_update: bool = False) -> Chat | None:
    query = select(Chat).where(Chat.customer_id == customer_id, rules.is_active())
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
                      at: datetime | None = None, sent_at: datetime | None = None,
                      media_status: str | None = None, note: bool = False) -> Message | None:
    """Store a message; one that goes out to the customer is queued for delivery after commit. A `note` is a
    System line for the agents only (e.g. the customer changed their number): never delivered.

    The bot's and the system's words are free-form: outside WhatsApp's 24-hour window Meta refuses them, so they are
    neither stored nor sent there (None).

    `sent_at` is when the customer sent it by the channel's clock (WhatsApp's timestamp): WhatsApp's 24-hour
    window runs from it, not from the arrival, and a late delivery never moves the window back."""
    at = at or clock.now()
    if sender_type in (SENDER_BOT, SENDER_SYSTEM) and not note and not window_open(chat, at):
        return None
    return await store_message(db, chat, sender_type=sender_type, text=text, agent_id=agent_id,
                               external_id=external_id, file=file, payload=payload, at=at, sent_at=sent_at,
                               media_status=media_status, note=note)


async def store_message(db: AsyncSession, chat: Chat, *, sender_type: str, text: str | None,
                        agent_id: int | None = None, external_id: str | None = None,
                        file: dict | None = None, payload: dict | None = None,
                        at: datetime | None = None, sent_at: datetime | None = None,
                        media_status: str | None = None, note: bool = False) -> Message:
    """add_message without the window's check: for messages that are always stored (an agent's, a customer's)."""
    now = at or clock.now()
    outbound = sender_type != SENDER_CUSTOMER and not note
    message = Message(chat_id=chat.id, sender_type=sender_type, agent_id=agent_id, text=text,
                      external_id=external_id, created_at=now, payload=payload, sent_at=sent_at,
                      media_status=media_status, delivery_status=PENDING if outbound else None, **(file or {}))
    db.add(message)
    chat.last_message_at = now
    if sender_type == SENDER_CUSTOMER:
        customer_at = min(sent_at, now) if sent_at is not None else now
        if chat.last_customer_message_at is None or customer_at > chat.last_customer_message_at:
            chat.last_customer_message_at = customer_at
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
                     actor_agent_id: int | None = None, event_type: str = "Queued") -> int | None:
    """Put the chat in the department's queue (unassigned). Returns the agent it was taken from, if it was assigned.

    The department's auto-tags and the routing pass are the flow's (agentchat/queues.py), one level up: tags and
    routing build on this module."""
    from_status, previous_agent_id = chat.status, chat.agent_id
    now = clock.now()
    chat.status = UNASSIGNED
    chat.department_id = department.id
    chat.agent_id = None
    chat.queued_at = now
    await db.flush()
    record_event(db, chat, event_type, actor_agent_id=actor_agent_id, from_status=from_status, at=now)
    return previous_agent_id if from_status == ASSIGNED else None


async def queue_position(db: AsyncSession, chat: Chat) -> int:
    """1 for the chat next in line in its department."""
    ahead = await db.execute(
        select(func.count()).where(Chat.status == UNASSIGNED, Chat.department_id == chat.department_id,
                                   Chat.queued_at < chat.queued_at)
    )
    return ahead.scalar_one() + 1



# ---- what an agent may see ---------------------------------------------------------------------------------

def visible_to(caller: Caller) -> ColumnElement[bool]:
    """rules.visible for the ORM: managers see every chat; agents their departments' and those assigned to them."""
    return rules.visible(rules.caller_is(caller))


def in_queues_of(caller: Caller) -> ColumnElement[bool]:
    """rules.in_queues for the ORM: the queues a caller may grab from."""
    return rules.in_queues(rules.caller_is(caller))


def not_found(chat_id: int) -> NotFound:
    # The same answer for "no such chat" and "not yours to see", so IDs cannot be probed.
    return NotFound(f"No chat has ID {chat_id}.", code="chat_not_found", field="ChatID")


async def get_visible_chat(db: AsyncSession, *, caller: Caller, chat_id: int, lock: bool = False) -> Chat:
    """The chat if the caller may see it, else 404. `lock` holds the row until commit (PostgreSQL)."""
    query = select(Chat).where(Chat.id == chat_id, visible_to(caller))
    if lock:
        query = query.with_for_update(of=Chat)
    chat = (await db.execute(query)).scalar_one_or_none()
    if chat is None:
        raise not_found(chat_id)
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

# ---- grabbing and assigning --------------------------------------------------------------------------------

async def _take(db: AsyncSession, *, caller: Caller, chat_id: int, agent_id: int, event_type: str) -> Chat | None:
    """The one conditional UPDATE that settles a race for a queued chat: None if someone else won."""
    now = clock.now()
    conditions = [Chat.id == chat_id, rules.is_queued(), in_queues_of(caller)]
    statement = (update(Chat).where(*conditions).values(agent_id=agent_id, status=ASSIGNED, assigned_at=now)
                 .returning(Chat).execution_options(synchronize_session=False, populate_existing=True))
    chat = (await db.execute(statement)).scalar_one_or_none()
    if chat is not None:
        record_event(db, chat, event_type, actor_agent_id=caller.agent_id, from_status=UNASSIGNED, at=now)
    return chat


async def grab_chat(db: AsyncSession, *, caller: Caller, chat_id: int | None) -> Chat:
    """The named queued chat, or the longest-waiting one of the caller's queues, becomes the caller's.

    GrabChat is served by fastpath.grab_chat_json; this is the reference it is held to (tests/test_hot_parity.py)."""
    if chat_id is not None:
        chat = await _take(db, caller=caller, chat_id=chat_id, agent_id=caller.agent_id, event_type="Grabbed")
        if chat is None:
            await get_visible_chat(db, caller=caller, chat_id=chat_id)
            raise Conflict("The chat is not waiting in a queue: another agent may have taken it.",
                           code="chat_not_unassigned", field="ChatID")
        return chat
    query = select(Chat.id).where(rules.is_queued(), in_queues_of(caller)).order_by(Chat.queued_at, Chat.id)
    for candidate in (await db.execute(query.limit(1))).scalars():
        chat = await _take(db, caller=caller, chat_id=candidate, agent_id=caller.agent_id, event_type="Grabbed")
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

async def check_transfer_to_department(db: AsyncSession, *, caller: Caller, chat_id: int, department_id: int
                                      ) -> tuple[Chat, Department]:
    """The chat (locked) and the department it may be moved to; queues.transfer_to_department moves it."""
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
    return chat, department


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
    if chat.channel == WEBCHAT:
        _tell_visitor_closed(db, chat)
    if from_status == ASSIGNED:
        routing.route_after_commit(db, agent_ids=(chat.agent_id,))


def _tell_visitor_closed(db: AsyncSession, chat: Chat) -> None:
    """The visitor's page shows its closed state at once (a ChatClosed frame, docs/webchat.md), however the chat
    closed; a page that was away learns it from GET /webchat/messages. Straight to the broker's visitor channel
    (as channels.webchat.hub.push_to_visitor), so this module needs nothing of the channel's."""
    broker = db.info.get("broker")
    if broker is None:
        return
    customer_id, frame = chat.customer_id, {"Type": "ChatClosed", "ChatID": chat.id}

    async def push() -> None:
        try:
            await broker.publish_visitor(customer_id, frame)
        except Exception:
            log.warning("could not tell visitor %s their chat closed", customer_id, exc_info=True)

    after_commit(db, push)


# ---- agents' messages --------------------------------------------------------------------------------------

async def send_message(db: AsyncSession, *, caller: Caller, chat_id: int, text: str | None,
                       file: NewFile | None, storage: FileStorage, reply_to_message_id: int | None = None) -> Message:
    """An agent's message (text and/or one file) to the customer, delivered by the channel after commit;
    optionally answering (quoting) a message of the same chat."""
    chat = await get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    check_can_act(caller, chat)
    if not window_open(chat):
        raise window_closed_error()
    if file is not None and chat.channel == WHATSAPP:
        check_whatsapp_file(file)
    payload = await _reply_to(db, chat, reply_to_message_id) if reply_to_message_id is not None else None
    stored, key = None, None
    if file is not None:
        key = await storage.save(file.content, file_name=file.name)
        stored = {"file_name": file.name, "file_type": file.type, "file_size": len(file.content), "file_key": key}
    try:
        return await store_message(db, chat, sender_type=SENDER_AGENT, agent_id=caller.agent_id, text=text,
                                   file=stored, payload=payload)
    except BaseException:
        if key is not None:
            await storage.delete(key)
        raise


def check_whatsapp_file(file: NewFile) -> None:
    """Meta's supported media, before anything is stored or uploaded: a clear 422 for what WhatsApp takes in no
    form (what cannot go as an image, video or audio goes as a document)."""
    try:
        media_kind(file.type, len(file.content), file.content[:512])
    except NotSendable as exc:
        raise Invalid(f"This file cannot be sent on WhatsApp: {exc}", code="file_not_sendable",
                      field="FileContent") from exc


async def _reply_to(db: AsyncSession, chat: Chat, message_id: int) -> dict:
    """The payload that makes a message quote message_id, which must be one of the chat's."""
    found = (await db.execute(select(Message.id, Message.external_id)
                              .where(Message.id == message_id, Message.chat_id == chat.id))).first()
    if found is None:
        raise NotFound(f"Chat {chat.id} has no message {message_id}.", code="message_not_found",
                       field="ReplyToMessageID")
    return {"ReplyTo": {"MessageID": found.id, "ExternalID": found.external_id}}


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
    tag_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_chats(db: AsyncSession, *, caller: Caller, where: ChatFilter, paging: Paging) -> tuple[list[Chat], int]:
    """GetChats' chats, newest first, and the Total counted up to the cap (contract.COUNT_CAP).

    GetChats is served by fastpath.list_chats_json; this is the reference it is held to (tests/test_hot_parity.py)."""
    conditions = [visible_to(caller)]
    if where.statuses:
        conditions.append(Chat.status.in_(where.statuses))
    for column, value in ((Chat.department_id, where.department_id), (Chat.agent_id, where.agent_id),
                          (Chat.customer_id, where.customer_id)):
        if value is not None:
            conditions.append(column == value)
    if where.created_from is not None:
        conditions.append(Chat.created_at >= where.created_from)
    if where.created_to is not None:
        conditions.append(Chat.created_at <= where.created_to)
    page = (select(Chat).where(*conditions).order_by(Chat.created_at.desc(), Chat.id.desc())
            .offset(paging.offset).limit(paging.page_size))
    matching = select(Chat.id).where(*conditions).limit(paging.count_cap).subquery()
    total = (await db.execute(select(func.count()).select_from(matching))).scalar_one()
    return list((await db.execute(page)).scalars()), total
