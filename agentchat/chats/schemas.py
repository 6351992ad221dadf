"""The Chat and Message objects of the contract, and the bodies of the chat calls."""

from pydantic import Field, field_validator

from agentchat.chats.models import Chat, Message
from agentchat.contract import ID, Schema, UtcTime
from agentchat.customers.schemas import CustomerOut

MAX_MESSAGE_CHARS = 4096


def file_url(message_id: int) -> str:
    """Relative to the API's base URL; the client adds its SessionToken like on any other call."""
    return f"/api/GetFile?MessageID={message_id}"


class FileOut(Schema):
    file_name: str
    file_type: str
    size: int
    url: str = Field(serialization_alias="URL")


def message_extras(payload: dict | None, media_status: str | None) -> dict:
    """What a message holds beyond text, from its payload (by alias; docs/API.md, the Message object): the
    structured Content of a customer's message, the message it replies to, the customer's reaction to it, and
    whether its file is still on its way."""
    payload = payload if isinstance(payload, dict) else {}
    reply_to = payload.get("ReplyTo")
    reply_to = reply_to if isinstance(reply_to, dict) else {}
    return {"Content": payload.get("Content"), "ReplyToMessageID": reply_to.get("MessageID"),
            "Reaction": payload.get("Reaction"), "MediaStatus": media_status}


class MessageOut(Schema):
    message_id: int
    chat_id: int
    sender_type: str
    agent_id: int | None
    text: str | None
    file: FileOut | None
    created_at: UtcTime
    delivery_status: str | None
    failure_reason: str | None
    content: dict | None = None
    reply_to_message_id: int | None = None
    reaction: str | None = None
    media_status: str | None = None

    @classmethod
    def of(cls, message: Message) -> "MessageOut":
        file = None
        if message.file_key is not None:
            file = FileOut(file_name=message.file_name or "file", file_type=message.file_type or
                           "application/octet-stream", size=message.file_size or 0, url=file_url(message.id))
        extras = message_extras(message.payload, message.media_status)
        return cls(message_id=message.id, chat_id=message.chat_id, sender_type=message.sender_type,
                   agent_id=message.agent_id, text=message.text, file=file, created_at=message.created_at,
                   delivery_status=message.delivery_status, failure_reason=message.failure_reason,
                   content=extras["Content"], reply_to_message_id=extras["ReplyToMessageID"],
                   reaction=extras["Reaction"], media_status=extras["MediaStatus"])


class ChatOut(Schema):
    chat_id: int
    customer_id: int
    channel: str
    status: str
    department_id: int | None
    agent_id: int | None
    tag_ids: list[int]
    created_at: UtcTime
    queued_at: UtcTime | None
    assigned_at: UtcTime | None
    closed_at: UtcTime | None
    last_message_at: UtcTime | None

    @classmethod
    def of(cls, chat: Chat, tag_ids: list[int]) -> "ChatOut":
        return cls(chat_id=chat.id, customer_id=chat.customer_id, channel=chat.channel, status=chat.status,
                   department_id=chat.department_id, agent_id=chat.agent_id, tag_ids=tag_ids,
                   created_at=chat.created_at, queued_at=chat.queued_at, assigned_at=chat.assigned_at,
                   closed_at=chat.closed_at, last_message_at=chat.last_message_at)


class LastMessageOut(Schema):
    """A chat's newest customer or agent message as a list shows it (fastpath.SNIPPET_CHARS of its text)."""
    sender: str
    agent_id: int | None
    text: str | None
    file_type: str | None
    created_at: UtcTime


class ChatListItem(ChatOut):
    """GetChats' items: a Chat with what an inbox row shows, so that a list needs no call per row."""
    customer_name: str | None
    customer_phone_number: str | None
    last_message: LastMessageOut | None


class ChatWithMessages(ChatOut):
    messages: list[MessageOut]


class ChatIn(Schema):
    chat_id: ID


class GrabChatIn(Schema):
    chat_id: ID | None = None


class AssignChatIn(Schema):
    chat_id: ID
    agent_id: ID


class TransferToDepartmentIn(Schema):
    chat_id: ID
    department_id: ID


class TransferToAgentIn(Schema):
    chat_id: ID
    agent_id: ID


class SendMessageIn(Schema):
    chat_id: ID
    # A message of the same chat that this one answers (WhatsApp shows it quoted).
    reply_to_message_id: ID | None = None
    message: str | None = Field(None, max_length=MAX_MESSAGE_CHARS)
    file_type: str | None = Field(None, max_length=127)
    file_name: str | None = Field(None, max_length=255)
    # Bounded by the raw body cap of the route, which runs before this model is built.
    file_content: str | None = None

    @field_validator("file_name")
    @classmethod
    def _plain_file_name(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value or value in (".", "..") or any(c in value for c in "/\\") or any(ord(c) < 32 for c in value):
            raise ValueError("must be a plain file name, without folders or control characters")
        return value


class ChatDetail(ChatWithMessages):
    customer: CustomerOut
    # WhatsApp's 24-hour window: whether a free-form message (SendMessage) may go now, and until when. Outside it
    # only a template (SendTemplate) reaches the customer. The web chat has no window: always open, no end.
    window_open: bool
    window_closes_at: UtcTime | None
    # The click-to-WhatsApp ad the chat came from (headline, source URL, ctwa_clid), if any.
    referral: dict | None = None
