from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from agentchat.agents import service as agents
from agentchat.agents.schemas import AgentOut, CreateAgentIn, UpdateAgentIn
from agentchat.audit import service as audit
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import MAX_ID, Page, Paging, paging
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent, ManagerOnly

router = APIRouter(tags=["Agents"], route_class=IDsInQueryOrBody)


@router.post("/api/CreateAgent")
async def create_agent(body: CreateAgentIn, caller: ManagerOnly, request: Request, db: DbSession) -> AgentOut:
    agent = await agents.create_agent(db, request.app.state.settings, body)
    audit.manager_action(db, caller, "AgentCreated", "Agent", agent.id, body=body)
    await commit_and_publish(db)
    return AgentOut.model_validate(agent)


@router.post("/api/UpdateAgent")
async def update_agent(body: UpdateAgentIn, caller: CurrentAgent, request: Request, db: DbSession) -> AgentOut:
    agent = await agents.update_agent(db, request.app.state.settings, caller=caller, data=body)
    await commit_and_publish(db)
    return AgentOut.model_validate(agent)


@router.get("/api/GetAgents")
async def get_agents(
    _caller: CurrentAgent,
    db: DbSession,
    page: Annotated[Paging, Depends(paging)],
    department_id: Annotated[int | None, Query(alias="DepartmentID", ge=1, le=MAX_ID)] = None,
    status_id: Annotated[int | None, Query(alias="StatusID", ge=1, le=4)] = None,
) -> Page[AgentOut]:
    items, total = await agents.list_agents(db, department_id=department_id, status_id=status_id, paging=page)
    return Page[AgentOut](items=[AgentOut.model_validate(a) for a in items], page=page.page,
                          page_size=page.page_size, total=total)
