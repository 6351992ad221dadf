"""Customers hear their new place in the queue when it changes, at most once a minute per chat.

The bot tells the first place when it queues the chat (and records it in chat.position_told). A periodic
job (agentchat.jobs) compares every queued chat's place with the one last told; each message is claimed
with a conditional UPDATE of position_told, so with several instances only one sends it.
"""

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.chats import service as chats
from agentchat.chats.models import SENDER_BOT, UNASSIGNED, Chat
from agentchat.db import rowcount

# The rate limit: a customer hears of a new place at most this often.
TELL_EVERY = timedelta(seconds=60)
POSITION_MESSAGE = "You are now number {Position} in the queue; an agent will be with you shortly."


# At most this many messages per call (one transaction): with tens of thousands of queued chats, a grab at the
# head of a long queue moves every chat behind it; the job commits batch after batch (agentchat.jobs) instead of
# holding the event loop and one connection for the whole queue. The front of each queue hears first.
BATCH = 200


async def tell_queue_positions(db: AsyncSession, *, limit: int = BATCH) -> int:
    """Send each queued customer whose place went down (and was not told in the last minute) their place;
    at most `limit` of them, nearest the front first. Returns how many were told."""
    now = clock.now()
    place = func.row_number().over(partition_by=Chat.department_id, order_by=(Chat.queued_at, Chat.id))
    ranked = (select(Chat.id.label("chat_id"), Chat.position_told.label("told"),
                     Chat.position_told_at.label("told_at"), place.label("place"))
              .where(Chat.status == UNASSIGNED, Chat.department_id.is_not(None)).subquery())
    changed = (await db.execute(
        select(ranked.c.chat_id, ranked.c.told, ranked.c.place)
        .where(ranked.c.told.is_not(None), ranked.c.place < ranked.c.told,
               or_(ranked.c.told_at.is_(None), ranked.c.told_at <= now - TELL_EVERY))
        .order_by(ranked.c.place, ranked.c.chat_id).limit(limit))).all()
    told = 0
    for chat_id, before, position in changed:
        claimed = await db.execute(
            update(Chat).where(Chat.id == chat_id, Chat.status == UNASSIGNED, Chat.position_told == before,
                               or_(Chat.position_told_at.is_(None), Chat.position_told_at <= now - TELL_EVERY))
            .values(position_told=position, position_told_at=now).execution_options(synchronize_session=False))
        if rowcount(claimed) != 1:
            continue
        chat = await db.get_one(Chat, chat_id)  # just claimed by this transaction
        await chats.add_message(db, chat, sender_type=SENDER_BOT,
                                text=POSITION_MESSAGE.replace("{Position}", str(position)))
        told += 1
    return told
