"""Meta's webhook payloads, read: customer messages, system notices and delivery statuses.

A payload is parsed first, without the database, so that an odd message is logged and skipped instead of
failing the others. Storing them is store.py's part.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentchat.channels.whatsapp import content
from agentchat.channels.whatsapp.content import clean, items, obj
from agentchat.chats.models import DELIVERED, FAILED, READ, SENT
from agentchat.customers.service import WhatsAppIdentity

log = logging.getLogger(__name__)

MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
STATUS_NAMES = {"sent": SENT, "delivered": DELIVERED, "read": READ, "failed": FAILED}
# Meta's examples give a BSUID as "US.13491208655302741918" (a parent: "US.ENT.…").
MAX_ID = 128


@dataclass
class InboundMedia:
    kind: str
    media_id: str
    mime_type: str | None
    file_name: str | None
    file_size: int | None = None


@dataclass
class SystemNotice:
    """Meta's `system` message: a changed number or BSUID, or a changed identity (security code)."""

    type: str
    body: str
    new_wa_id: str | None = None
    new_user_id: str | None = None
    old_user_id: str | None = None


@dataclass
class CustomerMessage:
    external_id: str
    sender: WhatsAppIdentity
    kind: str = "text"
    sent_at: datetime | None = None
    text: str | None = None
    choice_id: str | None = None
    media: InboundMedia | None = None
    content: dict | None = None
    reply_to: str | None = None
    referral: dict | None = None
    reaction: tuple[str, str] | None = None  # (the wamid reacted to, the emoji; "" when taken back)
    system: SystemNotice | None = None

    def payload(self) -> dict | None:
        found: dict[str, Any] = {}
        if self.content:
            found["Content"] = self.content
        if self.reply_to:
            found["ReplyTo"] = {"ExternalID": self.reply_to}
        if self.referral:
            found.setdefault("Content", {})["Referral"] = self.referral
        if self.media is not None:
            found["Media"] = {"ID": self.media.media_id, "Kind": self.media.kind, "MimeType": self.media.mime_type,
                              "FileName": self.media.file_name, "FileSize": self.media.file_size, "Attempts": 0}
        return found or None


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
        metadata = obj(value.get("metadata"))
        number = str(metadata.get("phone_number_id") or "")
        if phone_number_id and number and number != phone_number_id:
            log.warning("skipping a webhook change for another phone number id (%s)", number)
            continue
        for error in items(value.get("errors")):
            log.warning("WhatsApp reported an error: %s", content.error_reason(error))
        senders = _contacts(value)
        for raw in items(value.get("messages")):
            try:
                parsed.messages.append(parse_message(raw, senders))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("skipping a WhatsApp message that could not be read: %r", exc)
        for raw in items(value.get("statuses")):
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
    for entry in items(payload.get("entry")):
        for change in items(obj(entry).get("changes")):
            if isinstance(change, dict) and change.get("field", "messages") == "messages" \
                    and isinstance(change.get("value"), dict):
                values.append(change["value"])
    return values


def _contacts(value: dict) -> dict[str, WhatsAppIdentity]:
    """The senders of a change's messages, by wa_id and by BSUID (a user with a username may have no wa_id)."""
    found: dict[str, WhatsAppIdentity] = {}
    for contact in items(value.get("contacts")):
        if not isinstance(contact, dict):
            continue
        profile = obj(contact.get("profile"))
        try:
            wa_id, user_id = _wa_id(contact.get("wa_id")), _user_id(contact.get("user_id"))
            parent_user_id = _user_id(contact.get("parent_user_id"))
        except ValueError:
            continue  # its message is skipped for the same reason
        who = WhatsAppIdentity(wa_id=wa_id, user_id=user_id, parent_user_id=parent_user_id,
                               username=clean(profile.get("username"), 100) or None,
                               profile_name=clean(profile.get("name"), 100) or None)
        for key in (who.wa_id, who.user_id):
            if key:
                found[key] = who
    return found


def _wa_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    wa_id = str(value)
    if not wa_id.isdigit() or len(wa_id) > 20:
        raise ValueError("bad sender number")
    return wa_id


def _user_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    user_id = str(value)
    if len(user_id) > MAX_ID or not all(c.isalnum() or c in "._-" for c in user_id):
        raise ValueError("bad business-scoped user id")
    return user_id


def _sent_at(value: Any) -> datetime | None:
    """Meta's `timestamp`: Unix seconds, as a string or a number."""
    when = content.number(value)
    if when is None or when <= 0:
        return None
    return datetime.fromtimestamp(int(when), tz=UTC).replace(tzinfo=None)


def parse_message(raw: dict, senders: dict[str, WhatsAppIdentity]) -> CustomerMessage:
    external_id = str(raw["id"])
    if not external_id or len(external_id) > MAX_ID:
        raise ValueError("bad message id")
    wa_id, user_id = _wa_id(raw.get("from")), _user_id(raw.get("from_user_id"))
    if wa_id is None and user_id is None:
        raise ValueError("no sender: neither from nor from_user_id")
    known = senders.get(wa_id or "") or senders.get(user_id or "")
    sender = WhatsAppIdentity(wa_id=wa_id or (known.wa_id if known else None),
                              user_id=user_id or (known.user_id if known else None),
                              parent_user_id=known.parent_user_id if known else None,
                              username=known.username if known else None,
                              profile_name=known.profile_name if known else None)
    kind = clean(raw.get("type") or "unknown", 40)
    message = CustomerMessage(external_id=external_id, sender=sender, kind=kind, sent_at=_sent_at(raw.get("timestamp")))
    context = obj(raw.get("context"))
    if context.get("id"):
        message.reply_to = clean(context["id"], MAX_ID)
    message.referral = content.referral(raw.get("referral"))
    _read_body(message, kind, obj(raw.get(kind)), raw)
    if message.referral and message.kind != "system":
        words = content.referral_words(message.referral)
        message.text = f"{message.text}\n{words}" if message.text else words
    return message


def _read_body(message: CustomerMessage, kind: str, body: dict, raw: dict) -> None:
    if kind == "text":
        message.text = clean(body["body"])
    elif kind in MEDIA_KINDS:
        _read_media(message, kind, body, raw)
    elif kind == "interactive":
        _read_interactive(message, body)
    elif kind == "button":
        message.text = clean(body.get("text") or body.get("payload") or "")
    elif kind == "location":
        message.text, message.content = content.location(body)
    elif kind == "contacts":
        message.text, message.content = content.contacts(items(raw.get("contacts")))
    elif kind == "order":
        message.text, message.content = content.order(body)
    elif kind == "reaction":
        message.reaction = (clean(body["message_id"], MAX_ID), clean(body.get("emoji"), 32))
        message.text = f"Reacted {message.reaction[1] or '(taken back)'} to a message."
    elif kind == "system":
        message.system = SystemNotice(type=clean(body.get("type"), 40), body=clean(body.get("body"), 1000),
                                      new_wa_id=_wa_id(body.get("wa_id") or body.get("new_wa_id")),
                                      new_user_id=_user_id(body.get("user_id")),
                                      old_user_id=_user_id(body.get("previous_user_id")))
    else:
        message.text, message.content = content.unsupported(kind, body, raw)


def _read_media(message: CustomerMessage, kind: str, body: dict, raw: dict) -> None:
    caption = body.get("caption")
    message.text = clean(caption) or None if isinstance(caption, str) else None
    errors = items(raw.get("errors"))
    if errors or not body.get("id"):
        # Meta could not pass the file on (e.g. too large for WhatsApp): nothing to fetch, say so.
        reason = content.error_reason(errors[0]) if errors else "no media id"
        note = f"[The customer sent {content.a_or_an(kind)} that WhatsApp could not pass on: {reason}.]"
        message.text = f"{message.text}\n{note}" if message.text else note
        message.content = {"Type": "MediaError", "Kind": kind, "Error": reason}
        return
    size = content.number(body.get("file_size"))
    message.media = InboundMedia(kind=kind, media_id=clean(body["id"], MAX_ID),
                                 mime_type=clean(body.get("mime_type"), 127) or None,
                                 file_name=clean(body.get("filename"), 255) or None,
                                 file_size=int(size) if size is not None else None)


def _read_interactive(message: CustomerMessage, body: dict) -> None:
    reply = body.get("list_reply") or body.get("button_reply")
    if isinstance(reply, dict):
        message.choice_id = clean(reply["id"], 200)
        message.text = clean(reply.get("title") or "")
    elif isinstance(body.get("nfm_reply"), dict):
        message.text, message.content = content.flow_reply(body["nfm_reply"])
    else:
        kind = clean(body.get("type"), 40)
        message.text = f"[An interactive reply{' (' + kind + ')' if kind else ''} that AgentChat cannot show.]"
        message.content = {"Type": "Unsupported", "UnsupportedType": f"interactive {kind}".strip(), "Error": None}


def parse_status(raw: dict) -> StatusUpdate | None:
    status = STATUS_NAMES.get(str(raw.get("status")))
    if status is None:
        return None
    reason = None
    if status == FAILED:
        errors = items(raw.get("errors"))
        reason = content.error_reason(errors[0]) if errors else "Failed: WhatsApp gave no reason."
    return StatusUpdate(external_id=str(raw["id"])[:MAX_ID], status=status, failure_reason=reason)
