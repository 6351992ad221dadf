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
from agentchat.reports.figures import CHAT_DAYS, CHAT_FIGURES, MESSAGE_FIGURES, Collector
from agentchat.reports.metrics import Summary

FILE_FORMATS = ("CSV", "XLSX", "PDF")


@dataclass(frozen=True)
class ReportDef:
    report_id: str
    # Stable: the original calls a report by "the ID number of the report"; never renumber or reuse one.
    number: int
    name: str
    description: str
    columns: tuple[str, ...]  # the keys of a row's values, in order: the CSV's header
    # The same keys in logical groups, in the order people read them (a wide PDF is split between groups).
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    rows: Callable[[AsyncSession, datetime, datetime, Collector | None], AsyncIterator[list]]
    section: str  # what a row is: the table's (and XLSX sheet's) title
    repeat: tuple[str, ...]  # the keys that name a row, repeated in each part of a split PDF
    figures: tuple[str, ...]  # key figures above the table and in the e-mail
    per_day: tuple[str, ...] = ()  # a per-day section (and chart) for reports over time

    def __post_init__(self) -> None:
        grouped = [key for _group, keys in self.groups for key in keys]
        if sorted(grouped) != sorted(self.columns):
            raise ValueError(f"{self.report_id}: the groups must hold each column once")


# Chat summary: the raw durations, then the same within working hours.
_SUMMARY_DURATIONS = ("WaitSeconds", "FirstResponseSeconds", "ReactionSeconds", "ResponseSeconds", "HandleSeconds",
                      "ResolutionSeconds")
_CHAT_SUMMARY_GROUPS = (
    ("Chat", ("ChatID", "Channel", "Status", "Department", "Agent")),
    ("Moments", ("CreatedAt", "QueuedAt", "FirstAssignedAt", "ClosedAt")),
    ("Durations", _SUMMARY_DURATIONS),
    ("Durations in working hours", tuple(f"{name}WithinHours" for name in _SUMMARY_DURATIONS)),
    ("Messages", ("ResponseGaps", "CustomerMessages", "AgentMessages", "Missed", "Abandoned", "Tags", "Ad")),
)
CHAT_SUMMARY_COLUMNS = tuple(key for _group, keys in _CHAT_SUMMARY_GROUPS for key in keys)


async def _chat_summary_rows(db: AsyncSession, start: datetime, end: datetime,
                             collect: Collector | None = None) -> AsyncIterator[list]:
    departments, agents, tags = await history.names(db)
    async for c in history.iter_chat_metrics(db, start=start, end=end):
        if collect is not None:
            collect.add_chat(c)
        raw, within = c.raw, c.within_hours
        yield [c.chat_id, c.channel, c.status, departments.get(c.department_id, ""), agents.get(c.agent_id, ""),
               c.created_at, c.queued_at, c.first_assigned_at, c.closed_at,
               raw["wait"], raw["first_response"], raw["reaction"], raw["response"], sum(c.handle_seconds.values()),
               raw["resolution"],
               within["wait"], within["first_response"], within["reaction"], within["response"],
               sum(c.handle_seconds_within_hours.values()), within["resolution"],
               c.response_gaps, c.customer_messages, c.agent_messages, c.missed, c.abandoned,
               "; ".join(tags.get(t, "") for t in c.tag_ids), c.ad]


_RAW_AVERAGES = tuple(metrics.metric_names(name, False)[0]
                      for name in ("wait", "first_response", "reaction", "response", "resolution"))
_AVERAGES = (*_RAW_AVERAGES, *(f"{key}WithinHours" for key in _RAW_AVERAGES))
assert _AVERAGES[5:] == tuple(metrics.metric_names(name, True)[0]
                              for name in ("wait", "first_response", "reaction", "response", "resolution"))


def _performance_row(name: str, summary: Summary) -> list:
    m = summary.metrics()
    return [name, summary.chats, summary.closed, summary.missed, summary.abandoned, summary.agent_messages,
            summary.handle_seconds, summary.handle_seconds_within_hours, *(m[key] for key in _AVERAGES)]


PERFORMANCE_COLUMNS = ("Chats", "ClosedChats", "MissedChats", "AbandonedChats", "AgentMessages", "HandleSeconds",
                       "HandleSecondsWithinHours", *_AVERAGES)


def _performance_groups(first: tuple[str, tuple[str, ...]]) -> tuple:
    """Volumes; handle time beside the averages; the same within working hours."""
    return (first, ("Chats", PERFORMANCE_COLUMNS[:5]), ("Times", ("HandleSeconds", *_RAW_AVERAGES)),
            ("Times in working hours", ("HandleSecondsWithinHours", *_AVERAGES[5:])))


async def _agent_rows(db: AsyncSession, start: datetime, end: datetime,
                      collect: Collector | None = None) -> AsyncIterator[list]:
    _departments, agents, _tags = await history.names(db)
    per_agent: dict[int, Summary] = defaultdict(Summary)
    async for chat in history.iter_chat_metrics(db, start=start, end=end):
        if collect is not None:
            collect.add_chat(chat)
        for agent_id in chat.handle_seconds:
            per_agent[agent_id].add(chat, agent_id=agent_id)
    # Within each agent's working hours (their departments').
    occupancy = await history.agent_occupancy(db, start=start, end=end)
    if collect is not None:
        overall = sum(occupancy.values(), metrics.NO_OCCUPANCY)
        collect.extra.update(Agents=len(set(per_agent) | set(occupancy)), Occupancy=overall.ratio,
                             OccupancyWithinHours=overall.ratio_within_hours)
    for agent_id in sorted(set(per_agent) | set(occupancy)):
        summary = per_agent.get(agent_id, Summary())
        busy = occupancy.get(agent_id) or metrics.NO_OCCUPANCY
        yield [agent_id, *_performance_row(agents.get(agent_id, ""), summary), busy.online_seconds,
               busy.occupied_seconds, busy.ratio, busy.online_seconds_within_hours,
               busy.occupied_seconds_within_hours, busy.ratio_within_hours]


async def _department_rows(db: AsyncSession, start: datetime, end: datetime,
                           collect: Collector | None = None) -> AsyncIterator[list]:
    departments, _agents, _tags = await history.names(db)
    per_department: dict[int | None, Summary] = defaultdict(Summary)
    async for chat in history.iter_chat_metrics(db, start=start, end=end):
        if collect is not None:
            collect.add_chat(chat)
        per_department[chat.department_id].add(chat)
    if collect is not None:
        collect.extra["Departments"] = len(per_department)
    for department_id, summary in sorted(per_department.items(), key=lambda item: item[0] or 0):
        yield [department_id or "", *_performance_row(departments.get(department_id, "(none)"), summary)]


async def _tag_rows(db: AsyncSession, start: datetime, end: datetime,
                    collect: Collector | None = None) -> AsyncIterator[list]:
    _departments, _agents, tags = await history.names(db)
    counts: dict[int, int] = defaultdict(int)
    tagged = 0
    async for chat in history.iter_chat_metrics(db, start=start, end=end):
        if collect is not None:
            collect.add_chat(chat)
        tagged += bool(chat.tag_ids)
        for tag_id in chat.tag_ids:
            counts[tag_id] += 1
    if collect is not None:
        collect.extra.update(TagsUsed=len(counts), TaggedChats=tagged)
    for tag_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        yield [tag_id, tags.get(tag_id, ""), count]


async def _message_rows(db: AsyncSession, start: datetime, end: datetime,
                        collect: Collector | None = None) -> AsyncIterator[list]:
    _departments, agents, _tags = await history.names(db)
    async for message_id, chat_id, at, sender_type, agent_id, text, file_name in history.iter_messages(
            db, start=start, end=end):
        if collect is not None:
            collect.add_message(at, sender_type)
        yield [message_id, chat_id, at, sender_type, agents.get(agent_id, ""), text or "", file_name or ""]


async def _csat_rows(db: AsyncSession, start: datetime, end: datetime,
                    collect: Collector | None = None) -> AsyncIterator[list]:
    from agentchat.csat import service as csat

    departments, agents, tags = await history.names(db)
    ratings = await csat.tallies(db, start=start, end=end)
    if collect is not None:
        collect.extra.update(ratings["total"].out())
    for group, kind, names in (("Agent", "agent", agents), ("Department", "department", departments),
                               ("Tag", "tag", tags)):
        for key, tally in sorted(ratings[kind].items(), key=lambda item: (names.get(item[0]) or "", item[0] or 0)):
            figures = tally.out()
            yield [group, names.get(key, "(none)"), figures["CsatRatings"], figures["CsatAverage"],
                   figures["CsatSatisfied"]]


_CSAT_COLUMNS = ("Group", "Name", "CsatRatings", "CsatAverage", "CsatSatisfied")
_MESSAGE_COLUMNS = ("MessageID", "ChatID", "At", "SenderType", "Agent", "Text", "FileName")
_OCCUPANCY = ("OnlineSeconds", "OccupiedSeconds", "Occupancy", "OnlineSecondsWithinHours",
              "OccupiedSecondsWithinHours", "OccupancyWithinHours")

REPORTS = {report.report_id: report for report in (
    ReportDef("ChatSummary", 1, "Chat summary", "One row per chat created in the period, with its metrics, tags, "
              "department and agent.",
              CHAT_SUMMARY_COLUMNS, _CHAT_SUMMARY_GROUPS, _chat_summary_rows, section="Chats", repeat=("ChatID",),
              figures=CHAT_FIGURES, per_day=CHAT_DAYS),
    ReportDef("AgentPerformance", 2, "Agent performance", "Per agent: the chats they handled (were assigned) among "
              "the chats created in the period, their handle time and the chats' averages; their time Online "
              "in the period and their occupancy.",
              ("AgentID", "Agent", *PERFORMANCE_COLUMNS, *_OCCUPANCY),
              (*_performance_groups(("Agent", ("AgentID", "Agent"))), ("Occupancy", _OCCUPANCY)),
              _agent_rows, section="Agents", repeat=("Agent",),
              figures=(*CHAT_FIGURES, "Agents", "Occupancy"), per_day=CHAT_DAYS),
    ReportDef("DepartmentPerformance", 3, "Department performance", "Per department (the chat's current one): "
              "volumes and average durations of the chats created in the period.",
              ("DepartmentID", "Department", *PERFORMANCE_COLUMNS),
              _performance_groups(("Department", ("DepartmentID", "Department"))), _department_rows,
              section="Departments", repeat=("Department",), figures=(*CHAT_FIGURES, "Departments"),
              per_day=CHAT_DAYS),
    ReportDef("TagUsage", 4, "Tag usage", "Per tag: how many chats created in the period carry it.",
              ("TagID", "Tag", "Chats"), (("Tag", ("TagID", "Tag", "Chats")),), _tag_rows, section="Tags",
              repeat=("Tag",), figures=("Chats", "TaggedChats", "TagsUsed")),
    ReportDef("MessageLog", 5, "Message log", "Every message sent or received in the period.",
              _MESSAGE_COLUMNS, (("Message", _MESSAGE_COLUMNS),),
              _message_rows, section="Messages", repeat=("MessageID",), figures=MESSAGE_FIGURES,
              per_day=MESSAGE_FIGURES),
    ReportDef("Satisfaction", 6, "Customer satisfaction", "The customers' ratings (1-5) of the chats created in "
              "the period, per agent (who closed the chat), per department and per tag.",
              _CSAT_COLUMNS, (("Rating", _CSAT_COLUMNS),), _csat_rows, section="Ratings", repeat=("Group", "Name"),
              figures=("CsatRatings", "CsatAverage", "CsatSatisfied")),
)}


_KEYS_BY_NUMBER = {report.number: key for key, report in REPORTS.items()}


def report_key(value: object) -> object:
    """A report's key from its key or its number (5, "5"); anything else as it is, for validation to judge."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _KEYS_BY_NUMBER.get(value, str(value))
    if isinstance(value, str) and value.strip().isdigit():
        return _KEYS_BY_NUMBER.get(int(value.strip()), value)
    return value


def get_report(report_id: str) -> ReportDef:
    key = report_key(report_id)
    report = REPORTS.get(key) if isinstance(key, str) else None
    if report is None:
        raise NotFound(f"No report has ID {report_id}.", code="report_not_found", field="ReportID")
    return report
