"""Search everything: messages by their words (PostgreSQL full-text search, SQLite FTS5), with the matching
snippet marked, filtered like GetChats and seen under GetChats' rule (chats.visible_to); customers by name, number
or address (SearchCustomer's search). docs/search.md.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnClause, column, exists, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.chats import service as chats
from agentchat.chats.models import Chat, ChatTag, Message
from agentchat.contract import Invalid, Paging, format_time
from agentchat.customers import service as customers
from agentchat.customers.models import Customer
from agentchat.security import Caller

# What marks a match in a snippet, on both databases; split into parts before it leaves (no markup to escape).
START, STOP = "\u27e6", "\u27e7"
_FTS = table("message_fts", column("rowid"))
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchFilter:
    words: str
    at_from: datetime | None = None
    at_to: datetime | None = None
    department_id: int | None = None
    agent_id: int | None = None
    tag_id: int | None = None
    statuses: list[str] = field(default_factory=list)


def _language(language: str) -> str:
    if not re.fullmatch(r"[a-z_]{1,32}", language):
        raise ValueError("bad text search configuration")
    return f"'{language}'::regconfig"


def _match_postgres(words: str, language: str):
    """The GIN index's own expression (0015_search.py), so that the planner uses it."""
    config: ColumnClause[str] = literal_column(_language(language))
    vector = func.to_tsvector(config, func.coalesce(Message.text, literal_column("''")))
    query = func.websearch_to_tsquery(config, words)
    options = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15"
    return vector.op("@@")(query), func.ts_headline(config, Message.text, query, options)


def fts5_query(words: str) -> str:
    """The words as FTS5 phrases, all required: nothing the user types is FTS5 syntax."""
    tokens = _WORDS.findall(words)
    if not tokens:
        raise Invalid("Search must hold at least one word.", code="invalid_field", field="Search")
    return " ".join(f'"{token}"' for token in tokens[:20])


def _match_sqlite(words: str):
    fts: ColumnClause[str] = literal_column("message_fts")
    snippet = func.snippet(fts, 0, START, STOP, " … ", 16)
    return fts.op("MATCH")(fts5_query(words)), snippet


def _filters(where: SearchFilter) -> list:
    conditions = []
    if where.at_from is not None:
        conditions.append(Message.created_at >= where.at_from)
    if where.at_to is not None:
        conditions.append(Message.created_at <= where.at_to)
    if where.department_id is not None:
        conditions.append(Chat.department_id == where.department_id)
    if where.agent_id is not None:
        conditions.append(Chat.agent_id == where.agent_id)
    if where.statuses:
        conditions.append(Chat.status.in_(where.statuses))
    if where.tag_id is not None:
        conditions.append(exists().where(ChatTag.chat_id == Chat.id, ChatTag.tag_id == where.tag_id))
    return conditions


def split_snippet(snippet: str | None) -> list[dict]:
    """"a ⟦b⟧ c" -> [{Text: "a ", Match: false}, {Text: "b", Match: true}, {Text: " c", Match: false}]."""
    parts = []
    for piece in re.split(f"({START}[^{STOP}]*{STOP})", snippet or ""):
        if piece.startswith(START) and piece.endswith(STOP):
            parts.append({"Text": piece[1:-1], "Match": True})
        elif piece:
            parts.append({"Text": piece, "Match": False})
    return parts


async def search_messages(db: AsyncSession, *, caller: Caller, where: SearchFilter, paging: Paging,
                          language: str) -> tuple[list[dict], int]:
    """Messages (notes included: only agents search) whose words match, newest first, each with its chat."""
    postgres = db.get_bind().dialect.name == "postgresql"
    match, snippet = _match_postgres(where.words, language) if postgres else _match_sqlite(where.words)
    base = (select(Message.id).join(Chat, Chat.id == Message.chat_id)
            .where(match, chats.visible_to(caller), *_filters(where)))
    if not postgres:
        base = base.join(_FTS, _FTS.c.rowid == Message.id)
    page_ids = (base.order_by(Message.id.desc()).offset(paging.offset).limit(paging.page_size)).subquery()
    query = (select(Message.id, Message.chat_id, Message.sender_type, Message.agent_id, Message.created_at, snippet,
                    Chat.customer_id, Chat.status, Chat.department_id, Chat.agent_id, Chat.channel, Customer.name)
             .join(Chat, Chat.id == Message.chat_id).join(Customer, Customer.id == Chat.customer_id)
             .where(Message.id.in_(select(page_ids.c.id)), match).order_by(Message.id.desc()))
    if not postgres:
        query = query.join(_FTS, _FTS.c.rowid == Message.id)
    rows = (await db.execute(query)).all()
    if 0 < len(rows) < paging.page_size or (paging.offset == 0 and not rows):
        total = paging.offset + len(rows)
    else:
        counted = base.limit(paging.count_cap).subquery()
        total = (await db.execute(select(func.count()).select_from(counted))).scalar_one()
    return [_hit(row) for row in rows], total


def _hit(row) -> dict:
    (message_id, chat_id, sender_type, agent_id, created_at, snippet, customer_id, status, department_id,
     chat_agent_id, channel, customer_name) = row
    return {"MessageID": message_id, "ChatID": chat_id, "SenderType": sender_type, "AgentID": agent_id,
            "CreatedAt": format_time(created_at), "Snippet": split_snippet(snippet),
            "Chat": {"ChatID": chat_id, "CustomerID": customer_id, "CustomerName": customer_name, "Status": status,
                     "DepartmentID": department_id, "AgentID": chat_agent_id, "Channel": channel}}


async def search_customers(db: AsyncSession, *, words: str, limit: int = 10) -> list[dict]:
    """SearchCustomer's search (name, number, address, username), its first few."""
    views, _total = await customers.search_customers(db, search=words[:100], paging=Paging(page=1, page_size=limit))
    return [{"CustomerID": v.customer.id, "Name": v.customer.name, "PhoneNumber": v.customer.phone_number,
             "EmailAddress": v.customer.email_address} for v in views]
