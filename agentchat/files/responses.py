"""A stored file as an HTTP answer, for GetFile and the web chat's downloads."""

from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi.responses import RedirectResponse, Response, StreamingResponse

from agentchat.files.storage import Download, FileStorage
from agentchat.webheaders import DOWNLOAD_HEADERS


def content_disposition(file_name: str) -> str:
    """An ASCII fallback name for old clients, and the exact name in RFC 6266's filename*."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in file_name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


async def file_response(storage: FileStorage, key: str | None, *, file_type: str | None,
                        disposition: str) -> Response:
    """A stored file as a download: streamed a piece at a time, or a redirect to a presigned URL when the store
    gives one. FileNotFoundError or ValueError when there is no such file (a message's key None: it has none)."""
    if key is None:
        raise FileNotFoundError("the message has no file")
    media_type = file_type or "application/octet-stream"
    url = await storage.download_url(key, file_type=media_type, disposition=disposition)
    if url is not None:
        # The URL is a credential for its lifetime: no cache may keep this answer.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    download = await storage.open(key)
    headers = {"Content-Disposition": disposition, **DOWNLOAD_HEADERS}
    if download.size is not None:
        headers["Content-Length"] = str(download.size)
    return StreamingResponse(_pieces(download), media_type=media_type, headers=headers)


async def _pieces(download: Download) -> AsyncIterator[bytes]:
    try:
        async for chunk in download.chunks:
            yield chunk
    finally:
        await download.close()
