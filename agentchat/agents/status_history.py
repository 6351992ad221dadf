"""The history of agents' statuses, for occupancy (time Online): one row per change, written with the change."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base


class AgentStatusEvent(Base):
    """The agent's status became `status_id` at `at` (naive UTC). Before an agent's first row: Offline."""

    __tablename__ = "agent_status_event"
    __table_args__ = (Index("ix_agent_status_event_agent_id_at", "agent_id", "at"),
                      Index("ix_agent_status_event_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


def record(db, *, agent_id: int, status_id: int) -> None:
    """Add the change to the session; it is written with the rest of the transaction that made it."""
    db.add(AgentStatusEvent(agent_id=agent_id, status_id=status_id, at=clock.now()))
