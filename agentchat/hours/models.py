from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base

COMPANY_SCOPE = "company"


def department_scope(department_id: int) -> str:
    return f"department:{department_id}"


class WorkingHours(Base):
    """One weekly schedule with its holidays: the company's, or a department's own that overrides it.

    A schedule is small and always read whole, so days and holidays are kept as JSON in the contract's
    shape ({"Day": 1, "Intervals": [{"Start": "09:00", "End": "17:00"}]}, {"Date": ..., "Intervals": []}).
    """

    __tablename__ = "working_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "company" or "department:<id>": unique, so two first saves racing cannot make two schedules.
    scope: Mapped[str] = mapped_column(String(32), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    # Department schedules only; None = the company's time zone (the TimeZone setting).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    days: Mapped[list] = mapped_column(JSON)
    holidays: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
