"""The visitor's side of the web chat: the page, the visitor API and the visitor WebSocket.

Public endpoints: no agent session. A visitor proves who they are with the VisitorToken they were given.
"""

import json
import logging
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
from agentchat.channels.webchat.hub import VisitorSocket
from agentchat.channels.webchat.schemas import (
    CreateVisitorIn,
    VisitorMessageIn,
    VisitorMessageList,
    VisitorMessageOut,
    VisitorOut,
)
from agentchat.channels.webchat.sender import message_event
from agentchat.contract import MAX_ID, ApiError, BadRequest, Invalid, TooLarge, TooManyAttempts, Unauthorized
from agentchat.customers.models import Customer
from agentchat.db import DbSession, after_commit, commit_and_publish

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

@router.get("/chat", include_in_schema=False)
async def chat_page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html", headers={
        "Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


# ---- the visitor API ------------------------------------------------------------------------------------------

@router.post("/webchat/visitors")
async def create_visitor(request: Request, db: DbSession, body: CreateVisitorIn | None = None) -> VisitorOut:
    retry_after = request.app.state.webchat_visitor_limit.hit(client_address(request))
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
    await commit_and_publish(db)
    return VisitorMessageList(items=[VisitorMessageOut.build(message, name) for message, name in rows])


@router.get("/webchat/files/{MessageID}")
async def get_file(request: Request, visitor: CurrentVisitor, db: DbSession,
                   message_id: Annotated[int, PathParam(alias="MessageID", ge=1, le=MAX_ID)]) -> Response:
    message = await webchat.visitor_file(db, customer_id=visitor.id, message_id=message_id)
    content = await request.app.state.file_storage.read(message.file_key)
    safe_name = "".join(c if c.isalnum() or c in "._- " else "_" for c in message.file_name or "file")
    # Always a download, never rendered in our origin: an uploaded HTML file must not run as our page.
    return Response(content, media_type=message.file_type or "application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{safe_name}"', "X-Content-Type-Options": "nosniff"})


async def accept_message(db: AsyncSession, state: State, customer_id: int, body: VisitorMessageIn
                         ) -> VisitorMessageOut:
    """Shared by POST and the socket: check, store (the bot answers after commit), echo to the visitor's tabs."""
    retry_after = state.webchat_message_limit.hit(str(customer_id))
    if retry_after is not None:
        raise TooManyAttempts("You are sending messages too fast; wait a moment.", code="too_many_messages",
                              headers={"Retry-After": str(retry_after)})
    webchat.check_message_kind(text=body.text, choice=body.choice, has_file=body.file_content is not None)
    if body.file_content is None and (body.file_name is not None or body.file_type is not None):
        raise Invalid("FileName and FileType come with FileContent.", code="missing_field", field="FileContent")
    if body.file_content is not None and body.file_name is None:
        raise Invalid("FileName is required with FileContent.", code="missing_field", field="FileName")
    file = None
    if body.file_content is not None:
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
    hub = state.webchat_hub
    # The visitor's other tabs show what this one sent; the page ignores a message it already has.
    after_commit(db, lambda: hub.push(customer_id, message_event(out)))
    return out


# ---- the visitor WebSocket -------------------------------------------------------------------------------------

@router.websocket("/webchat/ws")
async def visitor_socket(websocket: WebSocket) -> None:
    token = presented_visitor_token(websocket.query_params.get("VisitorToken"),
                                    websocket.headers.get("authorization"))
    await websocket.accept()
    state = websocket.app.state
    async with state.sessionmaker() as db:
        customer = await webchat.visitor_by_token(db, token)
    if customer is None:
        await websocket.close(CLOSE_UNAUTHORIZED, "visitor token not known")
        return
    socket = VisitorSocket(websocket, customer.id)
    pushed_out = state.webchat_hub.add(socket)
    if pushed_out is not None:
        await pushed_out.close(1008, "too many open chat windows")
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            reply = await _handle_frame(state, customer.id, frame.get("text"))
            if reply is not None:
                await socket.send_json(reply)
    except WebSocketDisconnect:
        pass
    finally:
        state.webchat_hub.discard(socket)


async def _handle_frame(state: State, customer_id: int, text: str | None) -> dict[str, Any] | None:
    try:
        body = _parse_frame(text)
        if body is None:
            return {"Type": "Pong"}
        async with state.sessionmaker() as db:
            await accept_message(db, state, customer_id, body)
            await commit_and_publish(db)
        return None
    except ApiError as error:
        return {"Type": "Error", **error.body()}
    except Exception:
        log.exception("a visitor socket message failed")
        return {"Type": "Error", "Error": {"Code": "internal_error", "Message": "Something went wrong on our side."}}


def _parse_frame(text: str | None) -> VisitorMessageIn | None:
    """A frame as a message body; None for a keep-alive Ping."""
    if text is None:
        raise BadRequest("Send JSON text frames.", code="malformed_request")
    if len(text) > MAX_FRAME_CHARS:
        raise TooLarge("Messages over the socket are limited to 16 KiB; send files with POST.", code="too_large")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadRequest("The frame is not a JSON object.", code="malformed_request") from exc
    if not isinstance(data, dict):
        raise BadRequest("The frame is not a JSON object.", code="malformed_request")
    kind = data.pop("Type", None)
    if kind == "Ping":
        return None
    if kind not in ("Message", "Choice"):
        raise Invalid("Type must be Message, Choice or Ping.", code="unknown_type", field="Type")
    if kind == "Message" and ("Choice" in data or "FileContent" in data):
        raise Invalid("A Message frame carries Text only.", code="unknown_field", field="Text")
    if kind == "Choice" and set(data) != {"Choice"}:
        raise Invalid("A Choice frame carries Choice only.", code="missing_field", field="Choice")
    try:
        return VisitorMessageIn.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or None
    if first.get("type") == "extra_forbidden":
        return Invalid(f"{field} is not a known field.", code="unknown_field", field=field)
    return Invalid(f"{field}: {first.get('msg', 'invalid value')}", code="invalid_field", field=field)
