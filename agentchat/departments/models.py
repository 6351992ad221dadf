from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentchat import clock
from agentchat.db import Base


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (
        # Two menu entries answering to the same number would make the bot's menu ambiguous.
        Index(
            "uq_department_menu_option",
            "menu_option",
            unique=True,
            sqlite_where=text("enabled AND include_in_welcome_menu"),
            postgresql_where=text("enabled AND include_in_welcome_menu"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    include_in_welcome_menu: Mapped[bool] = mapped_column(Boolean, default=False)
    welcome_menu_name: Mapped[str | None] = mapped_column(String(100))
    returning_customer_message: Mapped[str | None] = mapped_column(Text)
    new_customer_message: Mapped[str | None] = mapped_column(Text)
    menu_option: Mapped[int | None] = mapped_column(SmallInteger)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Opt-in: queued chats are assigned automatically to Online agents (agentchat.routing).
    routing_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How routing picks among the free agents: "LeastBusy" (fewest open chats) or "RoundRobin" (in turn).
    routing_strategy: Mapped[str] = mapped_column(String(16), default="LeastBusy", server_default="LeastBusy")
    # Opt-in: the customer is asked to rate a chat an agent closed (agentchat.csat).
    csat_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    tags: Mapped[list["DepartmentTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DepartmentTag.tag_id"
    )

    @property
    def tag_ids(self) -> list[int]:
        return [link.tag_id for link in self.tags]


class DepartmentTag(Base):
    """Tags applied automatically to a chat when it enters the department."""

    __tablename__ = "department_tag"

    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True)
