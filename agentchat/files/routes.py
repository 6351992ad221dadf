"""GetFile: the bytes of a message's file, for agents who may see its chat (the URL of Message.File)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from agentchat.chats import service as chats
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import NotFound, QueryID
from agentchat.db import DbSession
from agentchat.security import CurrentAgent
from agentchat.webheaders import DOWNLOAD_HEADERS

router = APIRouter(tags=["Chats"], route_class=IDsInQueryOrBody)


def content_disposition(file_name: str) -> str:
    """An ASCII fallback name for old clients, and the exact name in RFC 6266's filename*."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in file_name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get("/api/GetFile", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes."}})
async def get_file(request: Request, caller: CurrentAgent, db: DbSession,
                   message_id: Annotated[QueryID, Query(alias="MessageID")]) -> Response:
    message = await chats.get_file_message(db, caller=caller, message_id=message_id)
    key, file_type, file_name = message.file_key, message.file_type, message.file_name
    await db.rollback()  # nothing more to read; free the connection while the file is read
    try:
        content = await request.app.state.file_storage.read(key)
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(f"No file belongs to message {message_id}.", code="file_not_found",
                       field="MessageID") from exc
    return Response(content, media_type=file_type or "application/octet-stream", headers={
        "Content-Disposition": content_disposition(file_name or "file"), **DOWNLOAD_HEADERS})
