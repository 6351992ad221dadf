from typing import Annotated

from fastapi import APIRouter, Query

from agentchat.audit import service as audit
from agentchat.canned import service as canned
from agentchat.canned.schemas import (
    CannedResponseList,
    CannedResponseOut,
    CreateCannedResponseIn,
    RenderedText,
    UpdateCannedResponseIn,
)
from agentchat.chats import service as chats
from agentchat.compat import IDsInQueryOrBody, delete_route
from agentchat.contract import MAX_ID, Deleted
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent, ManagerOnly

router = APIRouter(tags=["Canned responses"], route_class=IDsInQueryOrBody)

CannedResponseIDQuery = Annotated[int, Query(alias="CannedResponseID", ge=1, le=MAX_ID)]


@router.post("/api/CreateCannedResponse")
async def create_canned_response(body: CreateCannedResponseIn, caller: ManagerOnly,
                                 db: DbSession) -> CannedResponseOut:
    response = await canned.create_canned_response(db, name=body.name, text=body.text, short_code=body.short_code)
    audit.manager_action(db, caller, "CannedResponseCreated", "CannedResponse", response.id, body=body)
    await commit_and_publish(db)
    return CannedResponseOut.model_validate(response)


@router.post("/api/UpdateCannedResponse")
async def update_canned_response(body: UpdateCannedResponseIn, caller: ManagerOnly,
                                 db: DbSession) -> CannedResponseOut:
    changes = body.model_dump(exclude_unset=True, include={"name", "text", "short_code"})
    response = await canned.update_canned_response(db, canned_response_id=body.canned_response_id, **changes)
    audit.manager_action(db, caller, "CannedResponseUpdated", "CannedResponse", response.id, body=body)
    await commit_and_publish(db)
    return CannedResponseOut.model_validate(response)


@delete_route(router, "/api/DeleteCannedResponse")
async def delete_canned_response(canned_response_id: CannedResponseIDQuery, caller: ManagerOnly,
                                 db: DbSession) -> Deleted:
    await canned.delete_canned_response(db, canned_response_id=canned_response_id)
    audit.manager_action(db, caller, "CannedResponseDeleted", "CannedResponse", canned_response_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, CannedResponseID=canned_response_id)


@router.get("/api/GetCannedResponses")
async def get_canned_responses(
    _caller: CurrentAgent, db: DbSession,
    search: Annotated[str | None, Query(alias="Search", max_length=100, pattern=r"^[^\x00]*$")] = None,
) -> CannedResponseList:
    items = await canned.list_canned_responses(db, search=(search or "").strip() or None)
    return CannedResponseList(items=[CannedResponseOut.model_validate(item) for item in items])


@router.get("/api/RenderCannedResponse")
async def render_canned_response(
    canned_response_id: CannedResponseIDQuery,
    chat_id: Annotated[int, Query(alias="ChatID", ge=1, le=MAX_ID)],
    caller: CurrentAgent, db: DbSession,
) -> RenderedText:
    """Not in the original: the response's text with its variables filled in for a chat, ready to send."""
    chat = await chats.get_visible_chat(db, caller=caller, chat_id=chat_id)
    text = await canned.render_for_chat(db, canned_response_id=canned_response_id, chat=chat,
                                        agent_id=caller.agent_id)
    return RenderedText(text=text)
