from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentchat import clock
from agentchat.db import Base

ROLE_AGENT = 1
ROLE_MANAGER = 2

STATUS_OFFLINE = 1
STATUS_BUSY = 2
STATUS_ON_BREAK = 3
STATUS_ONLINE = 4

DEFAULT_MAX_CONCURRENT_CHATS = 5


class Agent(Base):
    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Stored lowercased so that uniqueness and logon ignore case.
    email_address: Mapped[str] = mapped_column(String(254), unique=True)
    mobile_number: Mapped[str | None] = mapped_column(String(20))
    role_id: Mapped[int] = mapped_column(SmallInteger)
    status_id: Mapped[int] = mapped_column(SmallInteger, default=STATUS_OFFLINE)
    notifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Routing never gives an agent more open chats than this (manual grabs may exceed it).
    max_concurrent_chats: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_MAX_CONCURRENT_CHATS,
                                                      server_default=str(DEFAULT_MAX_CONCURRENT_CHATS))
    # Routing's limits per channel ({"WhatsApp": 2, "WebChat": 4}), within max_concurrent_chats; a channel not
    # named has none of its own.
    max_chats_per_channel: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # When routing last gave the agent a chat: round robin goes to whoever waited longest for one.
    last_routed_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    departments: Mapped[list["AgentDepartment"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgentDepartment.department_id"
    )

    @property
    def department_ids(self) -> list[int]:
        return [link.department_id for link in self.departments]

    @property
    def is_manager(self) -> bool:
        return self.role_id == ROLE_MANAGER


class AgentDepartment(Base):
    __tablename__ = "agent_department"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), primary_key=True, index=True
    )
