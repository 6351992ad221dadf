from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base

BOT = "Bot"
UNASSIGNED = "Unassigned"
ASSIGNED = "Assigned"
CLOSED = "Closed"
STATUSES = (BOT, UNASSIGNED, ASSIGNED, CLOSED)

WHATSAPP = "WhatsApp"
WEBCHAT = "WebChat"

SENDER_CUSTOMER = "Customer"
SENDER_AGENT = "Agent"
SENDER_BOT = "Bot"
SENDER_SYSTEM = "System"
# An agent's internal note in the conversation: the customer never sees it (docs/notes.md).
SENDER_NOTE = "Note"

PENDING = "Pending"
SENT = "Sent"
DELIVERED = "Delivered"
READ = "Read"
FAILED = "Failed"


class Chat(Base):
    __tablename__ = "chat"
    __table_args__ = (
        # A customer has at most one chat that is not closed: two messages racing in cannot open two.
        Index("uq_chat_active_customer", "customer_id", unique=True,
              sqlite_where=text("status != 'Closed'"), postgresql_where=text("status != 'Closed'")),
        Index("ix_chat_queue", "status", "department_id", "queued_at"),
        Index("ix_chat_created_at", "created_at"),
        # GetChats reads an agent's chats newest first from these two, a (department or agent, status) at a time.
        Index("ix_chat_department_status_created", "department_id", "status", "created_at", "id"),
        Index("ix_chat_agent_status_created", "agent_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=BOT)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime)
    # WhatsApp's 24-hour customer-service window runs from the customer's last message.
    last_customer_message_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When agents were told the chat waits too long (UnassignedChatsWaiting); older than queued_at = not yet.
    waiting_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The queue position the customer was last told, and when (the position updates are rate-limited).
    position_told: Mapped[int | None] = mapped_column(Integer)
    position_told_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The click-to-WhatsApp ad the chat came from: {"Headline", "Body", "SourceURL", "SourceType", "SourceID",
    # "CtwaClid", "MediaType"} (channels/whatsapp/content.py).
    referral: Mapped[dict | None] = mapped_column(JSON)


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_chat_id_id", "chat_id", "id"),
        # The orphaned-files sweep asks which stored keys a message names (files/sweep.py); few messages have one.
        Index("ix_message_file_key", "file_key",
              sqlite_where=text("file_key IS NOT NULL"), postgresql_where=text("file_key IS NOT NULL")),
        # The customer files still to fetch from the channel, resumed at start (channels/whatsapp/media.py).
        Index("ix_message_media_pending", "media_status",
              sqlite_where=text("media_status = 'Pending'"), postgresql_where=text("media_status = 'Pending'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    sender_type: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    text: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(127))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    # The channel's own id (WhatsApp's wamid): inbound deduplication and outbound status matching.
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    # What the channel must render beyond text, e.g. the bot's interactive menu: {"Menu": [...]}; for a customer's
    # message what it held beyond text: {"Content": {...}, "ReplyTo": {...}, "Reaction": "👍", "Media": {...}}.
    payload: Mapped[dict | None] = mapped_column(JSON)
    # When the customer sent it, by the channel's clock (WhatsApp's `timestamp`); created_at is its arrival here.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A customer's file still being fetched from the channel (Pending), or that finally could not be (Failed).
    media_status: Mapped[str | None] = mapped_column(String(16))


class ChatEvent(Base):
    """The history behind the reports: every status change, assignment and transfer, with time and actor."""

    __tablename__ = "chat_event"
    __table_args__ = (Index("ix_chat_event_chat_id_at", "chat_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, index=True)
    # Who did it: an agent, or nobody (the customer, the bot or the system).
    actor_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))


class ChatTag(Base):
    __tablename__ = "chat_tag"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
