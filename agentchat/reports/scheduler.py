"""Scheduled reports: find what is due, claim each run in the database, build the file, mail it.

A run is claimed by INSERTing (schedule_id, due_at) into report_run: the UNIQUE key lets exactly one
instance win. Only the latest due time of each schedule is looked at, so after downtime the latest missed
run goes out once and older ones are skipped. A run whose mail failed stays unsent and is retried (by
whichever instance reclaims it first, with a conditional UPDATE) until it is sent or superseded.
"""

import calendar
import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.config import Settings
from agentchat.hours import service as hours
from agentchat.mailer import Attachment, Mail, send_mail
from agentchat.reports import catalogue, renderers
from agentchat.reports import service as reports
from agentchat.reports.digest import compose
from agentchat.reports.models import Recipient, ReportRun, ReportSchedule

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=2)


def latest_due(schedule: ReportSchedule, local_now: datetime) -> datetime | None:
    """The latest local wall-clock time at or before now when the schedule was due."""
    hour, minute = (int(part) for part in schedule.scheduled_time.split(":"))
    for back in range(8):
        day = local_now.date() - timedelta(days=back)
        due = datetime.combine(day, time(hour, minute))
        if day.isoweekday() in schedule.scheduled_days and due <= local_now:
            return due
    return None


def period_days(period: str, due_day: date) -> tuple[date, date]:
    """The local days a report covers: the previous day, the previous 7 days, or the previous month."""
    if period == "Day":
        day = due_day - timedelta(days=1)
        return day, day
    if period == "Week":
        return due_day - timedelta(days=7), due_day - timedelta(days=1)
    last = due_day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last.replace(day=calendar.monthrange(last.year, last.month)[1])


async def build_mail(db: AsyncSession, settings: Settings, schedule: ReportSchedule, recipient: Recipient,
                     due_local: datetime) -> Mail:
    first, last = period_days(schedule.period, due_local.date())
    document = await renderers.open_document(db, catalogue.get_report(schedule.report_id), first, last)
    content = await renderers.render(db, document, schedule.file_format)
    filename = document.filename(schedule.file_format)
    digest = compose(document, schedule, recipient, filename, settings.public_url.rstrip("/") + "/#reports")
    return Mail(to=recipient.email_address, subject=digest.subject, text=digest.text, html=digest.html,
                attachments=[Attachment(filename, content, renderers.MIME_TYPES[schedule.file_format])])


async def send_now(db: AsyncSession, settings: Settings, *, schedule_id: int) -> None:
    """The manual "send now": the period ending today, mailed at once (raises if the mail fails)."""
    from agentchat.reports import schedules

    schedule = await schedules.get_schedule(db, schedule_id)
    recipient = await db.get_one(Recipient, schedule.recipient_id)
    zone = await hours.company_zone(db)
    mail = await build_mail(db, settings, schedule, recipient, reports.to_local(clock.now(), zone))
    await send_mail(settings, mail)


async def run_due_reports(sessionmaker, settings: Settings) -> int:
    """One pass of the scheduler; returns how many reports it sent. Safe to run on many instances at once."""
    async with sessionmaker() as db:
        zone = await hours.company_zone(db)
        local_now = reports.to_local(clock.now(), zone)
        due: list[tuple[int, datetime]] = []
        for schedule in (await db.execute(select(ReportSchedule))).scalars():
            when = latest_due(schedule, local_now)
            created_local = reports.to_local(schedule.created_at, zone)
            if when is not None and when >= created_local.replace(second=0, microsecond=0):
                due.append((schedule.id, when))
    sent = 0
    for schedule_id, due_local in due:
        async with sessionmaker() as db:
            run_id = await _claim(db, schedule_id, reports.to_utc(due_local, zone))
            if run_id is None:
                continue
            sent += await _send_run(db, settings, run_id, schedule_id, due_local)
    return sent


async def _claim(db: AsyncSession, schedule_id: int, due_at: datetime) -> int | None:
    """The run's ID if this instance may send it now: a fresh INSERT, or a stale unsent run reclaimed."""
    now = clock.now()
    try:
        run = ReportRun(schedule_id=schedule_id, due_at=due_at, claimed_at=now, attempts=0)
        db.add(run)
        await db.commit()
        return run.id
    except IntegrityError:
        await db.rollback()
    reclaim = (update(ReportRun)
               .where(ReportRun.schedule_id == schedule_id, ReportRun.due_at == due_at, ReportRun.sent_at.is_(None),
                      ReportRun.claimed_at <= now - RETRY_AFTER)
               .values(claimed_at=now).returning(ReportRun.id))
    run_id = (await db.execute(reclaim)).scalar_one_or_none()
    await db.commit()
    return run_id


async def _send_run(db: AsyncSession, settings: Settings, run_id: int, schedule_id: int, due_local: datetime) -> int:
    schedule = await db.get(ReportSchedule, schedule_id)
    recipient = await db.get(Recipient, schedule.recipient_id) if schedule else None
    if schedule is None or recipient is None:
        return 0
    try:
        mail = await build_mail(db, settings, schedule, recipient, due_local)
        await db.rollback()
        await send_mail(settings, mail)
    except Exception as exc:
        await db.rollback()
        log.warning("scheduled report %s not sent (will retry): %s", schedule_id, exc)
        await db.execute(update(ReportRun).where(ReportRun.id == run_id)
                         .values(attempts=ReportRun.attempts + 1, last_error=str(exc)[:1000]))
        await db.commit()
        return 0
    await db.execute(update(ReportRun).where(ReportRun.id == run_id)
                     .values(sent_at=clock.now(), attempts=ReportRun.attempts + 1))
    await db.commit()
    return 1
