"""What a client written against the original's published reference needs beyond our contract (API.md,
"Compatibility with the original").

The original documents most calls by description only, so such a client may put a call's IDs in the query string
or in the JSON body, knows only GET and POST, and spells a few fields its own way. Here:
- IDsInQueryOrBody, the route class of the domain routers: a body call takes its ID fields (ChatID, TagGroupID, …)
  from the query string too, and a call that takes its IDs from the query (the deletes) takes them from a JSON
  body too. The same field given both ways with different values is 422 conflicting_field.
- delete_route: every delete answers to POST as well as DELETE.
- WithAliases: a body model that also takes the original's spellings of some fields.
- body_with_query_ids: the same for the hot calls that read their bodies themselves (GrabChat, SendMessage).
"""

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, model_validator

from agentchat.contract import CONFLICT_KEY, Invalid, Schema, conflicting_field

# Put in place of a field given twice with different values: no ID, text or number validates it, so the request
# fails as a bad field does, after the session and role checks; contract.py then names the conflict.
_BODY_CONFLICT = {"Conflict": True}
_QUERY_CONFLICT = "(given twice)"
# A delete's body holds a few IDs; anything larger is not read for them.
MAX_DELETE_BODY = 16 * 1024

M = TypeVar("M", bound=BaseModel)


def _is_id(name: str) -> bool:
    return name.endswith("ID")


def _same(body_value: Any, query_value: str) -> bool:
    """Whether a body's JSON value and a query string's text say the same (5 and "5" do)."""
    text = str(body_value).strip()
    try:
        return int(text) == int(query_value.strip())
    except ValueError:
        return text == query_value.strip()


def _query_value(text: str) -> int | str:
    """A query string's ID as the body would hold it: a number, as a JSON integer (bodies take IDs strictly,
    contract.ID); anything else as text, for validation to judge (or a report's key)."""
    stripped = text.strip()
    return int(stripped) if stripped.isascii() and stripped.isdigit() else text


@cache
def body_id_names(model: type[BaseModel]) -> frozenset[str]:
    """The fields of a body model that may come from the query string: its IDs, in our and the original's spelling."""
    names = {field.alias or name for name, field in model.model_fields.items()}
    names |= set(getattr(model, "input_aliases", {}))
    return frozenset(name for name in names if _is_id(name))


def merge_query_ids(body: dict, query: Mapping[str, str], names: frozenset[str]) -> tuple[dict, str | None]:
    """`body` with the IDs among `names` that the query string holds; and the first field given both ways with
    different values, if any (its value in the body is then one that cannot validate)."""
    merged, conflict = dict(body), None
    for name in names:
        if name not in query:
            continue
        if name not in merged or merged[name] is None:
            merged[name] = _query_value(query[name])
        elif not _same(merged[name], query[name]):
            merged[name] = _BODY_CONFLICT
            conflict = conflict or name
    return merged, conflict


class _WithBody(Request):
    """The request, with the body it is to be read as."""

    def __init__(self, request: Request, body: bytes):
        super().__init__(request.scope, request.receive)
        self._given_body = body

    async def body(self) -> bytes:
        return self._given_body


def query_id_parameters(model: type[BaseModel]) -> list[dict]:
    """OpenAPI's description of a body model's IDs as optional query parameters."""
    properties = model.model_json_schema(by_alias=True).get("properties", {})
    aliases = getattr(model, "input_aliases", {})
    described = []
    for name in sorted(body_id_names(model)):
        ours = aliases.get(name, name)
        schema = properties.get(ours, {})
        schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), {"type": "string"})
        note = f"{ours} as the original spells it" if ours != name else f"{name}, if it is not in the body"
        described.append({"name": name, "in": "query", "required": False, "description": note, "schema": schema})
    return described


class IDsInQueryOrBody(APIRoute):
    """An APIRoute whose ID fields may come from the query string or the JSON body (the module's docstring)."""

    def __init__(self, path: str, endpoint: Callable, **kwargs: Any):
        super().__init__(path, endpoint, **kwargs)
        # Say so in /openapi.json: the body's IDs as query parameters, a delete's query IDs as an optional body.
        extra = dict(self.openapi_extra or {})
        if (model := self._body_model()) is not None and (parameters := query_id_parameters(model)):
            extra["parameters"] = [*extra.get("parameters", []), *parameters]
        elif "POST" in (self.methods or ()) and (ids := [f for f in self.dependant.query_params if _is_id(f.alias)]):
            extra.setdefault("requestBody", {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {f.alias: {"type": "integer"} for f in ids}}}}})
        self.openapi_extra = extra or None

    def _body_model(self) -> type[BaseModel] | None:
        model = self.body_field.field_info.annotation if self.body_field is not None else None
        return model if isinstance(model, type) and issubclass(model, BaseModel) else None

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        model = self._body_model()
        body_names = body_id_names(model) if model is not None else frozenset[str]()
        query_names = frozenset(field.alias for field in self.dependant.query_params if _is_id(field.alias))
        if not body_names and not query_names:
            return handler

        async def handle(request: Request):
            if request.method != "GET":
                if body_names and not body_names.isdisjoint(request.query_params.keys()):
                    request = await _ids_into_body(request, body_names)
                elif query_names:
                    request = await _ids_into_query(request, query_names)
            return await handler(request)

        return handle


async def _ids_into_body(request: Request, names: frozenset[str]) -> Request:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() not in (b"", b"null") else {}
    except (ValueError, RecursionError):  # RecursionError: nested too deep; refused as FastAPI does
        body = None
    if not isinstance(body, dict):
        return _WithBody(request, raw)  # refused as any body that is not a JSON object
    merged, conflict = merge_query_ids(body, request.query_params, names)
    if conflict:
        request.scope[CONFLICT_KEY] = conflict
    # The IDs may be all there is: the body is JSON now, whatever the client said it sent.
    headers = [(key, value) for key, value in request.scope["headers"] if key != b"content-type"]
    request.scope["headers"] = [*headers, (b"content-type", b"application/json")]
    return _WithBody(request, json.dumps(merged).encode())


async def _ids_into_query(request: Request, names: frozenset[str]) -> Request:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_DELETE_BODY:
        return request
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() and len(raw) <= MAX_DELETE_BODY else None
    except (ValueError, RecursionError):
        body = None
    given = {name: body[name] for name in names if name in body and body[name] is not None} \
        if isinstance(body, dict) else {}
    if given:
        query = request.query_params
        items = [(key, value) for key, value in query.multi_items() if key not in given]
        for name, value in given.items():
            if name in query and not _same(value, query[name]):
                value = _QUERY_CONFLICT
                request.scope.setdefault(CONFLICT_KEY, name)
            items.append((name, str(value)))
        request.scope["query_string"] = urlencode(items).encode("ascii")
    return _WithBody(request, raw)


def delete_route(router: APIRouter, path: str, **kwargs: Any) -> Callable:
    """Register a delete call for DELETE and, for clients that know only GET and POST, for POST."""
    def register(endpoint: Callable) -> Callable:
        router.delete(path, **kwargs)(endpoint)
        router.post(path, **kwargs)(endpoint)
        return endpoint
    return register


def body_with_query_ids(model: type[M], raw: bytes, query: Mapping[str, str]) -> M:
    """A hot call's body (read by the route itself), with its IDs from the query string too. The common case,
    no ID in the query, is a plain parse of the body."""
    names = body_id_names(model)
    if names.isdisjoint(query.keys()):
        return parse_body(model, raw)
    try:
        body = json.loads(raw) if raw.strip() not in (b"", b"null") else {}
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return parse_body(model, raw)
    merged, conflict = merge_query_ids(body, query, names)
    if conflict:
        raise conflicting_field(conflict)
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


def parse_body(model: type[M], raw: bytes) -> M:
    """`raw` as `model`, refused as FastAPI refuses a body (contract.py turns it into the contract's error)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


class WithAliases(Schema):
    """A body that also takes the original's spelling of some fields (`input_aliases`: theirs -> ours). Answers
    keep our names. A field given in both spellings with different values is 422 conflicting_field;
    `list_fields` take a single value as a list of one."""

    input_aliases: ClassVar[dict[str, str]] = {}
    list_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _take_aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: [value] if key in cls.list_fields and value is not None and not isinstance(value, list)
                else value for key, value in data.items()}
        for theirs, ours in cls.input_aliases.items():
            if theirs not in data:
                continue
            value = data.pop(theirs)
            if ours in data and data[ours] != value:
                raise conflicting_field(ours, f"{ours} and {theirs} (its other spelling) are both given, with "
                                              "different values.")
            data[ours] = value
        return data


def either_spelling(ours: str, value: Any, theirs: str, their_value: Any, *, required: bool = False) -> Any:
    """A query parameter given in our spelling or the original's (TagGroupID or GroupID)."""
    if value is not None and their_value is not None and value != their_value:
        raise conflicting_field(ours, f"{ours} and {theirs} (its other spelling) are both given, with different "
                                      "values.")
    found = value if value is not None else their_value
    if found is None and required:
        raise Invalid(f"{ours} is required.", code="missing_field", field=ours)
    return found
