"""GetFile: the bytes of a message's file, for agents who may see its chat (the URL of Message.File)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from agentchat.chats import service as chats
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import NotFound, QueryID
from agentchat.db import DbSession
from agentchat.files.responses import content_disposition, file_response
from agentchat.security import CurrentAgent

router = APIRouter(tags=["Chats"], route_class=IDsInQueryOrBody)


@router.get("/api/GetFile", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes."},
                       307: {"description": "With AGENTCHAT_S3_PRESIGN_SECONDS set: a short-lived URL of the "
                                            "file in object storage."}})
async def get_file(request: Request, caller: CurrentAgent, db: DbSession,
                   message_id: Annotated[QueryID, Query(alias="MessageID")]) -> Response:
    message = await chats.get_file_message(db, caller=caller, message_id=message_id)
    key, file_type, file_name = message.file_key, message.file_type, message.file_name
    await db.rollback()  # nothing more to read; free the connection while the file is read
    try:
        return await file_response(request.app.state.file_storage, key, file_type=file_type,
                                   disposition=content_disposition(file_name or "file"))
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(f"No file belongs to message {message_id}.", code="file_not_found",
                       field="MessageID") from exc
