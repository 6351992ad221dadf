"""Recipients and their scheduled reports."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.contract import NotFound
from agentchat.reports import catalogue
from agentchat.reports.models import Recipient, ReportSchedule


async def create_recipient(db: AsyncSession, *, name: str, email_address: str) -> Recipient:
    recipient = Recipient(name=name, email_address=email_address, schedules=[])
    db.add(recipient)
    await db.flush()
    return recipient


async def list_recipients(db: AsyncSession) -> list[Recipient]:
    return list((await db.execute(select(Recipient).order_by(Recipient.id))).scalars())


async def get_recipient(db: AsyncSession, recipient_id: int) -> Recipient:
    recipient = await db.get(Recipient, recipient_id)
    if recipient is None:
        raise NotFound(f"No recipient has ID {recipient_id}.", code="recipient_not_found", field="RecipientID")
    return recipient


async def delete_recipient(db: AsyncSession, *, recipient_id: int) -> None:
    """The recipient's schedules (and their runs) go with it."""
    recipient = await get_recipient(db, recipient_id)
    await db.delete(recipient)
    await db.flush()


async def create_schedule(db: AsyncSession, *, recipient_id: int, report_id: str, file_format: str, period: str,
                          delivery_method: str, scheduled_days: list[int], scheduled_time: str) -> ReportSchedule:
    recipient = await get_recipient(db, recipient_id)
    catalogue.get_report(report_id)
    schedule = ReportSchedule(recipient_id=recipient.id, report_id=report_id, file_format=file_format,
                              period=period, delivery_method=delivery_method, scheduled_days=scheduled_days,
                              scheduled_time=scheduled_time)
    db.add(schedule)
    await db.flush()
    return schedule


async def get_schedule(db: AsyncSession, schedule_id: int) -> ReportSchedule:
    schedule = await db.get(ReportSchedule, schedule_id)
    if schedule is None:
        raise NotFound(f"No scheduled report has ID {schedule_id}.", code="schedule_not_found", field="ScheduleID")
    return schedule


async def delete_schedule(db: AsyncSession, *, schedule_id: int) -> None:
    await db.delete(await get_schedule(db, schedule_id))
    await db.flush()
