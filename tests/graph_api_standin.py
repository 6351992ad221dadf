"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), speaking its real JSON over real HTTP.

It checks what Meta checks for the calls AgentChat makes (bearer token, phone number id, messaging_product,
recipient, message type and the per-type object with Meta's limits) and answers with Meta's success or
error bodies. Tests read what was sent from `requests`, put customer media in with `add_media`, and make
the next calls fail with `fail_next`. The business account's message templates (graph_api_templates.py) are
listed page by page and checked in template messages; tests change them through `templates`.
"""

import asyncio
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any

import uvicorn
from graph_api_templates import TemplateRefused, check_template_message, default_templates, template_page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

VERSION = "v21.0"
# Meta's business-scoped user ids: "US.13491208655302741918", a parent "US.ENT.11815799212886844830".
BSUID = re.compile(r"[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]+")
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
CAPTIONED = ("image", "document", "video")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class Failure:
    remaining: int
    status: int
    body: dict
    path_suffix: str


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str, *, type_: str = "OAuthException",
                 subcode: int | None = None, details: str | None = None):
        self.status = status
        self.body = meta_error(code, message, type_=type_, subcode=subcode, details=details)


def meta_error(code: int, message: str, *, type_: str = "OAuthException", subcode: int | None = None,
               details: str | None = None) -> dict:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


def invalid(details: str, code: int = 131009, message: str = "(#131009) Parameter value is not valid") -> GraphError:
    return GraphError(400, code, message, details=details)


class GraphApiStandIn:
    def __init__(self, *, access_token: str, phone_number_id: str, port: int, business_account_id: str = ""):
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self.base_url}/{VERSION}"
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.failures: list[Failure] = []
        self.templates: list[dict] = default_templates()
        # At most this many templates a page whatever the limit asked (None: as asked), to make paging visible.
        self.template_page_size: int | None = None
        # Set: media downloads hang until it is cleared again (a stalled CDN).
        self.stalled = threading.Event()
        # Set: answers to sends wait until it is cleared; the wamids they will answer are in `held`.
        self.holding = threading.Event()
        self.held: list[str] = []
        self.app = Starlette(routes=[
            Route(f"/{VERSION}/{{account}}/message_templates", self.message_templates, methods=["GET"]),
            Route("/media-download/{media_id}", self.download, methods=["GET"]),
            Route(f"/{VERSION}/{{number}}/messages", self.messages, methods=["POST"]),
            Route(f"/{VERSION}/{{number}}/media", self.upload, methods=["POST"]),
            Route(f"/{VERSION}/{{media_id}}", self.media_info, methods=["GET"]),
        ])
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=asyncio.run, args=(self.server.serve(),), daemon=True)

    # ---- control, from the tests ---------------------------------------------------------------------

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the Graph API stand-in did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.media.clear()
            self.failures.clear()
            self.templates = default_templates()
            self.template_page_size = None
        self.stalled.clear()
        self.holding.clear()
        with self.lock:
            self.held.clear()

    def add_media(self, content: bytes, mime_type: str) -> str:
        """Media a customer sent: returns the media id a webhook refers to."""
        media_id = str(secrets.randbelow(10**15) + 10**15)
        with self.lock:
            self.media[media_id] = (content, mime_type)
        return media_id

    def fail_next(self, count: int, *, status: int = 500, code: int = 1,
                  message: str = "An unknown error occurred", path_suffix: str = "/messages",
                  details: str | None = None, type_: str = "OAuthException") -> None:
        """The next `count` calls whose path ends with `path_suffix` answer this Meta error."""
        with self.lock:
            self.failures.append(Failure(count, status, meta_error(code, message, type_=type_, details=details),
                                         path_suffix))

    def sent(self, to: str | None = None) -> list[dict]:
        """Message bodies accepted by POST /{phone_number_id}/messages, in order (optionally to one wa_id)."""
        with self.lock:
            return [r.json for r in self.requests
                    if r.path.endswith("/messages") and r.status == 200 and "status" not in r.json
                    and (to is None or r.json.get("to") == to)]

    def receipts(self) -> list[dict]:
        """Read receipts (with or without the typing indicator) accepted by POST /{phone_number_id}/messages."""
        with self.lock:
            return [r.json for r in self.requests
                    if r.path.endswith("/messages") and r.status == 200 and "status" in r.json]

    def calls(self, path_suffix: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def wait_for(self, predicate: Callable[["GraphApiStandIn"], Any], timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate(self)
            if found:
                return found
            time.sleep(0.02)
        with self.lock:
            seen = [(r.method, r.path, r.status, r.json) for r in self.requests]
        raise AssertionError(f"the Graph API stand-in did not see what was expected; it saw {seen}")

    def wait_sent(self, to: str, count: int = 1, timeout: float = 15) -> list[dict]:
        return self.wait_for(lambda s: len(s.sent(to)) >= count and s.sent(to), timeout)

    # ---- the Graph API -----------------------------------------------------------------------------------

    async def _handle(self, request: Request, work: Callable[[Recorded], Any]) -> Response:
        body = await request.body()
        record = Recorded(method=request.method, path=request.url.path, headers=dict(request.headers),
                          query=dict(request.query_params))
        content_type = request.headers.get("content-type", "")
        try:
            if content_type.startswith("application/json"):
                try:
                    record.json = json.loads(body)
                except ValueError as exc:
                    raise GraphError(400, 100, "(#100) Invalid JSON", type_="OAuthException") from exc
            elif content_type.startswith("multipart/form-data"):
                record.form = parse_multipart(content_type, body)
            self._check_token(request)
            failure = self._take_failure(record.path)
            if failure is not None:
                record.status = failure.status
                return JSONResponse(failure.body, status_code=failure.status)
            result = work(record)
        except GraphError as exc:
            record.status = exc.status
            return JSONResponse(exc.body, status_code=exc.status)
        finally:
            with self.lock:
                self.requests.append(record)
        return result if isinstance(result, Response) else JSONResponse(result)

    def _check_token(self, request: Request) -> None:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")

    def _check_number(self, number: str) -> None:
        if number != self.phone_number_id:
            raise GraphError(400, 100, f"Unsupported post request. Object with ID '{number}' does not exist, cannot "
                             "be loaded due to missing permissions, or does not support this operation.",
                             type_="GraphMethodException", subcode=33)

    def _take_failure(self, path: str) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.remaining > 0 and path.endswith(failure.path_suffix):
                    failure.remaining -= 1
                    return failure
        return None

    async def messages(self, request: Request) -> Response:
        wamid = "wamid.HBgL" + secrets.token_hex(16).upper()
        if self.holding.is_set():
            # The answer is held back (hold_answers): the message is "sent" and its wamid known here first.
            with self.lock:
                self.held.append(wamid)
            while self.holding.is_set():
                await asyncio.sleep(0.02)

        def work(record: Recorded) -> dict:
            self._check_number(request.path_params["number"])
            if isinstance(record.json, dict) and "status" in record.json:
                self._check_receipt(record.json)
                return {"success": True}
            to = self._check_message(record.json)
            return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}]}
        return await self._handle(request, work)

    async def message_templates(self, request: Request) -> Response:
        def work(_record: Recorded) -> dict:
            account = request.path_params["account"]
            if account != self.business_account_id:
                raise GraphError(400, 100, f"Unsupported get request. Object with ID '{account}' does not exist, "
                                 "cannot be loaded due to missing permissions, or does not support this operation.",
                                 type_="GraphMethodException", subcode=33)
            with self.lock:
                templates = list(self.templates)
            return template_page(templates, dict(request.query_params), f"{self.api_url}/{account}/message_templates",
                                 page_size=self.template_page_size)
        return await self._handle(request, work)

    async def upload(self, request: Request) -> Response:
        def work(record: Recorded) -> dict:
            self._check_number(request.path_params["number"])
            form = record.form
            if form.get("messaging_product") != "whatsapp":
                raise invalid("The parameter messaging_product is required.", 100, "(#100) Invalid parameter")
            upload = form.get("file")
            if not isinstance(upload, dict) or not upload["content"]:
                raise invalid("The parameter file is required.", 100, "(#100) Invalid parameter")
            mime_type = form.get("type") or upload["content_type"]
            media_id = str(secrets.randbelow(10**15) + 10**15)
            with self.lock:
                self.media[media_id] = (upload["content"], mime_type)
            return {"id": media_id}
        return await self._handle(request, work)

    async def media_info(self, request: Request) -> Response:
        def work(_record: Recorded) -> dict:
            media_id = request.path_params["media_id"]
            with self.lock:
                found = self.media.get(media_id)
            if found is None:
                raise GraphError(400, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist, "
                                 "cannot be loaded due to missing permissions, or does not support this operation.",
                                 type_="GraphMethodException", subcode=33)
            content, mime_type = found
            # file_size as a string, as in Meta's own example of this answer.
            return {"messaging_product": "whatsapp", "url": f"{self.base_url}/media-download/{media_id}",
                    "mime_type": mime_type, "sha256": hashlib.sha256(content).hexdigest(),
                    "file_size": str(len(content)), "id": media_id}
        return await self._handle(request, work)

    async def download(self, request: Request) -> Response:
        while self.stalled.is_set():
            await asyncio.sleep(0.02)

        def work(_record: Recorded) -> Response:
            with self.lock:
                found = self.media.get(request.path_params["media_id"])
            if found is None:
                return Response(b"", status_code=404)
            return Response(found[0], media_type=found[1])
        return await self._handle(request, work)

    # ---- what Meta checks in a message --------------------------------------------------------------------

    def _check_message(self, body: Any) -> str:
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.", 100, "(#100) Invalid parameter")
        if body.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.", 100,
                          "(#100) The parameter messaging_product is required.")
        to = body.get("to")
        if to is None and "recipient" in body:
            # A user known only by their business-scoped user id: "recipient" instead of "to".
            to = body["recipient"]
            if not isinstance(to, str) or not BSUID.fullmatch(to):
                raise invalid("The parameter recipient must be a business-scoped user id.", 100,
                              "(#100) Invalid parameter")
        elif not isinstance(to, str) or not to.lstrip("+").isdigit():
            raise invalid("The parameter to is required and must be a phone number.", 131008,
                          "(#131008) Required parameter is missing")
        if "context" in body:
            context = body["context"]
            if not isinstance(context, dict) or not str(context.get("message_id", "")).startswith("wamid."):
                raise invalid("context.message_id must be a message id.", 100, "(#100) Invalid parameter")
        if body.get("recipient_type", "individual") != "individual":
            raise invalid("recipient_type must be individual.")
        kind = body.get("type", "text")
        obj = body.get(kind)
        if not isinstance(obj, dict):
            raise invalid(f"The parameter {kind} is required.", 131008, "(#131008) Required parameter is missing")
        if kind == "text":
            text = obj.get("body")
            if not isinstance(text, str) or not text.strip():
                raise invalid("text['body'] is required.", 131008, "(#131008) Required parameter is missing")
            if len(text) > 4096:
                raise invalid("text['body'] must be at most 4096 characters.", 100, "(#100) Invalid parameter")
        elif kind == "interactive":
            self._check_interactive(obj)
        elif kind in MEDIA_TYPES:
            self._check_media(kind, obj)
        elif kind == "template":
            with self.lock:
                templates = list(self.templates)
            try:
                check_template_message(templates, obj)
            except TemplateRefused as exc:
                raise invalid(exc.details, exc.code, exc.message) from exc
        else:
            raise invalid(f"Unsupported message type {kind}.", 100, "(#100) Invalid parameter")
        return to

    def _check_receipt(self, body: dict) -> None:
        """Mark a message read: {"messaging_product", "status": "read", "message_id", "typing_indicator"?}."""
        if body.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.", 100,
                          "(#100) The parameter messaging_product is required.")
        if body.get("status") != "read":
            raise invalid("status must be read.", 100, "(#100) Invalid parameter")
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id.startswith("wamid."):
            raise invalid("The parameter message_id is required.", 131008, "(#131008) Required parameter is missing")
        if "typing_indicator" in body:
            indicator = body["typing_indicator"]
            if not isinstance(indicator, dict) or indicator.get("type") != "text":
                raise invalid("typing_indicator.type must be text.", 100, "(#100) Invalid parameter")
        extra = set(body) - {"messaging_product", "status", "message_id", "typing_indicator", "recipient_type"}
        if extra:
            raise invalid(f"Unexpected parameter {sorted(extra)[0]}.", 100, "(#100) Invalid parameter")

    def _check_interactive(self, obj: dict) -> None:
        if obj.get("type") != "list":
            raise invalid("Only list messages are supported by this stand-in.")
        text = (obj.get("body") or {}).get("text")
        if not isinstance(text, str) or not text or len(text) > 1024:
            raise invalid("interactive.body.text is required (at most 1024 characters).")
        action = obj.get("action") or {}
        button = action.get("button")
        if not isinstance(button, str) or not button or len(button) > 20:
            raise invalid("interactive.action.button is required (at most 20 characters).")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise invalid("interactive.action.sections must hold 1 to 10 sections.")
        rows = [row for section in sections for row in (section.get("rows") or [])]
        if len(sections) > 1 and any(not s.get("title") for s in sections):
            raise invalid("Each section needs a title when there are several.")
        if any(len(s.get("title") or "") > 24 for s in sections):
            raise invalid("A section title is at most 24 characters.")
        if not 1 <= len(rows) <= 10:
            raise invalid("A list message holds 1 to 10 rows.")
        ids = [row.get("id") for row in rows]
        if len(set(ids)) != len(ids):
            raise invalid("Row ids must be unique.")
        for row in rows:
            if not isinstance(row.get("id"), str) or not row["id"] or len(row["id"]) > 200:
                raise invalid("A row id is required (at most 200 characters).")
            if not isinstance(row.get("title"), str) or not row["title"] or len(row["title"]) > 24:
                raise invalid("A row title is required (at most 24 characters).")
            if len(row.get("description") or "") > 72:
                raise invalid("A row description is at most 72 characters.")

    def _check_media(self, kind: str, obj: dict) -> None:
        media_id = obj.get("id")
        if not media_id and not obj.get("link"):
            raise invalid(f"{kind} needs an id or a link.", 131008, "(#131008) Required parameter is missing")
        if media_id:
            with self.lock:
                known = media_id in self.media
            if not known:
                raise invalid(f"Media id {media_id} was not uploaded.", 131053, "(#131053) Media upload error")
        if "caption" in obj and kind not in CAPTIONED:
            raise invalid(f"A {kind} message takes no caption.", 100, "(#100) Invalid parameter")
        if "filename" in obj and kind != "document":
            raise invalid(f"A {kind} message takes no filename.", 100, "(#100) Invalid parameter")


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """{name: text} for fields and {name: {"file_name", "content_type", "content"}} for files."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            form[name] = {"file_name": part.get_filename(), "content_type": part.get_content_type(),
                          "content": content}
        else:
            form[name] = content.decode()
    return form
