from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base


class Customer(Base):
    """Someone who writes to the business, on WhatsApp (by phone number) or the web chat (by visitor token)."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    # WhatsApp's wa_id: digits only, with country code. Unique so two deliveries cannot make two customers.
    phone_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    email_address: Mapped[str | None] = mapped_column(String(254))
    # Meta's business-scoped user id (BSUID) and username, for WhatsApp users who show no phone number; a user
    # later seen with both is the same customer (channels/whatsapp/identity.py).
    whatsapp_user_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    whatsapp_parent_user_id: Mapped[str | None] = mapped_column(String(128))
    whatsapp_username: Mapped[str | None] = mapped_column(String(100))
    visitor_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # POPIA erasure: personal fields are blanked, the row (and its chats' statistics) stays.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)


class Comment(Base):
    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
