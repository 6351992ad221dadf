from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agentchat import clock
from agentchat.db import Base

# What happened to a tag on a chat (TagEvent.action).
TAG_ADDED = "Added"
TAG_REMOVED = "Removed"
# The tag itself was deleted while on the chat: the chat lost it, its history keeps the name.
TAG_DELETED = "Deleted"


class TagGroup(Base):
    __tablename__ = "tag_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Tag(Base):
    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("tag_group_id", "name", name="uq_tag_group_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_group_id: Mapped[int] = mapped_column(ForeignKey("tag_group.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class TagEvent(Base):
    """Append-only history of tags on chats, for the reports.

    chat_tag says which tags a chat has now and loses its rows when a tag is deleted (ON DELETE CASCADE).
    This table keeps what was: the tag's ID without a foreign key, and its name and group as they were
    when it was applied, so a report over last month still names a tag deleted since.
    """

    __tablename__ = "tag_event"
    __table_args__ = (
        Index("ix_tag_event_chat_id", "chat_id"),
        Index("ix_tag_event_tag_id_at", "tag_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(Integer)
    tag_name: Mapped[str] = mapped_column(String(100))
    tag_group_id: Mapped[int] = mapped_column(Integer)
    tag_group_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, index=True)
    # Who did it; None for the system (a department's auto-tags).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
