from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from agentchat.db import Base


class Setting(Base):
    """One company setting; keys absent from the table take their default from company.service."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
