from typing import Any

from fastapi import APIRouter
from pydantic import Field

from agentchat.audit import service as audit
from agentchat.company import service as company
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import Schema
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent, ManagerOnly

router = APIRouter(tags=["Settings"], route_class=IDsInQueryOrBody)


class SettingsBody(Schema):
    settings: list[dict[str, Any]] = Field(max_length=50)


def as_contract_list(values: dict[str, Any]) -> SettingsBody:
    return SettingsBody(settings=[{key: value} for key, value in values.items()])


@router.post("/api/UpdateSettings")
async def update_settings(body: SettingsBody, caller: ManagerOnly, db: DbSession) -> SettingsBody:
    values = await company.update_settings(db, body.settings)
    audit.manager_action(db, caller, "SettingsUpdated", "Settings", body=body)
    await commit_and_publish(db)
    return as_contract_list(values)


@router.get("/api/GetSettings")
async def get_settings(_caller: CurrentAgent, db: DbSession) -> SettingsBody:
    return as_contract_list(await company.get_settings(db))
