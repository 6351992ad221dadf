from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base


class Mention(Base):
    """An agent named with @ in a colleague's internal note (docs/notes.md)."""

    __tablename__ = "mention"
    __table_args__ = (
        # GetMentions: an agent's mentions, newest first (and the unseen ones).
        Index("ix_mention_agent_id_id", "agent_id", "id"),
        Index("ix_mention_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    by_agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)
