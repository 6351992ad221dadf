from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base


class AuditEntry(Base):
    """Who did what and when: a manager's action or a security event (docs/audit.md). Never a secret."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_actor_at", "actor_agent_id", "at"),
        Index("ix_audit_entry_action_at", "action", "at"),
        Index("ix_audit_entry_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # No foreign key: an entry outlives nothing it names, and agents are never deleted anyway.
    actor_agent_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)
