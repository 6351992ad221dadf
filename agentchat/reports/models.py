"""Report recipients, their schedules, and the claimed runs that make each due report go out once."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentchat import clock
from agentchat.db import Base


class Recipient(Base):
    __tablename__ = "report_recipient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email_address: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    schedules: Mapped[list["ReportSchedule"]] = relationship(
        back_populates="recipient", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        order_by="ReportSchedule.id")


class ReportSchedule(Base):
    __tablename__ = "report_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("report_recipient.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[str] = mapped_column(String(40))
    file_format: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(8))
    delivery_method: Mapped[str] = mapped_column(String(16))
    # ISO weekdays, Monday = 1.
    scheduled_days: Mapped[list[int]] = mapped_column(JSON)
    # "HH:MM" in the company time zone.
    scheduled_time: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    recipient: Mapped[Recipient] = relationship(back_populates="schedules")


class ReportRun(Base):
    """One due sending of a schedule. Inserting the row claims it: the UNIQUE key lets one instance win."""

    __tablename__ = "report_run"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("report_schedule.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
