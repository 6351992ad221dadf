"""UnassignedChatsWaiting: agents who asked for it hear (event and e-mail) of chats waiting too long.

A periodic job (agentchat.jobs) calls `notify_waiting_chats`. Each chat is claimed with one conditional
UPDATE of chat.waiting_notified_at, so with several instances running the job, exactly one tells the agents,
once per stay in a queue (a chat queued again, e.g. transferred, may be notified again).
"""

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.agents.models import Agent, AgentDepartment
from agentchat.chats.models import UNASSIGNED, Chat
from agentchat.company import service as company
from agentchat.config import Settings
from agentchat.contract import format_time
from agentchat.db import after_commit
from agentchat.departments.models import Department
from agentchat.events import Event, emit
from agentchat.mailer import Mail, send_mail

log = logging.getLogger(__name__)

UNASSIGNED_CHATS_WAITING = "UnassignedChatsWaiting"
# Claimed per run; more wait for the next run.
BATCH = 500


async def claim_waiting_chats(db: AsyncSession, *, minutes: int) -> list[tuple[int, int, datetime]]:
    """(ChatID, DepartmentID, QueuedAt) of chats Unassigned for `minutes` or more and not yet notified."""
    now = clock.now()
    not_yet = or_(Chat.waiting_notified_at.is_(None), Chat.waiting_notified_at < Chat.queued_at)
    due = [Chat.status == UNASSIGNED, Chat.department_id.is_not(None),
           Chat.queued_at <= now - timedelta(minutes=minutes), not_yet]
    candidates = list((await db.execute(
        select(Chat.id).where(*due).order_by(Chat.queued_at, Chat.id).limit(BATCH))).scalars())
    if not candidates:
        return []
    # The claim: a concurrent run (another instance) waits on these rows, then finds them notified.
    claimed = await db.execute(
        update(Chat).where(Chat.id.in_(candidates), *due).values(waiting_notified_at=now)
        .returning(Chat.id, Chat.department_id, Chat.queued_at).execution_options(synchronize_session=False))
    # (`due` leaves no NULL department or queue time; the filter says so to the type checker.)
    rows = [(chat_id, department_id, queued_at) for chat_id, department_id, queued_at in claimed.all()
            if department_id is not None and queued_at is not None]
    return sorted(rows, key=lambda row: (row[2], row[0]))


async def notify_waiting_chats(db: AsyncSession, settings: Settings) -> int:
    """Claim the chats waiting too long and tell the agents of their departments who asked; how many chats."""
    minutes = await company.get_setting(db, "UnassignedChatsWaitingMinutes")
    chats = await claim_waiting_chats(db, minutes=minutes)
    if not chats:
        return 0
    department_ids = {department_id for _, department_id, _ in chats}
    names = dict((await db.execute(
        select(Department.id, Department.name).where(Department.id.in_(department_ids)))).all())
    members = await db.execute(
        select(Agent, AgentDepartment.department_id).join(AgentDepartment, AgentDepartment.agent_id == Agent.id)
        .where(AgentDepartment.department_id.in_(department_ids), Agent.enabled.is_(True)).order_by(Agent.id))
    wanted: dict[int, list[int]] = defaultdict(list)
    agents: dict[int, Agent] = {}
    for agent, department_id in members.all():
        if UNASSIGNED_CHATS_WAITING in (agent.notifications or []):
            agents[agent.id] = agent
            wanted[agent.id].append(department_id)
    for agent_id, departments in wanted.items():
        theirs = [{"ChatID": chat_id, "DepartmentID": department_id, "QueuedAt": format_time(queued_at)}
                  for chat_id, department_id, queued_at in chats if department_id in departments]
        emit(db, Event(UNASSIGNED_CHATS_WAITING, {"AgentID": agent_id, "Minutes": minutes, "Chats": theirs},
                       agent_ids=(agent_id,), private=True))
        _mail_after_commit(db, settings, agents[agent_id], theirs, names, minutes)
    return len(chats)


def _mail_after_commit(db: AsyncSession, settings: Settings, agent: Agent, chats: list[dict],
                       names: dict[int, str], minutes: int) -> None:
    count = len(chats)
    lines = [f"- chat {c['ChatID']} in {names.get(c['DepartmentID'], 'a department')}, queued at {c['QueuedAt']}"
             for c in chats]
    mail = Mail(to=agent.email_address,
                subject=f"{count} chat{'s' if count != 1 else ''} waiting unassigned for over {minutes} minutes",
                text=f"Hello {agent.name},\n\n"
                     f"These chats have waited in your departments' queues for over {minutes} minutes:\n\n"
                     + "\n".join(lines) + f"\n\nOpen AgentChat to take them: {settings.public_url}\n\n"
                     "You receive this because UnassignedChatsWaiting is on in your notification settings.\n")

    async def send() -> None:
        try:
            await send_mail(settings, mail)
        except Exception:
            # The chats are claimed already: the agents still had the event; we do not mail twice later.
            log.exception("UnassignedChatsWaiting mail to agent %s failed", agent.id)

    after_commit(db, send)
