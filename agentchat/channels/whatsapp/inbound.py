"""Meta's webhook payloads: customer messages into the bot, delivery statuses onto our messages.

A payload is parsed first, without the database, so that an odd message is logged and skipped instead of
failing the others. Each message is then stored in its own transaction; Meta retries a delivery until we
answer 200, and the wamid (Message.external_id) makes a retried message a no-op.
"""

import logging
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.bot import service as bot
from agentchat.channels.whatsapp.outbound import GraphApi, GraphError
from agentchat.chats import events as chat_events
from agentchat.chats.models import DELIVERED, FAILED, PENDING, READ, SENDER_CUSTOMER, SENT, WHATSAPP, Message
from agentchat.customers import service as customers
from agentchat.db import commit_and_publish
from agentchat.files.storage import FileStorage

log = logging.getLogger(__name__)

MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
MAX_TEXT = 65536
# A status may only move forward: Read is never followed by Delivered, and Failed replaces only what
# had not yet reached the phone.
STATUS_NAMES = {"sent": SENT, "delivered": DELIVERED, "read": READ, "failed": FAILED}
MAY_BECOME = {
    SENT: (PENDING,),
    DELIVERED: (PENDING, SENT),
    READ: (PENDING, SENT, DELIVERED),
    FAILED: (PENDING, SENT),
}


@dataclass
class InboundMedia:
    kind: str
    media_id: str
    mime_type: str | None
    file_name: str | None


@dataclass
class CustomerMessage:
    external_id: str
    wa_id: str
    profile_name: str | None
    text: str | None = None
    choice_id: str | None = None
    media: InboundMedia | None = None


@dataclass
class StatusUpdate:
    external_id: str
    status: str
    failure_reason: str | None = None


@dataclass
class Parsed:
    messages: list[CustomerMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)


def parse_payload(payload: Any, *, phone_number_id: str | None = None) -> Parsed:
    """Meta's envelope {object, entry[{changes[{field, value}]}]}; what cannot be understood is skipped."""
    parsed = Parsed()
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return parsed
    for value in _values(payload):
        metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
        number = str(metadata.get("phone_number_id") or "")
        if phone_number_id and number and number != phone_number_id:
            log.warning("skipping a webhook change for another phone number id (%s)", number)
            continue
        for error in _list(value.get("errors")):
            log.warning("WhatsApp reported an error: %s", _error_reason(error))
        names = {str(c.get("wa_id")): _profile_name(c) for c in _list(value.get("contacts")) if isinstance(c, dict)}
        for raw in _list(value.get("messages")):
            try:
                parsed.messages.append(parse_message(raw, names))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("skipping a WhatsApp message that could not be read: %r", exc)
        for raw in _list(value.get("statuses")):
            try:
                status = parse_status(raw)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("skipping a WhatsApp status that could not be read: %r", exc)
                continue
            if status is not None:
                parsed.statuses.append(status)
    return parsed


def _values(payload: dict) -> list[dict]:
    values = []
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            if isinstance(change, dict) and change.get("field", "messages") == "messages" \
                    and isinstance(change.get("value"), dict):
                values.append(change["value"])
    return values


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _profile_name(contact: dict) -> str | None:
    profile = contact.get("profile")
    name = profile.get("name") if isinstance(profile, dict) else None
    return _clean(name)[:100] or None if isinstance(name, str) else None


def _clean(text: str) -> str:
    # PostgreSQL cannot store NUL characters; WhatsApp text never needs them.
    return text.replace("\x00", "").strip()[:MAX_TEXT]


def parse_message(raw: dict, names: dict[str, str | None]) -> CustomerMessage:
    external_id = str(raw["id"])
    wa_id = str(raw["from"])
    if not external_id or len(external_id) > 128:
        raise ValueError("bad message id")
    if not wa_id.isdigit() or len(wa_id) > 20:
        raise ValueError("bad sender number")
    message = CustomerMessage(external_id=external_id, wa_id=wa_id, profile_name=names.get(wa_id))
    kind = str(raw.get("type") or "unknown")
    body = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
    if kind == "text":
        message.text = _clean(str(body["body"]))
    elif kind in MEDIA_KINDS:
        caption = body.get("caption")
        message.text = _clean(caption) or None if isinstance(caption, str) else None
        message.media = InboundMedia(kind=kind, media_id=str(body["id"]), mime_type=body.get("mime_type"),
                                     file_name=body.get("filename") if isinstance(body.get("filename"), str) else None)
    elif kind == "interactive":
        reply = body.get("list_reply") or body.get("button_reply")
        if isinstance(reply, dict):
            message.choice_id = str(reply["id"])[:200]
            message.text = _clean(str(reply.get("title") or ""))
        else:
            message.text = f"[An interactive reply of type {str(body.get('type'))[:40]}.]"
    elif kind == "button":
        message.text = _clean(str(body.get("text") or body.get("payload") or ""))
    else:
        message.text = describe(kind, body, raw)
    return message


def describe(kind: str, body: dict, raw: dict) -> str:
    """Words for what WhatsApp sends but an inbox cannot show as such."""
    if kind == "location":
        place = ", ".join(_clean(str(body[k])) for k in ("name", "address") if body.get(k))
        lat, lon = float(body["latitude"]), float(body["longitude"])
        where = f"{place} " if place else ""
        return f"Location: {where}({lat}, {lon}) https://maps.google.com/?q={lat},{lon}"
    if kind == "contacts":
        cards = []
        for contact in _list(raw.get("contacts")):
            name = (contact.get("name") or {}).get("formatted_name") or "?"
            phones = ", ".join(str(p.get("phone")) for p in _list(contact.get("phones")) if p.get("phone"))
            cards.append(f"{name} ({phones})" if phones else str(name))
        return _clean("Contact card: " + "; ".join(cards))
    if kind == "reaction":
        return _clean(f"Reacted {body.get('emoji') or '(removed)'} to a message.")
    if kind == "system":
        return _clean(str(body.get("body") or "A WhatsApp system message."))
    errors = _list(raw.get("errors"))
    why = f" ({_error_reason(errors[0])})" if errors else ""
    return _clean(f"[The customer sent a {kind[:40]} message, which WhatsApp does not pass on{why}.]")


def parse_status(raw: dict) -> StatusUpdate | None:
    status = STATUS_NAMES.get(str(raw.get("status")))
    if status is None:
        return None
    reason = None
    if status == FAILED:
        errors = _list(raw.get("errors"))
        reason = _error_reason(errors[0]) if errors else "Failed: WhatsApp gave no reason."
    return StatusUpdate(external_id=str(raw["id"])[:128], status=status, failure_reason=reason)


def _error_reason(error: Any) -> str:
    """Meta's error object as "131047: Re-engagement message (details)"."""
    if not isinstance(error, dict):
        return "unknown error"
    text = f"{error.get('code', '?')}: {error.get('title') or error.get('message') or 'error'}"
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    if details:
        text += f" ({details})"
    return _clean(text)[:500]


@dataclass
class WebhookContext:
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: FileStorage
    graph: GraphApi | None
    max_file_bytes: int


async def receive_payload(ctx: WebhookContext, parsed: Parsed) -> bool:
    """Store every message and status. False when the database failed: Meta should deliver again."""
    stored_all = True
    for message in parsed.messages:
        try:
            await receive_one(ctx, message)
        except (SQLAlchemyError, OSError):
            log.exception("could not store WhatsApp message %s; Meta will deliver it again", message.external_id)
            stored_all = False
        except Exception:  # a bug with one odd message must not lose the others
            log.exception("skipping WhatsApp message %s", message.external_id)
    if parsed.statuses:
        try:
            async with ctx.sessionmaker() as db:
                for status in parsed.statuses:
                    await apply_status(db, status)
                await commit_and_publish(db)
        except SQLAlchemyError:
            log.exception("could not record WhatsApp statuses")
            stored_all = False
    return stored_all


async def receive_one(ctx: WebhookContext, message: CustomerMessage) -> None:
    file = None
    if message.media is not None:
        # A retried delivery must not download the media again (receive_message dedups the rest).
        async with ctx.sessionmaker() as db:
            if await already_received(db, message.external_id):
                return
        file = await fetch_media(ctx, message)
    # If storing fails, the file stays: a COMMIT that raised may still have committed its message, and the
    # orphaned-files sweep (files/sweep.py) removes it later if not. A duplicate delivery certainly stored nothing.
    stored = await _store(ctx, message, file)
    if stored is None and file is not None:
        await ctx.storage.delete(file["file_key"])


async def _store(ctx: WebhookContext, message: CustomerMessage, file: dict | None) -> Message | None:
    async with ctx.sessionmaker() as db:
        customer = await customers.customer_by_phone(db, phone_number=message.wa_id,
                                                     profile_name=message.profile_name)
        inbound = bot.Inbound(channel=WHATSAPP, customer_id=customer.id, text=message.text,
                              external_id=message.external_id, choice_id=message.choice_id, file=file)
        try:
            stored = await bot.receive_message(db, inbound)
            await commit_and_publish(db)
        except IntegrityError:
            # The same delivery, retried by Meta, was stored by a concurrent request a moment ago.
            await db.rollback()
            if not await already_received(db, message.external_id):
                raise
            return None
        return stored


async def already_received(db: AsyncSession, external_id: str) -> bool:
    return (await db.execute(select(Message.id).where(Message.external_id == external_id))).first() is not None


async def fetch_media(ctx: WebhookContext, message: CustomerMessage) -> dict | None:
    """Download the customer's file into our storage; on failure the message keeps a note instead."""
    media = message.media
    assert media is not None
    try:
        if ctx.graph is None:
            raise GraphError("not_configured", "The WhatsApp access token is not set.")
        fetched = await ctx.graph.download_media(media.media_id, max_bytes=ctx.max_file_bytes)
    except GraphError as exc:
        log.warning("could not fetch WhatsApp media %s: %s", media.media_id, exc.reason)
        note = f"[The customer sent a {media.kind} that could not be downloaded from WhatsApp.]"
        message.text = f"{message.text}\n{note}" if message.text else note
        return None
    mime_type = (media.mime_type or fetched.mime_type).split(";")[0].strip()[:127] or "application/octet-stream"
    file_name = _file_name(media, mime_type)
    key = await ctx.storage.save(fetched.content, file_name=file_name)
    return {"file_name": file_name, "file_type": mime_type, "file_size": len(fetched.content), "file_key": key}


def _file_name(media: InboundMedia, mime_type: str) -> str:
    name = (media.file_name or "").replace("/", "_").replace("\\", "_").replace("\x00", "").strip()
    if name:
        return name[:255]
    extension = {"image/jpeg": ".jpg", "audio/ogg": ".ogg", "image/webp": ".webp"}.get(mime_type) \
        or mimetypes.guess_extension(mime_type) or ""
    return f"{media.kind}-{media.media_id[:40]}{extension}"


async def apply_status(db: AsyncSession, status: StatusUpdate) -> bool:
    """Move our outbound message (by wamid) forward; True if it changed."""
    values: dict[str, Any] = {"delivery_status": status.status}
    if status.status == FAILED:
        values["failure_reason"] = status.failure_reason
    changed = (await db.execute(
        update(Message)
        .where(Message.external_id == status.external_id, Message.sender_type != SENDER_CUSTOMER,
               Message.delivery_status.in_(MAY_BECOME[status.status]))
        .values(**values)
        .returning(Message.id, Message.chat_id)
    )).first()
    if changed is None:
        return False
    await chat_events.message_status_changed(db, message_id=changed.id, chat_id=changed.chat_id,
                                             status=status.status, failure_reason=values.get("failure_reason"))
    return True
