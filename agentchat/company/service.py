"""Company settings: a fixed catalogue of keys with types and defaults, stored as key/value rows."""

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.company.models import Setting
from agentchat.contract import Invalid


def _text(max_length: int) -> Callable[[Any], Any]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be text")
        value = value.strip()
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value

    return check


def _non_empty_text(max_length: int) -> Callable[[Any], Any]:
    base = _text(max_length)

    def check(value: Any) -> str:
        value = base(value)
        if not value:
            raise ValueError("must not be empty")
        return value

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24 * 60:
        raise ValueError("must be a whole number of minutes from 0 to 1440")
    return value


def _retention_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ValueError("must be a whole number of days from 1 to 3650")
    return value


def _hours(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 30:
        raise ValueError("must be a whole number of hours from 1 to 720")
    return value


def _time_zone(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError("must be an IANA time zone name such as Africa/Johannesburg")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone name such as Africa/Johannesburg") from exc
    return value


def _colour(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError("must be a colour written #rrggbb, such as #0b5cad")
    return value.lower()


# key -> (default, validator); the order here is the order GetSettings answers in.
CATALOGUE: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "CompanyName": ("AgentChat", _non_empty_text(100)),
    "TimeZone": ("UTC", _time_zone),
    # Not in the original's list: the bot's greeting before its menu (the POPIA notice for new customers).
    "WelcomeMessageNewCustomer": (
        "Welcome! We keep your name, number and this conversation to help you, as the Protection of Personal "
        "Information Act (POPIA) allows; ask us any time to see or erase it. How can we help you today?",
        _non_empty_text(4096)),
    "WelcomeMessageReturningCustomer": ("Welcome back! How can we help you today?", _non_empty_text(4096)),
    "OutOfHoursMessage": (
        "Thank you for your message. We are closed right now; we will answer when we open again.",
        _non_empty_text(4096)),
    # Out of hours the bot still queues the chat for the next opening (true) or closes it (false).
    "QueueOutOfHours": (True, _bool),
    "QueuedMessage": (
        "Thank you. You are number {Position} in the queue; an agent will be with you shortly.",
        _non_empty_text(4096)),
    "InvalidOptionMessage": ("Sorry, that is not one of the options. Please reply with the number of your choice.",
                             _non_empty_text(4096)),
    "ChatClosedMessage": ("This chat has been closed. Thank you for contacting us.", _non_empty_text(4096)),
    "SendChatClosedMessage": (True, _bool),
    "UnassignedChatsWaitingMinutes": (5, _minutes),
    # The web chat's accent colour (its header, buttons and launcher); white text must read on it.
    "WebChatColour": ("#0b5cad", _colour),
    # How long the audit log keeps an entry (docs/audit.md); older ones are purged by a job.
    "AuditLogRetentionDays": (365, _retention_days),
    # CSAT (docs/csat.md), in departments with CsatEnabled: the question after close, and how long an answer counts.
    "CsatQuestion": ("How would you rate the help you received? 5 is excellent, 1 is poor.", _non_empty_text(1024)),
    "CsatAnswerHours": (24, _hours),
}


async def get_settings(db: AsyncSession) -> dict[str, Any]:
    stored = {row.key: row.value for row in (await db.execute(select(Setting))).scalars()}
    return {key: stored.get(key, default) for key, (default, _check) in CATALOGUE.items()}


async def get_setting(db: AsyncSession, key: str) -> Any:
    row = await db.get(Setting, key)
    return row.value if row is not None else CATALOGUE[key][0]


def check_settings(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Validate the contract's list of one-key objects; all of it or nothing."""
    changes: dict[str, Any] = {}
    for item in items:
        if len(item) != 1:
            raise Invalid("Each entry of Settings holds exactly one key.", code="invalid_setting", field="Settings")
        (key, value), = item.items()
        if key not in CATALOGUE:
            raise Invalid(f"{key} is not a known setting.", code="unknown_setting", field=key)
        try:
            changes[key] = CATALOGUE[key][1](value)
        except ValueError as exc:
            raise Invalid(f"{key} {exc}.", code="invalid_setting", field=key) from exc
    return changes


async def update_settings(db: AsyncSession, items: list[dict[str, Any]]) -> dict[str, Any]:
    for key, value in check_settings(items).items():
        row = await db.get(Setting, key)
        if row is None:
            db.add(Setting(key=key, value=value))
        else:
            row.value = value
    await db.flush()
    return await get_settings(db)
