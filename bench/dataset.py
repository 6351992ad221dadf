"""A realistic data set, written in bulk: COPY through asyncpg on PostgreSQL, executemany on SQLite.

Default shape (the issue's): 20 departments, 200 agents (10 a department), 100k customers with one chat
each, 10 messages a chat (1M). Chats: 30 % Unassigned (GrabChat has a queue to contend for), 10 % Assigned
(50 per agent, SendMessage targets), the rest Closed; a third of the Assigned and Closed chats carry one or two
of 10 tags. Rows are filled column by column from the ORM's metadata, so columns added later with a scalar
default are filled too.
"""

import hashlib
import random
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import agentchat.models  # noqa: F401 (registers every table)
from agentchat.db import Base

ROLE_AGENT, ROLE_MANAGER, STATUS_ONLINE = 1, 2, 2


@dataclass
class Shape:
    departments: int = 20
    agents_per_department: int = 10
    chats: int = 100_000
    messages_per_chat: int = 10
    managers: int = 5
    manager_sessions: int = 200  # per manager: 5 x 200 = the 1,000 fan-out sockets
    tags: int = 10


@dataclass
class Seeded:
    agent_tokens: list[tuple[int, str, int]] = field(default_factory=list)  # (agent_id, token, department_id)
    manager_tokens: list[str] = field(default_factory=list)  # every manager session (fan-out sockets)
    assigned: dict[int, list[int]] = field(default_factory=dict)  # agent_id -> assigned chat ids
    names: list[str] = field(default_factory=list)


FIRST = ["Thandi", "Sipho", "Anele", "Pieter", "Lerato", "Johan", "Naledi", "Kagiso", "Ayesha", "Ruan", "Zanele",
         "Mpho", "Chloe", "Themba", "Priya", "Bongani"]
LAST = ["Nkosi", "Dlamini", "van der Merwe", "Naidoo", "Botha", "Mokoena", "Khumalo", "Pillay", "Smith", "Zulu"]


_SCALAR, _CALLABLE, _NONE = 0, 1, 2
_PLANS: dict[str, list[tuple[str, int, object]]] = {}


def _plan(table) -> list[tuple[str, int, object]]:
    """Each column's name and where its value comes from when a row does not give it, worked out once per table
    (working it out per row was three quarters of a million-message build)."""
    plan = _PLANS.get(table.name)
    if plan is None:
        plan = []
        for column in table.columns:
            default = column.default
            if default is not None and getattr(default, "is_scalar", False):
                plan.append((column.name, _SCALAR, default.arg))
            elif default is not None and default.is_callable and not column.nullable:
                plan.append((column.name, _CALLABLE, default.arg))
            else:
                plan.append((column.name, _NONE, None))
        _PLANS[table.name] = plan
    return plan


def _call(value):
    try:
        return value(None)
    except TypeError:
        return value()


def _row(table, values: dict) -> tuple:
    return tuple(values[name] if name in values else default if kind == _SCALAR else
                 _call(default) if kind == _CALLABLE else None for name, kind, default in _plan(table))


def build_rows(shape: Shape, password_hash: str) -> tuple[dict[str, list[tuple]], Seeded]:
    tables = Base.metadata.tables
    rng = random.Random(8)
    now = datetime.utcnow().replace(microsecond=0)
    rows: dict[str, list[tuple]] = {name: [] for name in ORDER}
    seeded = Seeded()
    for d in range(1, shape.departments + 1):
        rows["department"].append(_row(tables["department"], dict(
            id=d, name=f"Department {d}", include_in_welcome_menu=True, menu_option=d, enabled=True,
            created_at=now)))
    agent_id = 0
    agents_by_department: dict[int, list[int]] = {}
    session_id = 0
    for d in range(1, shape.departments + 1):
        for _ in range(shape.agents_per_department):
            agent_id += 1
            agents_by_department.setdefault(d, []).append(agent_id)
            rows["agent"].append(_row(tables["agent"], dict(
                id=agent_id, name=f"Agent {agent_id}", email_address=f"agent{agent_id}@bench.test",
                role_id=ROLE_AGENT, status_id=STATUS_ONLINE, notifications="[]", enabled=True,
                password_hash=password_hash, created_at=now)))
            rows["agent_department"].append(_row(tables["agent_department"], dict(agent_id=agent_id,
                                                                                  department_id=d)))
            token = secrets.token_hex(16)
            session_id += 1
            rows["agent_session"].append(_row(tables["agent_session"], dict(
                id=session_id, agent_id=agent_id, token_hash=hashlib.sha256(token.encode()).digest(),
                created_at=now, expires_at=now + timedelta(days=2))))
            seeded.agent_tokens.append((agent_id, token, d))
    for _ in range(shape.managers):
        agent_id += 1
        rows["agent"].append(_row(tables["agent"], dict(
            id=agent_id, name=f"Manager {agent_id}", email_address=f"manager{agent_id}@bench.test",
            role_id=ROLE_MANAGER, status_id=STATUS_ONLINE, notifications="[]", enabled=True,
            password_hash=password_hash, created_at=now)))
        for _ in range(shape.manager_sessions):
            token = secrets.token_hex(16)
            session_id += 1
            rows["agent_session"].append(_row(tables["agent_session"], dict(
                id=session_id, agent_id=agent_id, token_hash=hashlib.sha256(token.encode()).digest(),
                created_at=now, expires_at=now + timedelta(days=2))))
            seeded.manager_tokens.append(token)
    for g, group in enumerate(("Topic", "Outcome"), start=1):
        rows["tag_group"].append(_row(tables["tag_group"], dict(id=g, name=group, enabled=True)))
    for t in range(1, shape.tags + 1):
        rows["tag"].append(_row(tables["tag"], dict(id=t, tag_group_id=1 + t % 2, name=f"Tag {t}", enabled=True)))
    message_id = 0
    for c in range(1, shape.chats + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        seeded.names.append(name)
        created = now - timedelta(minutes=shape.chats - c)
        rows["customer"].append(_row(tables["customer"], dict(
            id=c, name=name, phone_number=f"2782{c:07d}", email_address=f"customer{c}@mail.test", created_at=created)))
        department = 1 + (c // 10) % shape.departments
        kind = c % 10
        values = dict(id=c, customer_id=c, channel="WebChat", department_id=department, created_at=created,
                      queued_at=created, last_message_at=created, last_customer_message_at=created)
        if kind < 3:
            values.update(status="Unassigned")
        elif kind == 3:
            agent = agents_by_department[department][(c // (10 * shape.departments)) % shape.agents_per_department]
            values.update(status="Assigned", agent_id=agent, assigned_at=created)
            seeded.assigned.setdefault(agent, []).append(c)
        else:
            agent = agents_by_department[department][(c // (10 * shape.departments)) % shape.agents_per_department]
            values.update(status="Closed", agent_id=agent, assigned_at=created, closed_at=created)
        rows["chat"].append(_row(tables["chat"], values))
        if kind >= 3 and c % 3 == 0:  # a third of the handled chats carry one or two tags (GetChats' TagIDs)
            for tag in sorted({1 + c % shape.tags, 1 + (c // 7) % shape.tags}):
                rows["chat_tag"].append(_row(tables["chat_tag"], dict(chat_id=c, tag_id=tag, added_at=created,
                                                                      agent_id=values["agent_id"])))
        for m in range(shape.messages_per_chat):
            message_id += 1
            customer_side = m % 2 == 0
            rows["message"].append(_row(tables["message"], dict(
                id=message_id, chat_id=c, sender_type="Customer" if customer_side else "Agent",
                text=f"message {m} of chat {c}: " + ("please help with my order" if customer_side else "sure"),
                created_at=created + timedelta(seconds=m),
                delivery_status=None if customer_side else "Delivered")))
    return rows, seeded


ORDER = ["department", "agent", "agent_department", "agent_session", "customer", "chat", "message", "tag_group",
         "tag", "chat_tag"]
SEQUENCES = ["department", "agent", "agent_session", "customer", "chat", "message", "tag_group", "tag"]


async def load_postgres(dsn: str, rows: dict[str, list[tuple]]) -> None:
    import asyncpg

    tables = Base.metadata.tables
    connection = await asyncpg.connect(dsn)
    try:
        for name in ORDER:
            columns = [c.name for c in tables[name].columns]
            json_columns = {c.name for c in tables[name].columns if c.type.__class__.__name__ == "JSON"}
            records = rows[name]
            if json_columns:
                # COPY sends JSON as text: already-serialized strings pass as they are.
                records = [tuple(v if c not in json_columns or isinstance(v, str) or v is None else str(v)
                                 for c, v in zip(columns, r, strict=True)) for r in records]
            await connection.copy_records_to_table(name, records=records, columns=columns)
        for name in SEQUENCES:
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {name}))")
        # VACUUM as well: on a live database autovacuum has set the visibility map long ago, which lets counts
        # answer from an index alone; right after COPY nothing is marked visible yet.
        await connection.execute("VACUUM ANALYZE")
        # And CHECKPOINT: the load's WAL (~0.5 GB) otherwise set off a checkpoint that ran through the measured
        # calls (174 s, spread by checkpoint_completion_target), its writes and full-page images on their commits.
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


def load_sqlite(path: str, rows: dict[str, list[tuple]]) -> None:
    tables = Base.metadata.tables
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        for name in ORDER:
            columns = [c.name for c in tables[name].columns]
            marks = ", ".join("?" * len(columns))
            records = [tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in r) for r in rows[name]]
            connection.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", records)
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()
