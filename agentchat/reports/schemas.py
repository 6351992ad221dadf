import re
from typing import Literal

from pydantic import Field, field_validator

from agentchat.compat import WithAliases
from agentchat.contract import ID, EmailAddress, Name, Schema
from agentchat.reports import catalogue

FileFormat = Literal["CSV", "XLSX", "PDF"]
Period = Literal["Day", "Week", "Month"]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ReportOut(Schema):
    report_id: str
    report_number: int
    name: str
    description: str
    file_formats: list[str]


class ReportList(Schema):
    items: list[ReportOut]


class ScheduleOut(Schema):
    schedule_id: int = Field(validation_alias="id")
    recipient_id: int
    report_id: str
    file_format: str
    period: str
    delivery_method: str
    scheduled_days: list[int]
    scheduled_time: str


class RecipientOut(Schema):
    recipient_id: int = Field(validation_alias="id")
    name: str
    email_address: str
    schedules: list[ScheduleOut]


class RecipientList(Schema):
    items: list[RecipientOut]


class CreateRecipientIn(Schema):
    name: Name
    email_address: EmailAddress


class CreateScheduledReportIn(WithAliases):
    # The original's spellings: ScheduledDay, and its misspelling SheduledDay, a single day or a list.
    input_aliases = {"ScheduledDay": "ScheduledDays", "SheduledDay": "ScheduledDays"}
    list_fields = frozenset(("ScheduledDays", "ScheduledDay", "SheduledDay"))

    recipient_id: ID
    report_id: str = Field(min_length=1, max_length=40)
    file_format: FileFormat
    period: Period
    delivery_method: Literal["Email"]
    scheduled_days: list[int] = Field(min_length=1, max_length=7)
    scheduled_time: str = Field(max_length=5)

    @field_validator("report_id", mode="before")
    @classmethod
    def _report_key(cls, value: object) -> object:
        # The original calls a report by its number; ours by its key (GetReports gives both).
        return catalogue.report_key(value)

    @field_validator("scheduled_days")
    @classmethod
    def _days(cls, days: list[int]) -> list[int]:
        if any(day < 1 or day > 7 for day in days):
            raise ValueError("days are 1 (Monday) to 7 (Sunday)")
        if len(set(days)) != len(days):
            raise ValueError("each day at most once")
        return sorted(days)

    @field_validator("scheduled_time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError("must be HH:MM (24-hour)")
        return value


class SendNowIn(Schema):
    schedule_id: ID
