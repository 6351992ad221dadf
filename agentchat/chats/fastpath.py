"""The hot chat calls on a driver connection (rawdb.RawConnections), without an ORM session.

SendMessage (text), GrabChat and GetChats run as few raw statements as possible (one on PostgreSQL), with the
same checks, history, events and delivery as the ORM code in service.py, and return the contract's JSON
directly. The caller publishes the recorded events and starts the delivery with db.publish_committed(raw).
"""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, false, true

from agentchat import clock, rawdb
from agentchat.channels.outbound import Outgoing
from agentchat.chats import events as chat_events
from agentchat.chats import rules
from agentchat.chats.models import ASSIGNED, PENDING, SENDER_AGENT, STATUSES, UNASSIGNED, Chat
from agentchat.chats.rules import WHATSAPP_WINDOW, check_can_act, window_closed_error
from agentchat.chats.schemas import message_extras
from agentchat.chats.service import ChatFilter, not_found
from agentchat.contract import Conflict, Paging
from agentchat.db import after_commit
from agentchat.events import Event, emit
from agentchat.rawdb import Raw, SqliteInThread
from agentchat.security import SESSION_COLUMNS, Caller, PresentedSession, session_invalid


def _strip(value: str | None) -> str | None:
    return value.strip(rawdb.WHITE_SPACE) if value is not None else None


def message_json(message_id: int, chat_id: int, sender_type: str, agent_id: int | None, text: str | None,
                 file_name: str | None, file_type: str | None, file_size: int | None, file_key: str | None,
                 created_at, delivery_status: str | None, failure_reason: str | None,
                 payload: dict | str | None = None, media_status: str | None = None) -> dict:
    """MessageOut's JSON (by alias) from raw column values (the payload as JSON text on SQLite)."""
    file = None
    if file_key is not None:
        file = {"FileName": _strip(file_name or "file"), "FileType": _strip(file_type or "application/octet-stream"),
                "Size": file_size or 0, "URL": f"/api/GetFile?MessageID={message_id}"}
    return {"MessageID": message_id, "ChatID": chat_id, "SenderType": _strip(sender_type), "AgentID": agent_id,
            "Text": _strip(text), "File": file, "CreatedAt": rawdb.wire_time(created_at),
            "DeliveryStatus": _strip(delivery_status), "FailureReason": _strip(failure_reason),
            **message_extras(json.loads(payload) if isinstance(payload, str) else payload, _strip(media_status))}


# The rules (rules.py) as SQL, compiled once here for each dialect. The caller is the session CTE `s` on PostgreSQL
# (security.PresentedSession) and the parameter $2 on SQLite, whose session is checked before the statements.
_S = rules.session_caller()
_S_AGENT, _S_MANAGER = rules.sql(_S[0], sqlite=False), rules.sql(_S[1], sqlite=False)
_S_SEES = rules.sql(rules.visible(_S), sqlite=False)
_S_QUEUES = rules.sql(rules.in_queues(_S), sqlite=False)
# PostgreSQL's shape for "in the caller's departments" over many rows: the department IDs as one array, read once.
_S_DEPARTMENT_IDS = f"ARRAY{rules.sql(rules.departments_of(_S[0]), sqlite=False)}"
_S_IN_MY_DEPARTMENTS = f"chat.department_id = ANY({_S_DEPARTMENT_IDS})"
_VISIBLE = {(sqlite, manager): rules.sql(rules.visible((rules.column("$2"), true() if manager else false())),
                                         sqlite=sqlite)
            for sqlite in (True, False) for manager in (True, False)}
_AGENT, _PENDING, _GRABBED = (rules.value(v) for v in (SENDER_AGENT, PENDING, "Grabbed"))
_UNASSIGNED_V, _ASSIGNED_V = rules.value(UNASSIGNED), rules.value(ASSIGNED)

# The sender's name rides along: the web chat shows it, and the delivery then needs no read of its own. The
# customer's WhatsApp address is their number, or else their business-scoped user id (BSUID).
_SEND_CHAT_COLUMNS = ("chat.status, chat.agent_id, chat.channel, chat.last_customer_message_at, chat.department_id, "
                      "chat.customer_id, coalesce(customer.phone_number, customer.whatsapp_user_id) AS phone_number")
_SEND_CHAT = {manager: f"SELECT {_SEND_CHAT_COLUMNS}, (SELECT name FROM agent WHERE agent.id = $2) AS agent_name "
                       f"FROM chat JOIN customer ON customer.id = chat.customer_id "
                       f"WHERE chat.id = $1 AND {_VISIBLE[True, manager]}"
              for manager in (True, False)}
_SEND_INSERT = ("INSERT INTO message (chat_id, sender_type, agent_id, text, created_at, delivery_status) "
                f"VALUES ($1, {_AGENT}, $2, $3, $4, {_PENDING}) RETURNING id")
_SEND_TOUCH = "UPDATE chat SET last_message_at = $2 WHERE id = $1"
_C = rules.column
_MAY_WRITE_NOW = rules.sql(and_(rules.may_write(_S, _C("c.status"), _C("c.agent_id")),
                                rules.window_open_sql(_C("$5::timestamp"), _C("c.channel"),
                                                      _C("c.last_customer_message_at"))), sqlite=False)
# PostgreSQL, one trip: check the session (security.PresentedSession), lock the chat if the caller may see it,
# insert only if they may write to it now, touch the chat. $1 chat, $2 token hash, $3 text, $4 now, $5 the
# WhatsApp window's start, $6/$7 the session's extension.
_SEND_PG = (
    f"WITH {PresentedSession.session_cte('$2', '$4::timestamp', '$6::timestamp', '$7::timestamp')}, "
    f"c AS (SELECT chat.id, {_SEND_CHAT_COLUMNS}, (SELECT name FROM agent WHERE agent.id = s.agent_id) AS agent_name "
    f"FROM s, chat JOIN customer ON customer.id = chat.customer_id WHERE chat.id = $1 AND {_S_SEES} "
    f"FOR UPDATE OF chat), "
    f"m AS (INSERT INTO message (chat_id, sender_type, agent_id, text, created_at, delivery_status) "
    f"SELECT c.id, {_AGENT}, s.agent_id, $3::text, $4::timestamp, {_PENDING} FROM c, s WHERE {_MAY_WRITE_NOW} "
    f"RETURNING id), "
    f"u AS (UPDATE chat SET last_message_at = $4::timestamp FROM m WHERE chat.id = $1 RETURNING chat.id) "
    f"SELECT {SESSION_COLUMNS}, c.id AS chat_id, c.status, c.agent_id, "
    f"c.channel, c.last_customer_message_at, c.department_id, c.customer_id, c.phone_number, c.agent_name, "
    f"m.id AS message_id FROM s LEFT JOIN c ON TRUE LEFT JOIN m ON TRUE"
)


def _check_send(caller: Caller, chat_id: int, row, now: datetime) -> None:
    """send_message's refusals (rules.check_can_act, rules.window_open), from the chat's row, in the same order."""
    if row is None:
        raise not_found(chat_id)
    chat = _ChatState(row["status"], row["agent_id"], row["channel"], rawdb.to_time(row["last_customer_message_at"]))
    check_can_act(caller, chat)
    if not rules.window_open(chat, now):
        raise window_closed_error()


@dataclass(slots=True)
class _ChatState:
    """What the rules read of a chat (a Chat costs more to make, and this is made on every SQLite send)."""
    status: str
    agent_id: int | None
    channel: str
    last_customer_message_at: datetime | None


async def send_text_message(raw: Raw, *, session: PresentedSession, chat_id: int, text: str) -> dict:
    """send_message for a text without a file: MessageOut's JSON. Checks the session (in the same statement
    on PostgreSQL); records MessageSent and the delivery."""
    now = clock.now()
    if raw.sqlite:
        def send(db: SqliteInThread) -> tuple:
            caller = session.check_in_thread(db)
            with db.transaction():
                row = db.record(_SEND_CHAT[caller.is_manager], chat_id, caller.agent_id)
                _check_send(caller, chat_id, row, now)
                message_id = db.fetchrow(_SEND_INSERT, chat_id, caller.agent_id, text, now)[0]
                db.execute(_SEND_TOUCH, chat_id, now)
            return caller, row, message_id

        caller, row, message_id = await raw.in_one_hop(send)
    else:
        token, _, extend_to, due = session.session_args(now)
        row = await raw.fetchrow(_SEND_PG, chat_id, token, text, now, now - WHATSAPP_WINDOW, extend_to, due)
        if row is None:
            raise session_invalid()
        caller, message_id = session.caller(row, now), row["message_id"]
        if message_id is None:
            _check_send(caller, chat_id, row if row["chat_id"] is not None else None, now)
            raise AssertionError("a chat the agent may write to was not written")  # pragma: no cover
    department_id, agent_id = row["department_id"], row["agent_id"]
    data = message_json(message_id, chat_id, SENDER_AGENT, caller.agent_id, text, None, None, None, None, now,
                        PENDING, None)
    emit(raw, Event("MessageSent", data, department_ids=(department_id,) if department_id else (),
                    agent_ids=(agent_id,) if agent_id else ()))
    outbound = raw.info.get("outbound")
    if outbound is not None:
        item = Outgoing(message_id=message_id, chat_id=chat_id, channel=row["channel"],
                        customer_id=row["customer_id"], phone_number=row["phone_number"], text=text, file_name=None,
                        file_type=None, file_key=None, payload=None, created_at=now, agent_name=row["agent_name"])
        after_commit(raw, lambda: outbound.deliver_item(item))
    return data


_CHAT_FIELDS = ("id", "customer_id", "channel", "status", "department_id", "agent_id", "created_at", "queued_at",
                "assigned_at", "closed_at", "last_message_at")
_CHAT_COLUMNS = ", ".join(_CHAT_FIELDS)
# message_json's parameters, in order, with the column each is read from.
_MESSAGE_FIELDS = ("message_id", "chat_id", "sender_type", "agent_id", "text", "file_name", "file_type", "file_size",
                   "file_key", "created_at", "delivery_status", "failure_reason", "payload", "media_status")
_MESSAGE_COLUMNS = ", ".join(("id AS message_id", *_MESSAGE_FIELDS[1:]))
# SQLite. The queued chat the caller takes: the named one, or the longest-waiting one of the caller's queues —
# the head of each (their departments' IDs), then the oldest head. The UPDATE re-checks that it is still queued in
# one of them.
_QUEUED_HEAD = rules.sql(rules.is_queued(_C("head.status")), sqlite=True)


def _grab_sqlite(*, named: bool, manager: bool) -> str:
    queues = ("(SELECT id AS department_id FROM department)" if manager
              else rules.sql(rules.departments_of(_C("$1")), sqlite=True))
    target = "$3" if named else (
        f"(SELECT id FROM chat WHERE id IN (SELECT (SELECT head.id FROM chat AS head WHERE {_QUEUED_HEAD} "
        f"AND head.department_id = queue.department_id ORDER BY head.queued_at, head.id LIMIT 1) "
        f"FROM {queues} AS queue) ORDER BY queued_at, id LIMIT 1)")
    mine = rules.sql(and_(rules.is_queued(), rules.in_queues((_C("$1"), true() if manager else false()))),
                     sqlite=True)
    return (f"UPDATE chat SET agent_id = $1, status = {_ASSIGNED_V}, assigned_at = $2 WHERE id = {target} "
            f"AND {mine} RETURNING {_CHAT_COLUMNS}")


_GRAB_SQLITE = {(named, manager): _grab_sqlite(named=named, manager=manager)
                for named in (True, False) for manager in (True, False)}
_GRAB_EVENT = ("INSERT INTO chat_event (chat_id, type, at, actor_agent_id, department_id, agent_id, from_status, "
               f"to_status) VALUES ($1, {_GRABBED}, $2, $3, $4, $3, {_UNASSIGNED_V}, {_ASSIGNED_V})")
# PostgreSQL. The longest-waiting chat of the caller's queues: the head of each queue (ix_chat_queue; skipping
# heads another grabber holds right now), then the oldest of those heads. One walk of all queued chats in queue
# order read the whole queue when the caller's departments had none left (6-12 ms with 27,000 queued).
_S_QUEUE_IDS = (f"(SELECT id AS department_id FROM department WHERE {_S_MANAGER} UNION ALL "
                f"{rules.sql(rules.departments_of(_S[0]), sqlite=False)[1:-1]} AND NOT {_S_MANAGER})")
_GRAB_PG_NEXT = (f"(SELECT head.id FROM {_S_QUEUE_IDS} AS queue CROSS JOIN LATERAL (SELECT chat.id, chat.queued_at "
                 f"FROM chat WHERE {rules.sql(rules.is_queued(), sqlite=False)} "
                 "AND chat.department_id = queue.department_id "
                 "ORDER BY chat.queued_at, chat.id LIMIT 1 FOR UPDATE OF chat SKIP LOCKED) AS head "
                 "ORDER BY head.queued_at, head.id LIMIT 1)")
_SQLITE_STYLE_TIME = "to_char(created_at, 'YYYY-MM-DD HH24:MI:SS')"
_QUEUED_AND_MINE = rules.sql(and_(rules.is_queued(), rules.in_queues(_S)), sqlite=False)


def _grab_pg(target: str) -> str:
    """One trip: check the session (security.PresentedSession), take the chat if it is still queued in one of the
    caller's departments, write its history, and read its tags and messages (the messages as JSON arrays of
    _MESSAGE_FIELDS, the time as SQLite's text so that wire_time formats both alike).
    $1 token hash, $2 now, $3/$4 the session's extension, $5 the named chat."""
    message_columns = _MESSAGE_COLUMNS.replace("id AS message_id", "id").replace("created_at", _SQLITE_STYLE_TIME)
    return (
        f"WITH {PresentedSession.session_cte('$1', '$2::timestamp', '$3::timestamp', '$4::timestamp')}, "
        f"u AS (UPDATE chat SET agent_id = s.agent_id, status = {_ASSIGNED_V}, assigned_at = $2::timestamp FROM s "
        f"WHERE chat.id = {target} AND {_QUEUED_AND_MINE} "
        f"RETURNING {', '.join('chat.' + c for c in _CHAT_FIELDS)}), "
        "e AS (INSERT INTO chat_event (chat_id, type, at, actor_agent_id, department_id, agent_id, from_status, "
        f"to_status) SELECT u.id, {_GRABBED}, $2::timestamp, s.agent_id, u.department_id, s.agent_id, "
        f"{_UNASSIGNED_V}, {_ASSIGNED_V} FROM u, s) "
        f"SELECT {SESSION_COLUMNS}, "
        f"{', '.join('u.' + c for c in _CHAT_FIELDS)}, "
        "ARRAY(SELECT tag_id FROM chat_tag WHERE chat_id = u.id ORDER BY tag_id) AS tag_ids, "
        f"(SELECT coalesce(json_agg(json_build_array({message_columns}) ORDER BY id), "
        "'[]')::text FROM message WHERE chat_id = u.id) AS messages "
        "FROM s LEFT JOIN u ON TRUE")


_GRAB_PG = {True: _grab_pg("$5"), False: _grab_pg(_GRAB_PG_NEXT)}
_CHAT_TAGS = "SELECT tag_id FROM chat_tag WHERE chat_id = $1 ORDER BY tag_id"
_CHAT_MESSAGES = f"SELECT {_MESSAGE_COLUMNS} FROM message WHERE chat_id = $1 ORDER BY id"


def chat_json(row, tag_ids: list[int]) -> dict:
    """ChatOut's JSON from a row with _CHAT_FIELDS' columns."""
    return {"ChatID": row["id"], "CustomerID": row["customer_id"], "Channel": _strip(row["channel"]),
            "Status": _strip(row["status"]), "DepartmentID": row["department_id"], "AgentID": row["agent_id"],
            "TagIDs": tag_ids, "CreatedAt": rawdb.wire_time(row["created_at"]),
            "QueuedAt": rawdb.wire_time(row["queued_at"]), "AssignedAt": rawdb.wire_time(row["assigned_at"]),
            "ClosedAt": rawdb.wire_time(row["closed_at"]), "LastMessageAt": rawdb.wire_time(row["last_message_at"])}


def _chat_of(row) -> Chat:
    """A detached Chat for the event helpers (not added to the session)."""
    return Chat(**{field: row[field] for field in _CHAT_FIELDS[:6]},
                **{field: rawdb.to_time(row[field]) for field in _CHAT_FIELDS[6:]})


async def grab_chat_json(raw: Raw, *, session: PresentedSession, chat_id: int | None) -> dict:
    """grab_chat with ChatWithMessages' JSON as the answer. PostgreSQL: one statement checks the session, takes
    the chat, writes its history and reads its tags and messages. Records ChatGrabbed."""
    now = clock.now()
    named = chat_id is not None
    if raw.sqlite:
        def grab(db: SqliteInThread) -> tuple:
            caller = session.check_in_thread(db)
            args = (caller.agent_id, now) + ((chat_id,) if named else ())
            with db.transaction():
                row = db.record(_GRAB_SQLITE[named, caller.is_manager], *args)
                if row is None:
                    return caller, None, None, None
                db.execute(_GRAB_EVENT, row["id"], now, caller.agent_id, row["department_id"])
                tag_ids = [tag for (tag,) in db.fetch(_CHAT_TAGS, row["id"])]
                return caller, row, tag_ids, [dict(m) for m in db.records(_CHAT_MESSAGES, row["id"])]

        caller, row, tag_ids, messages = await raw.in_one_hop(grab)
    else:
        token, _, extend_to, due = session.session_args(now)
        found = await raw.fetchrow(_GRAB_PG[named], token, now, extend_to, due, *((chat_id,) if named else ()))
        if found is None:
            raise session_invalid()
        caller = session.caller(found, now)
        row = found if found["id"] is not None else None
        if row is not None:
            tag_ids = list(found["tag_ids"])
            messages = [dict(zip(_MESSAGE_FIELDS, m, strict=True)) for m in json.loads(found["messages"])]
    if row is None:
        if chat_id is not None:  # named
            await check_visible(raw, caller=caller, chat_id=chat_id)
            raise Conflict("The chat is not waiting in a queue: another agent may have taken it.",
                           code="chat_not_unassigned", field="ChatID")
        raise Conflict("No chat is waiting in your departments' queues.", code="no_unassigned_chats")
    chat_events.chat_changed(raw, _chat_of(row), "Grabbed", actor_agent_id=caller.agent_id, from_status=UNASSIGNED)
    return {**chat_json(row, tag_ids), "Messages": [message_json(**m) for m in messages]}


async def check_visible(raw: Raw, *, caller: Caller, chat_id: int) -> None:
    """service.get_visible_chat's 404, without loading the chat."""
    args = (chat_id,) if caller.is_manager else (chat_id, caller.agent_id)
    visible = _VISIBLE[raw.sqlite, caller.is_manager]
    if await raw.fetchrow(f"SELECT 1 FROM chat WHERE chat.id = $1 AND {visible}", *args) is None:
        raise not_found(chat_id)


# LastMessage's Text: the start of the message, enough for a row of an inbox.
SNIPPET_CHARS = 200
# What LastMessage shows: the conversation itself. The bot's menu and queue-position notices and the system's
# closing message say nothing about what the customer wants or whether they wait for an answer.
LAST_MESSAGE_SENDERS = ("Customer", "Agent")


def _last_message_sql(sqlite: bool) -> str:
    """GetChats' LastMessage for a row `p`: the newest customer or agent message, read backwards along
    ix_message_chat_id_id (one index probe per chat of the page), as a JSON object or NULL. On PostgreSQL a record,
    which json_agg writes as an object by its column names (cheaper than json_build_object for each row)."""
    fields = [("Sender", "m.sender_type"), ("AgentID", "m.agent_id"),
              ("Text", f"substr(m.text, 1, {SNIPPET_CHARS:d})"),
              ("FileType", "CASE WHEN m.file_key IS NOT NULL THEN "
                           "coalesce(m.file_type, 'application/octet-stream') END"),
              ("CreatedAt", rawdb.time_sql("m.created_at", sqlite))]
    senders = ", ".join(rules.value(sender) for sender in LAST_MESSAGE_SENDERS)
    newest = (f"FROM message AS m WHERE m.chat_id = p.id AND m.sender_type IN ({senders}) "
              "ORDER BY m.id DESC LIMIT 1")
    if sqlite:
        return f"json((SELECT {rawdb.json_object_sql(fields, sqlite)} {newest}))"
    return f"(SELECT x FROM ({rawdb.record_sql(fields)} {newest}) AS x)"


def _chat_fields_sql(sqlite: bool) -> list[tuple[str, str]]:
    """GetChats' items (ChatOut's fields by alias, the customer's name and number, the last message) for a row `p`
    of the chat table, as SQL expressions: scalar subqueries, each an index probe, in the page's one statement."""
    tag_ids = "SELECT tag_id FROM chat_tag WHERE chat_id = p.id ORDER BY tag_id"
    tags = f"json((SELECT json_group_array(tag_id) FROM ({tag_ids})))" if sqlite else f"ARRAY({tag_ids})"
    customer = "FROM customer WHERE customer.id = p.customer_id"
    return [("ChatID", "p.id"), ("CustomerID", "p.customer_id"), ("Channel", "p.channel"), ("Status", "p.status"),
            ("DepartmentID", "p.department_id"), ("AgentID", "p.agent_id"), ("TagIDs", tags),
            *((name, rawdb.time_sql(f"p.{column}", sqlite)) for name, column in (
                ("CreatedAt", "created_at"), ("QueuedAt", "queued_at"), ("AssignedAt", "assigned_at"),
                ("ClosedAt", "closed_at"), ("LastMessageAt", "last_message_at"))),
            ("CustomerName", f"(SELECT name {customer})"),
            ("CustomerPhoneNumber", f"(SELECT phone_number {customer})"),
            ("LastMessage", _last_message_sql(sqlite))]


# ChatOut's JSON object for a row `p`: built by SQLite; on PostgreSQL a record `r` with the fields as its columns
# (json_agg(r) cost less than json_build_object for each of 50 rows).
_CHAT_OBJECT_SQLITE = rawdb.json_object_sql(_chat_fields_sql(True), sqlite=True)
_CHAT_RECORD_PG = f"CROSS JOIN LATERAL ({rawdb.record_sql(_chat_fields_sql(False))}) AS r"


async def list_chats_json(raw: Raw, *, session: PresentedSession, where: ChatFilter, paging: Paging) -> str:
    """GetChats' Page[ChatOut] as JSON text, newest first, with the session check: one statement on PostgreSQL,
    one hop on SQLite. The database writes the page's JSON (decoding 50 rows and encoding them again was most
    of the call's CPU). Total is capped (contract.COUNT_CAP): counting an agent's closed chats was most of the
    statement's time once months of them had piled up."""
    if raw.sqlite:
        items, total = await raw.in_one_hop(lambda db: _list_chats_sqlite(db, session, where, paging))
    else:
        items, total = await _list_chats_pg(raw, session, where, paging)
    total = min(total, paging.count_cap)  # an agent's chats are counted in two parts, each up to the cap
    return paging.page_json(items, total)


_NEWEST_FIRST = "created_at DESC, id DESC"
# SQLite's SQLITE_MAX_COMPOUND_SELECT (its default): at most this many SELECTs joined by UNION in one statement.
_SQLITE_MAX_COMPOUND_SELECT = 500


def _list_chats_sqlite(db: SqliteInThread, session: PresentedSession, where: ChatFilter, paging: Paging) -> tuple:
    caller = session.check_in_thread(db)
    args: list = []
    condition = _filter_sql(where, args)
    matching = f"SELECT id FROM chat WHERE {condition}"
    page = f"SELECT id, created_at FROM chat WHERE {condition}"
    if not caller.is_manager:
        # An agent's chats: those of their departments and those assigned to them, as a union of index ranges
        # (a department's or the agent's chats of one status), each read newest first only as deep as the page;
        # with OR, SQLite walked ix_chat_created_at through everyone's chats. Counted as a union too.
        agent = rawdb.parameter(args, caller.agent_id)
        mine = f"chat.department_id IN (SELECT department_id FROM agent_department WHERE agent_id = {agent})"
        matching = (f"SELECT * FROM (SELECT id FROM chat WHERE {mine} AND {condition} LIMIT {paging.count_cap:d}) "
                    f"UNION SELECT * FROM (SELECT id FROM chat WHERE chat.agent_id = {agent} AND {condition} "
                    f"LIMIT {paging.count_cap:d})")
        departments = db.fetch("SELECT department_id FROM agent_department WHERE agent_id = ?1", caller.agent_id)
        if (len(departments) + 1) * len(_statuses(where.statuses)) > _SQLITE_MAX_COMPOUND_SELECT:
            # More ranges than SQLite takes in one compound SELECT ("too many terms"): an agent of over a hundred
            # departments, who sees most chats anyway, gets one newest-first walk as a manager does.
            page = f"SELECT id, created_at FROM chat WHERE ({mine} OR chat.agent_id = {agent}) AND {condition}"
        else:
            ranges = [("chat.department_id", rawdb.parameter(args, department_id)) for (department_id,) in departments]
            deepest = paging.offset + paging.page_size
            page = " UNION ".join(
                f"SELECT * FROM (SELECT id, created_at FROM chat WHERE {column} = {value} AND chat.status = "
                f"{_STATUS_SQL[status]} AND {condition} ORDER BY {column} DESC, chat.status DESC, {_NEWEST_FIRST} "
                f"LIMIT {deepest:d})"
                for column, value in [*ranges, ("chat.agent_id", agent)] for status in _statuses(where.statuses))
    page = (f"SELECT p.* FROM (SELECT * FROM ({page}) ORDER BY {_NEWEST_FIRST} LIMIT {paging.page_size:d} "
            f"OFFSET {paging.offset:d}) AS k JOIN chat AS p ON p.id = k.id ORDER BY p.created_at DESC, p.id DESC")
    items = f"coalesce(json_group_array({_CHAT_OBJECT_SQLITE}), '[]')"  # in the page's order
    count = f"SELECT count(*) FROM ({matching} LIMIT {paging.count_cap:d})"
    if not caller.is_manager:
        # As on PostgreSQL: the union only if their departments' chats are fewer than the cap (~10 % of the
        # statement for an agent with a full history).
        cap = paging.count_cap
        in_theirs = f"SELECT count(*) AS n FROM (SELECT id FROM chat WHERE {mine} AND {condition} LIMIT {cap:d})"
        count = f"SELECT CASE WHEN d.n >= {cap:d} THEN d.n ELSE ({count}) END FROM ({in_theirs}) AS d"
    found = db.record_of_aggregate(f"SELECT {items} AS items, ({count}) AS total FROM ({page}) AS p", *args)
    return found["items"], found["total"]


async def _list_chats_pg(raw: Raw, session: PresentedSession, where: ChatFilter, paging: Paging) -> tuple:
    now = clock.now()
    args: list = []
    session_cte = session.cte(args, now)
    condition = _filter_sql(where, args)
    # Written into the statement, not a parameter: from a fixed set (ChatFilter's), and a parameter's unknown
    # length made PostgreSQL plan every call afresh (0.45 ms) rather than reuse its plan.
    statuses = _status_array(where.statuses)
    newest, deepest = f"ORDER BY {_NEWEST_FIRST}", f"LIMIT {paging.offset + paging.page_size:d}"
    cap = f"LIMIT {paging.count_cap:d}"
    # The role is known only inside the statement: a branch per role, each gated by it (PostgreSQL runs only the
    # one whose gate holds), so that each is planned with its own indexes.
    manager = f"{_S_MANAGER} AND {condition}"
    # An agent's chats are their departments' and those assigned to them: a union of index ranges, each read
    # newest first and only as deep as the page, where one ORDER BY over everything they see read every chat of
    # theirs newer than the page's end. Only (id, created_at) are read, from the index alone: to fetch whole rows
    # PostgreSQL preferred walking ix_chat_created_at through everyone's chats. The page's rows are read last.
    def newest_of_each(ranges: str, match: str) -> str:
        return (f"SELECT c.* FROM {ranges} CROSS JOIN unnest({statuses}) AS st(status) CROSS JOIN LATERAL "
                f"(SELECT chat.id, chat.created_at FROM chat WHERE {match} AND chat.status = st.status "
                f"AND {condition} {newest} {deepest}) AS c WHERE NOT {_S_MANAGER}")

    departments = newest_of_each(f"unnest({_S_DEPARTMENT_IDS}) AS d(id)", "chat.department_id = d.id")
    assigned = newest_of_each("(SELECT) AS one", f"chat.agent_id = {_S_AGENT}")
    managers = f"SELECT id, created_at FROM chat WHERE {manager} {newest} {deepest}"
    page = (f"SELECT * FROM (({managers}) UNION ALL ({departments} UNION {assigned})) AS k {newest} "
            f"LIMIT {paging.page_size:d} OFFSET {paging.offset:d}")
    items = (f"SELECT coalesce(json_agg(r ORDER BY p.created_at DESC, p.id DESC), '[]')::text "
             f"FROM ({page}) AS k JOIN chat AS p ON p.id = k.id {_CHAT_RECORD_PG}")
    # Counted up to the cap: a manager's matches; an agent's departments' chats, and only if those are fewer than
    # the cap, the union of those and the agent's own (each part up to the cap).
    theirs = f"NOT {_S_MANAGER} AND {condition}"
    departments_count = f"SELECT count(*) FROM (SELECT FROM chat WHERE {theirs} AND {_S_IN_MY_DEPARTMENTS} {cap}) AS c"
    union_count = (f"SELECT count(*) FROM ((SELECT id FROM chat WHERE {theirs} AND {_S_IN_MY_DEPARTMENTS} {cap}) "
                   f"UNION (SELECT id FROM chat WHERE {theirs} AND chat.agent_id = {_S_AGENT} {cap})) AS c")
    total = (f"(SELECT count(*) FROM (SELECT FROM chat WHERE {manager} {cap}) AS c) + (SELECT CASE WHEN d.n >= "
             f"{paging.count_cap:d} THEN d.n ELSE ({union_count}) END FROM ({departments_count}) AS d(n))")
    found = await raw.fetchrow(
        f"WITH {session_cte} SELECT {SESSION_COLUMNS}, ({items}) AS items, {total} AS total "
        "FROM s", *args)
    if found is None:
        raise session_invalid()
    session.caller(found, now)
    return found["items"], found["total"]


# The statuses as SQL literals, written once (a status written into a statement is one of these).
_STATUS_SQL = {status: rules.value(status) for status in STATUSES}


def _statuses(statuses: list[str]) -> list[str]:
    """The statuses asked for (all when none), checked, as they may be written into SQL."""
    if not set(statuses) <= set(STATUSES):
        raise ValueError(f"not chat statuses: {statuses}")
    return list(statuses or STATUSES)


def _status_array(statuses: list[str]) -> str:
    """A literal array of the statuses asked for, for SQL."""
    return "ARRAY[" + ", ".join(_STATUS_SQL[status] for status in _statuses(statuses)) + "]"




def _filter_sql(where: ChatFilter, args: list) -> str:
    """GetChats' filters as SQL on the chat table, their values appended to `args`."""
    conditions = []
    if where.statuses:
        conditions.append(f"chat.status IN ({', '.join(rawdb.parameter(args, s) for s in where.statuses)})")
    for column, op, value in (("department_id", "=", where.department_id), ("agent_id", "=", where.agent_id),
                              ("customer_id", "=", where.customer_id), ("created_at", ">=", where.created_from),
                              ("created_at", "<=", where.created_to)):
        if value is not None:
            conditions.append(f"chat.{column} {op} {rawdb.parameter(args, value)}")
    if where.tag_id is not None:  # a probe of chat_tag's key per chat read
        conditions.append(f"EXISTS (SELECT 1 FROM chat_tag WHERE chat_tag.chat_id = chat.id "
                          f"AND chat_tag.tag_id = {rawdb.parameter(args, where.tag_id)})")
    return " AND ".join(conditions) or "TRUE"
