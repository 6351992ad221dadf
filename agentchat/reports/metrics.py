"""Every reported metric, defined once. The live metrics, the dashboard and every report call these.

The definitions (docs/reports.md says the same in words):

- wait: the chat's first entry into a queue -> its first assignment to an agent.
- first response: the first queue entry -> the first message sent by a human agent; bot and system messages
  never count.
- reaction: the first assignment -> the first agent message after it.
- handle: per agent, the sum of the segments in which the chat was assigned to that agent (from the chat's
  history: a segment starts when the chat becomes Assigned to the agent and ends at the next event that
  changes the agent or the status; an open segment runs until the moment of measuring).
- resolution: the chat's creation -> its close (once per chat; open chats have none).
- missed: closed with no agent message at all.
- abandoned in queue: closed while Unassigned (nobody took it).

Durations are in whole seconds; a duration that has not happened (never assigned, never answered) is None
and is left out of averages and percentiles rather than counted as zero.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agentchat.chats.models import ASSIGNED, CLOSED, SENDER_AGENT, UNASSIGNED


@dataclass(frozen=True, slots=True)
class EventFact:
    at: datetime
    type: str
    to_status: str | None
    from_status: str | None
    agent_id: int | None


@dataclass(frozen=True, slots=True)
class MessageFact:
    at: datetime
    sender_type: str
    agent_id: int | None


@dataclass(slots=True)
class ChatMetrics:
    chat_id: int
    channel: str
    status: str
    department_id: int | None
    agent_id: int | None
    created_at: datetime
    closed_at: datetime | None
    queued_at: datetime | None
    first_assigned_at: datetime | None
    wait_seconds: int | None
    first_response_seconds: int | None
    reaction_seconds: int | None
    resolution_seconds: int | None
    handle_seconds: dict[int, int]
    agent_messages: int
    customer_messages: int
    missed: bool
    abandoned: bool
    tag_ids: list[int] = field(default_factory=list)


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def first_queued_at(events: Sequence[EventFact]) -> datetime | None:
    return next((e.at for e in events if e.to_status == UNASSIGNED), None)


def first_assigned_at(events: Sequence[EventFact]) -> datetime | None:
    queued = first_queued_at(events)
    return next((e.at for e in events if e.to_status == ASSIGNED and (queued is None or e.at >= queued)), None)


def first_agent_message_at(messages: Sequence[MessageFact], after: datetime | None) -> datetime | None:
    if after is None:
        return None
    return next((m.at for m in messages if m.sender_type == SENDER_AGENT and m.at >= after), None)


def wait_seconds(events: Sequence[EventFact]) -> int | None:
    return _seconds(first_queued_at(events), first_assigned_at(events))


def first_response_seconds(events: Sequence[EventFact], messages: Sequence[MessageFact]) -> int | None:
    queued = first_queued_at(events)
    return _seconds(queued, first_agent_message_at(messages, queued))


def reaction_seconds(events: Sequence[EventFact], messages: Sequence[MessageFact]) -> int | None:
    assigned = first_assigned_at(events)
    return _seconds(assigned, first_agent_message_at(messages, assigned))


def handle_seconds(events: Sequence[EventFact], *, until: datetime) -> dict[int, int]:
    """Per agent, the time the chat was assigned to them, summed over all their segments."""
    totals: dict[int, int] = {}
    holder: int | None = None
    since: datetime | None = None
    for event in events:
        now_holder = event.agent_id if event.to_status == ASSIGNED else None
        if now_holder == holder:
            continue
        if holder is not None and since is not None:
            totals[holder] = totals.get(holder, 0) + (_seconds(since, event.at) or 0)
        holder, since = now_holder, event.at
    if holder is not None and since is not None:
        totals[holder] = totals.get(holder, 0) + (_seconds(since, max(until, since)) or 0)
    return totals


def resolution_seconds(created_at: datetime, closed_at: datetime | None) -> int | None:
    return _seconds(created_at, closed_at)


def is_missed(status: str, messages: Sequence[MessageFact]) -> bool:
    return status == CLOSED and not any(m.sender_type == SENDER_AGENT for m in messages)


def is_abandoned(events: Sequence[EventFact]) -> bool:
    return any(e.to_status == CLOSED and e.from_status == UNASSIGNED for e in events)


def chat_metrics(*, chat_id: int, channel: str, status: str, department_id: int | None, agent_id: int | None,
                 created_at: datetime, closed_at: datetime | None, events: Sequence[EventFact],
                 messages: Sequence[MessageFact], now: datetime, tag_ids: Iterable[int] = ()) -> ChatMetrics:
    """One chat's metrics from its history (events and messages oldest first)."""
    return ChatMetrics(
        chat_id=chat_id, channel=channel, status=status, department_id=department_id, agent_id=agent_id,
        created_at=created_at, closed_at=closed_at,
        queued_at=first_queued_at(events), first_assigned_at=first_assigned_at(events),
        wait_seconds=wait_seconds(events),
        first_response_seconds=first_response_seconds(events, messages),
        reaction_seconds=reaction_seconds(events, messages),
        resolution_seconds=resolution_seconds(created_at, closed_at),
        handle_seconds=handle_seconds(events, until=closed_at or now),
        agent_messages=sum(1 for m in messages if m.sender_type == SENDER_AGENT),
        customer_messages=sum(1 for m in messages if m.sender_type == "Customer"),
        missed=is_missed(status, messages), abandoned=is_abandoned(events), tag_ids=sorted(tag_ids),
    )


# ---- summaries of many chats ---------------------------------------------------------------------------

DURATIONS = ("wait_seconds", "first_response_seconds", "reaction_seconds", "resolution_seconds")


def percentile(sorted_values: Sequence[int], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def average(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


@dataclass
class Summary:
    """Totals and duration distributions of a set of chats. Durations are kept as integers (8 bytes each)."""

    chats: int = 0
    closed: int = 0
    missed: int = 0
    abandoned: int = 0
    agent_messages: int = 0
    customer_messages: int = 0
    handle_seconds: int = 0
    durations: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in DURATIONS})

    def add(self, chat: ChatMetrics, *, agent_id: int | None = None) -> None:
        self.chats += 1
        self.closed += chat.status == CLOSED
        self.missed += chat.missed
        self.abandoned += chat.abandoned
        self.agent_messages += chat.agent_messages
        self.customer_messages += chat.customer_messages
        if agent_id is None:
            self.handle_seconds += sum(chat.handle_seconds.values())
        else:
            self.handle_seconds += chat.handle_seconds.get(agent_id, 0)
        for name in DURATIONS:
            value = getattr(chat, name)
            if value is not None:
                self.durations[name].append(value)

    def metrics(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for name, values in self.durations.items():
            ordered = sorted(values)
            key = name.removesuffix("_seconds")
            out[f"{key}_average"] = average(ordered)
            out[f"{key}_p50"] = percentile(ordered, 0.5)
            out[f"{key}_p90"] = percentile(ordered, 0.9)
        return out
