"""The reports a Manager downloads (GetReports, GetReport) or has mailed on a schedule: their columns and rows.

Rows are produced one at a time from reports.history's streams, so a report over a long period is written out
(reports.renderers) without ever being held in memory.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.contract import NotFound
from agentchat.reports import history, metrics
from agentchat.reports.metrics import Summary

FILE_FORMATS = ("CSV", "XLSX", "PDF")


@dataclass(frozen=True)
class ReportDef:
    report_id: str
    name: str
    description: str
    columns: tuple[str, ...]
    rows: Callable[[AsyncSession, datetime, datetime], AsyncIterator[list]]


def _iso(value: datetime | None) -> str:
    return value.isoformat("T", "seconds") + "Z" if value else ""


# Chat summary: the raw durations, then the same within working hours.
_SUMMARY_DURATIONS = ("WaitSeconds", "FirstResponseSeconds", "ReactionSeconds", "ResponseSeconds", "HandleSeconds",
                      "ResolutionSeconds")
CHAT_SUMMARY_COLUMNS = ("ChatID", "Channel", "Status", "Department", "Agent", "CreatedAt", "QueuedAt",
                        "FirstAssignedAt", "ClosedAt", *_SUMMARY_DURATIONS,
                        *(f"{name}WithinHours" for name in _SUMMARY_DURATIONS),
                        "ResponseGaps", "CustomerMessages", "AgentMessages", "Missed", "Abandoned", "Tags")


async def _chat_summary_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    departments, agents, tags = await history.names(db)
    async for c in history.iter_chat_metrics(db, start=start, end=end):
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
    _departments, agents, _tags = await history.names(db)
    per_agent: dict[int, Summary] = defaultdict(Summary)
    async for chat in history.iter_chat_metrics(db, start=start, end=end):
        for agent_id in chat.handle_seconds:
            per_agent[agent_id].add(chat, agent_id=agent_id)
    # Within each agent's working hours (their departments').
    occupancy = await history.agent_occupancy(db, start=start, end=end)
    for agent_id in sorted(set(per_agent) | set(occupancy)):
        summary = per_agent.get(agent_id, Summary())
        busy = occupancy.get(agent_id) or metrics.NO_OCCUPANCY
        yield [agent_id, *_performance_row(agents.get(agent_id, ""), summary), busy.online_seconds,
               busy.occupied_seconds, busy.ratio, busy.online_seconds_within_hours,
               busy.occupied_seconds_within_hours, busy.ratio_within_hours]


async def _department_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    departments, _agents, _tags = await history.names(db)
    per_department: dict[int | None, Summary] = defaultdict(Summary)
    async for chat in history.iter_chat_metrics(db, start=start, end=end):
        per_department[chat.department_id].add(chat)
    for department_id, summary in sorted(per_department.items(), key=lambda item: item[0] or 0):
        yield [department_id or "", *_performance_row(departments.get(department_id, "(none)"), summary)]


async def _tag_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    _departments, _agents, tags = await history.names(db)
    counts: dict[int, int] = defaultdict(int)
    async for chat in history.iter_chat_metrics(db, start=start, end=end):
        for tag_id in chat.tag_ids:
            counts[tag_id] += 1
    for tag_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        yield [tag_id, tags.get(tag_id, ""), count]


async def _message_rows(db: AsyncSession, start: datetime, end: datetime) -> AsyncIterator[list]:
    _departments, agents, _tags = await history.names(db)
    async for message_id, chat_id, at, sender_type, agent_id, text, file_name in history.iter_messages(
            db, start=start, end=end):
        yield [message_id, chat_id, _iso(at), sender_type, agents.get(agent_id, ""), text or "", file_name or ""]


REPORTS = {report.report_id: report for report in (
    ReportDef("ChatSummary", "Chat summary", "One row per chat created in the period, with its metrics, tags, "
              "department and agent.",
              CHAT_SUMMARY_COLUMNS, _chat_summary_rows),
    ReportDef("AgentPerformance", "Agent performance", "Per agent: the chats they handled (were assigned) among "
              "the chats created in the period, their handle time and the chats' averages; their time Online "
              "in the period and their occupancy.",
              ("AgentID", "Agent", *PERFORMANCE_COLUMNS, "OnlineSeconds", "OccupiedSeconds", "Occupancy",
               "OnlineSecondsWithinHours", "OccupiedSecondsWithinHours", "OccupancyWithinHours"),
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
