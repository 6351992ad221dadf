"""The audit log: recorded in the transaction of the action it describes, read and exported by managers, purged
after the company's retention time (docs/audit.md)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.agents.models import Agent
from agentchat.audit.models import AuditEntry
from agentchat.contract import Paging, format_time
from agentchat.db import before_commit, rowcount
from agentchat.events import Event, emit

# Whatever a caller puts in Details, a value under a name like these is never kept: passwords, session tokens,
# reset and invitation codes, visitor tokens, secrets of any kind.
_SECRET_WORDS = ("password", "token", "secret", "resetcode", "code_hash", "hash")
_MAX_TEXT = 200
_MAX_ITEMS = 50


@dataclass(frozen=True)
class AuditFilter:
    agent_id: int | None = None
    actions: Sequence[str] = ()
    target_type: str | None = None
    target_id: int | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


def _is_secret(name: str) -> bool:
    folded = name.replace("_", "").casefold()
    return any(word.replace("_", "") in folded for word in _SECRET_WORDS)


def _clean(value: Any) -> Any:
    """Details as kept: no secret-named key, texts cut to 200 characters, lists and objects to 50 items."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in list(value.items())[:_MAX_ITEMS] if not _is_secret(str(k))}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in list(value)[:_MAX_ITEMS]]
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:_MAX_TEXT]


def record(db: AsyncSession, action: str, *, actor_agent_id: int | None, target_type: str | None = None,
           target_id: int | None = None, details: dict[str, Any] | None = None,
           client_ip: str | None = None, actor_name: str | None = None) -> AuditEntry:
    """Add the entry to the session: it is written with the action's own flush and commit (no extra round trip of
    its own), and is gone if the action rolls back. Managers hear of it live (AuditEntryAdded)."""
    entry = AuditEntry(at=clock.now(), actor_agent_id=actor_agent_id, action=action, target_type=target_type,
                       target_id=target_id, client_ip=client_ip, details=_clean(details) if details else None)
    db.add(entry)
    # The actor's name only where the action had it at hand (a logon): no read of its own for a name.
    db.info.setdefault("audit", []).append((entry, actor_name))
    before_commit(db, db.info.setdefault("audit_announce", lambda: _announce(db)))
    return entry


async def _announce(db: AsyncSession) -> None:
    """AuditEntryAdded for the entries recorded in this session, flushed first for their IDs (the flush the commit
    would make anyway). Managers only: an event naming no department and no agent reaches managers alone."""
    entries = db.info.pop("audit", [])
    db.info.pop("audit_announce", None)
    if not entries:
        return
    await db.flush()
    for entry, actor_name in entries:
        emit(db, Event("AuditEntryAdded", entry_data(entry, actor_name)))


def entry_data(entry: AuditEntry, agent_name: str | None) -> dict[str, Any]:
    return {"AuditEntryID": entry.id, "At": format_time(entry.at), "AgentID": entry.actor_agent_id,
            "AgentName": agent_name, "Action": entry.action, "TargetType": entry.target_type,
            "TargetID": entry.target_id, "ClientIP": entry.client_ip, "Details": entry.details or {}}


def _conditions(where: AuditFilter) -> list:
    conditions = []
    if where.agent_id is not None:
        conditions.append(AuditEntry.actor_agent_id == where.agent_id)
    if where.actions:
        conditions.append(AuditEntry.action.in_(list(where.actions)))
    if where.target_type is not None:
        conditions.append(AuditEntry.target_type == where.target_type)
    if where.target_id is not None:
        conditions.append(AuditEntry.target_id == where.target_id)
    if where.at_from is not None:
        conditions.append(AuditEntry.at >= where.at_from)
    if where.at_to is not None:
        conditions.append(AuditEntry.at <= where.at_to)
    return conditions


def _query(where: AuditFilter):
    return (select(AuditEntry, Agent.name).outerjoin(Agent, Agent.id == AuditEntry.actor_agent_id)
            .where(*_conditions(where)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))


async def list_entries(db: AsyncSession, *, where: AuditFilter, paging: Paging) -> tuple[list[dict], int]:
    total = (await db.execute(select(func.count()).select_from(AuditEntry).where(*_conditions(where)))).scalar_one()
    rows = await db.execute(_query(where).offset(paging.offset).limit(paging.page_size))
    return [entry_data(entry, name) for entry, name in rows], total


async def entries_after(db: AsyncSession, *, where: AuditFilter, before_id: int | None,
                        limit: int) -> list[dict]:
    """A batch for the CSV export, newest first, keyed by ID so that a long export needs no offset."""
    query = _query(where).order_by(None).order_by(AuditEntry.id.desc())
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [entry_data(entry, name) for entry, name in await db.execute(query.limit(limit))]


async def purge_expired(db: AsyncSession, *, retention_days: int) -> int:
    """Entries older than the retention time go (any instance may run it: deleting twice deletes nothing)."""
    cutoff = clock.now() - timedelta(days=retention_days)
    result = await db.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return rowcount(result)


def manager_action(db: AsyncSession, caller, action: str, target_type: str | None = None,
                   target_id: int | None = None, *, body=None, details: dict[str, Any] | None = None) -> None:
    """record() for a call a manager made: Details are what the call was given (a request body, as on the wire)."""
    given = body.model_dump(by_alias=True, exclude_unset=True, mode="json") if body is not None else {}
    record(db, action, actor_agent_id=caller.agent_id, target_type=target_type, target_id=target_id,
           details={**given, **(details or {})})


async def record_alone(sessionmaker, action: str, **entry: Any) -> None:
    """record() in a transaction of its own, for a read that changes nothing (a report file): run off the
    request's path (db.start_background), so the read's figures and time are not held up by the write."""
    from agentchat.db import commit_and_publish

    async with sessionmaker() as db:
        record(db, action, **entry)
        await commit_and_publish(db)
