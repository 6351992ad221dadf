"""Tag groups and tags, and tags on chats (with the history the reports read)."""

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.chats import events as chat_events
from agentchat.chats import service as chats
from agentchat.chats.models import Chat, ChatTag
from agentchat.contract import Conflict, Invalid, NotFound
from agentchat.customers import service as customers
from agentchat.db import rowcount
from agentchat.security import Caller
from agentchat.tags.models import TAG_ADDED, TAG_DELETED, TAG_REMOVED, Tag, TagEvent, TagGroup

# ---- tag groups ---------------------------------------------------------------------------------------


async def get_tag_group(db: AsyncSession, tag_group_id: int, *, field: str = "TagGroupID") -> TagGroup:
    group = await db.get(TagGroup, tag_group_id)
    if group is None:
        raise NotFound(f"No tag group has ID {tag_group_id}.", code="tag_group_not_found", field=field)
    return group


async def _check_group_name_free(db: AsyncSession, name: str, *, except_id: int | None = None) -> None:
    # Names differing only in case would look the same in a tag picker: they count as taken.
    query = select(TagGroup.id).where(func.lower(TagGroup.name) == name.lower())
    if except_id is not None:
        query = query.where(TagGroup.id != except_id)
    if (await db.execute(query)).first():
        raise Conflict("Another tag group already has this name.", code="tag_group_name_taken", field="Name")


async def _flush(db: AsyncSession, message: str, code: str) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:
        # A concurrent request took the name between our check and our write.
        raise Conflict(message, code=code, field="Name") from exc


async def create_tag_group(db: AsyncSession, *, name: str, enabled: bool = True) -> TagGroup:
    await _check_group_name_free(db, name)
    group = TagGroup(name=name, enabled=enabled)
    db.add(group)
    await _flush(db, "Another tag group already has this name.", "tag_group_name_taken")
    return group


async def update_tag_group(db: AsyncSession, *, tag_group_id: int, name: str | None = None,
                           enabled: bool | None = None) -> TagGroup:
    group = await get_tag_group(db, tag_group_id)
    if name is not None and name != group.name:
        await _check_group_name_free(db, name, except_id=group.id)
        group.name = name
    if enabled is not None:
        group.enabled = enabled
    await _flush(db, "Another tag group already has this name.", "tag_group_name_taken")
    return group


async def delete_tag_group(db: AsyncSession, *, tag_group_id: int) -> None:
    """Delete the group and its tags; chats lose those tags, their history keeps them."""
    group = await get_tag_group(db, tag_group_id)
    tags = list((await db.execute(select(Tag).where(Tag.tag_group_id == group.id))).scalars())
    for tag in tags:
        await _record_deletion(db, tag, group)
    await db.execute(delete(TagGroup).where(TagGroup.id == group.id))
    db.expunge(group)
    for tag in tags:
        db.expunge(tag)


# ---- tags ---------------------------------------------------------------------------------------------


async def get_tag(db: AsyncSession, tag_id: int, *, field: str = "TagID") -> Tag:
    tag = await db.get(Tag, tag_id)
    if tag is None:
        raise NotFound(f"No tag has ID {tag_id}.", code="tag_not_found", field=field)
    return tag


async def _check_tag_name_free(db: AsyncSession, tag_group_id: int, name: str, *,
                               except_id: int | None = None) -> None:
    query = select(Tag.id).where(Tag.tag_group_id == tag_group_id, func.lower(Tag.name) == name.lower())
    if except_id is not None:
        query = query.where(Tag.id != except_id)
    if (await db.execute(query)).first():
        raise Conflict("Another tag in this group already has this name.", code="tag_name_taken", field="Name")


async def create_tag(db: AsyncSession, *, tag_group_id: int, name: str, enabled: bool = True) -> Tag:
    await get_tag_group(db, tag_group_id)
    await _check_tag_name_free(db, tag_group_id, name)
    tag = Tag(tag_group_id=tag_group_id, name=name, enabled=enabled)
    db.add(tag)
    await _flush(db, "Another tag in this group already has this name.", "tag_name_taken")
    return tag


async def update_tag(db: AsyncSession, *, tag_id: int, name: str | None = None, enabled: bool | None = None) -> Tag:
    tag = await get_tag(db, tag_id)
    if name is not None and name != tag.name:
        await _check_tag_name_free(db, tag.tag_group_id, name, except_id=tag.id)
        tag.name = name
    if enabled is not None:
        tag.enabled = enabled
    await _flush(db, "Another tag in this group already has this name.", "tag_name_taken")
    return tag


async def delete_tag(db: AsyncSession, *, tag_id: int) -> None:
    """Delete the tag: chats and departments lose it (ON DELETE CASCADE); the tag history keeps its name."""
    tag = await get_tag(db, tag_id)
    await _record_deletion(db, tag, await db.get_one(TagGroup, tag.tag_group_id))
    await db.execute(delete(Tag).where(Tag.id == tag.id))
    db.expunge(tag)


async def _record_deletion(db: AsyncSession, tag: Tag, group: TagGroup) -> None:
    now = clock.now()
    chat_ids = (await db.execute(select(ChatTag.chat_id).where(ChatTag.tag_id == tag.id))).scalars()
    for chat_id in chat_ids:
        db.add(_event(chat_id, tag, group, TAG_DELETED, agent_id=None, at=now))
    await db.flush()


async def list_tag_groups(db: AsyncSession, *, tag_group_id: int | None = None) -> list[tuple[TagGroup, list[Tag]]]:
    """Groups with their tags, disabled ones included (their Enabled says so), in creation order."""
    groups_query = select(TagGroup).order_by(TagGroup.id)
    tags_query = select(Tag).order_by(Tag.id)
    if tag_group_id is not None:
        await get_tag_group(db, tag_group_id)
        groups_query = groups_query.where(TagGroup.id == tag_group_id)
        tags_query = tags_query.where(Tag.tag_group_id == tag_group_id)
    groups = list((await db.execute(groups_query)).scalars())
    by_group: dict[int, list[Tag]] = {group.id: [] for group in groups}
    for tag in (await db.execute(tags_query)).scalars():
        by_group[tag.tag_group_id].append(tag)
    return [(group, by_group[group.id]) for group in groups]


# ---- tags on chats ------------------------------------------------------------------------------------


def _event(chat_id: int, tag: Tag, group: TagGroup, action: str, *, agent_id: int | None, at) -> TagEvent:
    return TagEvent(chat_id=chat_id, tag_id=tag.id, tag_name=tag.name, tag_group_id=group.id,
                    tag_group_name=group.name, action=action, agent_id=agent_id, at=at)


async def chat_tag_ids(db: AsyncSession, chat_id: int) -> list[int]:
    query = select(ChatTag.tag_id).where(ChatTag.chat_id == chat_id).order_by(ChatTag.tag_id)
    return list((await db.execute(query)).scalars())


async def apply_tags(db: AsyncSession, chat: Chat, tag_ids: Iterable[int], *, agent_id: int | None = None) -> None:
    """Put tags on a chat (a department's auto-tags): disabled ones and ones already there are skipped."""
    wanted = set(tag_ids)
    if not wanted:
        return
    have = set(await chat_tag_ids(db, chat.id))
    query = (select(Tag, TagGroup).join(TagGroup, TagGroup.id == Tag.tag_group_id)
             .where(Tag.id.in_(wanted - have), Tag.enabled.is_(True), TagGroup.enabled.is_(True))
             .order_by(Tag.id))
    now = clock.now()
    added = (await db.execute(query)).all()
    for tag, group in added:
        db.add(ChatTag(chat_id=chat.id, tag_id=tag.id, agent_id=agent_id, added_at=now))
        db.add(_event(chat.id, tag, group, TAG_ADDED, agent_id=agent_id, at=now))
    await db.flush()
    if added:
        await _chat_tagged(db, chat, agent_id=agent_id)


async def _chat_tagged(db: AsyncSession, chat: Chat, *, agent_id: int | None) -> None:
    """ChatTagged, with the chat's tags after the change."""
    chat_events.chat_tagged(db, chat, tag_ids=await chat_tag_ids(db, chat.id), actor_agent_id=agent_id)


async def add_tag(db: AsyncSession, *, chat: Chat, tag_id: int, agent_id: int | None) -> Chat:
    """Tag the chat. Adding a tag the chat already has changes nothing; a disabled tag is refused."""
    tag = await get_tag(db, tag_id)
    group = await db.get_one(TagGroup, tag.tag_group_id)
    if tag_id in await chat_tag_ids(db, chat.id):
        return chat
    if not (tag.enabled and group.enabled):
        raise Conflict("This tag is disabled and cannot be applied.", code="tag_disabled", field="TagID")
    now = clock.now()
    try:
        async with db.begin_nested():
            db.add(ChatTag(chat_id=chat.id, tag_id=tag.id, agent_id=agent_id, added_at=now))
    except IntegrityError:
        # A concurrent AddTag of the same tag won: the chat has the tag, which is what was asked.
        return chat
    db.add(_event(chat.id, tag, group, TAG_ADDED, agent_id=agent_id, at=now))
    await db.flush()
    await _chat_tagged(db, chat, agent_id=agent_id)
    return chat


async def remove_tag(db: AsyncSession, *, chat: Chat, tag_id: int, agent_id: int | None) -> Chat:
    """Untag the chat. Removing a tag the chat does not have changes nothing."""
    tag = await get_tag(db, tag_id)
    removed = await db.execute(delete(ChatTag).where(ChatTag.chat_id == chat.id, ChatTag.tag_id == tag.id))
    if rowcount(removed):
        group = await db.get_one(TagGroup, tag.tag_group_id)
        db.add(_event(chat.id, tag, group, TAG_REMOVED, agent_id=agent_id, at=clock.now()))
        await db.flush()
        await _chat_tagged(db, chat, agent_id=agent_id)
    return chat


# ---- which chat ---------------------------------------------------------------------------------------


async def chat_for_tagging(db: AsyncSession, *, caller: Caller, chat_id: int | None,
                           customer_id: int | None) -> Chat:
    """AddTag's target, if the caller may see it: the chat given, or the given customer's active chat."""
    if chat_id is not None and customer_id is None:
        return await chats.get_visible_chat(db, caller=caller, chat_id=chat_id)
    if customer_id is not None and chat_id is None:
        # As AddComment and UpdateCustomer answer: customers are shared, their chats are not.
        return await customers.visible_active_chat(db, caller=caller, customer_id=customer_id)
    raise Invalid("Give either ChatID or CustomerID.", code="chat_or_customer_required",
                  field="ChatID" if chat_id is None else "CustomerID")
