"""The contract's conventions at the edge: PascalCase schemas, Version, pagination and the error shape."""

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
    field_validator,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from agentchat import dbunreachable

log = logging.getLogger(__name__)


def to_contract_name(name: str) -> str:
    """snake_case -> the contract's PascalCase, where id/ids are spelt ID/IDs (ChatID, DepartmentIDs)."""
    special = {"id": "ID", "ids": "IDs"}
    return "".join(special.get(part, part.capitalize()) for part in name.split("_"))


def format_time(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


UtcTime = Annotated[datetime, PlainSerializer(format_time, return_type=str)]


class Schema(BaseModel):
    """Base of every request and response body: PascalCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_contract_name,
        populate_by_name=True,
        from_attributes=True,
        extra="forbid",
        str_strip_whitespace=True,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text: refuse it here as a 422, not later as a driver error (500).
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int


# A list's Total where counting every match would read too much (SearchCustomer; GetChats over months of closed
# chats): matches are counted up to COUNT_CAP, or one past the requested page if that is deeper. So the Total is
# exact below the cap, a Total at the cap means "at least this many", and it always says whether another page
# exists.
COUNT_CAP = 200


class Paging(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=200)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def page_json(self, items_json: str, total: int) -> str:
        """A list's answer as JSON text, around items already written as a JSON array (the raw hot paths)."""
        return f'{{"Items":{items_json},"Page":{self.page:d},"PageSize":{self.page_size:d},"Total":{total:d}}}'

    @property
    def count_cap(self) -> int:
        """How far to count the matches for Total (COUNT_CAP above)."""
        return max(COUNT_CAP, self.offset + self.page_size + 1)


async def paging(
    page: Annotated[int, Query(alias="Page", ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="PageSize", ge=1, le=200)] = 50,
) -> Paging:
    return Paging(page=page, page_size=page_size)


class Deleted(BaseModel):
    model_config = ConfigDict(extra="allow")


# What a client means by Version (behaviour.md): a bare API version is one or two numbers (`2`, `2.0`, `v2`); three or
# more numbers are a client's build number (`2.3.1`), and anything else is a build string or the original's unfilled
# placeholder `{{BUILD_VERSION}}`. Only a bare API version other than 1 is refused.
_API_VERSION = re.compile(r"[vV]?(\d+)(?:\.\d+)?")
SERVED_VERSION = 1
MAX_VERSION_CHARS = 64


class ApiError(Exception):
    """A client-facing failure: HTTP status, stable machine code, safe message, optional field."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.field = field
        self.status = status or self.status
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"Code": self.code, "Message": self.message}
        if self.field:
            error["Field"] = self.field
        return {"Error": error}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class Invalid(ApiError):
    status, code = 422, "invalid"


class TooManyAttempts(ApiError):
    status, code = 429, "too_many_attempts"


# async: a plain def dependency would run in the thread pool (a thread hop on every request).
async def check_version(version: Annotated[str | None, Query(alias="Version")] = None) -> None:
    # Bounded here rather than by Query(max_length): an over-long value is 400 unsupported_version, not a 422.
    if version is None or version == "1":
        return
    if len(version) > MAX_VERSION_CHARS:
        raise BadRequest(f"Version holds at most {MAX_VERSION_CHARS} characters; this server serves version "
                         f"{SERVED_VERSION} of the API.", code="unsupported_version", field="Version")
    found = _API_VERSION.fullmatch(version.strip())
    if found is not None and int(found[1]) != SERVED_VERSION:
        raise BadRequest(f"Version {version.strip()} of the API is not served; this server serves version "
                         f"{SERVED_VERSION} (send 1, 1.x or your build number).", code="unsupported_version",
                         field="Version")


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _session_first(request: Request) -> JSONResponse | None:
    """The refusal of a wrong session, for a route that checks it in its own statement
    (security.presented_session) when an error came before that statement ran: as on every other call, a
    wrong session is told first."""
    session = getattr(request.state, "presented_session", None)
    if session is None or session.verified:
        return None
    try:
        await session.check()
    except ApiError as error:
        return error_response(error)
    return None


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    if exc.status != 401 and (refused := await _session_first(request)) is not None:
        return refused
    return error_response(exc)


# Where compat.py notes a field given twice with different values (query string and body). It puts a value there that
# cannot validate, so that the request fails as a bad field would, after the session and role are checked.
CONFLICT_KEY = "agentchat.conflicting_field"


def conflicting_field(field: str, message: str | None = None) -> "Invalid":
    return Invalid(message or f"{field} is given both in the query string and in the body, with different values.",
                   code="conflicting_field", field=field)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    if (refused := await _session_first(request)) is not None:
        return refused
    if (conflict := request.scope.get(CONFLICT_KEY)) is not None:
        return error_response(conflicting_field(conflict))
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "header", "path")]
    field = ".".join(loc) or None
    if first.get("type") in ("json_invalid", "model_attributes_type") or (not loc and "body" in first.get("loc", ())):
        return error_response(BadRequest("The request body is not a JSON object.", code="malformed_request"))
    if first.get("type") == "missing":
        return error_response(Invalid(f"{field} is required.", code="missing_field", field=field))
    if first.get("type") == "extra_forbidden":
        return error_response(Invalid(f"{field} is not a known field.", code="unknown_field", field=field))
    message = first.get("msg", "Invalid value.")
    return error_response(Invalid(f"{field}: {message}" if field else message, code="invalid_field", field=field))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 401: "unauthorized"}


# FastAPI's answer when reading the body failed other than as bad JSON (nested too deep: a RecursionError).
_BODY_UNREADABLE = "There was an error parsing the body"


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == _BODY_UNREADABLE:
        return error_response(BadRequest("The request body is not a JSON object.", code="malformed_request"))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404:
        message = "No such endpoint."
    return error_response(ApiError(message, code=code, status=exc.status_code,
                                   headers=dict(exc.headers) if exc.headers else None))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if (unavailable := await dbunreachable.handle_error(request, exc)) is not None:
        return unavailable
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"Error": {"Code": "internal_error", "Message": "Something went wrong on our side."}},
                        status_code=500)


async def _client_gone(_request: Request, _exc: ClientDisconnect) -> Response:
    # The client left (or the body limit answered 413 and ended the request): nobody to answer, nothing to log.
    return Response(status_code=400)


_E = TypeVar("_E", bound=Exception)


def _handle(app: FastAPI, kind: type[_E], handler: Callable[[Request, _E], Awaitable[Response]]) -> None:
    # Starlette declares every handler as taking any Exception; it calls this one only with a `kind`.
    app.add_exception_handler(kind, cast(Callable[[Request, Exception], Awaitable[Response]], handler))


def install_error_handlers(app: FastAPI) -> None:
    _handle(app, ApiError, _api_error)
    _handle(app, ClientDisconnect, _client_gone)
    _handle(app, RequestValidationError, _validation_error)
    _handle(app, StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # The errors of a database that cannot be reached, answered before Starlette's last resort for Exception (which
    # logs a traceback per request once more, after the answer): 503 then, else the same 500.
    for error_class in dbunreachable.ERROR_CLASSES:
        app.add_exception_handler(error_class, _unexpected_error)
    declare_error_responses(app)


ERROR_ENVELOPE_SCHEMA: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "type": "object",
    "required": ["Error"],
    "additionalProperties": False,
    "properties": {"Error": {
        "type": "object",
        "required": ["Code", "Message"],
        "additionalProperties": False,
        "properties": {"Code": {"type": "string"}, "Message": {"type": "string"},
                       "Field": {"type": ["string", "null"]}},
    }},
}
_ERROR_RESPONSE = {"description": "The contract's error envelope (any 4xx: the status and Code say which).",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}


def declare_error_responses(app: FastAPI) -> None:
    """Make /openapi.json tell the truth about errors: every 4xx is the error envelope, not FastAPI's `detail`.

    FastAPI declares a 422 `HTTPValidationError` on every operation with parameters; our handlers answer
    `{"Error": {...}}` for it and for every other 4xx, so the served schema says `4XX` -> ErrorEnvelope.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorEnvelope"] = ERROR_ENVELOPE_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                responses.pop("422", None)
                responses["4XX"] = _ERROR_RESPONSE
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value) or any(ord(char) < 32 for char in value):
        raise ValueError("not a valid e-mail address")
    return value


EmailAddress = Annotated[str, Field(max_length=254), AfterValidator(normalise_email)]
MobileNumber = Annotated[str, Field(max_length=20, pattern=r"^\+?[0-9][0-9 \-]{5,18}$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
# Passwords are taken exactly as typed: every character counts, leading and trailing spaces too.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=8, max_length=128)]
# At logon any length up to a bound is merely a wrong password, never a 422 that hints at the rules.
LogonPassword = Annotated[str, StringConstraints(strip_whitespace=False, max_length=1024)]
# IDs are 32-bit in the database; a larger number is an invalid value (422), not a driver error.
MAX_ID = 2_147_483_647
# In a body an ID is a JSON integer: pydantic would take true, 1.0 and "1" as 1 (strict: 422 instead).
ID = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
# In a query string every value is text: "5" is the ID 5.
QueryID = Annotated[int, Field(ge=1, le=MAX_ID)]


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


# For a body's Literal numbers (RoleID, StatusID), which pydantic cannot make strict: true is not 1.
JsonInteger = BeforeValidator(_json_integer)
