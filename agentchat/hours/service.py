"""Working hours: the company's weekly schedule and holidays, departments' own, and "open now? next opening?".

Times of day are wall-clock times in the schedule's IANA time zone, so a 09:00 opening stays at 09:00 across
daylight-saving changes. Stored times elsewhere are naive UTC, like clock.now().
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.company import service as company
from agentchat.departments import service as departments
from agentchat.hours.models import COMPANY_SCOPE, WorkingHours, department_scope
from agentchat.hours.schemas import WorkingHoursIn, minutes

# How far ahead next_opening looks: two weeks covers a long holiday closure.
SEARCH_DAYS = 14

Span = tuple[int, int]  # minutes from local midnight, [start, end)


@dataclass
class Schedule:
    """A schedule ready to answer questions; `row` is None when none is configured (always open)."""

    zone: ZoneInfo
    row: WorkingHours | None = None
    weekly: dict[int, list[Span]] = field(default_factory=dict)
    holidays: dict[date, list[Span]] = field(default_factory=dict)
    _day_instants: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, row: WorkingHours | None, zone: ZoneInfo) -> "Schedule":
        if row is None:
            return cls(zone=zone)
        return cls(zone=zone, row=row,
                   weekly={d["Day"]: _spans(d["Intervals"]) for d in row.days},
                   holidays={date.fromisoformat(h["Date"]): _spans(h["Intervals"]) for h in row.holidays})

    def spans_on(self, day: date) -> list[Span]:
        if day in self.holidays:
            return self.holidays[day]
        return self.weekly.get(day.isoweekday(), [])

    def open_at(self, at: datetime) -> bool:
        if self.row is None:
            return True
        local = _local(at, self.zone)
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(start * 60 <= second < end * 60 for start, end in self.spans_on(local.date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment at or after `at` when open; None if not within SEARCH_DAYS."""
        if self.open_at(at):
            return at
        today = _local(at, self.zone).date()
        for offset in range(SEARCH_DAYS + 1):
            day = today + timedelta(days=offset)
            for start, _end in self.spans_on(day):
                opening = _first_instant(datetime.combine(day, time()) + timedelta(minutes=start), self.zone)
                # A span wholly inside a skipped DST hour never opens: the check below drops it.
                if opening > at and self.open_at(opening):
                    return opening
        return None

    def open_seconds(self, start: datetime, end: datetime) -> int:
        """Whole seconds (fractions dropped) of [start, end) (naive UTC) that fall within the working hours."""
        return int(sum((closes - opens).total_seconds() for opens, closes in self.open_intervals(start, end)))

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The parts of [start, end) (naive UTC) within the working hours, in order.

        Each local day's spans become real instants (DST-correct: a day with a skipped hour has a shorter
        span, one with a repeated hour a longer one); holidays replace their day's spans. With no hours
        configured all of it is open.
        """
        if end <= start:
            return []
        if self.row is None:
            return [(start, end)]
        parts = []
        day, last = _local(start, self.zone).date() - timedelta(days=1), _local(end, self.zone).date()
        while day <= last:
            for opens, closes in self._instants(day):
                if min(end, closes) > max(start, opens):
                    parts.append((max(start, opens), min(end, closes)))
            day += timedelta(days=1)
        return parts

    def _instants(self, day: date) -> list[tuple[datetime, datetime]]:
        cached = self._day_instants.get(day)
        if cached is None:
            midnight = datetime.combine(day, time())
            cached = [(_first_instant(midnight + timedelta(minutes=start), self.zone),
                       _first_instant(midnight + timedelta(minutes=end), self.zone))
                      for start, end in self.spans_on(day)]
            if len(self._day_instants) > 4096:
                self._day_instants.clear()
            self._day_instants[day] = cached
        return cached


def _spans(intervals: list[dict]) -> list[Span]:
    return sorted((minutes(i["Start"]), minutes(i["End"])) for i in intervals)


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    return at.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _first_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC moment (naive) at which the local clock shows `wall` or later.

    A wall time repeated when clocks go back is its first occurrence; one skipped when clocks go forward is
    the moment of the jump (01:30 in London on the last Sunday of March is 01:00 UTC, 02:00 BST).
    """
    candidates = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC).replace(tzinfo=None)
                        for fold in (0, 1))
    low, high = candidates
    if _local(low, zone) == wall:
        return low
    # In a gap: the clock shows less than `wall` at `low` and more at `high`; find the second it jumped.
    before, after = 0, int((high - low).total_seconds())
    while after - before > 1:
        middle = (before + after) // 2
        if _local(low + timedelta(seconds=middle), zone) >= wall:
            after = middle
        else:
            before = middle
    return low + timedelta(seconds=after)


# ---- reading -----------------------------------------------------------------------------------------


async def company_zone(db: AsyncSession) -> ZoneInfo:
    return ZoneInfo(await company.get_setting(db, "TimeZone"))


async def _row(db: AsyncSession, scope: str) -> WorkingHours | None:
    return (await db.execute(select(WorkingHours).where(WorkingHours.scope == scope))).scalar_one_or_none()


async def schedule_for(db: AsyncSession, *, department_id: int | None) -> Schedule:
    """The schedule that applies: the department's own if it has one, else the company's."""
    if department_id is not None:
        own = await _row(db, department_scope(department_id))
        if own is not None:
            zone = ZoneInfo(own.time_zone) if own.time_zone else await company_zone(db)
            return Schedule.of(own, zone)
    return Schedule.of(await _row(db, COMPANY_SCOPE), await company_zone(db))


async def is_open(db: AsyncSession, *, department_id: int | None, at: datetime) -> bool:
    """Open at `at` (naive UTC)? With no hours configured the service is always open."""
    return (await schedule_for(db, department_id=department_id)).open_at(at)


async def next_opening(db: AsyncSession, *, department_id: int | None, at: datetime) -> datetime | None:
    """The first moment at or after `at` when open (`at` itself if open); None if none within 14 days."""
    return (await schedule_for(db, department_id=department_id)).next_opening(at)


async def open_seconds(db: AsyncSession, *, department_id: int | None, start: datetime, end: datetime) -> int:
    """Seconds of [start, end) (naive UTC) within the working hours that apply to the department (or company)."""
    return (await schedule_for(db, department_id=department_id)).open_seconds(start, end)


async def get_working_hours(db: AsyncSession, *, department_id: int | None) -> Schedule:
    if department_id is not None:
        await departments.get_department(db, department_id)
    return await schedule_for(db, department_id=department_id)


# ---- changing ------------------------------------------------------------------------------------------


async def update_working_hours(db: AsyncSession, data: WorkingHoursIn) -> Schedule:
    """Replace the company's (DepartmentID null) or a department's schedule with the one given."""
    days = [d.model_dump(by_alias=True) for d in data.days]
    holidays = [h.model_dump(by_alias=True) for h in data.holidays]
    if data.department_id is None:
        scope, time_zone = COMPANY_SCOPE, None
        if data.time_zone is not None:
            await company.update_settings(db, [{"TimeZone": data.time_zone}])
    else:
        await departments.get_department(db, data.department_id)
        scope, time_zone = department_scope(data.department_id), data.time_zone
    row = await _row(db, scope)
    if row is None:
        try:
            async with db.begin_nested():
                row = WorkingHours(scope=scope, department_id=data.department_id, days=days, holidays=holidays,
                                   time_zone=time_zone, updated_at=clock.now())
                db.add(row)
        except IntegrityError:
            # A concurrent first save made the row: this save, the later one, replaces it.
            found = await _row(db, scope)
            if found is None:  # and deleted again since: nothing to replace after all
                raise
            row = found
    row.days, row.holidays, row.time_zone, row.updated_at = days, holidays, time_zone, clock.now()
    await db.flush()
    return await schedule_for(db, department_id=data.department_id)


async def delete_working_hours(db: AsyncSession, *, department_id: int | None) -> None:
    """Drop a schedule: a department goes back to the company's hours; the company's means always open."""
    if department_id is not None:
        await departments.get_department(db, department_id)
    scope = COMPANY_SCOPE if department_id is None else department_scope(department_id)
    await db.execute(delete(WorkingHours).where(WorkingHours.scope == scope))
