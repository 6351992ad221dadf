"""Every reported metric, defined once. The live metrics, the dashboard and every report call these.

The definitions (docs/reports.md says the same in words):

- wait: the chat's first entry into a queue -> its first assignment to an agent.
- first response: the first queue entry -> the first message sent by a human agent; bot and system messages
  never count.
- reaction: the first assignment -> the first agent message after it.
- response: the mean of the chat's response gaps. Walking the chat's Customer and Agent messages in order
  (Bot and System messages are not looked at), a gap opens at a customer message when none is open and
  closes at the next agent message; further customer messages while a gap is open do not restart it (a run
  of customer messages counts from the first unanswered one). A customer message sent before the chat's
  first queue entry (while the bot was talking) counts as sent at that entry. An agent message with no open
  gap closes nothing; a gap still open at the end (never answered) is not counted.
- handle: per agent, the sum of the segments in which the chat was assigned to that agent (from the chat's
  history: a segment starts when the chat becomes Assigned to the agent and ends at the next event that
  changes the agent or the status; an open segment runs until the moment of measuring).
- resolution: the chat's creation -> its close (once per chat; open chats have none).
- missed: closed with no agent message at all.
- abandoned in queue: closed while Unassigned (nobody took it).
- occupancy (per agent, over a period): the time the agent was Online (StatusID 4, from agent_status_event)
  and had at least one chat assigned, divided by the time the agent was Online.

Every duration is also measured within working hours: the same start and end, counting only the seconds
inside the working hours of the chat's department (or the company's), holidays and DST included
(hours.Schedule.open_seconds). Response time within hours is the mean of the gaps' within-hours seconds.

Durations are in whole seconds (fractions dropped); a duration that has not happened (never assigned, never
answered) is None and is left out of averages and percentiles rather than counted as zero.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, overload

from agentchat.chats.models import ASSIGNED, CLOSED, SENDER_AGENT, SENDER_CUSTOMER, UNASSIGNED

Interval = tuple[datetime, datetime]


class Hours(Protocol):
    """What the metrics need of working hours (hours.service.Schedule has it)."""

    def open_seconds(self, start: datetime, end: datetime) -> int: ...


# Tuples, not dataclasses: a report builds one per event and message read (hundreds of thousands).
class EventFact(NamedTuple):
    at: datetime
    to_status: str | None
    from_status: str | None
    agent_id: int | None


class MessageFact(NamedTuple):
    at: datetime
    sender_type: str
    agent_id: int | None


# The per-chat durations, each reported raw and within working hours.
DURATIONS = ("wait", "first_response", "reaction", "response", "resolution")


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
    # DURATIONS -> seconds (None: did not happen), raw and within working hours.
    raw: dict[str, int | None]
    within_hours: dict[str, int | None]
    handle_seconds: dict[int, int]
    handle_seconds_within_hours: dict[int, int]
    response_gaps: int
    agent_messages: int
    customer_messages: int
    missed: bool
    abandoned: bool
    tag_ids: list[int] = field(default_factory=list)
    # The click-to-WhatsApp ad the chat came from, in words ("headline · source URL"), or "".
    ad: str = ""

    # Shorthands for the raw durations.
    @property
    def wait_seconds(self) -> int | None:
        return self.raw["wait"]

    @property
    def first_response_seconds(self) -> int | None:
        return self.raw["first_response"]

    @property
    def reaction_seconds(self) -> int | None:
        return self.raw["reaction"]

    @property
    def response_seconds(self) -> int | None:
        return self.raw["response"]

    @property
    def resolution_seconds(self) -> int | None:
        return self.raw["resolution"]


@overload
def _seconds(start: datetime, end: datetime) -> int: ...
@overload
def _seconds(start: datetime | None, end: datetime | None) -> int | None: ...
def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def _within(hours: Hours, start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return hours.open_seconds(start, end)


def _event_moments(events: Sequence[EventFact]) -> tuple[datetime | None, datetime | None, bool]:
    """(first queue entry, first assignment at or after it, abandoned in queue) from the chat's events."""
    queued: datetime | None = None
    abandoned = False
    for event in events:
        if event.to_status == UNASSIGNED:
            if queued is None:
                queued = event.at
        elif event.to_status == CLOSED and event.from_status == UNASSIGNED:
            abandoned = True
    assigned: datetime | None = None
    for event in events:
        # An assignment before the first queue entry (in the events' order, at the same moment) still counts.
        if event.to_status == ASSIGNED and (queued is None or event.at >= queued):
            assigned = event.at
            break
    return queued, assigned, abandoned


class _MessageMoments(NamedTuple):
    answered: datetime | None  # first agent message at or after the first queue entry (first response)
    reacted: datetime | None  # first agent message at or after the first assignment (reaction)
    gaps: list[Interval]  # the response gaps, see the module docstring
    agent_messages: int
    customer_messages: int


def _message_moments(messages: Sequence[MessageFact], queued: datetime | None,
                     assigned: datetime | None) -> _MessageMoments:
    """The first responses, the response gaps and the counts, in one walk over the chat's messages."""
    answered = reacted = opened = None
    gaps: list[Interval] = []
    agents = customers = 0
    for message in messages:
        if message.sender_type == SENDER_AGENT:
            agents += 1
            at = message.at
            if answered is None and queued is not None and at >= queued:
                answered = at
            if reacted is None and assigned is not None and at >= assigned:
                reacted = at
            if opened is not None:
                gaps.append((opened, max(opened, at)))
                opened = None
        elif message.sender_type == SENDER_CUSTOMER:
            customers += 1
            if opened is None:
                # A run of customer messages counts from its first; one sent before the queue entry, from the entry.
                opened = max(message.at, queued) if queued is not None else message.at
    return _MessageMoments(answered, reacted, gaps, agents, customers)


def mean_seconds(values: Sequence[int]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def assignment_segments(events: Sequence[EventFact], *, until: datetime) -> list[tuple[int, datetime, datetime]]:
    """(agent, from, to) for each stretch during which the chat was Assigned to one agent."""
    segments: list[tuple[int, datetime, datetime]] = []
    holder: int | None = None
    since: datetime | None = None
    for event in events:
        now_holder = event.agent_id if event.to_status == ASSIGNED else None
        if now_holder == holder:
            continue
        if holder is not None and since is not None:
            segments.append((holder, since, max(since, event.at)))
        holder, since = now_holder, event.at
    if holder is not None and since is not None:
        segments.append((holder, since, max(until, since)))
    return segments


def _handle_seconds(segments: Iterable[tuple[int, datetime, datetime]], hours: Hours | None) -> dict[int, int]:
    """Per agent, the time the chat was assigned to them, summed over all their segments."""
    totals: dict[int, int] = {}
    for agent_id, start, end in segments:
        seconds = hours.open_seconds(start, end) if hours is not None else _seconds(start, end) or 0
        totals[agent_id] = totals.get(agent_id, 0) + seconds
    return totals


def chat_metrics(*, chat_id: int, channel: str, status: str, department_id: int | None, agent_id: int | None,
                 created_at: datetime, closed_at: datetime | None, events: Sequence[EventFact],
                 messages: Sequence[MessageFact], now: datetime, tag_ids: Iterable[int] = (),
                 hours: Hours | None = None) -> ChatMetrics:
    """One chat's metrics from its history (events and messages oldest first), raw and within `hours`.

    `hours` None means no working hours (always open): every within-hours figure equals the raw one, and is
    copied rather than computed again (a report runs this for every chat in its period)."""
    queued, assigned, abandoned = _event_moments(events)
    answered, reacted, gaps, agent_messages, customer_messages = _message_moments(messages, queued, assigned)
    segments = assignment_segments(events, until=closed_at or now)
    raw = {"wait": _seconds(queued, assigned), "first_response": _seconds(queued, answered),
           "reaction": _seconds(assigned, reacted), "response": mean_seconds([_seconds(a, b) for a, b in gaps]),
           "resolution": _seconds(created_at, closed_at)}
    handle = _handle_seconds(segments, None)
    if hours is None:
        within, handle_within = dict(raw), dict(handle)
    else:
        within = {"wait": _within(hours, queued, assigned), "first_response": _within(hours, queued, answered),
                  "reaction": _within(hours, assigned, reacted),
                  "response": mean_seconds([hours.open_seconds(a, b) for a, b in gaps]),
                  "resolution": _within(hours, created_at, closed_at)}
        handle_within = _handle_seconds(segments, hours)
    return ChatMetrics(
        chat_id=chat_id, channel=channel, status=status, department_id=department_id, agent_id=agent_id,
        created_at=created_at, closed_at=closed_at, queued_at=queued, first_assigned_at=assigned,
        raw=raw, within_hours=within, handle_seconds=handle, handle_seconds_within_hours=handle_within,
        response_gaps=len(gaps), agent_messages=agent_messages, customer_messages=customer_messages,
        missed=status == CLOSED and not agent_messages, abandoned=abandoned, tag_ids=sorted(tag_ids),
    )


# ---- occupancy -------------------------------------------------------------------------------------------

def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals, as sorted disjoint intervals."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersection(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """What two sorted disjoint interval lists both cover, as sorted disjoint intervals."""
    both, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            both.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return both


def covered_seconds(intervals: Iterable[Interval]) -> float:
    return sum((end - start).total_seconds() for start, end in intervals)


def status_intervals(initial: int | None, changes: Sequence[tuple[datetime, int]], *, start: datetime,
                     end: datetime, status: int) -> list[Interval]:
    """When, within [start, end), the agent had `status`: from the status held at `start` and the changes."""
    intervals: list[Interval] = []
    current, since = initial, start
    for at, new in changes:
        at = min(max(at, start), end)
        if current == status and at > since:
            intervals.append((since, at))
        current, since = new, at
    if current == status and end > since:
        intervals.append((since, end))
    return merge(intervals)


@dataclass(frozen=True, slots=True)
class Occupancy:
    online_seconds: int
    occupied_seconds: int
    # The same two counted only within working hours (equal to them when no hours apply).
    online_seconds_within_hours: int
    occupied_seconds_within_hours: int

    @property
    def ratio(self) -> float | None:
        return _ratio(self.occupied_seconds, self.online_seconds)

    @property
    def ratio_within_hours(self) -> float | None:
        return _ratio(self.occupied_seconds_within_hours, self.online_seconds_within_hours)

    def __add__(self, other: "Occupancy") -> "Occupancy":
        return Occupancy(self.online_seconds + other.online_seconds, self.occupied_seconds + other.occupied_seconds,
                         self.online_seconds_within_hours + other.online_seconds_within_hours,
                         self.occupied_seconds_within_hours + other.occupied_seconds_within_hours)


NO_OCCUPANCY = Occupancy(0, 0, 0, 0)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def occupancy(online: Sequence[Interval], assigned: Iterable[Interval], hours: Hours | None = None) -> Occupancy:
    """Online time, and the part of it with at least one chat assigned (overlapping chats count once); both also
    within `hours` (None: no working hours apply, every second counts)."""
    online = merge(online)
    occupied = intersection(online, merge(assigned))
    online_seconds, occupied_seconds = int(covered_seconds(online)), int(covered_seconds(occupied))
    if hours is None:
        return Occupancy(online_seconds, occupied_seconds, online_seconds, occupied_seconds)
    return Occupancy(online_seconds, occupied_seconds, sum(hours.open_seconds(a, b) for a, b in online),
                     sum(hours.open_seconds(a, b) for a, b in occupied))


# ---- summaries of many chats ---------------------------------------------------------------------------

def percentile(sorted_values: Sequence[int], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def average(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def metric_names(name: str, within_hours: bool) -> tuple[str, str, str]:
    """("wait", False) -> AverageWaitSeconds, WaitSecondsP50, WaitSecondsP90 (the dashboard's keys)."""
    base = "".join(part.capitalize() for part in name.split("_")) + "Seconds"
    if within_hours:
        base += "WithinHours"
    return f"Average{base}", f"{base}P50", f"{base}P90"


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
    handle_seconds_within_hours: int = 0
    durations: dict[tuple[str, bool], list[int]] = field(
        default_factory=lambda: {(name, within): [] for name in DURATIONS for within in (False, True)})

    def add(self, chat: ChatMetrics, *, agent_id: int | None = None) -> None:
        self.chats += 1
        self.closed += chat.status == CLOSED
        self.missed += chat.missed
        self.abandoned += chat.abandoned
        self.agent_messages += chat.agent_messages
        self.customer_messages += chat.customer_messages
        if agent_id is None:
            self.handle_seconds += sum(chat.handle_seconds.values())
            self.handle_seconds_within_hours += sum(chat.handle_seconds_within_hours.values())
        else:
            self.handle_seconds += chat.handle_seconds.get(agent_id, 0)
            self.handle_seconds_within_hours += chat.handle_seconds_within_hours.get(agent_id, 0)
        for (name, within), values in self.durations.items():
            value = (chat.within_hours if within else chat.raw)[name]
            if value is not None:
                values.append(value)

    def metrics(self) -> dict[str, float | None]:
        """AverageWaitSeconds, WaitSecondsP50, WaitSecondsP90, ... and the same ...WithinHours."""
        out: dict[str, float | None] = {}
        for (name, within), values in self.durations.items():
            ordered = sorted(values)
            mean, p50, p90 = metric_names(name, within)
            out[mean] = average(ordered)
            out[p50] = percentile(ordered, 0.5)
            out[p90] = percentile(ordered, 0.9)
        return out
