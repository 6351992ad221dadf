"""The service's single source of "now", so tests can move time without sleeping.

All times are naive UTC datetimes in storage; the API renders them with a trailing Z.
"""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + _offset


def travel(delta: timedelta) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
