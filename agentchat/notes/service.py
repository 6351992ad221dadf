"""Internal notes in a conversation and the @mentions in them (docs/notes.md).

A note is a message of the chat whose SenderType is Note: it sits in the conversation's timeline, the transcript
(GetChat), the export and search, and is never delivered (no DeliveryStatus, so no channel ever picks it up; the
web chat's reads leave it out). Comments (AddComment) stay what they were: notes about the customer, across chats.
"""

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.agents.models import ROLE_MANAGER, Agent, AgentDepartment
from agentchat.chats import service as chats
from agentchat.chats.models import SENDER_NOTE, Chat, Message
from agentchat.chats.schemas import MessageOut
from agentchat.contract import Paging, format_time
from agentchat.db import rowcount
from agentchat.events import Event, emit
from agentchat.notes.models import Mention
from agentchat.security import Caller

# @ and a name without spaces: "@thandi", "@ThandiNkosi", "@thandi.nkosi" (an address's local part).
MENTION = re.compile(r"(?<![\w@])@([\w][\w.\-]{0,63})")


@dataclass
class Note:
    message: Message
    mentioned: list[int]


def _keys(agent_name: str, email: str) -> set[str]:
    name = agent_name.casefold()
    return {"".join(name.split()), email.split("@", 1)[0].casefold()}


async def _who_may_see(db: AsyncSession, chat: Chat) -> list[tuple[int, str, str]]:
    """(AgentID, Name, EmailAddress) of the enabled agents who may see the chat: GetChat's rule (managers, the
    chat's department, its agent)."""
    members = select(AgentDepartment.agent_id).where(AgentDepartment.department_id == chat.department_id)
    query = select(Agent.id, Agent.name, Agent.email_address).where(
        Agent.enabled.is_(True), or_(Agent.role_id == ROLE_MANAGER, Agent.id.in_(members), Agent.id == chat.agent_id))
    return [(agent_id, name, email) for agent_id, name, email in await db.execute(query)]


def resolve_mentions(text: str, agents: list[tuple[int, str, str]]) -> list[int]:
    """The agents a text names: by full name without spaces, by address before the @, or by first name when only
    one of them has it. Case does not matter; a name that fits no one (or several) names no one."""
    tokens = {token.casefold().rstrip(".-") for token in MENTION.findall(text)}
    if not tokens:
        return []
    first_names: dict[str, list[int]] = {}
    for agent_id, name, _email in agents:
        first_names.setdefault(name.split()[0].casefold() if name.split() else "", []).append(agent_id)
    found = []
    for agent_id, name, email in agents:
        first = name.split()[0].casefold() if name.split() else ""
        if tokens & _keys(name, email) or (first in tokens and len(first_names[first]) == 1):
            found.append(agent_id)
    return found


async def add_note(db: AsyncSession, *, caller: Caller, chat_id: int, text: str) -> Note:
    """Any agent who may see the chat, whatever its status (a closed chat too): notes are for colleagues."""
    chat = await chats.get_visible_chat(db, caller=caller, chat_id=chat_id)
    message = Message(chat_id=chat.id, sender_type=SENDER_NOTE, agent_id=caller.agent_id, text=text,
                      created_at=clock.now())
    db.add(message)
    await db.flush()
    mentioned = [a for a in resolve_mentions(text, await _who_may_see(db, chat)) if a != caller.agent_id]
    data = MessageOut.of(message).model_dump(by_alias=True, mode="json")
    audience = tuple(a for a in (chat.agent_id, caller.agent_id, *mentioned) if a)
    emit(db, Event("NoteAdded", data, department_ids=(chat.department_id,) if chat.department_id else (),
                   agent_ids=audience))
    for agent_id in mentioned:
        mention = Mention(message_id=message.id, chat_id=chat.id, agent_id=agent_id, by_agent_id=caller.agent_id,
                          created_at=message.created_at)
        db.add(mention)
        await db.flush()
        emit(db, Event("MentionReceived", _mention_data(mention, text), agent_ids=(agent_id,), private=True))
    return Note(message=message, mentioned=mentioned)


def _mention_data(mention: Mention, text: str | None, by_name: str | None = None) -> dict:
    return {"MentionID": mention.id, "ChatID": mention.chat_id, "MessageID": mention.message_id,
            "ByAgentID": mention.by_agent_id, "ByAgentName": by_name, "Text": text,
            "CreatedAt": format_time(mention.created_at),
            "SeenAt": format_time(mention.seen_at) if mention.seen_at else None}


async def list_mentions(db: AsyncSession, *, caller: Caller, unseen_only: bool, paging: Paging) -> tuple[list, int]:
    """The caller's mentions, newest first, with the note's text (as it is now: an erased customer's chat says
    so) and who wrote it."""
    conditions = [Mention.agent_id == caller.agent_id]
    if unseen_only:
        conditions.append(Mention.seen_at.is_(None))
    total = (await db.execute(select(func.count()).select_from(Mention).where(*conditions))).scalar_one()
    rows = await db.execute(
        select(Mention, Message.text, Agent.name).join(Message, Message.id == Mention.message_id)
        .join(Agent, Agent.id == Mention.by_agent_id).where(*conditions)
        .order_by(Mention.id.desc()).offset(paging.offset).limit(paging.page_size))
    return [_mention_data(mention, text, name) for mention, text, name in rows], total


async def mark_seen(db: AsyncSession, *, caller: Caller, mention_ids: list[int]) -> int:
    """Only the caller's own mentions; already seen ones keep their time."""
    result = await db.execute(
        update(Mention).where(Mention.id.in_(mention_ids), Mention.agent_id == caller.agent_id,
                              Mention.seen_at.is_(None)).values(seen_at=clock.now()))
    return rowcount(result)
