"""Request bodies are limited per route while they are read: before any parsing and before authentication.

FastAPI reads a route's whole body before it runs a single dependency, so without this a 100 MB body with no
token cost ~1 GB of memory (the body, its copies, a parse attempt), and eight at once eight times that. Here a
declared Content-Length over the route's limit is refused before the app runs; a body without one (chunked) is
counted as the app reads it, and refused as soon as it passes the limit. The refusal is the contract's 413
envelope. The server reads the rest of the body and drops it as it comes (nothing is kept): closing the
connection at once instead would reset it under the client, which then never sees the 413.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Most calls take a few IDs and short texts.
DEFAULT_LIMIT = 64 * 1024
_NO_BODY = frozenset(("GET", "HEAD"))


class BodyLimits:
    """The body limit of each path: `by_path`, else `default`."""

    __slots__ = ("default", "by_path")

    def __init__(self, by_path: dict[str, int], default: int = DEFAULT_LIMIT):
        self.default = default
        self.by_path = by_path

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, root_path: str = "") -> None:
        """`app(scope, receive, send)` within the path's limit (an http scope)."""
        if scope["method"] in _NO_BODY:
            # No route reads a GET's body (test_body_limits checks), and unread, the server buffers at most 64 KiB
            # of it: nothing to count on the hottest reads (GetChats).
            await app(scope, receive, send)
            return
        path = scope["path"]
        if root_path and path.startswith(root_path):
            path = path[len(root_path):]
        limit = self.by_path.get(path, self.default)
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and declared.isdigit():
            # The server delivers no more than the declared length.
            if int(declared) > limit:
                await refuse(send, limit)
                return
            await app(scope, receive, send)
        elif declared is None and chunked is None:
            await app(scope, receive, send)  # no body
        else:
            await _Counted(limit, receive, send).serve(app, scope)


class _Counted:
    """A body of unannounced length, counted as the app reads it."""

    __slots__ = ("limit", "size", "receive", "send", "refused", "started")

    def __init__(self, limit: int, receive: Receive, send: Send):
        self.limit, self.size = limit, 0
        self.receive, self.send = receive, send
        self.refused = self.started = False

    async def serve(self, app: ASGIApp, scope: Scope) -> None:
        try:
            await app(scope, self._receive, self._send)
        except Exception:
            if not self.refused:
                raise
            # The app met the end we gave it (a disconnect) after the 413 went out.

    async def _receive(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                if not self.started and not self.refused:
                    self.refused = True
                    await refuse(self.send, self.limit)
                # What the app gets instead of the rest: the end of the request.
                return {"type": "http.disconnect"}
        return message

    async def _send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 is the answer
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


async def refuse(send: Send, limit: int) -> None:
    body = (b'{"Error":{"Code":"request_too_large","Message":"The request body is larger than the %d bytes '
            b'allowed."}}' % limit)
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
