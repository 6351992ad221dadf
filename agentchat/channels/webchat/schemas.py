"""The visitor API's bodies. Visitors see their own conversation only: no internal fields, no other IDs."""

from typing import Annotated, Any

from pydantic import Field

from agentchat.chats.models import Message
from agentchat.contract import EmailAddress, Name, Schema, UtcTime

# Base64 of the largest upload we would ever take; the real limit (settings.max_file_bytes) is checked
# after decoding, this only stops a huge body from being validated at all.
MAX_FILE_CONTENT_CHARS = 48 * 1024 * 1024
MAX_TEXT = 4096

MenuChoice = Annotated[str, Field(min_length=1, max_length=64)]


class WebChatConfigOut(Schema):
    """What the page shows before anyone writes: whose chat it is, in their colour, and the bot's greeting."""
    company_name: str
    colour: str
    greeting: str


class CreateVisitorIn(Schema):
    name: Name | None = None
    email_address: EmailAddress | None = None


class VisitorOut(Schema):
    visitor_token: str
    customer_id: int


class VisitorMessageIn(Schema):
    """Text, a menu choice, or a file (with optional text as its caption); the service checks the mix."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)] | None = None
    choice: MenuChoice | None = None
    file_name: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")] | None = None
    file_type: Annotated[str, Field(max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")] | None = None
    file_content: Annotated[str, Field(min_length=1, max_length=MAX_FILE_CONTENT_CHARS)] | None = None


class MenuItemOut(Schema):
    option: int
    title: str
    id: str


class VisitorFileOut(Schema):
    file_name: str | None
    file_type: str | None
    size: int | None
    url: str = Field(alias="URL")


class VisitorMessageOut(Schema):
    message_id: int
    sender_type: str
    agent_name: str | None
    text: str | None
    file: VisitorFileOut | None
    menu: list[MenuItemOut] | None
    created_at: UtcTime

    @classmethod
    def build(cls, message: Message, agent_name: str | None = None) -> "VisitorMessageOut":
        return cls(message_id=message.id, sender_type=message.sender_type, agent_name=agent_name,
                   text=message.text, file=_file(message), menu=_menu(message.payload),
                   created_at=message.created_at)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class VisitorMessageList(Schema):
    items: list[VisitorMessageOut]
    # The visitor's latest chat has closed: the page shows "This chat has ended" and "Start a new chat".
    last_chat_closed: bool = False


class StartChatOut(Schema):
    started: bool  # False: the visitor already had an open chat, which carries on


def _file(message: Message) -> VisitorFileOut | None:
    if message.file_key is None:
        return None
    return VisitorFileOut(file_name=message.file_name, file_type=message.file_type, size=message.file_size,
                          url=f"/webchat/files/{message.id}")


def _menu(payload: dict | None) -> list[MenuItemOut] | None:
    items = (payload or {}).get("Menu")
    if not items:
        return None
    return [MenuItemOut(option=item["Option"], title=item["Title"], id=item["ID"]) for item in items]
