"""The visitor's side of the web chat: the page, the visitor API and the visitor WebSocket.

Public endpoints: no agent session. A visitor proves who they are with the VisitorToken they were given.
"""

import functools
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State
from starlette.websockets import WebSocketDisconnect

from agentchat.channels.webchat import service as webchat
from agentchat.channels.webchat.hub import VisitorSocket, push_to_visitor
from agentchat.channels.webchat.schemas import (
    CreateVisitorIn,
    StartChatOut,
    VisitorMessageIn,
    VisitorMessageList,
    VisitorMessageOut,
    VisitorOut,
    WebChatConfigOut,
)
from agentchat.channels.webchat.sender import message_event
from agentchat.company import service as company
from agentchat.config import Settings
from agentchat.contract import (
    MAX_ID,
    ApiError,
    BadRequest,
    Invalid,
    NotFound,
    TooLarge,
    TooManyAttempts,
    Unauthorized,
)
from agentchat.customers.models import Customer
from agentchat.db import DbSession, after_commit, commit_and_publish
from agentchat.events.broker import Broker
from agentchat.files.responses import file_response
from agentchat.webheaders import frame_ancestors

log = logging.getLogger(__name__)

router = APIRouter(tags=["WebChat"])

PAGE = Path(__file__).resolve().parents[2] / "static" / "chat.html"
# The page's own script and styles are inline; it talks only to this server. Message text is always set
# with textContent, never parsed as HTML, which is the real defence; this policy is the second line.
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
               "img-src 'self' blob: data:; base-uri 'none'; form-action 'none'")
# Visitors send text and menu choices over the socket; files go through POST /webchat/messages.
MAX_FRAME_CHARS = 16 * 1024
CLOSE_UNAUTHORIZED = 4401
# A typing visitor is announced to agents at most this often per socket (as agents' own typing).
TYPING_EVERY_SECONDS = 2.0


# ---- who is calling ---------------------------------------------------------------------------------------

def presented_visitor_token(
    visitor_token: Annotated[str | None, Query(alias="VisitorToken")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> str | None:
    if visitor_token:
        return visitor_token[:64]
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()[:64]
    return None


async def current_visitor(db: DbSession, token: Annotated[str | None, Depends(presented_visitor_token)]) -> Customer:
    customer = await webchat.visitor_by_token(db, token)
    if customer is None:
        if not token:
            raise Unauthorized("A VisitorToken is required; start a chat first.", code="visitor_token_required")
        raise Unauthorized("This visitor token is not known; start a new chat.", code="visitor_invalid")
    return customer


CurrentVisitor = Annotated[Customer, Depends(current_visitor)]


def client_address(request: Request) -> str:
    # Behind a reverse proxy this is the proxy unless uvicorn runs with --proxy-headers (see docs/webchat.md).
    return request.client.host if request.client else "unknown"


# ---- the page -----------------------------------------------------------------------------------------------

def chat_page_headers(settings: Settings) -> dict[str, str]:
    """The page's headers: it may be framed by this origin and those of AGENTCHAT_WEBCHAT_FRAME_ANCESTORS only
    (a business embeds the chat in its own site; nobody else can overlay it)."""
    return {"Content-Security-Policy": f"{PAGE_POLICY}; {frame_ancestors(settings.webchat_frame_origins)}",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


@router.get("/chat", include_in_schema=False)
async def chat_page(request: Request) -> FileResponse:
    return FileResponse(PAGE, media_type="text/html", headers=request.app.state.chat_page_headers)


WIDGET = Path(__file__).resolve().parents[2] / "static" / "webchat-widget.js"


@router.get("/webchat/widget.js", include_in_schema=False)
async def widget_script() -> FileResponse:
    """The launcher a company puts on its own site with one script tag (docs/webchat.md)."""
    return FileResponse(WIDGET, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})


@router.get("/webchat/config")
async def webchat_config(db: DbSession) -> WebChatConfigOut:
    """Public: the company's name, the web chat's colour and the greeting, for the page before a visitor starts."""
    settings = await company.get_settings(db)
    return WebChatConfigOut(company_name=settings["CompanyName"], colour=settings["WebChatColour"],
                            greeting=settings["WelcomeMessageNewCustomer"])


# ---- the visitor API ------------------------------------------------------------------------------------------

@router.post("/webchat/visitors")
async def create_visitor(request: Request, db: DbSession, body: CreateVisitorIn | None = None) -> VisitorOut:
    retry_after = await request.app.state.webchat_visitor_limit.hit(client_address(request))
    if retry_after is not None:
        raise TooManyAttempts("Too many new chats from this address; try again later.",
                              code="too_many_visitors", headers={"Retry-After": str(retry_after)})
    body = body or CreateVisitorIn()
    customer, token = await webchat.create_visitor(db, name=body.name, email_address=body.email_address)
    await commit_and_publish(db)
    return VisitorOut(visitor_token=token, customer_id=customer.id)


@router.post("/webchat/messages")
async def post_message(body: VisitorMessageIn, request: Request, visitor: CurrentVisitor,
                       db: DbSession) -> VisitorMessageOut:
    out = await accept_message(db, request.app.state, visitor.id, body)
    await commit_and_publish(db)
    return out


@router.get("/webchat/messages")
async def get_messages(visitor: CurrentVisitor, db: DbSession,
                       after: Annotated[int | None, Query(alias="After", ge=0, le=MAX_ID)] = None
                       ) -> VisitorMessageList:
    rows = await webchat.visitor_messages(db, customer_id=visitor.id, after=after)
    await webchat.mark_seen(db, [message.id for message, _ in rows])
    closed = await webchat.last_chat_closed(db, customer_id=visitor.id)
    await commit_and_publish(db)
    return VisitorMessageList(items=[VisitorMessageOut.build(message, name) for message, name in rows],
                              last_chat_closed=closed)


@router.post("/webchat/chats")
async def start_chat(request: Request, visitor: CurrentVisitor, db: DbSession) -> StartChatOut:
    """"Start a new chat" after one closed: the bot's welcome comes at once (over the socket), and what the visitor
    writes next belongs to the new chat. Counted with the visitor's messages."""
    retry_after = await request.app.state.webchat_message_limit.hit(str(visitor.id))
    if retry_after is not None:
        raise TooManyAttempts("You are sending messages too fast; wait a moment.", code="too_many_messages",
                              headers={"Retry-After": str(retry_after)})
    _chat, started = await webchat.start_chat(db, customer_id=visitor.id)
    await commit_and_publish(db)
    return StartChatOut(started=started)


@router.get("/webchat/files/{MessageID}")
async def get_file(request: Request, visitor: CurrentVisitor, db: DbSession,
                   message_id: Annotated[int, PathParam(alias="MessageID", ge=1, le=MAX_ID)]) -> Response:
    message = await webchat.visitor_file(db, customer_id=visitor.id, message_id=message_id)
    key, file_type, file_name = message.file_key, message.file_type, message.file_name
    await db.rollback()  # nothing more to read; free the connection while the file is read
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in file_name or "file")
    try:
        # Always a download, never rendered in our origin: an uploaded HTML file must not run as our page.
        return await file_response(request.app.state.file_storage, key, file_type=file_type,
                                   disposition=f'attachment; filename="{safe_name}"')
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound("No such file in this conversation.", code="file_not_found", field="MessageID") from exc


async def accept_message(db: AsyncSession, state: State, customer_id: int, body: VisitorMessageIn
                         ) -> VisitorMessageOut:
    """Shared by POST and the socket: check, store (the bot answers after commit), echo to the visitor's tabs."""
    retry_after = await state.webchat_message_limit.hit(str(customer_id))
    if retry_after is not None:
        raise TooManyAttempts("You are sending messages too fast; wait a moment.", code="too_many_messages",
                              headers={"Retry-After": str(retry_after)})
    webchat.check_message_kind(text=body.text, choice=body.choice, has_file=body.file_content is not None)
    if body.file_content is None and (body.file_name is not None or body.file_type is not None):
        raise Invalid("FileName and FileType come with FileContent.", code="missing_field", field="FileContent")
    if body.file_content is not None and body.file_name is None:
        raise Invalid("FileName is required with FileContent.", code="missing_field", field="FileName")
    file = None
    if body.file_content is not None and body.file_name is not None:  # checked just above
        data = webchat.decode_upload(content=body.file_content, max_bytes=state.settings.max_file_bytes)
        file = await webchat.store_upload(state.file_storage, data, file_name=body.file_name,
                                          file_type=body.file_type)
    try:
        message = await webchat.receive_visitor_message(db, customer_id=customer_id, text=body.text,
                                                        choice=body.choice, file=file)
    except Exception:
        if file is not None:
            await state.file_storage.delete(file["file_key"])
        raise
    out = VisitorMessageOut.build(message)
    # The visitor's other tabs (on any instance) show what this one sent; the page ignores a message it has.
    after_commit(db, functools.partial(_push, state.broker, customer_id, message_event(out)))
    return out


# ---- the visitor WebSocket -------------------------------------------------------------------------------------

@router.websocket("/webchat/ws")
async def visitor_socket(websocket: WebSocket) -> None:
    token = presented_visitor_token(websocket.query_params.get("VisitorToken"),
                                    websocket.headers.get("authorization"))
    state = websocket.app.state
    async with state.sessionmaker() as db:
        customer = await webchat.visitor_by_token(db, token)
    if customer is None:
        await websocket.accept()
        await websocket.close(CLOSE_UNAUTHORIZED, "visitor token not known")
        return
    socket = VisitorSocket(websocket, customer.id)
    try:
        # Registered before the page sees the socket open, so that a message pushed meanwhile is not missed (the
        # page reads the history once its socket is open); such a push waits until the socket is accepted.
        async with socket.opening():
            pushed_out = state.webchat_hub.add(socket)
            await websocket.accept()
        if pushed_out is not None:
            await pushed_out.close(1008, "too many open chat windows")
        seen = _SocketState()
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            reply = await _handle_frame(state, customer.id, frame.get("text"), seen)
            if reply is not None:
                await socket.send_json(reply)
    except WebSocketDisconnect:
        pass
    finally:
        state.webchat_hub.discard(socket)


@dataclass
class _SocketState:
    """What one socket has already reported, so repeats cost nothing."""

    typing_at: float = -TYPING_EVERY_SECONDS
    read_up_to: int = 0


async def _handle_frame(state: State, customer_id: int, text: str | None, seen: _SocketState) -> dict[str, Any] | None:
    try:
        kind, data = _parse_frame(text)
        if kind == "Ping":
            return {"Type": "Pong"}
        if kind == "Typing":
            await _customer_typing(state, customer_id, seen)
        elif kind in ("Received", "Read"):
            await _acknowledge(state, customer_id, kind, data, seen)
        else:
            body = _message_body(kind, data)
            async with state.sessionmaker() as db:
                await accept_message(db, state, customer_id, body)
                await commit_and_publish(db)
        return None
    except ApiError as error:
        return {"Type": "Error", **error.body()}
    except Exception:
        log.exception("a visitor socket message failed")
        return {"Type": "Error", "Error": {"Code": "internal_error", "Message": "Something went wrong on our side."}}


FRAME_TYPES = ("Message", "Choice", "Ping", "Typing", "Received", "Read")


def _parse_frame(text: str | None) -> tuple[str, dict[str, Any]]:
    """A frame's Type and the rest of its fields."""
    if text is None:
        raise BadRequest("Send JSON text frames.", code="malformed_request")
    if len(text) > MAX_FRAME_CHARS:
        raise TooLarge("Messages over the socket are limited to 16 KiB; send files with POST.", code="too_large")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("The frame is not a JSON object.", code="malformed_request") from exc
    if not isinstance(data, dict):
        raise BadRequest("The frame is not a JSON object.", code="malformed_request")
    kind = data.pop("Type", None)
    if kind not in FRAME_TYPES:
        raise Invalid(f"Type must be one of {', '.join(FRAME_TYPES)}.", code="unknown_type", field="Type")
    return kind, data


def _message_body(kind: str, data: dict[str, Any]) -> VisitorMessageIn:
    if kind == "Message" and ("Choice" in data or "FileContent" in data):
        raise Invalid("A Message frame carries Text only.", code="unknown_field", field="Text")
    if kind == "Choice" and set(data) != {"Choice"}:
        raise Invalid("A Choice frame carries Choice only.", code="missing_field", field="Choice")
    try:
        return VisitorMessageIn.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _message_id(data: dict[str, Any], field: str) -> int:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise Invalid(f"{field} must be a MessageID.", code="invalid_field", field=field)
    extra = set(data) - {field}
    if extra:
        raise Invalid(f"{sorted(extra)[0]} is not a known field.", code="unknown_field", field=sorted(extra)[0])
    return value


async def _acknowledge(state: State, customer_id: int, kind: str, data: dict[str, Any], seen: _SocketState) -> None:
    """Received → Delivered, Read → Read, for this visitor's outbound messages; statuses never go back.
    Best effort: a repeat, or one over the visitor's receipt limit, is dropped without a word."""
    if kind == "Received":
        message_id = _message_id(data, "MessageID")
        if message_id <= seen.read_up_to:
            return  # already Read
    else:
        up_to = _message_id(data, "UpTo")
        if up_to <= seen.read_up_to:
            return
        seen.read_up_to = up_to
    if await state.webchat_receipt_limit.hit(str(customer_id)) is not None:
        return
    async with state.sessionmaker() as db:
        if kind == "Received":
            await webchat.mark_received(db, customer_id=customer_id, message_id=message_id)
        else:
            await webchat.mark_read(db, customer_id=customer_id, up_to=up_to)
        await commit_and_publish(db)


async def _customer_typing(state: State, customer_id: int, seen: _SocketState) -> None:
    """CustomerTyping to the agents who see the visitor's open chat: nothing stored, at most every 2 s."""
    now = time.monotonic()
    if now - seen.typing_at < TYPING_EVERY_SECONDS:
        return
    seen.typing_at = now
    async with state.sessionmaker() as db:
        event = await webchat.customer_typing(db, customer_id=customer_id)
    if event is not None:
        await state.broker.publish([event])


def _invalid(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or None
    if first.get("type") == "extra_forbidden":
        return Invalid(f"{field} is not a known field.", code="unknown_field", field=field)
    return Invalid(f"{field}: {first.get('msg', 'invalid value')}", code="invalid_field", field=field)


async def _push(broker: Broker, customer_id: int, data: dict[str, Any]) -> None:
    await push_to_visitor(broker, customer_id, data)  # whether anyone heard it does not matter here
