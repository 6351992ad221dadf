"""Live metrics, the dashboard and the reports' rows: all from reports.metrics, read in batches from the database."""

import asyncio
import time as time_module
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.agents.models import STATUS_BUSY, STATUS_OFFLINE, STATUS_ON_BREAK, STATUS_ONLINE, Agent, AgentDepartment
from agentchat.agents.status_history import AgentStatusEvent
from agentchat.chats.models import (
    ASSIGNED,
    CLOSED,
    SENDER_AGENT,
    SENDER_CUSTOMER,
    UNASSIGNED,
    Chat,
    ChatEvent,
    ChatTag,
    Message,
)
from agentchat.contract import NotFound
from agentchat.departments.models import Department
from agentchat.hours import service as hours
from agentchat.reports import metrics
from agentchat.reports.metrics import ChatMetrics, EventFact, MessageFact, Summary
from agentchat.security import Caller
from agentchat.tags.models import Tag

BATCH = 500


# ---- time -------------------------------------------------------------------------------------------------

def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the company zone -> naive UTC as stored."""
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def to_local(at: datetime, zone: ZoneInfo) -> datetime:
    return at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last` (both local days), in UTC."""
    return (to_utc(datetime.combine(first, time()), zone),
            to_utc(datetime.combine(last + timedelta(days=1), time()), zone))


class Schedules:
    """The working hours of each department (its own, else the company's), read once per report."""

    def __init__(self, db: AsyncSession):
        self.db = db
        self.by_department: dict[int | None, hours.Schedule] = {}

    async def get(self, department_id: int | None) -> hours.Schedule:
        schedule = self.by_department.get(department_id)
        if schedule is None:
            schedule = await hours.schedule_for(self.db, department_id=department_id)
            self.by_department[department_id] = schedule
        return schedule


# ---- chats with their metrics, in batches ----------------------------------------------------------------

async def iter_chat_metrics(db: AsyncSession, *, start: datetime, end: datetime, department_id: int | None = None,
                            agent_id: int | None = None, now: datetime | None = None) -> AsyncIterator[ChatMetrics]:
    """Chats created in [start, end), oldest first, each with its metrics. Memory holds one batch at a time."""
    now = now or clock.now()
    conditions = [Chat.created_at >= start, Chat.created_at < end]
    if department_id is not None:
        conditions.append(Chat.department_id == department_id)
    if agent_id is not None:
        conditions.append(Chat.id.in_(select(ChatEvent.chat_id).where(ChatEvent.agent_id == agent_id)))
    schedules = Schedules(db)
    last_id = 0
    while True:
        query = (select(Chat.id, Chat.channel, Chat.status, Chat.department_id, Chat.agent_id, Chat.created_at,
                        Chat.closed_at).where(*conditions, Chat.id > last_id).order_by(Chat.id).limit(BATCH))
        chats = (await db.execute(query)).all()
        if not chats:
            return
        ids = [row.id for row in chats]
        last_id = ids[-1]
        events, messages, tags = await _histories(db, ids)
        for row in chats:
            yield metrics.chat_metrics(
                chat_id=row.id, channel=row.channel, status=row.status, department_id=row.department_id,
                agent_id=row.agent_id, created_at=row.created_at, closed_at=row.closed_at,
                events=events.get(row.id, []), messages=messages.get(row.id, []), now=now,
                tag_ids=tags.get(row.id, []), hours=await schedules.get(row.department_id))
        if len(chats) < BATCH:
            return


async def _histories(db: AsyncSession, ids: list[int], *, messages: bool = True, tags: bool = True):
    events: dict[int, list[EventFact]] = defaultdict(list)
    query = (select(ChatEvent.chat_id, ChatEvent.at, ChatEvent.type, ChatEvent.to_status, ChatEvent.from_status,
                    ChatEvent.agent_id).where(ChatEvent.chat_id.in_(ids))
             .order_by(ChatEvent.chat_id, ChatEvent.at, ChatEvent.id))
    for row in (await db.execute(query)).all():
        events[row.chat_id].append(EventFact(at=row.at, type=row.type, to_status=row.to_status,
                                             from_status=row.from_status, agent_id=row.agent_id))
    if not messages:
        return events, {}, {}
    return events, await _messages(db, ids), (await _tags(db, ids) if tags else {})


async def _messages(db: AsyncSession, ids: list[int]) -> dict[int, list[MessageFact]]:
    messages: dict[int, list[MessageFact]] = defaultdict(list)
    query = (select(Message.chat_id, Message.created_at, Message.sender_type, Message.agent_id)
             .where(Message.chat_id.in_(ids), Message.sender_type.in_((SENDER_AGENT, SENDER_CUSTOMER)))
             .order_by(Message.chat_id, Message.created_at, Message.id))
    for row in (await db.execute(query)).all():
        messages[row.chat_id].append(MessageFact(at=row.created_at, sender_type=row.sender_type,
                                                 agent_id=row.agent_id))
    return messages


async def _tags(db: AsyncSession, ids: list[int]) -> dict[int, list[int]]:
    tags: dict[int, list[int]] = defaultdict(list)
    for chat_id, tag_id in (await db.execute(select(ChatTag.chat_id, ChatTag.tag_id)
                                             .where(ChatTag.chat_id.in_(ids)))).all():
        tags[chat_id].append(tag_id)
    return tags


async def agent_occupancy(db: AsyncSession, *, start: datetime, end: datetime, agent_ids: set[int] | None = None,
                          now: datetime | None = None) -> dict[int, metrics.Occupancy]:
    """Per agent Online at some time in [start, end) (cut at now): Online seconds and those with a chat assigned.

    Online time comes from agent_status_event (the status held at `start` is the agent's last change before
    it; before any change an agent is Offline). Assigned time comes from the assignment segments of every chat
    that may overlap the period (created before its end, not closed before its start), read in batches.
    """
    end = min(end, now or clock.now())
    if end <= start:
        return {}
    agent_filter = [] if agent_ids is None else [AgentStatusEvent.agent_id.in_(sorted(agent_ids))]
    last_before = (select(func.max(AgentStatusEvent.id).label("id"))
                   .where(AgentStatusEvent.at < start, *agent_filter).group_by(AgentStatusEvent.agent_id))
    initial = dict((await db.execute(select(AgentStatusEvent.agent_id, AgentStatusEvent.status_id)
                                     .where(AgentStatusEvent.id.in_(last_before)))).all())
    changes: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    query = (select(AgentStatusEvent.agent_id, AgentStatusEvent.at, AgentStatusEvent.status_id)
             .where(AgentStatusEvent.at >= start, AgentStatusEvent.at < end, *agent_filter)
             .order_by(AgentStatusEvent.agent_id, AgentStatusEvent.at, AgentStatusEvent.id))
    for agent_id, at, status_id in (await db.execute(query)).all():
        changes[agent_id].append((at, status_id))
    online = {agent_id: metrics.status_intervals(initial.get(agent_id), changes.get(agent_id, []), start=start,
                                                 end=end, status=STATUS_ONLINE)
              for agent_id in set(initial) | set(changes)}
    online = {agent_id: intervals for agent_id, intervals in online.items() if intervals}
    if not online:
        return {}
    assigned: dict[int, list[metrics.Interval]] = defaultdict(list)
    handled = select(ChatEvent.chat_id).where(ChatEvent.agent_id.in_(list(online)))
    last_id = 0
    while True:
        query = (select(Chat.id, Chat.closed_at)
                 .where(Chat.created_at < end, (Chat.closed_at.is_(None)) | (Chat.closed_at >= start),
                        Chat.id.in_(handled), Chat.id > last_id)
                 .order_by(Chat.id).limit(BATCH))
        chats = (await db.execute(query)).all()
        if not chats:
            break
        last_id = chats[-1].id
        events, _messages, _tags = await _histories(db, [row.id for row in chats], messages=False, tags=False)
        for row in chats:
            for agent_id, since, until in metrics.assignment_segments(events.get(row.id, []),
                                                                      until=row.closed_at or end):
                if agent_id in online and since < end and until > start:
                    assigned[agent_id].append((max(since, start), min(until, end)))
        for agent_id in list(assigned):
            assigned[agent_id] = metrics.merge(assigned[agent_id])
        if len(chats) < BATCH:
            break
    return {agent_id: metrics.occupancy(intervals, assigned.get(agent_id, []))
            for agent_id, intervals in online.items()}


async def names(db: AsyncSession) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Departments, agents and tags by ID: small tables, read once per report."""
    departments = dict((await db.execute(select(Department.id, Department.name))).all())
    agents = dict((await db.execute(select(Agent.id, Agent.name))).all())
    tags = dict((await db.execute(select(Tag.id, Tag.name))).all())
    return departments, agents, tags


# ---- live ----------------------------------------------------------------------------------------------------

async def live_metrics(db: AsyncSession, *, caller: Caller) -> dict:
    """Now and today (company time zone). Agents see the chats of their own departments; Managers all.

    Only live rows are read: the open chats (ix_chat_queue), the chats closed today (ix_chat_closed_at) and the
    chats created today (ix_chat_created_at) with just the three moments their averages need, found in the database
    (first queue entry, first assignment after it, first agent message after it) -- the same definitions as
    reports.metrics, so the numbers equal the dashboard's, at a cost that does not grow with the history.
    """
    now = clock.now()
    zone = await hours.company_zone(db)
    today = to_local(now, zone).date()
    start, end = day_bounds(today, today, zone)
    department_filter = []
    if not caller.is_manager:
        mine = select(AgentDepartment.department_id).where(AgentDepartment.agent_id == caller.agent_id)
        department_filter.append(Chat.department_id.in_(mine))
    open_query = (select(Chat.department_id, Chat.status, func.count(), func.min(Chat.queued_at))
                  .where(Chat.status.in_((UNASSIGNED, ASSIGNED)), *department_filter)
                  .group_by(Chat.department_id, Chat.status))
    per_department: dict[int, dict] = {}
    for department_id, status, count, oldest in (await db.execute(open_query)).all():
        entry = per_department.setdefault(department_id, {"DepartmentID": department_id, "ChatsWaiting": 0,
                                                          "ChatsInProgress": 0, "LongestWaitSeconds": 0})
        if status == UNASSIGNED:
            entry["ChatsWaiting"] = count
            entry["LongestWaitSeconds"] = metrics._seconds(oldest, now) or 0
        else:
            entry["ChatsInProgress"] = count
    closed_today = (await db.execute(select(func.count()).select_from(Chat).where(
        Chat.closed_at >= start, Chat.closed_at < end, Chat.status == CLOSED, *department_filter))).scalar_one()
    statuses = dict((await db.execute(select(Agent.status_id, func.count()).where(Agent.enabled.is_(True))
                                      .group_by(Agent.status_id))).all())
    waits, responses = [], []
    for queued, assigned, answered in (await db.execute(_first_moments_today(start, end, department_filter))).all():
        if (wait := metrics._seconds(queued, assigned)) is not None:
            waits.append(wait)
        if (response := metrics._seconds(queued, answered)) is not None:
            responses.append(response)
    departments = sorted(per_department.values(), key=lambda d: d["DepartmentID"] or 0)
    return {
        "ChatsWaiting": sum(d["ChatsWaiting"] for d in departments),
        "LongestWaitSeconds": max((d["LongestWaitSeconds"] for d in departments), default=0),
        "ChatsInProgress": sum(d["ChatsInProgress"] for d in departments),
        "ChatsClosedToday": closed_today,
        "AgentsByStatus": {"Online": statuses.get(STATUS_ONLINE, 0), "Busy": statuses.get(STATUS_BUSY, 0),
                           "OnBreak": statuses.get(STATUS_ON_BREAK, 0), "Offline": statuses.get(STATUS_OFFLINE, 0)},
        "AverageWaitSecondsToday": metrics.average(waits),
        "AverageFirstResponseSecondsToday": metrics.average(responses),
        "Departments": departments,
    }


class LiveMetricsCache:
    """GetLiveMetrics, shared for up to TTL seconds by the callers who see the same chats (all Managers; each Agent).

    A dashboard polled by many managers would otherwise repeat the same aggregates many times a second. An entry
    is valid only for the same EventID (any published change -- a chat queued, taken, closed, a message, an agent's
    status -- makes a new one) and the same second of clock.now(), so the figures are at most TTL seconds old and
    never older than the last change this instance heard of. Concurrent callers wait for one computation.
    """

    TTL = 1.0
    MAX_ENTRIES = 1000

    def __init__(self) -> None:
        self._entries: dict[object, tuple[tuple, float, asyncio.Future]] = {}

    async def get(self, caller: Caller, *, last_event_id: int, compute: Callable[[], Awaitable[dict]]) -> dict:
        scope = "managers" if caller.is_manager else caller.agent_id
        version = (last_event_id, int(clock.now().timestamp()))
        now = time_module.monotonic()
        entry = self._entries.get(scope)
        if entry is not None and entry[0] == version and entry[1] > now:
            future = entry[2]
            try:
                return await asyncio.shield(future) if not future.done() else future.result()
            except Exception:
                pass  # the computation it waited for failed: compute our own
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        future = asyncio.get_running_loop().create_future()
        self._entries[scope] = (version, now + self.TTL, future)
        try:
            value = await compute()
        except BaseException:
            future.set_exception(RuntimeError("live metrics failed"))
            future.exception()  # retrieved: waiters compute their own
            if self._entries.get(scope, (None, None, None))[2] is future:
                del self._entries[scope]
            raise
        future.set_result(value)
        return value


def _first_moments_today(start: datetime, end: datetime, department_filter: list):
    """(first queue entry, first assignment at or after it, first agent message at or after it) of each chat
    created in [start, end) that was ever queued: metrics.first_queued_at, first_assigned_at and
    first_agent_message_at, computed by the database on the chat_event and message indexes."""
    today = select(Chat.id).where(Chat.created_at >= start, Chat.created_at < end, *department_filter).subquery()
    queued = (select(ChatEvent.chat_id, func.min(ChatEvent.at).label("queued_at"))
              .join(today, today.c.id == ChatEvent.chat_id)
              .where(ChatEvent.to_status == UNASSIGNED).group_by(ChatEvent.chat_id).subquery())
    assigned = (select(func.min(ChatEvent.at)).where(ChatEvent.chat_id == queued.c.chat_id,
                                                     ChatEvent.to_status == ASSIGNED,
                                                     ChatEvent.at >= queued.c.queued_at).scalar_subquery())
    answered = (select(func.min(Message.created_at)).where(Message.chat_id == queued.c.chat_id,
                                                           Message.sender_type == SENDER_AGENT,
                                                           Message.created_at >= queued.c.queued_at).scalar_subquery())
    return select(queued.c.queued_at, assigned, answered)


# ---- dashboard -------------------------------------------------------------------------------------------

def _summary_out(summary: Summary) -> dict:
    return {"Chats": summary.chats, "ClosedChats": summary.closed, "MissedChats": summary.missed,
            "AbandonedChats": summary.abandoned, "AgentMessages": summary.agent_messages,
            "CustomerMessages": summary.customer_messages, "HandleSeconds": summary.handle_seconds,
            "HandleSecondsWithinHours": summary.handle_seconds_within_hours}


def _occupancy_out(value: metrics.Occupancy | None) -> dict:
    value = value or metrics.Occupancy(online_seconds=0, occupied_seconds=0)
    return {"OnlineSeconds": value.online_seconds, "OccupiedSeconds": value.occupied_seconds,
            "Occupancy": value.ratio}


async def dashboard(db: AsyncSession, *, first: date, last: date, department_id: int | None,
                    agent_id: int | None) -> dict:
    zone = await hours.company_zone(db)
    start, end = day_bounds(first, last, zone)
    departments, agents, tags = await names(db)
    total = Summary()
    per_day: dict[date, Summary] = defaultdict(Summary)
    per_hour: dict[int, Summary] = defaultdict(Summary)
    per_department: dict[int | None, Summary] = defaultdict(Summary)
    per_agent: dict[int, Summary] = defaultdict(Summary)
    per_tag: dict[int, Summary] = defaultdict(Summary)
    async for chat in iter_chat_metrics(db, start=start, end=end, department_id=department_id, agent_id=agent_id):
        total.add(chat, agent_id=agent_id)
        created = to_local(chat.created_at, zone)
        per_day[created.date()].add(chat, agent_id=agent_id)
        per_hour[created.hour].add(chat, agent_id=agent_id)
        per_department[chat.department_id].add(chat, agent_id=agent_id)
        for handler in chat.handle_seconds:
            if agent_id is None or handler == agent_id:
                per_agent[handler].add(chat, agent_id=handler)
        for tag_id in chat.tag_ids:
            per_tag[tag_id].add(chat, agent_id=agent_id)
    if agent_id is not None:
        occupancy_agents: set[int] | None = {agent_id}
    elif department_id is not None:
        occupancy_agents = set((await db.execute(select(AgentDepartment.agent_id)
                                                 .where(AgentDepartment.department_id == department_id))).scalars())
    else:
        occupancy_agents = None
    occupancy = await agent_occupancy(db, start=start, end=end, agent_ids=occupancy_agents)
    overall = metrics.Occupancy(online_seconds=sum(o.online_seconds for o in occupancy.values()),
                                occupied_seconds=sum(o.occupied_seconds for o in occupancy.values()))
    days = []
    day = first
    while day <= last and len(days) < 400:
        days.append({"Date": day.isoformat(), **_summary_out(per_day.get(day, Summary()))})
        day += timedelta(days=1)
    return {
        "From": first.isoformat(), "To": last.isoformat(), "TimeZone": zone.key,
        "Totals": _summary_out(total),
        "Metrics": {**total.metrics(), "Occupancy": overall.ratio},
        "PerDay": days,
        "PerHour": [{"Hour": hour, **_summary_out(per_hour.get(hour, Summary()))} for hour in range(24)],
        "PerDepartment": [{"DepartmentID": key, "Name": departments.get(key), **_summary_out(value),
                           **value.metrics()} for key, value in sorted(per_department.items(),
                                                                       key=lambda item: item[0] or 0)],
        "PerAgent": [{"AgentID": key, "Name": agents.get(key), **_summary_out(per_agent.get(key, Summary())),
                      **per_agent.get(key, Summary()).metrics(), **_occupancy_out(occupancy.get(key))}
                     for key in sorted(set(per_agent) | set(occupancy))],
        "PerTag": [{"TagID": key, "Name": tags.get(key), "Chats": value.chats}
                   for key, value in sorted(per_tag.items())],
    }


# ---- reports --------------------------------------------------------------------------------------------

FILE_FORMATS = ("CSV", "XLSX", "PDF")


@dataclass(frozen=True)
class ReportDef:
    report_id: str
    name: str
    description: str
    columns: tuple[str, ...]
    rows: Callable[[AsyncSession, datetime, datetime], AsyncIterator[list]]


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") + "Z" if value else ""


# Chat summary: the raw durations, then the same within working hours.
_SUMMARY_DURATIONS = ("WaitSeconds", "FirstResponseSeconds", "ReactionSeconds", "ResponseSeconds", "HandleSeconds",
                      "ResolutionSeconds")
CHAT_SUMMARY_COLUMNS = ("ChatID", "Channel", "Status", "Department", "Agent", "CreatedAt", "QueuedAt",
                        "FirstAssignedAt", "ClosedAt", *_SUMMARY_DURATIONS,
                        *(f"{name}WithinHours" for name in _SUMMARY_DURATIONS),
                        "ResponseGaps", "CustomerMessages", "AgentMessages", "Missed", "Abandoned", "Tags")


async def _chat_summary_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    departments, agents, tags = await names(db)
    async for c in iter_chat_metrics(db, start=start, end=end):
        raw, within = c.raw, c.within_hours
        yield [c.chat_id, c.channel, c.status, departments.get(c.department_id, ""), agents.get(c.agent_id, ""),
               _iso(c.created_at), _iso(c.queued_at), _iso(c.first_assigned_at), _iso(c.closed_at),
               raw["wait"], raw["first_response"], raw["reaction"], raw["response"], sum(c.handle_seconds.values()),
               raw["resolution"],
               within["wait"], within["first_response"], within["reaction"], within["response"],
               sum(c.handle_seconds_within_hours.values()), within["resolution"],
               c.response_gaps, c.customer_messages, c.agent_messages, c.missed, c.abandoned,
               "; ".join(tags.get(t, "") for t in c.tag_ids)]


_AVERAGES = tuple(metrics.metric_names(name, within)[0] for within in (False, True)
                  for name in ("wait", "first_response", "reaction", "response", "resolution"))


def _performance_row(name: str, summary: Summary) -> list:
    m = summary.metrics()
    return [name, summary.chats, summary.closed, summary.missed, summary.abandoned, summary.agent_messages,
            summary.handle_seconds, summary.handle_seconds_within_hours, *(m[key] for key in _AVERAGES)]


PERFORMANCE_COLUMNS = ("Chats", "ClosedChats", "MissedChats", "AbandonedChats", "AgentMessages", "HandleSeconds",
                       "HandleSecondsWithinHours", *_AVERAGES)


async def _agent_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    _departments, agents, _tags = await names(db)
    per_agent: dict[int, Summary] = defaultdict(Summary)
    async for chat in iter_chat_metrics(db, start=start, end=end):
        for agent_id in chat.handle_seconds:
            per_agent[agent_id].add(chat, agent_id=agent_id)
    occupancy = await agent_occupancy(db, start=start, end=end)
    for agent_id in sorted(set(per_agent) | set(occupancy)):
        summary = per_agent.get(agent_id, Summary())
        busy = occupancy.get(agent_id) or metrics.Occupancy(online_seconds=0, occupied_seconds=0)
        yield [agent_id, *_performance_row(agents.get(agent_id, ""), summary), busy.online_seconds,
               busy.occupied_seconds, busy.ratio]


async def _department_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    departments, _agents, _tags = await names(db)
    per_department: dict[int | None, Summary] = defaultdict(Summary)
    async for chat in iter_chat_metrics(db, start=start, end=end):
        per_department[chat.department_id].add(chat)
    for department_id, summary in sorted(per_department.items(), key=lambda item: item[0] or 0):
        yield [department_id or "", *_performance_row(departments.get(department_id, "(none)"), summary)]


async def _tag_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    _departments, _agents, tags = await names(db)
    counts: dict[int, int] = defaultdict(int)
    async for chat in iter_chat_metrics(db, start=start, end=end):
        for tag_id in chat.tag_ids:
            counts[tag_id] += 1
    for tag_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        yield [tag_id, tags.get(tag_id, ""), count]


async def _message_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    _departments, agents, _tags = await names(db)
    last_id = 0
    while True:
        query = (select(Message.id, Message.chat_id, Message.created_at, Message.sender_type, Message.agent_id,
                        Message.text, Message.file_name)
                 .where(Message.created_at >= start, Message.created_at < end, Message.id > last_id)
                 .order_by(Message.id).limit(BATCH))
        rows = (await db.execute(query)).all()
        for row in rows:
            yield [row.id, row.chat_id, _iso(row.created_at), row.sender_type, agents.get(row.agent_id, ""),
                   row.text or "", row.file_name or ""]
        if len(rows) < BATCH:
            return
        last_id = rows[-1].id


REPORTS = {report.report_id: report for report in (
    ReportDef("ChatSummary", "Chat summary", "One row per chat created in the period, with its metrics, tags, "
              "department and agent.",
              CHAT_SUMMARY_COLUMNS, _chat_summary_rows),
    ReportDef("AgentPerformance", "Agent performance", "Per agent: the chats they handled (were assigned) among "
              "the chats created in the period, their handle time and the chats' averages; their time Online "
              "in the period and their occupancy.",
              ("AgentID", "Agent", *PERFORMANCE_COLUMNS, "OnlineSeconds", "OccupiedSeconds", "Occupancy"),
              _agent_rows),
    ReportDef("DepartmentPerformance", "Department performance", "Per department (the chat's current one): "
              "volumes and average durations of the chats created in the period.",
              ("DepartmentID", "Department", *PERFORMANCE_COLUMNS), _department_rows),
    ReportDef("TagUsage", "Tag usage", "Per tag: how many chats created in the period carry it.",
              ("TagID", "Tag", "Chats"), _tag_rows),
    ReportDef("MessageLog", "Message log", "Every message sent or received in the period.",
              ("MessageID", "ChatID", "At", "SenderType", "Agent", "Text", "FileName"), _message_rows),
)}


def get_report(report_id: str) -> ReportDef:
    report = REPORTS.get(report_id)
    if report is None:
        raise NotFound(f"No report has ID {report_id}.", code="report_not_found", field="ReportID")
    return report
