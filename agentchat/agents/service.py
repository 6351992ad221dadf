"""Agents: creation (with an e-mailed invitation), updates under the role rules, listing."""

from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import routing
from agentchat.agents import events as agent_events
from agentchat.agents.models import ROLE_MANAGER, STATUS_OFFLINE, STATUS_ONLINE, Agent, AgentDepartment
from agentchat.agents.schemas import CreateAgentIn, UpdateAgentIn
from agentchat.audit import service as audit
from agentchat.auth import service as auth
from agentchat.config import Settings
from agentchat.contract import Conflict, Forbidden, NotFound, Paging
from agentchat.departments import service as departments
from agentchat.security import Caller, hash_password

# What an agent may change on their own record; everything else needs a Manager.
SELF_SERVICE_FIELDS = {"agent_id", "status_id", "mobile_number"}


async def get_agent(db: AsyncSession, agent_id: int, *, field: str = "AgentID") -> Agent:
    agent = await db.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"No agent has ID {agent_id}.", code="agent_not_found", field=field)
    return agent


async def create_agent(db: AsyncSession, settings: Settings, data: CreateAgentIn) -> Agent:
    await _check_email_free(db, data.email_address)
    department_ids = await departments.check_department_ids(db, data.department_ids)
    agent = Agent(
        name=data.name,
        email_address=data.email_address,
        mobile_number=data.mobile_number,
        role_id=data.role_id,
        status_id=STATUS_OFFLINE,
        notifications=[],
        enabled=True,
        departments=[AgentDepartment(department_id=d) for d in department_ids],
    )
    db.add(agent)
    await _flush_unique(db)
    agent_events.agent_updated(db, agent)
    await auth.issue_reset_code(db, settings, agent=agent, lifetime=timedelta(hours=settings.invite_code_hours),
                                invitation=True)
    return agent


async def update_agent(db: AsyncSession, settings: Settings, *, caller: Caller, data: UpdateAgentIn) -> Agent:
    changes = data.model_dump(exclude_unset=True)
    if not caller.is_manager:
        if data.agent_id != caller.agent_id:
            raise Forbidden("Agents may update only their own record.", code="manager_only")
        forbidden = sorted(set(changes) - SELF_SERVICE_FIELDS)
        if forbidden:
            field = UpdateAgentIn.model_fields[forbidden[0]].alias
            raise Forbidden(f"Only a Manager may change {field}.", code="manager_only", field=field)
    agent = await get_agent(db, data.agent_id)
    status_before = agent.status_id
    before = _audited(agent)
    for key in ("name", "role_id", "status_id", "enabled", "max_concurrent_chats"):
        if changes.get(key) is None:
            changes.pop(key, None)
    if "email_address" in changes:
        if changes["email_address"] is None:
            changes.pop("email_address")
        elif changes["email_address"] != agent.email_address:
            await _check_email_free(db, changes["email_address"])
    await _check_last_manager(db, agent, changes)
    routing_changed = bool({"status_id", "max_concurrent_chats", "max_chats_per_channel", "department_ids"}
                           & set(changes))
    if changes.get("department_ids") is not None:
        wanted = await departments.check_department_ids(db, changes.pop("department_ids"))
        kept = [link for link in agent.departments if link.department_id in wanted]
        have = {link.department_id for link in kept}
        agent.departments = kept + [AgentDepartment(department_id=d) for d in wanted if d not in have]
    changes.pop("department_ids", None)
    changes.pop("agent_id")
    if "notifications" in changes:
        changes["notifications"] = sorted(set(changes["notifications"] or []))
    address_changed = changes.get("email_address", agent.email_address) != agent.email_address
    for key, value in changes.items():
        setattr(agent, key, value)
    if changes.get("enabled") is False:
        agent.status_id = STATUS_OFFLINE
        await auth.revoke_sessions(db, agent_id=agent.id)
        await auth.revoke_reset_codes(db, agent_id=agent.id)
    await _flush_unique(db)
    if address_changed:
        await _codes_follow_the_address(db, settings, agent)
    if agent.status_id != status_before:
        agent_events.agent_status_changed(db, agent_id=agent.id, status_id=agent.status_id)
    agent_events.agent_updated(db, agent)
    _audit_update(db, caller, agent, before)
    if routing_changed and agent.status_id == STATUS_ONLINE and agent.enabled:
        # Online again, more places or new departments: queued chats may now go to this agent.
        routing.route_after_commit(db, agent_ids=(agent.id,))
    return agent


# What the audit log tells of a manager's change to an agent, before and after (a status change alone is no
# manager action worth an entry: agents change their own all day).
_AUDITED = {"Name": "name", "EmailAddress": "email_address", "MobileNumber": "mobile_number", "RoleID": "role_id",
            "Enabled": "enabled", "MaxConcurrentChats": "max_concurrent_chats", "Notifications": "notifications"}


def _audited(agent: Agent) -> dict:
    values = {wire: getattr(agent, name) for wire, name in _AUDITED.items()}
    values["DepartmentIDs"] = sorted(link.department_id for link in agent.departments)
    return values


def _audit_update(db: AsyncSession, caller: Caller, agent: Agent, before: dict) -> None:
    after = _audited(agent)
    changes = {key: {"From": before[key], "To": after[key]} for key in after if after[key] != before[key]}
    if caller.is_manager and changes:
        audit.record(db, "AgentUpdated", actor_agent_id=caller.agent_id, target_type="Agent", target_id=agent.id,
                     details={"Changes": changes})


async def _codes_follow_the_address(db: AsyncSession, settings: Settings, agent: Agent) -> None:
    """Links mailed to the old address die (it may have been a typo, someone else's inbox); an agent still to
    choose a password is invited again at the new one."""
    if agent.password_hash is None and agent.enabled:
        await auth.issue_reset_code(db, settings, agent=agent, lifetime=timedelta(hours=settings.invite_code_hours),
                                    invitation=True)  # which revokes the older codes
    else:
        await auth.revoke_reset_codes(db, agent_id=agent.id)


async def _check_last_manager(db: AsyncSession, agent: Agent, changes: dict) -> None:
    demoted = changes.get("role_id", agent.role_id) != ROLE_MANAGER
    disabled = changes.get("enabled", agent.enabled) is False
    if not (agent.role_id == ROLE_MANAGER and agent.enabled and (demoted or disabled)):
        return
    # Lock the other managers' rows (PostgreSQL) so two managers cannot demote each other at once.
    others = (
        await db.execute(
            select(Agent.id).where(Agent.role_id == ROLE_MANAGER, Agent.enabled.is_(True), Agent.id != agent.id)
            .with_for_update()
        )
    ).all()
    if not others:
        raise Conflict("The last active Manager cannot be demoted or disabled.", code="last_manager",
                       field="RoleID" if demoted else "Enabled")


async def _check_email_free(db: AsyncSession, email: str) -> None:
    taken = (await db.execute(select(Agent.id).where(Agent.email_address == email))).first()
    if taken:
        raise Conflict("Another agent already uses this e-mail address.", code="email_in_use",
                       field="EmailAddress")


async def _flush_unique(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:
        # A concurrent request took the address between our check and our write.
        raise Conflict("Another agent already uses this e-mail address.", code="email_in_use",
                       field="EmailAddress") from exc


async def list_agents(db: AsyncSession, *, department_id: int | None, status_id: int | None,
                      paging: Paging) -> tuple[list[Agent], int]:
    query = select(Agent)
    if department_id is not None:
        query = query.where(Agent.id.in_(
            select(AgentDepartment.agent_id).where(AgentDepartment.department_id == department_id)))
    if status_id is not None:
        query = query.where(Agent.status_id == status_id)
    total = (await db.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await db.execute(query.order_by(Agent.id).offset(paging.offset).limit(paging.page_size))).scalars()
    return list(rows), total


async def count_managers(db: AsyncSession) -> int:
    return (await db.execute(
        select(func.count()).where(Agent.role_id == ROLE_MANAGER, Agent.enabled.is_(True)))).scalar_one()


async def create_or_reset_manager(db: AsyncSession, hasher: PasswordHasher, *, name: str, email: str,
                                  password: str) -> Agent:
    """The CLI's way in: make (or restore) a Manager with a known password."""
    agent = (await db.execute(select(Agent).where(Agent.email_address == email))).scalar_one_or_none()
    if agent is None:
        agent = Agent(email_address=email, status_id=STATUS_OFFLINE, notifications=[], departments=[])
        db.add(agent)
    agent.name = name
    agent.role_id = ROLE_MANAGER
    agent.enabled = True
    agent.password_hash = await hash_password(hasher, password)
    await db.flush()
    if agent.id is not None:
        await auth.revoke_sessions(db, agent_id=agent.id)
    audit.record(db, "ManagerSetFromCommandLine", actor_agent_id=None, target_type="Agent", target_id=agent.id,
                 details={"EmailAddress": email})
    return agent
