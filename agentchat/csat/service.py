"""Customer satisfaction (docs/csat.md): the question after an agent closes a chat, and the customer's answer.

The question is a bot message with a menu of five choices (WhatsApp: an interactive list; the web chat: buttons),
each choice carrying `csat:<ChatID>:<rating>`, so a tap rates exactly that chat whenever it arrives. A bare digit
1-5 typed while a question waits (and no chat is open) counts too; a text right after a rating is its comment.
Anything else is an ordinary message and opens a new chat, as before.
"""

import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.chats import service as chats
from agentchat.chats.models import SENDER_BOT, Chat, ChatTag, Message
from agentchat.company import service as company
from agentchat.contract import format_time
from agentchat.csat.models import ChatRating
from agentchat.departments.models import Department
from agentchat.events import Event, emit

CHOICE_PREFIX = "csat:"
LABELS = {5: "Excellent", 4: "Good", 3: "Okay", 2: "Poor", 1: "Very poor"}
# A text this soon after a rating, with no chat open, is the rating's comment.
COMMENT_MINUTES = 30
MAX_COMMENT = 1000
_CHOICE = re.compile(r"^csat:(\d{1,10}):([1-5])$")


async def ask(db: AsyncSession, chat: Chat) -> None:
    """After an agent closed the chat: ask for a rating, if its department wants that and the channel lets us
    write (outside WhatsApp's 24-hour window a free-form question cannot go, so none is asked)."""
    department = await db.get(Department, chat.department_id) if chat.department_id else None
    if department is None or not department.csat_enabled or chat.agent_id is None:
        return
    question = await company.get_setting(db, "CsatQuestion")
    menu = [{"Option": n, "Title": f"{n} {LABELS[n]}", "ID": f"{CHOICE_PREFIX}{chat.id}:{n}"} for n in LABELS]
    text = "\n".join([question, "", *(f"{n}. {LABELS[n]}" for n in LABELS)])
    message = await chats.add_message(db, chat, sender_type=SENDER_BOT, text=text, payload={"Menu": menu})
    if message is not None:
        db.add(ChatRating(chat_id=chat.id, customer_id=chat.customer_id, requested_at=message.created_at))
        await db.flush()


async def take_answer(db: AsyncSession, *, customer_id: int, text: str | None, choice_id: str | None,
                      has_file: bool) -> tuple[Chat, str] | None:
    """If the message answers a rating question (or comments on a rating just given): records it and returns the
    rated chat and the bot's reply; the caller stores the message in that chat. None: an ordinary message.
    A typed answer or a comment is looked for only when the customer has no chat open (the caller knows)."""
    now = clock.now()
    found = _CHOICE.match(choice_id or "")
    if found:
        return await _rate(db, customer_id, int(found.group(1)), int(found.group(2)), now)
    if has_file or not text:
        return None
    typed = re.fullmatch(r"\s*([1-5])\s*\.?\s*", text)
    if typed:
        waiting = await _latest(db, customer_id, answered=False, since=now - await _answer_window(db))
        if waiting is not None:
            return await _rate(db, customer_id, waiting.chat_id, int(typed.group(1)), now)
    rated = await _latest(db, customer_id, answered=True, since=now - timedelta(minutes=COMMENT_MINUTES))
    if rated is not None and rated.comment is None and rated.answered_at is not None:
        rated.comment = text.strip()[:MAX_COMMENT]
        await db.flush()
        chat = await _chat(db, rated.chat_id)
        _received(db, chat, rated)
        return chat, "Thank you, we have passed your comment on."
    return None


def choice_title(choice_id: str) -> str | None:
    """What a tapped rating says ("4 Good"), or None if the choice is not a rating."""
    found = _CHOICE.match(choice_id)
    return f"{found.group(2)} {LABELS[int(found.group(2))]}" if found else None


async def _chat(db: AsyncSession, chat_id: int) -> Chat:
    chat = await db.get(Chat, chat_id)
    assert chat is not None  # a rating goes with its chat (ON DELETE CASCADE)
    return chat


async def _answer_window(db: AsyncSession) -> timedelta:
    return timedelta(hours=await company.get_setting(db, "CsatAnswerHours"))


async def _latest(db: AsyncSession, customer_id: int, *, answered: bool, since: datetime) -> ChatRating | None:
    query = (select(ChatRating).where(ChatRating.customer_id == customer_id,
                                      ChatRating.rating.is_not(None) if answered else ChatRating.rating.is_(None),
                                      (ChatRating.answered_at if answered else ChatRating.requested_at) >= since)
             .order_by((ChatRating.answered_at if answered else ChatRating.requested_at).desc()).limit(1))
    return (await db.execute(query)).scalar_one_or_none()


async def _rate(db: AsyncSession, customer_id: int, chat_id: int, rating: int,
                now: datetime) -> tuple[Chat, str] | None:
    asked = await db.get(ChatRating, chat_id)
    if asked is None or asked.customer_id != customer_id:
        return None
    # One answer per chat, even when two arrive at once: the first UPDATE to find it unanswered wins.
    won = (await db.execute(update(ChatRating)
                            .where(ChatRating.chat_id == chat_id, ChatRating.rating.is_(None),
                                   ChatRating.requested_at >= now - await _answer_window(db))
                            .values(rating=rating, answered_at=now).returning(ChatRating.chat_id)
                            .execution_options(synchronize_session=False))).scalar_one_or_none()
    chat = await _chat(db, chat_id)
    if won is None:
        await db.refresh(asked)
        if asked.rating is not None:
            return chat, "You have already rated this chat. Thank you!"
        return chat, "Sorry, this chat can no longer be rated."
    await db.refresh(asked)
    _received(db, chat, asked)
    return chat, "Thank you for your rating! If you would like to tell us more, write it in your next message."


def rating_data(chat: Chat, rated: ChatRating) -> dict:
    return {"ChatID": chat.id, "CustomerID": chat.customer_id, "DepartmentID": chat.department_id,
            "AgentID": chat.agent_id, "Rating": rated.rating, "Comment": rated.comment,
            "RequestedAt": format_time(rated.requested_at),
            "AnsweredAt": format_time(rated.answered_at) if rated.answered_at else None}


def _received(db: AsyncSession, chat: Chat, rated: ChatRating) -> None:
    emit(db, Event("CsatReceived", rating_data(chat, rated),
                   department_ids=(chat.department_id,) if chat.department_id else (),
                   agent_ids=(chat.agent_id,) if chat.agent_id else ()))


async def receive(db: AsyncSession, *, customer_id: int, text: str | None, choice_id: str | None,
                  has_file: bool, store) -> Message | None:
    """The bot's entry: an answer is stored in the rated chat (`store(chat)` adds the customer's message) and
    thanked there; None for an ordinary message."""
    answered = await take_answer(db, customer_id=customer_id, text=text, choice_id=choice_id, has_file=has_file)
    if answered is None:
        return None
    chat, reply = answered
    message = await store(chat)
    await chats.add_message(db, chat, sender_type=SENDER_BOT, text=reply)
    return message


# ---- figures ---------------------------------------------------------------------------------------------

class Tally:
    __slots__ = ("ratings", "total", "satisfied")

    def __init__(self) -> None:
        self.ratings, self.total, self.satisfied = 0, 0, 0

    def add(self, rating: int) -> None:
        self.ratings += 1
        self.total += rating
        self.satisfied += rating >= 4

    def out(self) -> dict:
        """CsatRatings; CsatAverage (1-5); CsatSatisfied: the share rated 4 or 5 (the usual CSAT score)."""
        return {"CsatRatings": self.ratings,
                "CsatAverage": round(self.total / self.ratings, 2) if self.ratings else None,
                "CsatSatisfied": round(self.satisfied / self.ratings, 4) if self.ratings else None}


async def tallies(db: AsyncSession, *, start: datetime, end: datetime, department_id: int | None = None,
                  agent_id: int | None = None) -> dict[str, Any]:
    """Ratings of chats created in [start, end): overall, and per agent (who closed it), department and tag."""
    query = (select(ChatRating.chat_id, ChatRating.rating, Chat.department_id, Chat.agent_id)
             .join(Chat, Chat.id == ChatRating.chat_id)
             .where(ChatRating.rating.is_not(None), Chat.created_at >= start, Chat.created_at < end))
    if department_id is not None:
        query = query.where(Chat.department_id == department_id)
    if agent_id is not None:
        query = query.where(Chat.agent_id == agent_id)
    rows = (await db.execute(query)).all()
    tags: dict[int, list[int]] = defaultdict(list)
    if rows:
        tag_rows = await db.execute(select(ChatTag.chat_id, ChatTag.tag_id).join(
            ChatRating, ChatRating.chat_id == ChatTag.chat_id).join(Chat, Chat.id == ChatTag.chat_id)
            .where(ChatRating.rating.is_not(None), Chat.created_at >= start, Chat.created_at < end))
        for chat_id, tag_id in tag_rows:
            tags[chat_id].append(tag_id)
    total = Tally()
    per: dict[str, defaultdict[Any, Tally]] = {"agent": defaultdict(Tally), "department": defaultdict(Tally),
                                               "tag": defaultdict(Tally)}
    for chat_id, rating, chat_department, chat_agent in rows:
        if rating is None:  # not asked for above; for the type checker
            continue
        total.add(rating)
        per["department"][chat_department].add(rating)
        if chat_agent is not None:
            per["agent"][chat_agent].add(rating)
        for tag_id in tags.get(chat_id, ()):
            per["tag"][tag_id].add(rating)
    return {"total": total, **per}

