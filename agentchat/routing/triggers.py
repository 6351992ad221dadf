"""What asks for a routing pass: a chat queued, an agent Online, an agent's chat closed or moved away.

The chats, agents and departments services call it; the pass itself (service.py) reads the chats' history
helpers (chats/events.py), never the chats service, so neither needs a deferred import.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.db import after_commit, create_sessionmaker
from agentchat.routing import service

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    jobs: list
    department_ids: set[int] = field(default_factory=set)
    agent_ids: set[int] = field(default_factory=set)


def route_after_commit(db: AsyncSession, *, department_ids: Iterable[int | None] = (),
                       agent_ids: Iterable[int | None] = ()) -> None:
    """Once this transaction commits, route the queues of these departments and of these agents' departments.

    Departments without RoutingEnabled are skipped by the pass itself. One pass per transaction.
    """
    departments, agents = {d for d in department_ids if d}, {a for a in agent_ids if a}
    if not (departments or agents):
        return
    pending: _Pending | None = db.info.get("routing")
    # A new transaction has a new after-commit list: the previous pass (if any) already went with its commit.
    if pending is None or pending.jobs is not db.info.get("after_commit"):
        pending = _Pending(jobs=[])
        db.info["routing"] = pending
        sessionmaker = create_sessionmaker(db.bind, **{key: db.info[key] for key in ("outbound", "broker")
                                                       if key in db.info})

        async def job() -> None:
            try:
                await service.route(sessionmaker, department_ids=pending.department_ids,
                                    agent_ids=pending.agent_ids)
            except Exception:
                # The periodic routing job (agentchat.jobs) picks up whatever is still queued.
                log.exception("routing pass failed")

        after_commit(db, job)
        pending.jobs = db.info["after_commit"]
    pending.department_ids |= departments
    pending.agent_ids |= agents
