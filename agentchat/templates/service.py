"""WhatsApp message templates: synced from the Graph API, their status kept current by Meta's webhook, and sent
by agents (the only way to reach a customer outside WhatsApp's 24-hour window)."""

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat import clock
from agentchat.channels.whatsapp.outbound import GraphApi, GraphError
from agentchat.chats import service as chats
from agentchat.chats.models import SENDER_AGENT, WHATSAPP, Message
from agentchat.contract import ApiError, Conflict, Invalid, NotFound
from agentchat.db import commit_and_publish, rowcount, start_background
from agentchat.security import Caller
from agentchat.templates.components import ParameterError, check_parameters, meta_components, render, spec_of
from agentchat.templates.models import APPROVED, Template

log = logging.getLogger(__name__)

STATUS_FIELD = "message_template_status_update"
# Rows per upsert statement (SQLite's limit on bound variables is far above this times the columns).
UPSERT_BATCH = 200


# ---- syncing from the Graph API -----------------------------------------------------------------------------

@dataclass
class SyncResult:
    synced: int
    removed: int


def _row(raw: dict) -> dict | None:
    """A template of Meta's list as a row, or None if it lacks what a row needs."""
    fields = ("name", "language", "status", "category")
    values = {key: value for key in fields if isinstance(value := raw.get(key), str) and value}
    if len(values) < len(fields) or not isinstance(raw.get("components"), list):
        return None
    if len(values["name"]) > 512 or len(values["language"]) > 20 or len(values["status"]) > 32:
        return None
    return {**values, "category": values["category"].upper()[:32], "status": values["status"].upper(),
            "meta_id": str(raw.get("id") or "")[:64] or None, "components": raw["components"]}


async def sync_templates(db: AsyncSession, *, graph: GraphApi | None, business_account_id: str | None) -> SyncResult:
    """Every template of the business's account, as Meta lists it now; those Meta no longer lists are removed."""
    if graph is None or not business_account_id:
        raise Conflict("Templates are read from the WhatsApp Business Account: set AGENTCHAT_WHATSAPP_ACCESS_TOKEN, "
                       "AGENTCHAT_WHATSAPP_PHONE_NUMBER_ID and AGENTCHAT_WHATSAPP_BUSINESS_ACCOUNT_ID.",
                       code="templates_not_configured")
    try:
        listed = await graph.list_templates(business_account_id)
    except GraphError as exc:
        log.warning("could not read the WhatsApp templates: %s", exc.reason)
        raise ApiError(f"WhatsApp did not give the templates: {exc.reason}", code="whatsapp_unavailable",
                       status=502) from exc
    rows = {}
    for raw in listed:
        row = _row(raw)
        if row is None:
            log.warning("skipping a WhatsApp template that could not be read: %r", str(raw.get("name"))[:100])
            continue
        rows[(row["name"], row["language"])] = row
    await _upsert(db, list(rows.values()))
    stale = [template_id for template_id, name, language in
             (await db.execute(select(Template.id, Template.name, Template.language))).all()
             if (name, language) not in rows]
    if stale:
        await db.execute(delete(Template).where(Template.id.in_(stale)))
    await db.flush()
    return SyncResult(synced=len(rows), removed=len(stale))


async def _upsert(db: AsyncSession, rows: list[dict]) -> None:
    """Insert or update by (name, language) in one statement per batch: two syncs at once cannot collide."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    now = clock.now()
    for start in range(0, len(rows), UPSERT_BATCH):
        statement = dialect.insert(Template).values([{**row, "updated_at": now}
                                                     for row in rows[start:start + UPSERT_BATCH]])
        new = statement.excluded
        await db.execute(statement.on_conflict_do_update(
            index_elements=["name", "language"],
            set_={"meta_id": new.meta_id, "category": new.category, "status": new.status,
                  "components": new.components, "updated_at": new.updated_at,
                  # A reason belongs to a refusal: an approved template has none.
                  "reason": case((new.status == APPROVED, None), else_=Template.reason)}))


async def list_templates(db: AsyncSession, *, status: str | None = None) -> list[Template]:
    query = select(Template).order_by(Template.name, Template.language)
    if status:
        query = query.where(Template.status == status.upper())
    return list((await db.execute(query)).scalars())


# ---- Meta's status updates ------------------------------------------------------------------------------------

@dataclass
class StatusUpdate:
    event: str
    meta_id: str | None
    name: str | None
    language: str | None
    reason: str | None


def parse_status_updates(payload: Any, *, business_account_id: str | None = None) -> list[StatusUpdate]:
    """The message_template_status_update changes of a webhook delivery; anything unreadable is skipped, and so are
    another business account's (the entry's id is the account's)."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return []
    found = []
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if business_account_id and isinstance(entry, dict) and entry.get("id") is not None \
                and str(entry["id"]) != business_account_id:
            log.warning("skipping template updates for another WhatsApp Business Account (%s)", str(entry["id"])[:32])
            continue
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or change.get("field") != STATUS_FIELD \
                    or not isinstance(change.get("value"), dict):
                continue
            value = change["value"]
            event = value.get("event")
            if not isinstance(event, str) or not event or len(event) > 32:
                continue  # e.g. a quality score change, which carries no event
            reason = value.get("reason")
            found.append(StatusUpdate(
                event=event.upper(), meta_id=str(value["message_template_id"])[:64]
                if value.get("message_template_id") is not None else None,
                name=_text(value.get("message_template_name"), 512),
                language=_text(value.get("message_template_language"), 20),
                reason=_text(reason, 255) if reason not in (None, "NONE") else None))
    return found


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str | int) and str(value) else None


async def apply_status_update(db: AsyncSession, status: StatusUpdate) -> bool:
    """The template's new status, found by Meta's id or by name and language; False if it is not known here: a
    template created after the last SyncTemplates is picked up by the next one."""
    which = []
    if status.meta_id:
        which.append(Template.meta_id == status.meta_id)
    if status.name and status.language:
        # Meta writes languages as en_US; some of its examples show en-US.
        which.append((Template.name == status.name)
                     & Template.language.in_({status.language, status.language.replace("-", "_")}))
    if not which:
        return False
    changed = await db.execute(update(Template).where(or_(*which)).values(status=status.event, reason=status.reason,
                                                                     updated_at=clock.now()))
    return rowcount(changed) > 0


async def receive_status_updates(sessionmaker: async_sessionmaker[AsyncSession],
                                 updates: list[StatusUpdate]) -> int | None:
    """Record a delivery's status updates: how many were for templates not known here, or None when the database
    failed (Meta should deliver again)."""
    unknown = 0
    try:
        async with sessionmaker() as db:
            for status in updates:
                if not await apply_status_update(db, status):
                    log.info("a status update for a WhatsApp template not synced yet (%s, %s)", status.name,
                             status.language)
                    unknown += 1
            await commit_and_publish(db)
    except SQLAlchemyError:
        log.exception("could not record WhatsApp template statuses")
        return None
    return unknown


def sync_in_background(sessionmaker: async_sessionmaker[AsyncSession], *, graph: GraphApi | None,
                       business_account_id: str | None) -> None:
    """A template Meta reports on but AgentChat does not know yet (created in WhatsApp Manager since the last sync)
    is fetched with a sync of its own, after the webhook has answered."""
    if graph is None or not business_account_id:
        return

    async def sync() -> None:
        try:
            async with sessionmaker() as db:
                await sync_templates(db, graph=graph, business_account_id=business_account_id)
                await commit_and_publish(db)
        except (ApiError, SQLAlchemyError) as exc:
            log.warning("the templates could not be synced after a status update: %s", exc)

    start_background(sync())


# ---- sending ----------------------------------------------------------------------------------------------

async def send_template(db: AsyncSession, *, caller: Caller, chat_id: int, name: str, language: str,
                        parameters: dict[str, list[str]]) -> Message:
    """The template, filled in, as the agent's message; WhatsApp delivers it whatever the 24-hour window."""
    chat = await chats.get_visible_chat(db, caller=caller, chat_id=chat_id, lock=True)
    chats.check_can_act(caller, chat)
    if chat.channel != WHATSAPP:
        raise Conflict("Templates are a WhatsApp message type; this chat is on another channel.",
                       code="not_whatsapp_chat", field="ChatID")
    template = (await db.execute(select(Template).where(Template.name == name, Template.language == language))
                ).scalar_one_or_none()
    if template is None:
        raise NotFound(f"No template {name!r} in language {language!r}; a Manager may need to run SyncTemplates.",
                       code="template_not_found", field="TemplateName")
    if template.status != APPROVED:
        raise Conflict(f"The template {name!r} ({language}) is {template.status}: WhatsApp sends only approved "
                       "templates.", code="template_not_approved", field="TemplateName")
    spec = spec_of(template.components)
    if spec.unsupported:
        raise Conflict(f"The template {name!r} cannot be sent from AgentChat: {spec.unsupported}.",
                       code="template_not_supported", field="TemplateName")
    try:
        check_parameters(spec, parameters)
    except ParameterError as exc:
        raise Invalid(str(exc), code=exc.code, field=f"Parameters.{exc.part}") from exc
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components = meta_components(spec, parameters)
    if components:
        body["components"] = components
    return await chats.store_message(db, chat, sender_type=SENDER_AGENT, agent_id=caller.agent_id,
                                     text=render(template.components, spec, parameters), payload={"Template": body})
