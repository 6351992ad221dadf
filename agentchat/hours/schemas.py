import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from agentchat.company.service import CATALOGUE
from agentchat.contract import ID, Schema, UtcTime

_START = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_END = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def minutes(value: str) -> int:
    hours, mins = value.split(":")
    return int(hours) * 60 + int(mins)


def _start(value: str) -> str:
    if not _START.match(value):
        raise ValueError("must be a time of day HH:MM, 00:00 to 23:59")
    return value


def _end(value: str) -> str:
    if not _END.match(value):
        raise ValueError("must be a time of day HH:MM, 00:01 to 24:00")
    return value


def _date(value: str) -> str:
    try:
        if not _DATE.match(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None
    return value


def _time_zone(value: str) -> str:
    return CATALOGUE["TimeZone"][1](value)


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_time_zone)]


class Interval(Schema):
    start: Annotated[str, Field(max_length=5), AfterValidator(_start)]
    end: Annotated[str, Field(max_length=5), AfterValidator(_end)]

    @model_validator(mode="after")
    def _ordered(self):
        if minutes(self.end) <= minutes(self.start):
            # Overnight shifts are written as two intervals, one each side of midnight.
            raise ValueError("End must be after Start; split a shift past midnight into two days")
        return self


def _no_overlap(intervals: list[Interval]) -> list[Interval]:
    ordered = sorted(intervals, key=lambda i: minutes(i.start))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if minutes(after.start) < minutes(before.end):
            raise ValueError(f"intervals {before.start}-{before.end} and {after.start}-{after.end} overlap")
    return ordered


Intervals = Annotated[list[Interval], Field(max_length=24), AfterValidator(_no_overlap)]


class Day(Schema):
    day: int = Field(ge=1, le=7)
    intervals: Intervals


class Holiday(Schema):
    date: Annotated[str, Field(max_length=10), AfterValidator(_date)]
    # Empty: closed all day. Otherwise the day's special hours, instead of the weekly ones.
    intervals: Intervals = []


def _unique_days(days: list[Day]) -> list[Day]:
    seen = [d.day for d in days]
    if len(seen) != len(set(seen)):
        raise ValueError("each day may appear once")
    return sorted(days, key=lambda d: d.day)


def _unique_dates(holidays: list[Holiday]) -> list[Holiday]:
    seen = [h.date for h in holidays]
    if len(seen) != len(set(seen)):
        raise ValueError("each date may appear once")
    return sorted(holidays, key=lambda h: h.date)


class WorkingHoursIn(Schema):
    # For company hours this is the company's TimeZone setting; omitted keeps it. For a department, omitted or
    # null means the company's time zone.
    time_zone: TimeZone | None = None
    department_id: ID | None = None
    days: Annotated[list[Day], Field(max_length=7), AfterValidator(_unique_days)]
    holidays: Annotated[list[Holiday], Field(max_length=400), AfterValidator(_unique_dates)] = []


class WorkingHoursOut(Schema):
    time_zone: str
    department_id: int | None
    days: list[Day]
    holidays: list[Holiday]


class WorkingHoursNow(WorkingHoursOut):
    open_now: bool
    next_opening: UtcTime | None
