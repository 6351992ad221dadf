"""What each report column means to a person: its label, its kind (duration, ratio, count, ...) and its unit.

The one place the PDF, the XLSX and the e-mail take a column's human name and the way its values are shown from;
the CSV keeps the machine names (the keys) and the raw values.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

ID = "id"
TEXT = "text"
COUNT = "count"
DURATION = "duration"  # whole seconds
RATIO = "ratio"  # a fraction 0..1
MOMENT = "moment"  # a naive UTC datetime, shown in the company's time zone
DAY = "day"  # a local date
FLAG = "flag"  # True / False
SCORE = "score"  # a mean rating such as 4.25

UNITS = {DURATION: "h:mm:ss", RATIO: "%"}
NUMERIC = (ID, COUNT, DURATION, RATIO, SCORE)  # right-aligned


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: str

    @property
    def unit(self) -> str:
        return UNITS.get(self.kind, "")

    @property
    def heading(self) -> str:
        """The label with its unit: "Avg first response (h:mm:ss)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


_WITHIN = "WithinHours"
_WITHIN_LABEL = " in working hours"

# key -> (label, kind). A key ending in WithinHours takes its base key's label with " in working hours".
_KNOWN: dict[str, tuple[str, str]] = {
    "ChatID": ("Chat ID", ID), "Channel": ("Channel", TEXT), "Status": ("Status", TEXT),
    "Department": ("Department", TEXT), "Agent": ("Agent", TEXT), "Tags": ("Tags", TEXT), "Tag": ("Tag", TEXT),
    "Ad": ("From ad", TEXT),
    "CreatedAt": ("Created", MOMENT), "QueuedAt": ("Queued", MOMENT), "FirstAssignedAt": ("First assigned", MOMENT),
    "ClosedAt": ("Closed at", MOMENT),
    "WaitSeconds": ("Wait", DURATION), "FirstResponseSeconds": ("First response", DURATION),
    "ReactionSeconds": ("Reaction", DURATION), "ResponseSeconds": ("Response", DURATION),
    "HandleSeconds": ("Handle time", DURATION), "ResolutionSeconds": ("Resolution", DURATION),
    "ResponseGaps": ("Response gaps", COUNT), "CustomerMessages": ("Customer messages", COUNT),
    "AgentMessages": ("Agent messages", COUNT), "Missed": ("Missed", FLAG), "Abandoned": ("Abandoned", FLAG),
    "AgentID": ("Agent ID", ID), "DepartmentID": ("Department ID", ID), "TagID": ("Tag ID", ID),
    "Chats": ("Chats", COUNT), "ClosedChats": ("Closed", COUNT), "MissedChats": ("Missed", COUNT),
    "AbandonedChats": ("Abandoned", COUNT),
    "AverageWaitSeconds": ("Avg wait", DURATION), "AverageFirstResponseSeconds": ("Avg first response", DURATION),
    "AverageReactionSeconds": ("Avg reaction", DURATION), "AverageResponseSeconds": ("Avg response", DURATION),
    "AverageResolutionSeconds": ("Avg resolution", DURATION),
    "OnlineSeconds": ("Online", DURATION), "OccupiedSeconds": ("Occupied", DURATION),
    "Occupancy": ("Occupancy", RATIO),
    "MessageID": ("Message ID", ID), "At": ("Sent at", MOMENT), "SenderType": ("From", TEXT),
    "Text": ("Text", TEXT), "FileName": ("File", TEXT),
    # Key figures and the per-day section.
    "Date": ("Day", DAY), "Messages": ("Messages", COUNT), "Agents": ("Agents", COUNT),
    "Departments": ("Departments", COUNT), "TagsUsed": ("Tags used", COUNT), "TaggedChats": ("Tagged chats", COUNT),
    "OtherMessages": ("Bot and system messages", COUNT),
    # Customer satisfaction (docs/csat.md).
    "Group": ("Per", TEXT), "Name": ("Name", TEXT), "CsatRatings": ("Ratings", COUNT),
    "CsatAverage": ("Avg rating (1-5)", SCORE), "CsatSatisfied": ("Satisfied (4-5)", RATIO),
}


def column(key: str) -> Column:
    if key in _KNOWN:
        label, kind = _KNOWN[key]
        return Column(key, label, kind)
    if key.endswith(_WITHIN) and key[:-len(_WITHIN)] in _KNOWN:
        label, kind = _KNOWN[key[:-len(_WITHIN)]]
        return Column(key, label + _WITHIN_LABEL, kind)
    raise KeyError(f"no label for report column {key}")


def columns(keys: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple(column(key) for key in keys)


def hms(seconds: float) -> str:
    """1:02:03; hours go past 24 (as Excel's [h]:mm:ss)."""
    whole = int(round(seconds))
    sign = "-" if whole < 0 else ""
    minutes, second = divmod(abs(whole), 60)
    hour, minute = divmod(minutes, 60)
    return f"{sign}{hour}:{minute:02d}:{second:02d}"


def display(col: Column, value, zone: ZoneInfo) -> str:
    """The value as a person reads it: durations h:mm:ss, ratios %, counts with thousands separators, moments in
    the company's time zone. Empty for a value that does not exist (a chat never answered has no response time)."""
    if value is None or value == "":
        return ""
    kind = col.kind
    if kind == DURATION:
        return hms(value)
    if kind == RATIO:
        return f"{value * 100:.1f} %"
    if kind == COUNT:
        return f"{value:,}" if isinstance(value, int) else str(value)
    if kind == SCORE:
        return f"{value:.2f}"
    if kind == MOMENT and isinstance(value, datetime):
        return local(value, zone).strftime("%Y-%m-%d %H:%M")
    if kind == DAY and isinstance(value, date):
        return value.strftime("%a %d %b %Y")
    if kind == FLAG or isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def local(at: datetime, zone: ZoneInfo) -> datetime:
    """Naive UTC (as stored) -> naive wall-clock time in `zone`."""
    return at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)


def period_text(first: date, last: date) -> str:
    if first == last:
        return first.strftime("%a %d %b %Y")
    return f"{first.strftime('%d %b %Y')} to {last.strftime('%d %b %Y')}"
