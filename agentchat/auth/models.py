from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base


class AgentSession(Base):
    """A logon. Only the SHA-256 of the token is kept, so a database leak yields no usable token."""

    __tablename__ = "agent_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    client_ip: Mapped[str | None] = mapped_column(String(45))


class PasswordResetCode(Base):
    """A single-use code e-mailed for a password reset or a new agent's first password."""

    __tablename__ = "password_reset_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LogonFailure(Base):
    """Failed logons, counted per address and per client IP to throttle guessing."""

    __tablename__ = "logon_failure"
    __table_args__ = (
        Index("ix_logon_failure_email_at", "email_address", "at"),
        Index("ix_logon_failure_ip_at", "client_ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_address: Mapped[str] = mapped_column(String(254))
    client_ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(DateTime)
