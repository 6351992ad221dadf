from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agentchat.db import Base


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
