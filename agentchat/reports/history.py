"""What the dashboard and the reports read: chats with their histories, and agents' Online time.

A period can hold hundreds of thousands of chats, so they are streamed rather than loaded. Each of a report's
few queries (the chats; their events; their messages; their tags) is run ONCE on the session's driver
connection (agentchat/rawdb.py) as a cursor ordered by chat ID, and the streams are walked side by side, one
batch of chats at a time: memory holds one batch, the database plans and sorts each query once, and no
per-batch round trips or SQLAlchemy result processing are paid for (several times the cost of the metrics
themselves at this size). The metrics are computed from the rows in reports.metrics, on both databases alike.
"""

import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock, rawdb
from agentchat.agents.models import STATUS_ONLINE, Agent, AgentDepartment
from agentchat.agents.status_history import AgentStatusEvent
from agentchat.chats.models import SENDER_AGENT, SENDER_CUSTOMER
from agentchat.departments.models import Department
from agentchat.hours import service as hours
from agentchat.reports import metrics
from agentchat.reports.metrics import ChatMetrics, EventFact, MessageFact
from agentchat.tags.models import Tag

# Chats per batch; each brings its events, messages and tags along (about ten rows per chat). Small batches are
# cheaper than large ones: fewer rows alive at once make each garbage collection pass shorter (measured: 250
# chats per batch 3.5 s, 2,000 4.1 s over 100k chats, and 13 MiB less peak RSS); the round trips cost little.
BATCH = 250


@dataclass(frozen=True)
class AnyOpen:
    """Several schedules together, open whenever any of them is: the hours of an agent who works for several
    departments, each keeping its own (or the company's)."""

    schedules: tuple[hours.Schedule, ...]

    def open_seconds(self, start: datetime, end: datetime) -> int:
        """Whole seconds of [start, end) (naive UTC) within any of the schedules; overlaps count once."""
        parts = (part for schedule in self.schedules for part in schedule.open_intervals(start, end))
        return int(metrics.covered_seconds(metrics.merge(parts)))


class Schedules:
    """The working hours of each department (its own, else the company's), read once per report.

    None for a department with no working hours at all (always open): metrics.chat_metrics then copies the
    raw durations instead of measuring them again."""

    def __init__(self, db: AsyncSession):
        self.db = db
        self.by_department: dict[int | None, hours.Schedule | None] = {}

    async def get(self, department_id: int | None) -> hours.Schedule | None:
        if department_id not in self.by_department:
            schedule = await hours.schedule_for(self.db, department_id=department_id)
            self.by_department[department_id] = schedule if schedule.row is not None else None
        return self.by_department[department_id]

    async def of_agents(self) -> dict[int, metrics.Hours | None]:
        """The working hours of each agent in a department: those of their departments, open when any of them is
        (None when one of them is always open). An agent in no department works the company's (get(None))."""
        departments: dict[int, list[int]] = {}
        for agent_id, department_id in (await self.db.execute(select(AgentDepartment.agent_id,
                                                                     AgentDepartment.department_id))).all():
            departments.setdefault(agent_id, []).append(department_id)
        found: dict[tuple[int, ...], metrics.Hours | None] = {}  # agents of the same departments share them
        hours_of: dict[int, metrics.Hours | None] = {}
        for agent_id, theirs in departments.items():
            key = tuple(sorted(theirs))
            if key not in found:
                schedules = [await self.get(department_id) for department_id in key]
                known = [schedule for schedule in schedules if schedule is not None]
                if len(known) < len(schedules):  # always open
                    found[key] = None
                else:  # departments without hours of their own share the company's row: counted once
                    distinct = tuple({id(schedule.row): schedule for schedule in known}.values())
                    found[key] = distinct[0] if len(distinct) == 1 else AnyOpen(distinct)
            hours_of[agent_id] = found[key]
        return hours_of


async def names(db: AsyncSession) -> tuple[dict[int | None, str], dict[int | None, str], dict[int, str]]:
    """Departments, agents and tags by ID: small tables, read once per report. (Looked up with a chat's
    department or agent, which may be None: nothing is found then.)"""
    departments: dict[int | None, str] = dict((await db.execute(select(Department.id, Department.name))).all())
    agents: dict[int | None, str] = dict((await db.execute(select(Agent.id, Agent.name))).all())
    tags = dict((await db.execute(select(Tag.id, Tag.name))).all())
    return departments, agents, tags


# ---- streams of rows ordered by chat ID -------------------------------------------------------------------

class _Cursor:
    """One query's rows, fetched n at a time: a portal on PostgreSQL, a cursor on SQLite (datetimes as text there,
    turned into datetimes at the `times` positions)."""

    def __init__(self, raw: rawdb.Raw, handle: Any, times: Sequence[int]):
        self.raw, self.handle, self.times = raw, handle, times

    @classmethod
    async def open(cls, raw: rawdb.Raw, sql: str, args: Sequence[Any], *, times: Sequence[int] = ()) -> "_Cursor":
        if raw.sqlite:
            params = tuple(rawdb.sqlite_time(a) if isinstance(a, datetime) else a for a in args)
            return cls(raw, await raw.connection.execute(re.sub(r"\$(\d+)", r"?\1", sql), params), times)
        # A portal lives in a transaction: the session has one (driver() starts it).
        return cls(raw, await raw.connection.cursor(sql, *args), times)

    async def fetch(self, n: int) -> list:
        if not self.raw.sqlite:
            return await self.handle.fetch(n)
        rows = await self.handle.fetchmany(n)
        if not self.times:
            return rows
        return [tuple(rawdb.to_time(value) if i in self.times else value for i, value in enumerate(row))
                for row in rows]

    async def close(self) -> None:
        if self.raw.sqlite:
            await self.handle.close()


class _ByChat:
    """Rows ordered by chat ID (their first column), handed out batch by batch: `until(last_id)` gives, per chat
    ID up to last_id, its rows, and keeps the rest for the next batch."""

    def __init__(self, cursor: _Cursor):
        self.cursor = cursor
        self.pending: list = []
        self.done = False

    async def until(self, last_id: int) -> dict[int, list]:
        rows = self.pending
        while not self.done and (not rows or rows[-1][0] <= last_id):
            more = await self.cursor.fetch(BATCH * 4)
            self.done = len(more) < BATCH * 4
            rows = rows + more if rows else more
        grouped: dict[int, list] = {}
        taken = 0
        for row in rows:
            if row[0] > last_id:
                break
            taken += 1
            chat_rows = grouped.get(row[0])
            if chat_rows is None:
                grouped[row[0]] = [row]
            else:
                chat_rows.append(row)
        self.pending = rows[taken:]
        return grouped


@dataclass(frozen=True)
class ChatSet:
    """Which chats a stream covers: an SQL condition on the chat table (alias c) and its $n arguments."""

    where: str
    args: tuple

    @classmethod
    def created_in(cls, start: datetime, end: datetime, *, department_id: int | None = None,
                   agent_id: int | None = None) -> "ChatSet":
        """Chats created in [start, end), of one department and/or handled (ever assigned) by one agent."""
        where, args = ["c.created_at >= $1", "c.created_at < $2"], list[object]([start, end])
        if department_id is not None:
            args.append(department_id)
            where.append(f"c.department_id = ${len(args)}")
        if agent_id is not None:
            args.append(agent_id)
            where.append(f"c.id IN (SELECT chat_id FROM chat_event WHERE agent_id = ${len(args)})")
        return cls(" AND ".join(where), tuple(args))

    @classmethod
    def open_in(cls, start: datetime, end: datetime, *, agent_ids: Sequence[int]) -> "ChatSet":
        """Chats that may have been assigned within [start, end) (created before its end, not closed before its
        start) and were ever assigned to one of the agents."""
        marks = ", ".join(f"${3 + i}" for i in range(len(agent_ids)))
        return cls(f"c.created_at < $1 AND (c.closed_at IS NULL OR c.closed_at >= $2) "
                   f"AND c.id IN (SELECT chat_id FROM chat_event WHERE agent_id IN ({marks}))",
                   (end, start, *agent_ids))


async def driver(db: AsyncSession) -> rawdb.Raw:
    """The session's driver connection, in the session's transaction (cursors need one; on PostgreSQL the
    connection is in autocommit until the session's first statement)."""
    await db.execute(select(1))
    return await rawdb.raw(db)


async def _events_of(raw: rawdb.Raw, chats: ChatSet) -> _ByChat:
    return _ByChat(await _Cursor.open(
        raw, "SELECT e.chat_id, e.at, e.to_status, e.from_status, e.agent_id FROM chat_event e "
             f"JOIN chat c ON c.id = e.chat_id WHERE {chats.where} ORDER BY e.chat_id, e.at, e.id",
        chats.args, times=(1,)))


def _event_facts(rows: Sequence) -> list[EventFact]:
    return [EventFact(row[1], row[2], row[3], row[4]) for row in rows]


# ---- chats with their metrics ------------------------------------------------------------------------------

async def iter_chat_metrics(db: AsyncSession, *, start: datetime, end: datetime, department_id: int | None = None,
                            agent_id: int | None = None, now: datetime | None = None) -> AsyncIterator[ChatMetrics]:
    """Chats created in [start, end), oldest (lowest ID) first, each with its metrics. Memory holds one batch."""
    now = now or clock.now()
    schedules = Schedules(db)
    raw = await driver(db)
    chats = ChatSet.created_in(start, end, department_id=department_id, agent_id=agent_id)
    chat_rows = await _Cursor.open(
        raw, "SELECT c.id, c.channel, c.status, c.department_id, c.agent_id, c.created_at, c.closed_at, c.referral "
             f"FROM chat c WHERE {chats.where} ORDER BY c.id", chats.args, times=(5, 6))
    events = await _events_of(raw, chats)
    messages = _ByChat(await _Cursor.open(
        raw, "SELECT m.chat_id, m.created_at, m.sender_type, m.agent_id FROM message m JOIN chat c ON c.id = m.chat_id "
             f"WHERE {chats.where} AND m.sender_type IN ('{SENDER_AGENT}', '{SENDER_CUSTOMER}') "
             "ORDER BY m.chat_id, m.created_at, m.id", chats.args, times=(1,)))
    tags = _ByChat(await _Cursor.open(
        raw, f"SELECT t.chat_id, t.tag_id FROM chat_tag t JOIN chat c ON c.id = t.chat_id WHERE {chats.where} "
             "ORDER BY t.chat_id, t.tag_id", chats.args))
    try:
        while batch := await chat_rows.fetch(BATCH):
            last_id = batch[-1][0]
            batch_events, batch_messages, batch_tags = (
                await events.until(last_id), await messages.until(last_id), await tags.until(last_id))
            for chat_id, channel, status, chat_department, chat_agent, created_at, closed_at, referral in batch:
                found = metrics.chat_metrics(
                    chat_id=chat_id, channel=channel, status=status, department_id=chat_department,
                    agent_id=chat_agent, created_at=created_at, closed_at=closed_at,
                    events=_event_facts(batch_events.get(chat_id, ())),
                    messages=[MessageFact(row[1], row[2], row[3]) for row in batch_messages.get(chat_id, ())],
                    tag_ids=[row[1] for row in batch_tags.get(chat_id, ())], now=now,
                    hours=await schedules.get(chat_department))
                found.ad = ad_words(referral)
                yield found
            if len(batch) < BATCH:
                break
    finally:
        for cursor in (chat_rows, events.cursor, messages.cursor, tags.cursor):
            await cursor.close()


def ad_words(referral: Any) -> str:
    """The chat's click-to-WhatsApp ad (chat.referral: JSON text from the driver, or a dict) in a report's words."""
    if isinstance(referral, str):
        try:
            referral = json.loads(referral)
        except ValueError:
            return ""
    if not isinstance(referral, dict):
        return ""
    parts = (referral.get("Headline"), referral.get("SourceURL") or referral.get("SourceID"))
    return " · ".join(str(p) for p in parts if p)


async def iter_messages(db: AsyncSession, *, start: datetime, end: datetime) -> AsyncIterator[tuple]:
    """(ID, chat ID, at, sender type, agent ID, text, file name) of every message sent in [start, end), by ID."""
    cursor = await _Cursor.open(
        await driver(db), "SELECT id, chat_id, created_at, sender_type, agent_id, text, file_name FROM message "
                          "WHERE created_at >= $1 AND created_at < $2 ORDER BY id", (start, end), times=(2,))
    try:
        while batch := await cursor.fetch(BATCH):
            for row in batch:
                yield tuple(row)
    finally:
        await cursor.close()


# ---- agents' occupancy --------------------------------------------------------------------------------------

async def agent_occupancy(db: AsyncSession, *, start: datetime, end: datetime, agent_ids: set[int] | None = None,
                          now: datetime | None = None, department_id: int | None = None
                          ) -> dict[int, metrics.Occupancy]:
    """Per agent Online at some time in [start, end) (cut at now): Online seconds and those with a chat assigned,
    also within working hours: the department's if one is given, else each agent's own (Schedules.of_agents; the
    company's for an agent in no department).

    Online time comes from agent_status_event (the status held at `start` is the agent's last change before
    it; before any change an agent is Offline). Assigned time comes from the assignment segments of every chat
    that may overlap the period (created before its end, not closed before its start), streamed in batches.
    """
    end = min(end, now or clock.now())
    if end <= start:
        return {}
    online = await _online_intervals(db, start=start, end=end, agent_ids=agent_ids)
    if not online:
        return {}
    assigned: dict[int, list[metrics.Interval]] = {}
    raw = await driver(db)
    chats = ChatSet.open_in(start, end, agent_ids=sorted(online))
    chat_rows = await _Cursor.open(raw, f"SELECT c.id, c.closed_at FROM chat c WHERE {chats.where} ORDER BY c.id",
                                   chats.args, times=(1,))
    events = await _events_of(raw, chats)
    try:
        while batch := await chat_rows.fetch(BATCH):
            batch_events = await events.until(batch[-1][0])
            for chat_id, closed_at in batch:
                for agent_id, since, until in metrics.assignment_segments(
                        _event_facts(batch_events.get(chat_id, ())), until=closed_at or end):
                    if agent_id in online and since < end and until > start:
                        assigned.setdefault(agent_id, []).append((max(since, start), min(until, end)))
            for agent_id, intervals in assigned.items():
                assigned[agent_id] = metrics.merge(intervals)
            if len(batch) < BATCH:
                break
    finally:
        await chat_rows.close()
        await events.cursor.close()
    schedules = Schedules(db)
    if department_id is not None:
        agents_hours, other_hours = {}, await schedules.get(department_id)
    else:
        agents_hours, other_hours = await schedules.of_agents(), await schedules.get(None)
    return {agent_id: metrics.occupancy(intervals, assigned.get(agent_id, []), agents_hours.get(agent_id, other_hours))
            for agent_id, intervals in online.items()}


async def _online_intervals(db: AsyncSession, *, start: datetime, end: datetime,
                            agent_ids: set[int] | None) -> dict[int, list[metrics.Interval]]:
    """Per agent, when in [start, end) they were Online (agents never Online in it left out)."""
    agent_filter = [] if agent_ids is None else [AgentStatusEvent.agent_id.in_(sorted(agent_ids))]
    last_before = (select(func.max(AgentStatusEvent.id).label("id"))
                   .where(AgentStatusEvent.at < start, *agent_filter).group_by(AgentStatusEvent.agent_id))
    initial = dict((await db.execute(select(AgentStatusEvent.agent_id, AgentStatusEvent.status_id)
                                     .where(AgentStatusEvent.id.in_(last_before)))).all())
    changes: dict[int, list[tuple[datetime, int]]] = {}
    query = (select(AgentStatusEvent.agent_id, AgentStatusEvent.at, AgentStatusEvent.status_id)
             .where(AgentStatusEvent.at >= start, AgentStatusEvent.at < end, *agent_filter)
             .order_by(AgentStatusEvent.agent_id, AgentStatusEvent.at, AgentStatusEvent.id))
    for agent_id, at, status_id in (await db.execute(query)).all():
        changes.setdefault(agent_id, []).append((at, status_id))
    online = {agent_id: metrics.status_intervals(initial.get(agent_id), changes.get(agent_id, []), start=start,
                                                 end=end, status=STATUS_ONLINE)
              for agent_id in set(initial) | set(changes)}
    return {agent_id: intervals for agent_id, intervals in online.items() if intervals}
