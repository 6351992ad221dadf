"""The service's single source of "now", so tests can move time without sleeping.

All times are naive UTC datetimes in storage; the API renders them with a trailing Z.
"""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
# A test that sums durations exactly stops the clock, or the real time its calls take (a second or more on a
# loaded machine) would count too.
_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen + _offset
    return datetime.now(UTC).replace(tzinfo=None) + _offset


def travel(delta: timedelta) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += delta


def freeze() -> None:
    """Stop the clock where it is; only travel() moves it until reset() (tests only)."""
    global _frozen
    _frozen = datetime.now(UTC).replace(tzinfo=None)


def reset() -> None:
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None
