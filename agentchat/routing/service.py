"""Assigning queued chats automatically, one chat per short transaction, races settled in the database.

One step: the department's longest-waiting Unassigned chat goes to an Online agent (never one on a break, Busy
or Offline) who is below their MaxConcurrentChats and below their limit for the chat's channel
(MaxChatsPerChannel), chosen by the department's RoutingStrategy: "LeastBusy", the one with the fewest Assigned
chats (docs/events.md), or "RoundRobin", the one routing served longest ago (agent.last_routed_at).
The agent's row is locked first (PostgreSQL FOR NO KEY UPDATE), so two instances routing at once cannot both
fill that agent's last free place; the counts are read after the lock, when the other's assignment is visible.
The chat is then taken with a conditional UPDATE (still Unassigned), so a concurrent GrabChat or another
router cannot take it twice.
On SQLite the one connection serializes all of this. Each step locks at most one agent row: no deadlocks.
"""

import enum
import logging
from collections.abc import Iterable

from sqlalchemy import ScalarSelect, SQLColumnExpression, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat import clock
from agentchat.agents.models import STATUS_ONLINE, Agent, AgentDepartment
from agentchat.chats import events as chat_events
from agentchat.chats.models import ASSIGNED, UNASSIGNED, WEBCHAT, WHATSAPP, Chat
from agentchat.db import commit_and_publish
from agentchat.departments.models import Department

log = logging.getLogger(__name__)

# A pass gives up after this many lost races in a row (others are assigning; their passes carry on).
MAX_RETRIES = 50


class Step(enum.Enum):
    ASSIGNED = "assigned"
    # Nothing to do: no queued chat, or nobody Online with a free place.
    DONE = "done"
    # Lost a race (the chat was taken, or the agent filled up meanwhile): look again.
    RETRY = "retry"


async def route(sessionmaker: async_sessionmaker, *, department_ids: Iterable[int] = (),
                agent_ids: Iterable[int] = ()) -> int:
    """Route the given departments and the departments of the given agents; the number of chats assigned."""
    async with sessionmaker() as db:
        targets = await routing_departments(db, department_ids=set(department_ids), agent_ids=set(agent_ids))
    assigned = 0
    for department_id in targets:
        assigned += await route_department(sessionmaker, department_id)
    return assigned


async def routing_departments(db: AsyncSession, *, department_ids: set[int] | None = None,
                              agent_ids: set[int] | None = None) -> list[int]:
    """Enabled departments with RoutingEnabled among those given (or of those agents); all when both are None."""
    query = select(Department.id).where(Department.routing_enabled.is_(True), Department.enabled.is_(True))
    if department_ids is not None or agent_ids is not None:
        of_agents = select(AgentDepartment.department_id).where(AgentDepartment.agent_id.in_(agent_ids or set()))
        query = query.where(Department.id.in_(department_ids or set()) | Department.id.in_(of_agents))
    return list((await db.execute(query.order_by(Department.id))).scalars())


async def route_department(sessionmaker: async_sessionmaker, department_id: int) -> int:
    """Assign queued chats one by one until the queue is empty or nobody is free."""
    assigned = retries = 0
    while retries < MAX_RETRIES:
        async with sessionmaker() as db:
            step = await assign_next(db, department_id=department_id)
            if step is Step.ASSIGNED:
                await commit_and_publish(db)
            else:
                await db.rollback()
        if step is Step.DONE:
            break
        if step is Step.ASSIGNED:
            assigned, retries = assigned + 1, 0
        else:
            retries += 1
    return assigned


def _busy(agent_id: int | SQLColumnExpression[int], channel: str | None = None) -> ScalarSelect[int]:
    """How many chats the agent has Assigned now, in every department (on one channel, if given)."""
    query = select(func.count()).select_from(Chat).where(Chat.agent_id == agent_id, Chat.status == ASSIGNED)
    if channel is not None:
        query = query.where(Chat.channel == channel)
    return query.scalar_subquery()


def _has_room(limits: dict | None, channel: str, on_channel: int) -> bool:
    limit = (limits or {}).get(channel)
    return limit is None or on_channel < limit


# Free agents looked at per step, in the strategy's order, for the first whose channel has room.
CANDIDATES = 50


async def _pick_agent(db: AsyncSession, department: Department, channel: str) -> int | None:
    busy, on_channel = _busy(Agent.id), _busy(Agent.id, channel)
    members = select(AgentDepartment.agent_id).where(AgentDepartment.department_id == department.id)
    order = ((Agent.last_routed_at.is_not(None), Agent.last_routed_at, Agent.id)
             if department.routing_strategy == "RoundRobin" else (busy, Agent.id))
    rows = await db.execute(
        select(Agent.id, Agent.max_chats_per_channel, on_channel)
        .where(Agent.id.in_(members), Agent.enabled.is_(True), Agent.status_id == STATUS_ONLINE,
               busy < Agent.max_concurrent_chats)
        .order_by(*order).limit(CANDIDATES))
    return next((agent_id for agent_id, limits, count in rows if _has_room(limits, channel, count)), None)


async def assign_next(db: AsyncSession, *, department_id: int) -> Step:
    """One step: the oldest queued chat to a free agent by the strategy. The caller commits (or rolls back)."""
    department = await db.get(Department, department_id)
    if department is None or not (department.routing_enabled and department.enabled):
        return Step.DONE
    # The longest-waiting chat of each channel, oldest first: when nobody has room on the first one's channel (a
    # limit per channel), a chat of another channel behind it is not held up.
    for chat_id, channel in await _queue_heads(db, department_id):
        agent_id = await _pick_agent(db, department, channel)
        if agent_id is not None:
            return await _assign(db, department_id, chat_id, channel, agent_id)
    return Step.DONE


async def _queue_heads(db: AsyncSession, department_id: int) -> list[tuple[int, str]]:
    heads = []
    for channel in (WHATSAPP, WEBCHAT):
        head = (await db.execute(
            select(Chat.id, Chat.channel, Chat.queued_at)
            .where(Chat.status == UNASSIGNED, Chat.department_id == department_id, Chat.channel == channel)
            .order_by(Chat.queued_at, Chat.id).limit(1))).first()
        if head is not None:
            heads.append(head)
    heads.sort(key=lambda head: (head[2], head[0]))
    return [(chat_id, channel) for chat_id, channel, _queued in heads]


async def _assign(db: AsyncSession, department_id: int, chat_id: int, channel: str, agent_id: int) -> Step:
    # The agent's place is settled under the lock: a concurrent router waits here, then sees our chat.
    locked = (await db.execute(
        select(Agent.max_concurrent_chats, Agent.max_chats_per_channel)
        .where(Agent.id == agent_id, Agent.enabled.is_(True), Agent.status_id == STATUS_ONLINE)
        .with_for_update(key_share=True))).first()
    if locked is None:
        return Step.RETRY
    total, on_channel = (await db.execute(select(_busy(agent_id), _busy(agent_id, channel)))).one()
    if total >= locked[0] or not _has_room(locked[1], channel, on_channel):
        return Step.RETRY
    now = clock.now()
    statement = (update(Chat).where(Chat.id == chat_id, Chat.status == UNASSIGNED,
                                    Chat.department_id == department_id)
                 .values(agent_id=agent_id, status=ASSIGNED, assigned_at=now)
                 .returning(Chat).execution_options(synchronize_session=False, populate_existing=True))
    chat = (await db.execute(statement)).scalar_one_or_none()
    if chat is None:
        return Step.RETRY
    await db.execute(update(Agent).where(Agent.id == agent_id).values(last_routed_at=now)
                     .execution_options(synchronize_session=False))
    chat_events.record_event(db, chat, "Assigned", actor_agent_id=None, from_status=UNASSIGNED, at=now)
    log.info("routed chat %s to agent %s", chat.id, agent_id)
    return Step.ASSIGNED


async def route_all(sessionmaker: async_sessionmaker) -> int:
    """Every routing department (the periodic job: catches up on passes lost with a stopped instance)."""
    async with sessionmaker() as db:
        targets = await routing_departments(db)
    assigned = 0
    for department_id in targets:
        assigned += await route_department(sessionmaker, department_id)
    return assigned
