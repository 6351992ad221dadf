"""Logon, logoff, session keep-alive and password (re)setting."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock, routing
from agentchat.agents import events as agent_events
from agentchat.agents.models import STATUS_OFFLINE, STATUS_ONLINE, Agent
from agentchat.audit import service as audit
from agentchat.auth.models import AgentSession, LogonFailure, PasswordResetCode
from agentchat.config import Settings
from agentchat.contract import TooManyAttempts
from agentchat.db import after_commit
from agentchat.mailer import Mail, send_mail
from agentchat.security import HashSlots, hash_password, new_token, token_hash, verify_password

# At most this many reset mails per address per hour: the endpoint is public, so it must not mail-bomb.
RESET_MAILS_PER_HOUR = 3


@dataclass
class Logon:
    token: str
    session: AgentSession
    agent: Agent


async def check_logon_throttle(db: AsyncSession, settings: Settings, *, email: str, client_ip: str) -> None:
    """Refuse with 429 while an address or a client IP has too many recent failures."""
    since = clock.now() - timedelta(seconds=settings.logon_window_seconds)
    for column, value in ((LogonFailure.email_address, email), (LogonFailure.client_ip, client_ip)):
        count, oldest = (
            await db.execute(select(func.count(), func.min(LogonFailure.at)).where(column == value,
                                                                                  LogonFailure.at > since))
        ).one()
        if count >= settings.logon_max_failures:
            retry_after = max(1, int((oldest - since).total_seconds()) + 1)
            raise TooManyAttempts(
                "Too many failed logons; try again later.",
                headers={"Retry-After": str(retry_after)},
            )


@dataclass
class LogonAttempt:
    id: int
    agent: Agent | None


async def reserve_logon_attempt(db: AsyncSession, settings: Settings, *, email: str,
                                client_ip: str) -> LogonAttempt:
    """Count this attempt as a failure before its password is checked (429 if the address or the IP is over
    the limit), and find the agent. The caller commits at once: every concurrent attempt then sees this one,
    so no number of parallel guesses gets more than the limit's worth checked (read before the slow hash and
    written after it, 40 parallel guesses all passed), and no transaction stays open during the hash."""
    if db.get_bind().dialect.name == "postgresql":
        # Concurrent attempts for one address or one IP take turns to count and add (SQLite has one writer);
        # always the address first, so two attempts cannot wait for each other.
        await db.execute(text("SELECT pg_advisory_xact_lock(17, hashtext(:key))"), {"key": email})
        await db.execute(text("SELECT pg_advisory_xact_lock(18, hashtext(:key))"), {"key": client_ip})
    await check_logon_throttle(db, settings, email=email, client_ip=client_ip)
    now = clock.now()
    stale = now - timedelta(seconds=settings.logon_window_seconds)
    await db.execute(delete(LogonFailure).where(LogonFailure.email_address == email, LogonFailure.at <= stale))
    attempt = LogonFailure(email_address=email, client_ip=client_ip, at=now)
    db.add(attempt)
    await db.flush()
    agent = (await db.execute(select(Agent).where(Agent.email_address == email))).scalar_one_or_none()
    return LogonAttempt(id=attempt.id, agent=agent)


def logon_failed(db: AsyncSession, *, attempt: LogonAttempt, email: str, client_ip: str) -> None:
    """The audit log's entry for a wrong password (or a disabled or unknown agent): the address tried, never the
    password."""
    audit.record(db, "AgentLogonFailed", actor_agent_id=attempt.agent.id if attempt.agent else None,
                 target_type="Agent" if attempt.agent else None, target_id=attempt.agent.id if attempt.agent else None,
                 client_ip=client_ip, details={"EmailAddress": email})


async def cancel_logon_attempt(db: AsyncSession, *, attempt_id: int) -> None:
    """An attempt whose password was never checked (the service was busy) is no failure."""
    await db.execute(delete(LogonFailure).where(LogonFailure.id == attempt_id))


async def check_password(hasher: PasswordHasher, slots: HashSlots | None, attempt: LogonAttempt,
                         password: str) -> bool:
    """The attempt's password is the enabled agent's (one hash either way; no database work)."""
    agent = attempt.agent
    password_ok = await verify_password(hasher, agent.password_hash if agent else None, password, slots=slots)
    return agent is not None and password_ok and agent.enabled


async def logon(db: AsyncSession, settings: Settings, hasher: PasswordHasher, slots: HashSlots | None, *,
                attempt: LogonAttempt, password: str, client_ip: str) -> Logon:
    """After check_password: open a session, set the agent Online and clear the address's failures, this
    attempt's included. (A wrong password needs nothing more: the reserved attempt is its failure.)"""
    agent = attempt.agent
    assert agent is not None, "logon follows a check_password that found the agent"
    if agent.password_hash is None or hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = await hash_password(hasher, password, slots=slots)
    await db.execute(delete(LogonFailure).where(LogonFailure.email_address == agent.email_address))
    token = new_token()
    now = clock.now()
    session = AgentSession(agent_id=agent.id, token_hash=token_hash(token), created_at=now,
                           expires_at=now + timedelta(minutes=settings.session_idle_minutes), client_ip=client_ip)
    db.add(session)
    if agent.status_id != STATUS_ONLINE:
        agent.status_id = STATUS_ONLINE
        agent_events.agent_status_changed(db, agent_id=agent.id, status_id=STATUS_ONLINE)
        routing.route_after_commit(db, agent_ids=(agent.id,))
    # Flushed with the session's row, in the same transaction: a logon costs one INSERT more, no read.
    audit.record(db, "AgentLoggedOn", actor_agent_id=agent.id, target_type="Agent", target_id=agent.id,
                 client_ip=client_ip, actor_name=agent.name)
    await db.flush()
    return Logon(token=token, session=session, agent=agent)


async def logoff(db: AsyncSession, *, session_id: int, agent_id: int) -> None:
    await db.execute(update(AgentSession).where(AgentSession.id == session_id).values(revoked_at=clock.now()))
    audit.record(db, "AgentLoggedOff", actor_agent_id=agent_id, target_type="Agent", target_id=agent_id)
    agent_events.sessions_ended(db, agent_id=agent_id, session_ids=[session_id])
    await set_offline(db, agent_id=agent_id)


async def set_offline(db: AsyncSession, *, agent_id: int) -> None:
    changed = (await db.execute(
        update(Agent).where(Agent.id == agent_id, Agent.status_id != STATUS_OFFLINE)
        .values(status_id=STATUS_OFFLINE).returning(Agent.id)
    )).first()
    if changed:
        agent_events.agent_status_changed(db, agent_id=agent_id, status_id=STATUS_OFFLINE)


async def expire_idle_agents(db: AsyncSession) -> list[int]:
    """Presence: an agent with no live session left is Offline. Returns the agents set Offline."""
    live = (select(AgentSession.id)
            .where(AgentSession.agent_id == Agent.id, AgentSession.revoked_at.is_(None),
                   AgentSession.expires_at > clock.now())
            .exists())
    agent_ids = list((await db.execute(
        update(Agent).where(Agent.status_id != STATUS_OFFLINE, ~live)
        .values(status_id=STATUS_OFFLINE).returning(Agent.id)
    )).scalars())
    for agent_id in agent_ids:
        agent_events.agent_status_changed(db, agent_id=agent_id, status_id=STATUS_OFFLINE)
    return agent_ids


async def revoke_sessions(db: AsyncSession, *, agent_id: int) -> None:
    session_ids = list((await db.execute(
        update(AgentSession)
        .where(AgentSession.agent_id == agent_id, AgentSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .returning(AgentSession.id)
    )).scalars())
    agent_events.sessions_ended(db, agent_id=agent_id, session_ids=session_ids)


async def end_gone_sessions(db: AsyncSession, *, sessions: dict[int, int]) -> None:
    """SessionEnded for those of `sessions` ({SessionID: AgentID}: an instance's open sockets) that are no longer
    live: idle-expired, or revoked or disabled without an event reaching this instance (another process's
    create-manager; a broker that was down). Every instance then closes their sockets."""
    now = clock.now()
    ids = sorted(sessions)
    live: set[int] = set()
    for start in range(0, len(ids), 500):  # SQLite's bound on parameters, with room to spare
        live.update((await db.execute(
            select(AgentSession.id).join(Agent, Agent.id == AgentSession.agent_id)
            .where(AgentSession.id.in_(ids[start:start + 500]), AgentSession.revoked_at.is_(None),
                   AgentSession.expires_at > now, Agent.enabled.is_(True)))).scalars())
    ended: dict[int, list[int]] = {}
    for session_id in ids:
        if session_id not in live:
            ended.setdefault(sessions[session_id], []).append(session_id)
    for agent_id, session_ids in ended.items():
        agent_events.sessions_ended(db, agent_id=agent_id, session_ids=session_ids)


def reset_link(settings: Settings, code: str) -> str:
    return f"{settings.public_url.rstrip('/')}/reset-password?ResetCode={code}"


async def issue_reset_code(db: AsyncSession, settings: Settings, *, agent: Agent, lifetime: timedelta,
                           invitation: bool = False) -> None:
    """Create a single-use code and e-mail its link once the transaction commits. Older codes die: only the
    newest link mailed works."""
    code = secrets.token_urlsafe(32)
    now = clock.now()
    await revoke_reset_codes(db, agent_id=agent.id)
    db.add(PasswordResetCode(agent_id=agent.id, code_hash=token_hash(code), created_at=now,
                             expires_at=now + lifetime))
    await db.flush()
    mail = _invitation_mail(settings, agent, code, lifetime) if invitation else _reset_mail(
        settings, agent, code, lifetime)
    after_commit(db, lambda: send_mail(settings, mail))


async def revoke_reset_codes(db: AsyncSession, *, agent_id: int) -> None:
    """End every outstanding code of the agent (a newer code, a new address, disabling, a password chosen):
    a link mailed to a mistyped address must not open the corrected account."""
    await db.execute(update(PasswordResetCode)
                     .where(PasswordResetCode.agent_id == agent_id, PasswordResetCode.used_at.is_(None))
                     .values(used_at=clock.now()))


def _reset_mail(settings: Settings, agent: Agent, code: str, lifetime: timedelta) -> Mail:
    minutes = int(lifetime.total_seconds() // 60)
    return Mail(
        to=agent.email_address,
        subject="Reset your AgentChat password",
        text=(f"Hello {agent.name},\n\nTo choose a new password, open this link within {minutes} minutes:\n\n"
              f"{reset_link(settings, code)}\n\nThe link works once. If you did not ask for it, ignore this mail;"
              " your password stays as it is.\n"),
    )


def _invitation_mail(settings: Settings, agent: Agent, code: str, lifetime: timedelta) -> Mail:
    hours = int(lifetime.total_seconds() // 3600)
    return Mail(
        to=agent.email_address,
        subject="Your AgentChat account",
        text=(f"Hello {agent.name},\n\nAn AgentChat account was created for you ({agent.email_address}).\n"
              f"Choose your password within {hours} hours here:\n\n{reset_link(settings, code)}\n"),
    )


async def request_password_reset(db: AsyncSession, settings: Settings, *, email: str,
                                 client_ip: str | None = None) -> None:
    """E-mail a reset link if the address belongs to an enabled agent. Silent either way."""
    # The agent's row locked (PostgreSQL) so that concurrent requests count each other's codes.
    agent = (await db.execute(select(Agent).where(Agent.email_address == email).with_for_update())
             ).scalar_one_or_none()
    if agent is None or not agent.enabled:
        return
    hour_ago = clock.now() - timedelta(hours=1)
    recent = (await db.execute(select(func.count()).where(PasswordResetCode.agent_id == agent.id,
                                                          PasswordResetCode.created_at > hour_ago))).scalar_one()
    if recent >= RESET_MAILS_PER_HOUR:
        return
    await issue_reset_code(db, settings, agent=agent, lifetime=timedelta(minutes=settings.reset_code_minutes))
    audit.record(db, "PasswordResetRequested", actor_agent_id=agent.id, target_type="Agent", target_id=agent.id,
                 client_ip=client_ip)


async def reset_code_is_live(db: AsyncSession, *, code: str) -> bool:
    """Whether the code could set a password now (checked before hashing the new one, so that a wrong code
    costs no hash); set_password decides."""
    return (await db.execute(select(PasswordResetCode.id).where(
        PasswordResetCode.code_hash == token_hash(code[:200]), PasswordResetCode.used_at.is_(None),
        PasswordResetCode.expires_at > clock.now()))).first() is not None


async def set_password(db: AsyncSession, *, code: str, password_hash: str, client_ip: str | None = None) -> bool:
    """Consume a reset code and set the password (hashed by the caller, outside any transaction); False if the
    code is unknown, used or expired."""
    now = clock.now()
    # One conditional UPDATE consumes the code, so two uses racing each other cannot both succeed.
    agent_id = (
        await db.execute(
            update(PasswordResetCode)
            .where(PasswordResetCode.code_hash == token_hash(code[:200]), PasswordResetCode.used_at.is_(None),
                   PasswordResetCode.expires_at > now)
            .values(used_at=now)
            .returning(PasswordResetCode.agent_id)
        )
    ).scalar_one_or_none()
    if agent_id is None:
        return False
    await db.execute(update(Agent).where(Agent.id == agent_id).values(password_hash=password_hash))
    # Other outstanding codes die with this one: the password has just been chosen.
    await revoke_reset_codes(db, agent_id=agent_id)
    await revoke_sessions(db, agent_id=agent_id)
    audit.record(db, "PasswordSet", actor_agent_id=agent_id, target_type="Agent", target_id=agent_id,
                 client_ip=client_ip)
    return True
