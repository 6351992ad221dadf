"""The template calls: GetTemplates (agents), SyncTemplates (managers), SendTemplate (the chat's agent)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from agentchat.audit import service as audit
from agentchat.chats.schemas import MessageOut
from agentchat.compat import IDsInQueryOrBody
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent, ManagerOnly
from agentchat.templates import service as templates
from agentchat.templates.schemas import SendTemplateIn, SyncTemplatesOut, TemplateList, TemplateOut

router = APIRouter(tags=["WhatsApp templates"], route_class=IDsInQueryOrBody)


@router.get("/api/GetTemplates")
async def get_templates(
    _caller: CurrentAgent, db: DbSession,
    status: Annotated[str | None, Query(alias="Status", max_length=32, pattern=r"^[A-Za-z_]+$")] = None,
) -> TemplateList:
    items = await templates.list_templates(db, status=status)
    return TemplateList(items=[TemplateOut.of(item) for item in items])


@router.post("/api/SyncTemplates")
async def sync_templates(request: Request, caller: ManagerOnly, db: DbSession) -> SyncTemplatesOut:
    state = request.app.state
    result = await templates.sync_templates(db, graph=getattr(state, "whatsapp_graph", None),
                                            business_account_id=state.settings.whatsapp_business_account_id)
    audit.manager_action(db, caller, "TemplatesSynced", details={"Synced": result.synced, "Removed": result.removed})
    await commit_and_publish(db)
    items = await templates.list_templates(db)
    return SyncTemplatesOut(items=[TemplateOut.of(item) for item in items], synced=result.synced,
                            removed=result.removed)


@router.post("/api/SendTemplate")
async def send_template(body: SendTemplateIn, caller: CurrentAgent, db: DbSession) -> MessageOut:
    parameters = body.parameters
    message = await templates.send_template(
        db, caller=caller, chat_id=body.chat_id, name=body.template_name, language=body.language,
        parameters={"Header": parameters.header, "Body": parameters.body, "Buttons": parameters.buttons})
    await commit_and_publish(db)
    return MessageOut.of(message)
