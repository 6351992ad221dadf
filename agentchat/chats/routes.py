"""The agents' chat calls: grabbing, assigning, transferring, messaging, closing, listing, exporting."""

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import compat, queues
from agentchat.audit import service as audit
from agentchat.channels.whatsapp.receipts import newest_customer_wamid
from agentchat.chats import attachments, export, fastpath
from agentchat.chats import service as chats
from agentchat.chats.models import ASSIGNED, STATUSES, WHATSAPP, Chat
from agentchat.chats.schemas import (
    AssignChatIn,
    ChatDetail,
    ChatIn,
    ChatListItem,
    ChatOut,
    ChatWithMessages,
    GrabChatIn,
    MessageOut,
    SendMessageIn,
    TransferToAgentIn,
    TransferToDepartmentIn,
)
from agentchat.config import Settings
from agentchat.contract import MAX_ID, Invalid, Page, Paging, QueryID, TooLarge, paging
from agentchat.csat import service as csat
from agentchat.customers import service as customers
from agentchat.customers.schemas import CustomerOut
from agentchat.db import DbSession, commit_and_publish, publish_committed
from agentchat.security import CurrentAgent, Presented
from agentchat.webheaders import DOWNLOAD_HEADERS

router = APIRouter(tags=["Chats"], route_class=compat.IDsInQueryOrBody)


async def chat_out(db: AsyncSession, chat: Chat) -> ChatOut:
    tags = await chats.chat_tag_ids(db, [chat.id])
    return ChatOut.of(chat, tags[chat.id])


async def chat_with_messages(db: AsyncSession, chat: Chat) -> ChatWithMessages:
    tags = await chats.chat_tag_ids(db, [chat.id])
    messages = await chats.chat_messages(db, chat.id)
    return ChatWithMessages(**ChatOut.of(chat, tags[chat.id]).model_dump(),
                            messages=[MessageOut.of(m) for m in messages])


# GrabChat, SendMessage (text) and GetChats are the hot calls: no ORM session (fastpath.py), and lean routes in
# front of these (leanroute.py, LEAN_ENDPOINTS). GrabChat and SendMessage read their bodies themselves, and the
# body is described here for OpenAPI.

# They answer with the JSON their statements build; response_model describes it for OpenAPI.
@router.post("/api/GrabChat", response_model=ChatWithMessages, openapi_extra={
    "requestBody": {"required": False, "content": {
    "application/json": {"schema": GrabChatIn.model_json_schema(by_alias=True)}}},
    "parameters": compat.query_id_parameters(GrabChatIn)})
async def grab_chat(request: Request, session: Presented) -> Response:
    raw_body = await read_capped_body(request, GRAB_BODY_LIMIT)
    empty = raw_body.strip() in (b"", b"null")
    if _ID_IN_QUERY in request.scope["query_string"]:
        # A client of the original may name the chat in the query string (compat.py).
        chat_id = compat.body_with_query_ids(GrabChatIn, b"{}" if empty else raw_body, request.query_params).chat_id
    else:
        chat_id = None if empty else compat.parse_body(GrabChatIn, raw_body).chat_id
    async with request.app.state.raw.connect() as raw:
        data = await fastpath.grab_chat_json(raw, session=session, chat_id=chat_id)
    await publish_committed(raw)
    return JSONResponse(data)


GRAB_BODY_LIMIT = 4096
# Only a query string holding an ID is looked at further: the hot calls' common case costs one bytes search.
_ID_IN_QUERY = b"ID="


@router.post("/api/AssignChat")
async def assign_chat(body: AssignChatIn, caller: CurrentAgent, db: DbSession) -> ChatOut:
    chat = await chats.assign_chat(db, caller=caller, chat_id=body.chat_id, agent_id=body.agent_id)
    if caller.is_manager:
        audit.manager_action(db, caller, "ChatAssigned", "Chat", chat.id, body=body)
    await commit_and_publish(db)
    return await chat_out(db, chat)


@router.post("/api/TransferChatToDepartment")
async def transfer_chat_to_department(body: TransferToDepartmentIn, caller: CurrentAgent, db: DbSession) -> ChatOut:
    chat = await queues.transfer_to_department(db, caller=caller, chat_id=body.chat_id,
                                              department_id=body.department_id)
    if caller.is_manager:
        audit.manager_action(db, caller, "ChatTransferred", "Chat", chat.id, body=body)
    await commit_and_publish(db)
    return await chat_out(db, chat)


@router.post("/api/TransferChatToAgent")
async def transfer_chat_to_agent(body: TransferToAgentIn, caller: CurrentAgent, db: DbSession) -> ChatOut:
    chat = await chats.transfer_to_agent(db, caller=caller, chat_id=body.chat_id, agent_id=body.agent_id)
    if caller.is_manager:
        audit.manager_action(db, caller, "ChatTransferred", "Chat", chat.id, body=body)
    await commit_and_publish(db)
    return await chat_out(db, chat)


@router.post("/api/CloseChat")
async def close_chat(body: ChatIn, caller: CurrentAgent, db: DbSession) -> ChatOut:
    chat = await chats.close_chat(db, caller=caller, chat_id=body.chat_id)
    await csat.ask(db, chat)  # here, not in the chats service: csat builds on that service
    if caller.is_manager:
        audit.manager_action(db, caller, "ChatClosed", "Chat", chat.id, body=body)
    await commit_and_publish(db)
    return await chat_out(db, chat)


# Room for the JSON around the base64 of the largest file allowed (4 characters per 3 bytes).
BODY_OVERHEAD = 64 * 1024


def file_body_limit(settings: Settings) -> int:
    """The largest body of a call that carries a file (SendMessage, the web chat's POST): its base64 and JSON."""
    return settings.max_file_bytes * 4 // 3 + BODY_OVERHEAD


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit`, announced or not."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _body_too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _body_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _body_too_large(limit: int) -> TooLarge:
    return TooLarge(f"The request body is larger than the {limit} bytes allowed.", code="request_too_large")


@router.post("/api/SendMessage", response_model=MessageOut, openapi_extra={
    "requestBody": {"required": True, "content": {
    "application/json": {"schema": SendMessageIn.model_json_schema(by_alias=True)}}},
    "parameters": compat.query_id_parameters(SendMessageIn)})
async def send_message(request: Request, session: Presented) -> Response:
    body, file = await _read_send_message(request)
    text = body.message or None
    if file is None and body.reply_to_message_id is None and body.message:  # (no file: a Message, checked)
        # The common case, on the driver connection: the session check, the same checks, history, event and
        # delivery, in one statement on PostgreSQL.
        async with request.app.state.raw.connect() as raw:
            data = await fastpath.send_text_message(raw, session=session, chat_id=body.chat_id, text=body.message)
        await publish_committed(raw)
        return JSONResponse(data)
    caller = await session.check()
    async with request.app.state.sessionmaker() as db:
        message = await chats.send_message(db, caller=caller, chat_id=body.chat_id, text=text, file=file,
                                           storage=request.app.state.file_storage,
                                           reply_to_message_id=body.reply_to_message_id)
        await commit_and_publish(db)
    return JSONResponse(MessageOut.of(message).model_dump(by_alias=True, mode="json"))


async def _read_send_message(request: Request) -> tuple[SendMessageIn, attachments.NewFile | None]:
    settings = request.app.state.settings
    raw_body = await read_capped_body(request, file_body_limit(settings))
    if _ID_IN_QUERY in request.scope["query_string"]:
        body = compat.body_with_query_ids(SendMessageIn, raw_body, request.query_params)
    else:
        body = compat.parse_body(SendMessageIn, raw_body)
    file = attachments.decode_file(file_name=body.file_name, file_type=body.file_type, content=body.file_content,
                                   max_bytes=settings.max_file_bytes)
    if not body.message and file is None:
        raise Invalid("Send a Message, a file, or both.", code="message_required", field="Message")
    return body, file


# ---- reading ----------------------------------------------------------------------------------------------

_STATUS_NAMES = {status.casefold(): status for status in STATUSES} | {"open": ASSIGNED}


def _statuses(values: list[str]) -> list[str]:
    statuses = []
    for value in values:
        status = _STATUS_NAMES.get(value.strip().casefold())
        if status is None:
            raise Invalid(f"Status must be one of {', '.join(STATUSES)} or Open.", code="invalid_field",
                          field="Status")
        statuses.append(status)
    return sorted(set(statuses))


def _when(value: str | None, name: str, *, upper: bool) -> datetime | None:
    """An ISO date (the whole day, UTC) or date-time; aware times are converted to UTC. Both ends inclusive."""
    if value is None:
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if upper else time.min)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{name} must be an ISO date (2024-05-01) or date-time (2024-05-01T10:00:00Z).",
                      code="invalid_field", field=name) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if upper and moment.microsecond == 0:
        # Times are shown to the second: "To" a shown time includes everything within that second.
        moment = moment.replace(microsecond=999_999)
    return moment


@router.get("/api/GetChats", response_model=Page[ChatListItem])
async def get_chats(
    request: Request,
    session: Presented,
    page: Annotated[Paging, Depends(paging)],
    status: Annotated[tuple[str, ...], Query(alias="Status", max_length=10)] = (),
    department_id: Annotated[int | None, Query(alias="DepartmentID", ge=1, le=MAX_ID)] = None,
    agent_id: Annotated[int | None, Query(alias="AgentID", ge=1, le=MAX_ID)] = None,
    customer_id: Annotated[int | None, Query(alias="CustomerID", ge=1, le=MAX_ID)] = None,
    tag_id: Annotated[int | None, Query(alias="TagID", ge=1, le=MAX_ID)] = None,
    created_from: Annotated[str | None, Query(alias="From", max_length=40)] = None,
    created_to: Annotated[str | None, Query(alias="To", max_length=40)] = None,
) -> Response:
    where = chats.ChatFilter(statuses=_statuses(list(status)), department_id=department_id, agent_id=agent_id,
                             customer_id=customer_id, tag_id=tag_id,
                             created_from=_when(created_from, "From", upper=False),
                             created_to=_when(created_to, "To", upper=True))
    if where.created_from and where.created_to and where.created_from > where.created_to:
        raise Invalid("From must not be after To.", code="invalid_field", field="From")
    async with request.app.state.raw.connect(heavy_read=True) as raw:
        return Response(await fastpath.list_chats_json(raw, session=session, where=where, paging=page),
                        media_type="application/json")


@router.get("/api/GetChat")
async def get_chat(request: Request, caller: CurrentAgent, db: DbSession,
                   chat_id: Annotated[QueryID, Query(alias="ChatID")]) -> ChatDetail:
    chat = await chats.get_visible_chat(db, caller=caller, chat_id=chat_id)
    receipts = getattr(request.app.state, "whatsapp_receipts", None)
    if receipts is not None and chat.channel == WHATSAPP and (chat.agent_id == caller.agent_id or caller.is_manager):
        # The one handling the chat has seen it: the customer's newest message shows as read on their phone.
        receipts.chat_read(chat.id, await newest_customer_wamid(db, chat.id))
    detail = await chat_with_messages(db, chat)
    customer = await customers.view_customer(db, await customers.get_customer(db, chat.customer_id))
    return ChatDetail(**detail.model_dump(), customer=CustomerOut.of(customer.customer, customer.comments,
                                                                     customer.tag_ids),
                      window_open=chats.window_open(chat), window_closes_at=chats.window_closes_at(chat),
                      referral=chat.referral)


_CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The chat's messages as CSV."}}


# POST as well: the original shows ExportChat by description only, so its clients may POST it, the ChatID in the
# query string or a JSON body (compat.py).
@router.get("/api/ExportChat", response_class=StreamingResponse, responses=_CSV_ANSWER)
@router.post("/api/ExportChat", response_class=StreamingResponse, responses=_CSV_ANSWER)
async def export_chat(request: Request, caller: CurrentAgent, db: DbSession,
                      chat_id: Annotated[QueryID, Query(alias="ChatID")]) -> StreamingResponse:
    await chats.get_visible_chat(db, caller=caller, chat_id=chat_id)
    # An export of personal information, by anyone, is accounted for (POPIA); then the connection goes back:
    # the rows are read batch by batch while the client downloads.
    audit.record(db, "ChatExported", actor_agent_id=caller.agent_id, target_type="Chat", target_id=chat_id,
                 client_ip=request.client.host if request.client else None)
    await commit_and_publish(db)
    return StreamingResponse(
        export.chat_csv(request.app.state.sessionmaker, chat_id), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.file_name(chat_id)}"', **DOWNLOAD_HEADERS})


# For other domains' date filters (the audit log, search): the same rules as GetChats' From and To.
parse_when = _when
parse_statuses = _statuses

# Served by lean routes in front of FastAPI's (leanroute.py): the calls an agent makes most.
LEAN_ENDPOINTS = (grab_chat, send_message, get_chats)
