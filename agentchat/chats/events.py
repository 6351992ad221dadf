"""The real-time events of chats and messages (see docs/events.md).

Every step of a chat's history has one event name: `record_event` calls `chat_changed`, so the audit trail
and the WebSocket never disagree.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.chats.models import SENDER_CUSTOMER, Chat, ChatEvent, Message
from agentchat.chats.schemas import MessageOut
from agentchat.contract import format_time
from agentchat.events import Event, Recorder, emit

HISTORY_TO_EVENT = {
    "Created": "ChatCreated",
    "Queued": "ChatQueued",
    "Requeued": "ChatQueued",
    "Grabbed": "ChatGrabbed",
    "Assigned": "ChatAssigned",
    "TransferredToDepartment": "ChatTransferred",
    "TransferredToAgent": "ChatTransferred",
    "Closed": "ChatClosed",
}


def _audience(department_id: int | None, agent_ids: tuple[int | None, ...]) -> dict:
    """Members of the chat's department and the agents involved; managers hear everything anyway."""
    return {"department_ids": (department_id,) if department_id else (),
            "agent_ids": tuple(a for a in agent_ids if a)}


def _time(value) -> str | None:
    return format_time(value) if value else None


def chat_data(chat: Chat) -> dict:
    return {"ChatID": chat.id, "CustomerID": chat.customer_id, "Channel": chat.channel, "Status": chat.status,
            "DepartmentID": chat.department_id, "AgentID": chat.agent_id, "CreatedAt": _time(chat.created_at),
            "QueuedAt": _time(chat.queued_at), "AssignedAt": _time(chat.assigned_at),
            "ClosedAt": _time(chat.closed_at), "LastMessageAt": _time(chat.last_message_at)}


def chat_changed(db: Recorder, chat: Chat, history_type: str, *, actor_agent_id: int | None,
                 from_status: str | None) -> None:
    name = HISTORY_TO_EVENT.get(history_type, f"Chat{history_type}")
    data = {**chat_data(chat), "FromStatus": from_status, "ActorAgentID": actor_agent_id}
    emit(db, Event(name, data, **_audience(chat.department_id, (chat.agent_id, actor_agent_id))))


def message_added(db: AsyncSession, chat: Chat, message: Message) -> None:
    name = "MessageReceived" if message.sender_type == SENDER_CUSTOMER else "MessageSent"
    data = MessageOut.of(message).model_dump(by_alias=True, mode="json")
    emit(db, Event(name, data, **_audience(chat.department_id, (chat.agent_id,))))


def message_updated(db: AsyncSession, chat: Chat, message: Message) -> None:
    """A stored message changed beyond its delivery status: its file arrived (or could not be fetched), or the
    customer reacted to it."""
    data = MessageOut.of(message).model_dump(by_alias=True, mode="json")
    emit(db, Event("MessageUpdated", data, **_audience(chat.department_id, (chat.agent_id,))))


async def message_status_changed(db: AsyncSession, *, message_id: int, chat_id: int, status: str,
                                 failure_reason: str | None) -> None:
    chat = (await db.execute(select(Chat.department_id, Chat.agent_id).where(Chat.id == chat_id))).first()
    department_id, agent_id = chat if chat else (None, None)
    message_status_emit(db, message_id=message_id, chat_id=chat_id, department_id=department_id, agent_id=agent_id,
                        status=status, failure_reason=failure_reason)


def message_status_emit(db: Recorder, *, message_id: int, chat_id: int, department_id: int | None,
                        agent_id: int | None, status: str, failure_reason: str | None) -> None:
    data = {"MessageID": message_id, "ChatID": chat_id, "DeliveryStatus": status, "FailureReason": failure_reason}
    emit(db, Event("MessageStatusChanged", data, **_audience(department_id, (agent_id,))))


def chat_tagged(db: AsyncSession, chat: Chat, *, tag_ids: list[int], actor_agent_id: int | None) -> None:
    data = {"ChatID": chat.id, "TagIDs": tag_ids, "ActorAgentID": actor_agent_id}
    emit(db, Event("ChatTagged", data, **_audience(chat.department_id, (chat.agent_id,))))


def customer_updated(db: AsyncSession, customer_data: dict, chat: Chat | None) -> None:
    audience = _audience(chat.department_id, (chat.agent_id,)) if chat else {}
    emit(db, Event("CustomerUpdated", customer_data, **audience))


def record_event(db: AsyncSession, chat: Chat, event_type: str, *, actor_agent_id: int | None = None,
                 from_status: str | None = None, at: datetime | None = None) -> ChatEvent:
    """Keep one step of the chat's history, with the chat's department and agent as they are after it."""
    event = ChatEvent(chat_id=chat.id, type=event_type, at=at or clock.now(), actor_agent_id=actor_agent_id,
                      department_id=chat.department_id, agent_id=chat.agent_id, from_status=from_status,
                      to_status=chat.status)
    db.add(event)
    chat_changed(db, chat, event_type, actor_agent_id=actor_agent_id, from_status=from_status)
    return event
