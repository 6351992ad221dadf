"""The WhatsApp Cloud API client (Meta's Graph API) and the sender that delivers our messages through it.

Every call is retried with exponential backoff when Meta asks us to slow down or is unwell (5xx, 429, the
throttling codes, network errors); any other 4xx is final at once. The access token travels only in the
Authorization header and never appears in a log line or a failure reason.
"""

import asyncio
import functools
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from agentchat.channels.outbound import DeliveryResult, Outgoing
from agentchat.channels.whatsapp.statuses import EarlyStatuses
from agentchat.chats.models import FAILED, SENT

log = logging.getLogger(__name__)

# Meta's rate-limit and "try again later" error codes: retried like a 429.
THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BODY = 1024
MENU_BUTTON = "Choose"
MENU_SECTION = "Options"
MB = 1024 * 1024
# Meta's supported media: the types WhatsApp shows inline and the most each kind may weigh. Anything else, or
# anything heavier, goes as a document (up to 100 MB): image/webp is for stickers only, and audio/ogg only with
# the OPUS codec.
INLINE_TYPES = {
    "image/jpeg": "image", "image/png": "image",
    "video/mp4": "video", "video/3gpp": "video",
    "audio/aac": "audio", "audio/amr": "audio", "audio/mpeg": "audio", "audio/mp4": "audio", "audio/ogg": "audio",
}
MAX_BYTES = {"image": 5 * MB, "video": 16 * MB, "audio": 16 * MB, "document": 100 * MB}


class NotSendable(ValueError):
    """A file WhatsApp takes in no form."""


def media_kind(mime_type: str, size: int, head: bytes = b"") -> str:
    """How a file goes on WhatsApp (image, video, audio or document), by Meta's table; NotSendable if it cannot.
    `head` is the file's first bytes: an OGG file goes as audio only if it is OPUS."""
    base = mime_type.split(";")[0].strip().lower()
    kind = INLINE_TYPES.get(base, "document")
    if base == "audio/ogg" and "opus" not in mime_type.lower() and b"OpusHead" not in head[:512]:
        kind = "document"
    if kind != "document" and size > MAX_BYTES[kind]:
        kind = "document"
    if size > MAX_BYTES["document"]:
        raise NotSendable(f"WhatsApp takes files of at most {MAX_BYTES['document'] // MB} MB.")
    if size == 0:
        raise NotSendable("WhatsApp does not take empty files.")
    return kind


def address(to: str) -> dict:
    """Meta's recipient: `to` for a phone number; `recipient` for a business-scoped user id (a user who shows a
    username and no number)."""
    return {"to": to} if to.lstrip("+").isdigit() else {"recipient": to}

# What SyncTemplates reads of each template (all of them fields of Meta's WhatsAppMessageTemplate node).
TEMPLATE_FIELDS = "id,name,language,status,category,components"
TEMPLATES_PER_PAGE = 100
# A business has at most a few thousand templates: past this many pages something is wrong (a cursor loop).
MAX_TEMPLATE_PAGES = 100

T = TypeVar("T")


class GraphError(Exception):
    """A failed Graph API call, with Meta's error code and message (or ours, for network trouble)."""

    def __init__(self, code: int | str, message: str, *, status: int | None = None, details: str | None = None,
                 retryable: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details
        self.retryable = retryable

    @property
    def reason(self) -> str:
        """For Message.failure_reason: "131047: Re-engagement message"."""
        text = f"{self.code}: {self.message}"
        if self.details and self.details not in self.message:
            text += f" ({self.details})"
        return text[:500]


def error_from_response(response: httpx.Response) -> GraphError:
    """Meta's error JSON {"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    code = code if isinstance(code, int) else response.status_code
    message = str(error.get("message") or response.reason_phrase or "Graph API error")[:300]
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    retryable = response.status_code >= 500 or response.status_code == 429 or code in THROTTLING_CODES
    if error.get("fbtrace_id"):
        log.info("Graph API error %s (HTTP %s, fbtrace_id %s)", code, response.status_code, error["fbtrace_id"])
    return GraphError(code, message, status=response.status_code, details=details and str(details)[:300],
                      retryable=retryable)


@dataclass
class Media:
    content: bytes
    mime_type: str


class GraphApi:
    """The few Graph API calls we need: send a message, upload media, download a customer's media."""

    def __init__(self, http: httpx.AsyncClient, *, api_url: str, access_token: str, phone_number_id: str,
                 attempts: int = 4, base_delay: float = 0.5):
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self._auth = {"Authorization": f"Bearer {access_token}"}

    def __repr__(self) -> str:  # never show the token
        return f"GraphApi({self.api_url!r}, phone_number_id={self.phone_number_id!r})"

    async def _with_retries(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return await call()
            except httpx.TransportError as exc:
                error = GraphError("network_error", f"Could not reach the WhatsApp Cloud API ({type(exc).__name__}).",
                                   retryable=True)
            except GraphError as exc:
                error = exc
            if not error.retryable or attempt == self.attempts:
                raise error
            delay = self.base_delay * 2 ** (attempt - 1)
            log.warning("%s failed (%s), attempt %d of %d; retrying in %.2fs", what, error, attempt, self.attempts,
                        delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _json(self, method: str, url: str, **kwargs: Any) -> dict:
        response = await self.http.request(method, url, headers=self._auth, **kwargs)
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphError("bad_response", "The Graph API answered with something that is not JSON.",
                             status=response.status_code, retryable=True) from exc
        if not isinstance(body, dict):
            raise GraphError("bad_response", "The Graph API answered with an unexpected shape.", retryable=True)
        return body

    async def send_message(self, message: dict) -> str:
        """POST /{phone_number_id}/messages; returns the new message's wamid."""
        url = f"{self.api_url}/{self.phone_number_id}/messages"
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        answer = await self._with_retries("send message", lambda: self._json("POST", url, json=body))
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise GraphError("bad_response", "The Graph API did not return a message id.") from exc

    async def mark_read(self, message_id: str, *, typing: bool = False) -> None:
        """POST /{phone_number_id}/messages {"status": "read", "message_id"}: the customer's message shows as read
        (blue ticks); with `typing` the customer also sees "typing…" (until we send or 25 s pass). One attempt,
        never retried: a receipt that arrives late is worse than none."""
        url = f"{self.api_url}/{self.phone_number_id}/messages"
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        try:
            answer = await self._json("POST", url, json=body)
        except httpx.TransportError as exc:
            raise GraphError("network_error", f"Could not reach the WhatsApp Cloud API ({type(exc).__name__}).") \
                from exc
        if answer.get("success") is not True:
            raise GraphError("bad_response", "The Graph API did not confirm the read receipt.")

    async def list_templates(self, business_account_id: str) -> list[dict]:
        """GET /{waba_id}/message_templates, every page: Meta's cursor paging gives `paging.cursors.after` and, while
        more follow, `paging.next`. The next page is asked of our own api_url with that cursor, never of the URL Meta
        names, so that the token goes nowhere else."""
        url = f"{self.api_url}/{business_account_id}/message_templates"
        params = {"fields": TEMPLATE_FIELDS, "limit": str(TEMPLATES_PER_PAGE)}
        found: list[dict] = []
        for _ in range(MAX_TEMPLATE_PAGES):
            answer = await self._with_retries(
                "template list", functools.partial(self._json, "GET", url, params=dict(params)))
            data = answer.get("data")
            if not isinstance(data, list):
                raise GraphError("bad_response", "The Graph API answered the template list without its data.")
            found += [template for template in data if isinstance(template, dict)]
            paging = _object(answer.get("paging"))
            cursors = _object(paging.get("cursors"))
            if not paging.get("next") or not cursors.get("after"):
                return found
            params["after"] = str(cursors["after"])
        raise GraphError("too_many_pages", f"The template list ran past {MAX_TEMPLATE_PAGES} pages.")

    async def upload_media(self, content: bytes, *, file_name: str, mime_type: str) -> str:
        """POST /{phone_number_id}/media (multipart); returns the media id to send."""
        url = f"{self.api_url}/{self.phone_number_id}/media"

        async def call() -> dict:
            return await self._json("POST", url, data={"messaging_product": "whatsapp", "type": mime_type},
                                    files={"file": (file_name, content, mime_type)})

        answer = await self._with_retries("upload media", call)
        if not answer.get("id"):
            raise GraphError("bad_response", "The Graph API did not return a media id.")
        return str(answer["id"])

    async def download_media(self, media_id: str, *, max_bytes: int) -> Media:
        """GET /{media_id} for the short-lived URL, then GET the URL (with the token) for the bytes."""
        info = await self._with_retries("media lookup", lambda: self._json("GET", f"{self.api_url}/{media_id}"))
        url = info.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphError("bad_response", "The Graph API gave no download URL for the media.")
        size = _int(info.get("file_size"))  # Meta's own example gives it as a string
        if size is not None and size > max_bytes:
            raise GraphError("too_large", f"The media is {size} bytes; the limit is {max_bytes}.")
        content = await self._with_retries("media download", lambda: self._download(url, max_bytes))
        mime_type = str(info.get("mime_type") or "application/octet-stream")
        return Media(content=content, mime_type=mime_type)

    async def _download(self, url: str, max_bytes: int) -> bytes:
        async with self.http.stream("GET", url, headers=self._auth) as response:
            if response.status_code >= 400:
                await response.aread()
                raise error_from_response(response)
            chunks, total = [], 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise GraphError("too_large", f"The media is larger than {max_bytes} bytes.")
                chunks.append(chunk)
            return b"".join(chunks)


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class WhatsAppSender:
    """The ChannelSender for WhatsApp: text, the bot's menu as an interactive list, files, and templates (the
    message's payload {"Template": {name, language, components}}, built by agentchat.templates)."""

    def __init__(self, graph: GraphApi, read_file: Callable[[str], Awaitable[bytes]], *,
                 sessionmaker: async_sessionmaker | None = None, early: EarlyStatuses | None = None):
        self.graph = graph
        self.read_file = read_file
        self.sessionmaker = sessionmaker
        self.early = early

    async def recorded(self, result: DeliveryResult) -> None:
        """The send is recorded: statuses Meta reported for its wamid before we knew it apply now."""
        if result.external_id and self.early is not None and self.sessionmaker is not None:
            from agentchat.channels.whatsapp.store import apply_early  # store imports this module

            await apply_early(self.sessionmaker, self.early, result.external_id)

    async def send(self, item: Outgoing) -> DeliveryResult:
        phone = item.phone_number
        if not phone:
            return DeliveryResult(FAILED, failure_reason="no_phone_number: The customer has no WhatsApp number.")
        template = (item.payload or {}).get("Template")
        try:
            if isinstance(template, dict):
                wamid = await self.graph.send_message({**address(phone), "type": "template",
                                                       "template": template})
            elif item.file_key:
                wamid = await self._send_file(item, phone, item.file_key)
            elif item.text:
                wamid = await self._send_text(item, phone, item.text)
            else:
                return DeliveryResult(FAILED, failure_reason="empty_message: There is nothing to send.")
        except GraphError as exc:
            log.warning("WhatsApp delivery of message %s failed: %s", item.message_id, exc.reason)
            return DeliveryResult(FAILED, failure_reason=exc.reason)
        return DeliveryResult(SENT, external_id=wamid)

    async def _send_text(self, item: Outgoing, phone: str, text: str) -> str:
        menu = (item.payload or {}).get("Menu")
        if isinstance(menu, list) and 0 < len(menu) <= MAX_LIST_ROWS:
            return await self.graph.send_message(menu_message(phone, text, menu))
        wamid = ""
        # WhatsApp takes at most 4096 characters a message: a longer text goes in parts, in order (the first
        # quoting the message answered).
        for index, part in enumerate(split_text(text, MAX_TEXT)):
            body = text_message(phone, part)
            wamid = await self.graph.send_message(_quoting(body, item) if index == 0 else body)
        return wamid

    async def _send_file(self, item: Outgoing, phone: str, file_key: str) -> str:
        content = await self.read_file(file_key)
        file_name = item.file_name or "file"
        mime_type = item.file_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        try:
            kind = media_kind(mime_type, len(content), content[:512])
        except NotSendable as exc:
            raise GraphError("not_sendable", str(exc)) from exc
        media_id = await self.graph.upload_media(content, file_name=file_name, mime_type=mime_type)
        media: dict[str, Any] = {"id": media_id}
        text = (item.text or "").strip()
        caption_fits = kind != "audio" and len(text) <= MAX_CAPTION
        if text and caption_fits:
            media["caption"] = text
        if kind == "document":
            media["filename"] = file_name
        wamid = await self.graph.send_message(_quoting({**address(phone), "type": kind, kind: media},
                                                       item))
        if text and not caption_fits:
            # Audio takes no caption, and a caption has a lower limit than a text: the words follow the file.
            for part in split_text(text, MAX_TEXT):
                await self.graph.send_message(text_message(phone, part))
        return wamid


def _quoting(body: dict, item: Outgoing) -> dict:
    """An agent's answer to a given message shows it quoted: Meta's context.message_id."""
    reply_to = (item.payload or {}).get("ReplyTo")
    wamid = reply_to.get("ExternalID") if isinstance(reply_to, dict) else None
    return {**body, "context": {"message_id": wamid}} if wamid else body


def text_message(to: str, body: str) -> dict:
    return {**address(to), "type": "text", "text": {"body": body, "preview_url": False}}


def menu_message(to: str, text: str, menu: list[dict]) -> dict:
    """The bot's menu as an interactive list: the lead paragraph as the body, one row per option."""
    lead = text.split("\n\n", 1)[0].strip()[:MAX_LIST_BODY] or "Please choose an option."
    rows = []
    for option in menu:
        title = str(option.get("Title") or option.get("Option") or "")
        row = {"id": str(option["ID"])[:200], "title": _truncate(title, MAX_ROW_TITLE)}
        if len(title) > MAX_ROW_TITLE:
            row["description"] = _truncate(title, MAX_ROW_DESCRIPTION)
        rows.append(row)
    return {**address(to), "type": "interactive", "interactive": {
        "type": "list",
        "body": {"text": lead},
        "action": {"button": MENU_BUTTON, "sections": [{"title": MENU_SECTION, "rows": rows}]},
    }}


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut at a line break or space where one is near."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts
