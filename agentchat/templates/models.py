from datetime import datetime

from sqlalchemy import JSON, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base

APPROVED = "APPROVED"


class Template(Base):
    """A message template of the business's WhatsApp account, as Meta last described it (SyncTemplates) and
    with the status its webhook last reported."""

    __tablename__ = "whatsapp_template"
    # Meta names a template by name and language: each language is its own template with its own id.
    __table_args__ = (UniqueConstraint("name", "language", name="uq_whatsapp_template_name_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meta_id: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    # Why Meta rejected, paused or disabled it (the webhook's reason), when it said.
    reason: Mapped[str | None] = mapped_column(String(255))
    components: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
