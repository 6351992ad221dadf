"""Live metrics (GetLiveMetrics) and the dashboard (GetDashboard), all from reports.metrics; the company's days.

The downloadable and scheduled reports are in reports.catalogue; both read through reports.history.
"""

import asyncio
import time as time_module
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.agents.models import STATUS_BUSY, STATUS_OFFLINE, STATUS_ON_BREAK, STATUS_ONLINE, Agent, AgentDepartment
from agentchat.chats.models import ASSIGNED, CLOSED, SENDER_AGENT, UNASSIGNED, Chat, ChatEvent, Message
from agentchat.csat import service as csat
from agentchat.hours import service as hours
from agentchat.reports import history, metrics
from agentchat.reports.metrics import Summary
from agentchat.security import Caller

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
    per_department: dict[int | None, dict] = {}
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
    created in [start, end) that was ever queued -- the moments metrics.chat_metrics derives from the chat's
    events and messages (_event_moments, _message_moments) -- computed by the database on the chat_event and
    message indexes."""
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
    value = value or metrics.NO_OCCUPANCY
    return {"OnlineSeconds": value.online_seconds, "OccupiedSeconds": value.occupied_seconds,
            "Occupancy": value.ratio, "OnlineSecondsWithinHours": value.online_seconds_within_hours,
            "OccupiedSecondsWithinHours": value.occupied_seconds_within_hours,
            "OccupancyWithinHours": value.ratio_within_hours}


async def dashboard(db: AsyncSession, *, first: date, last: date, department_id: int | None,
                    agent_id: int | None) -> dict:
    zone = await hours.company_zone(db)
    start, end = day_bounds(first, last, zone)
    departments, agents, tags = await history.names(db)
    total = Summary()
    per_day: dict[date, Summary] = defaultdict(Summary)
    per_hour: dict[int, Summary] = defaultdict(Summary)
    per_department: dict[int | None, Summary] = defaultdict(Summary)
    per_agent: dict[int, Summary] = defaultdict(Summary)
    per_tag: dict[int, Summary] = defaultdict(Summary)
    async for chat in history.iter_chat_metrics(db, start=start, end=end, department_id=department_id,
                                                agent_id=agent_id):
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
    # Within the hours of the department asked for; otherwise each agent's own (their departments').
    occupancy = await history.agent_occupancy(db, start=start, end=end, agent_ids=occupancy_agents,
                                              department_id=department_id)
    overall = sum(occupancy.values(), metrics.NO_OCCUPANCY)
    ratings = await csat.tallies(db, start=start, end=end, department_id=department_id, agent_id=agent_id)
    rated = lambda kind, key: ratings[kind].get(key, csat.Tally()).out()  # noqa: E731
    days: list[dict[str, Any]] = []
    day = first
    while day <= last and len(days) < 400:
        days.append({"Date": day.isoformat(), **_summary_out(per_day.get(day, Summary()))})
        day += timedelta(days=1)
    return {
        "From": first.isoformat(), "To": last.isoformat(), "TimeZone": zone.key,
        "Totals": _summary_out(total),
        "Metrics": {**total.metrics(), "Occupancy": overall.ratio, "OccupancyWithinHours": overall.ratio_within_hours,
                    **ratings["total"].out()},
        "PerDay": days,
        "PerHour": [{"Hour": hour, **_summary_out(per_hour.get(hour, Summary()))} for hour in range(24)],
        "PerDepartment": [{"DepartmentID": key, "Name": departments.get(key), **_summary_out(value),
                           **value.metrics(), **rated("department", key)}
                          for key, value in sorted(per_department.items(), key=lambda item: item[0] or 0)],
        "PerAgent": [{"AgentID": key, "Name": agents.get(key), **_summary_out(per_agent.get(key, Summary())),
                      **per_agent.get(key, Summary()).metrics(), **_occupancy_out(occupancy.get(key)),
                      **rated("agent", key)}
                     for key in sorted(set(per_agent) | set(occupancy) | set(ratings["agent"]))],
        "PerTag": [{"TagID": key, "Name": tags.get(key), "Chats": value.chats, **rated("tag", key)}
                   for key, value in sorted(per_tag.items())],
    }
