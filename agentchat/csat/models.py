"""Customer satisfaction: one rating asked for per chat, answered at most once (docs/csat.md)."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from agentchat.db import Base


class ChatRating(Base):
    __tablename__ = "chat_rating"
    __table_args__ = (Index("ix_chat_rating_customer", "customer_id", "requested_at"),)

    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    # 1 (poor) to 5 (excellent); null until the customer answers.
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    comment: Mapped[str | None] = mapped_column(String(1000))
