"""Internal notes and mentions: AddNote, GetMentions, MarkMentionsSeen (docs/notes.md)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from agentchat.chats.schemas import MAX_MESSAGE_CHARS, MessageOut
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import ID, Invalid, Page, Paging, Schema, paging
from agentchat.db import DbSession, commit_and_publish
from agentchat.notes import service as notes
from agentchat.security import CurrentAgent

router = APIRouter(tags=["Notes and mentions"], route_class=IDsInQueryOrBody)


class AddNoteIn(Schema):
    chat_id: ID
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class NoteOut(MessageOut):
    mentioned_agent_ids: list[int]


class MentionOut(Schema):
    mention_id: int
    chat_id: int
    message_id: int
    by_agent_id: int
    by_agent_name: str | None
    text: str | None
    created_at: str
    seen_at: str | None


class MarkMentionsSeenIn(Schema):
    mention_ids: list[ID] = Field(min_length=1, max_length=200)


class MarkedSeen(Schema):
    marked: int


@router.post("/api/AddNote")
async def add_note(body: AddNoteIn, caller: CurrentAgent, db: DbSession) -> NoteOut:
    if not body.text.strip():
        raise Invalid("Text must not be empty.", code="invalid_field", field="Text")
    note = await notes.add_note(db, caller=caller, chat_id=body.chat_id, text=body.text)
    await commit_and_publish(db)
    return NoteOut(**MessageOut.of(note.message).model_dump(), mentioned_agent_ids=note.mentioned)


@router.get("/api/GetMentions")
async def get_mentions(caller: CurrentAgent, db: DbSession, page: Annotated[Paging, Depends(paging)],
                       unseen: Annotated[bool, Query(alias="Unseen")] = False) -> Page[MentionOut]:
    items, total = await notes.list_mentions(db, caller=caller, unseen_only=unseen, paging=page)
    return Page[MentionOut](items=[MentionOut.model_validate({_snake(k): v for k, v in i.items()}) for i in items],
                            page=page.page, page_size=page.page_size, total=total)


@router.post("/api/MarkMentionsSeen")
async def mark_mentions_seen(body: MarkMentionsSeenIn, caller: CurrentAgent, db: DbSession) -> MarkedSeen:
    marked = await notes.mark_seen(db, caller=caller, mention_ids=body.mention_ids)
    await commit_and_publish(db)
    return MarkedSeen(marked=marked)


_SNAKE = {"MentionID": "mention_id", "ChatID": "chat_id", "MessageID": "message_id", "ByAgentID": "by_agent_id",
          "ByAgentName": "by_agent_name", "Text": "text", "CreatedAt": "created_at", "SeenAt": "seen_at"}


def _snake(key: str) -> str:
    return _SNAKE[key]
