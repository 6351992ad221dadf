"""Outgoing webhooks: the endpoints managers register, and the outbox of their deliveries."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base

ACTIVE, PAUSED, DISABLED = "Active", "Paused", "Disabled"
PENDING, DELIVERED, FAILED = "Pending", "Delivered", "Failed"

# The events an endpoint may subscribe to: the /ws events of the same name (docs/events.md), plus CsatReceived.
WEBHOOK_EVENTS = ("ChatCreated", "ChatQueued", "ChatGrabbed", "ChatAssigned", "ChatTransferred", "ChatClosed",
                  "MessageReceived", "MessageSent", "CustomerUpdated", "CsatReceived", "SlaBreached")
TEST_EVENT = "WebhookTest"


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Signs every delivery (HMAC-SHA256); shown to managers, never logged.
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class WebhookDelivery(Base):
    """One event for one endpoint. No foreign key to the endpoint: an instance whose cache has not yet heard of a
    deletion may still write rows for it, and that must not fail the user's action (they are dropped unsent)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
                      Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(40))
    # The body's "Event": {"Type", "At", "Data"} as JSON text, exactly as it will be signed (with DeliveryID).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # Set by the instance that claimed the delivery (a conditional UPDATE); another may take it after this time.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
