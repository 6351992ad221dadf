"""A chat put in a department's queue: the chats service's step, then the department's auto-tags and a routing pass.

A flow one level above the chats, tags and routing services, which each build on the chats service: kept here, the
chats service imports neither (tests/test_import_cycles.py). The bot (a customer's menu choice) and TransferChat-
ToDepartment queue chats through it.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.chats import service as chats
from agentchat.chats.models import Chat
from agentchat.departments.models import Department
from agentchat.routing import triggers as routing
from agentchat.security import Caller
from agentchat.tags import service as tags


async def queue_chat(db: AsyncSession, chat: Chat, department: Department, *,
                     actor_agent_id: int | None = None, event_type: str = "Queued") -> None:
    """Into the department's queue, with the department's auto-tags (except disabled ones, recorded in the tag
    history); the agent it was taken from has a free place now, and the chat may be routed in its new department."""
    freed_agent_id = await chats.queue_chat(db, chat, department, actor_agent_id=actor_agent_id,
                                            event_type=event_type)
    await tags.apply_tags(db, chat, department.tag_ids)
    routing.route_after_commit(db, department_ids=(department.id,) if department.routing_enabled else (),
                               agent_ids=(freed_agent_id,) if freed_agent_id else ())


async def transfer_to_department(db: AsyncSession, *, caller: Caller, chat_id: int, department_id: int) -> Chat:
    """Back to Unassigned, at the end of the target department's queue; the history is kept."""
    chat, department = await chats.check_transfer_to_department(db, caller=caller, chat_id=chat_id,
                                                                department_id=department_id)
    await queue_chat(db, chat, department, actor_agent_id=caller.agent_id, event_type="TransferredToDepartment")
    return chat
