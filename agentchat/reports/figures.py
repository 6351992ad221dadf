"""A report's key figures and its per-day series, gathered while its rows are produced (one pass over the chats).

Only counts and sums are kept (no list of durations), so gathering them keeps a long report's memory flat. The
averages are the same as reports.metrics.average over the same chats' values.
"""

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from agentchat.chats.models import CLOSED, SENDER_AGENT, SENDER_CUSTOMER
from agentchat.reports.columns import Column, column, local
from agentchat.reports.metrics import ChatMetrics

# Average<X>Seconds -> the ChatMetrics duration it averages.
_AVERAGED = {"AverageWaitSeconds": "wait", "AverageFirstResponseSeconds": "first_response",
             "AverageResolutionSeconds": "resolution"}

CHAT_FIGURES = ("Chats", "ClosedChats", "MissedChats", "AbandonedChats", "AverageWaitSeconds",
                "AverageFirstResponseSeconds", "AverageResolutionSeconds")
CHAT_DAYS = ("Chats", "ClosedChats", "MissedChats", "AverageWaitSeconds", "AverageFirstResponseSeconds")
MESSAGE_FIGURES = ("Messages", "CustomerMessages", "AgentMessages", "OtherMessages")


class Tally:
    """Counts (by column key) and duration sums of a set of chats or messages."""

    __slots__ = ("counts", "sums", "measured")

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.sums: dict[str, int] = defaultdict(int)
        self.measured: dict[str, int] = defaultdict(int)

    def add_chat(self, chat: ChatMetrics) -> None:
        counts = self.counts
        counts["Chats"] += 1
        counts["ClosedChats"] += chat.status == CLOSED
        counts["MissedChats"] += chat.missed
        counts["AbandonedChats"] += chat.abandoned
        counts["AgentMessages"] += chat.agent_messages
        counts["CustomerMessages"] += chat.customer_messages
        for key, name in _AVERAGED.items():
            if (value := chat.raw[name]) is not None:
                self.sums[key] += value
                self.measured[key] += 1

    def add_message(self, sender_type: str) -> None:
        self.counts["Messages"] += 1
        key = {SENDER_CUSTOMER: "CustomerMessages", SENDER_AGENT: "AgentMessages"}.get(sender_type, "OtherMessages")
        self.counts[key] += 1

    def value(self, key: str) -> float | int | None:
        if key in _AVERAGED:
            count = self.measured.get(key, 0)
            return round(self.sums[key] / count, 1) if count else None
        return self.counts.get(key, 0)


class Collector:
    """Handed to a report's rows: the totals, one tally per local day, and figures only the report knows
    (`extra`: agents, occupancy, tags used...)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.total = Tally()
        self.per_day: dict[date, Tally] = defaultdict(Tally)
        self.extra: dict[str, object] = {}

    def add_chat(self, chat: ChatMetrics) -> None:
        self.total.add_chat(chat)
        self.per_day[local(chat.created_at, self.zone).date()].add_chat(chat)

    def add_message(self, at: datetime, sender_type: str) -> None:
        self.total.add_message(sender_type)
        self.per_day[local(at, self.zone).date()].add_message(sender_type)

    def figures(self, keys: tuple[str, ...]) -> list[tuple[Column, object]]:
        return [(column(key), self.extra[key] if key in self.extra else self.total.value(key)) for key in keys]

    def day_rows(self, keys: tuple[str, ...], first: date, last: date) -> list[list]:
        """Every day of the period (days without chats too), oldest first."""
        rows = []
        day = first
        while day <= last:
            tally = self.per_day.get(day) or Tally()
            rows.append([day, *(tally.value(key) for key in keys)])
            day = date.fromordinal(day.toordinal() + 1)
        return rows
