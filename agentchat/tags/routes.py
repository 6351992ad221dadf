from typing import Annotated

from fastapi import APIRouter, Query

from agentchat.audit import service as audit
from agentchat.chats import service as chats
from agentchat.chats.schemas import ChatOut
from agentchat.compat import IDsInQueryOrBody, delete_route, either_spelling
from agentchat.contract import MAX_ID, Deleted
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent, ManagerOnly
from agentchat.tags import service as tags
from agentchat.tags.schemas import (
    AddTagIn,
    CreateTagGroupIn,
    CreateTagIn,
    RemoveTagIn,
    TagGroupList,
    TagGroupOut,
    TagGroupWithTags,
    TagOut,
    UpdateTagGroupIn,
    UpdateTagIn,
)

router = APIRouter(tags=["Tags"], route_class=IDsInQueryOrBody)

TagIDQuery = Annotated[int, Query(alias="TagID", ge=1, le=MAX_ID)]
OptionalTagGroupID = Annotated[int | None, Query(alias="TagGroupID", ge=1, le=MAX_ID)]
# The original's spelling of TagGroupID (compat.py).
GroupID = Annotated[int | None, Query(alias="GroupID", ge=1, le=MAX_ID, description="TagGroupID, as the original "
                                      "spells it")]


@router.post("/api/CreateTagGroup")
async def create_tag_group(body: CreateTagGroupIn, caller: ManagerOnly, db: DbSession) -> TagGroupOut:
    group = await tags.create_tag_group(db, name=body.name, enabled=body.enabled)
    audit.manager_action(db, caller, "TagGroupCreated", "TagGroup", group.id, body=body)
    await commit_and_publish(db)
    return TagGroupOut.model_validate(group)


@router.post("/api/UpdateTagGroup")
async def update_tag_group(body: UpdateTagGroupIn, caller: ManagerOnly, db: DbSession) -> TagGroupOut:
    group = await tags.update_tag_group(db, tag_group_id=body.tag_group_id, name=body.name, enabled=body.enabled)
    audit.manager_action(db, caller, "TagGroupUpdated", "TagGroup", group.id, body=body)
    await commit_and_publish(db)
    return TagGroupOut.model_validate(group)


@delete_route(router, "/api/DeleteTagGroup")
async def delete_tag_group(caller: ManagerOnly, db: DbSession, tag_group_id: OptionalTagGroupID = None,
                           group_id: GroupID = None) -> Deleted:
    tag_group_id = either_spelling("TagGroupID", tag_group_id, "GroupID", group_id, required=True)
    await tags.delete_tag_group(db, tag_group_id=tag_group_id)
    audit.manager_action(db, caller, "TagGroupDeleted", "TagGroup", tag_group_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, TagGroupID=tag_group_id)


@router.post("/api/CreateTag")
async def create_tag(body: CreateTagIn, caller: ManagerOnly, db: DbSession) -> TagOut:
    tag = await tags.create_tag(db, tag_group_id=body.tag_group_id, name=body.name, enabled=body.enabled)
    audit.manager_action(db, caller, "TagCreated", "Tag", tag.id, body=body)
    await commit_and_publish(db)
    return TagOut.model_validate(tag)


@router.post("/api/UpdateTag")
async def update_tag(body: UpdateTagIn, caller: ManagerOnly, db: DbSession) -> TagOut:
    tag = await tags.update_tag(db, tag_id=body.tag_id, name=body.name, enabled=body.enabled)
    audit.manager_action(db, caller, "TagUpdated", "Tag", tag.id, body=body)
    await commit_and_publish(db)
    return TagOut.model_validate(tag)


@delete_route(router, "/api/DeleteTag")
async def delete_tag(tag_id: TagIDQuery, caller: ManagerOnly, db: DbSession) -> Deleted:
    await tags.delete_tag(db, tag_id=tag_id)
    audit.manager_action(db, caller, "TagDeleted", "Tag", tag_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, TagID=tag_id)


@router.get("/api/GetTags")
async def get_tags(_caller: CurrentAgent, db: DbSession, tag_group_id: OptionalTagGroupID = None,
                   group_id: GroupID = None) -> TagGroupList:
    tag_group_id = either_spelling("TagGroupID", tag_group_id, "GroupID", group_id)
    groups = await tags.list_tag_groups(db, tag_group_id=tag_group_id)
    return TagGroupList(items=[
        TagGroupWithTags(tag_group_id=group.id, name=group.name, enabled=group.enabled,
                         tags=[TagOut.model_validate(tag) for tag in group_tags])
        for group, group_tags in groups
    ])


async def _chat_out(db, chat) -> ChatOut:
    return ChatOut.of(chat, await tags.chat_tag_ids(db, chat.id))


@router.post("/api/AddTag")
async def add_tag(body: AddTagIn, caller: CurrentAgent, db: DbSession) -> ChatOut:
    chat = await tags.chat_for_tagging(db, caller=caller, chat_id=body.chat_id, customer_id=body.customer_id)
    await tags.add_tag(db, chat=chat, tag_id=body.tag_id, agent_id=caller.agent_id)
    await commit_and_publish(db)
    return await _chat_out(db, chat)


@router.post("/api/RemoveTag")
async def remove_tag(body: RemoveTagIn, caller: CurrentAgent, db: DbSession) -> ChatOut:
    chat = await chats.get_visible_chat(db, caller=caller, chat_id=body.chat_id)
    await tags.remove_tag(db, chat=chat, tag_id=body.tag_id, agent_id=caller.agent_id)
    await commit_and_publish(db)
    return await _chat_out(db, chat)
