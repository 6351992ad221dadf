"""The events agents' changes produce (see docs/events.md)."""

from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.agents import status_history
from agentchat.agents.models import Agent
from agentchat.agents.schemas import AgentOut
from agentchat.events import Event, emit


def agent_status_changed(db: AsyncSession, *, agent_id: int, status_id: int) -> None:
    """Every status change comes through here: it is recorded (for occupancy) and announced."""
    status_history.record(db, agent_id=agent_id, status_id=status_id)
    emit(db, Event("AgentStatusChanged", {"AgentID": agent_id, "StatusID": status_id}, everyone=True))


def agent_updated(db: AsyncSession, agent: Agent) -> None:
    data = AgentOut.model_validate(agent).model_dump(by_alias=True, mode="json")
    emit(db, Event("AgentUpdated", data, everyone=True))


def sessions_ended(db: AsyncSession, *, agent_id: int, session_ids: list[int]) -> None:
    """Tells the agent's open sockets of these sessions to close (the hub closes them with 4401)."""
    if session_ids:
        emit(db, Event("SessionEnded", {"AgentID": agent_id, "SessionIDs": session_ids}, agent_ids=(agent_id,)))
