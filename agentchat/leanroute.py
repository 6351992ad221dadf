"""Plain Starlette routes in front of the hottest FastAPI routes (SendMessage, GrabChat, GetChats, SearchCustomer),
served before FastAPI's middleware stack (LeanRoutesFirst).

FastAPI's work on every request — matching through each included router, solving the dependency tree, its exit
stacks — was a quarter of a SendMessage's CPU (bench/HISTORY.md, Round 5). The FastAPI route stays: it describes
the call (OpenAPI, /docs, the contract tests) and declares what runs. The lean route in front serves the same
path and method by calling those same functions in the same order — the router's dependencies, the route's
dependencies, then the endpoint — each with the parameters it declares, read straight from the request.

The endpoint must return a Response (FastAPI's serialization of a return value does not run). Only what that
needs is supported: parameters that are the Request, the result of a declared dependency, or a query parameter
or header. Those are validated by FastAPI's own function (request_params_to_args), and as in FastAPI, a step
whose parameters fail is skipped and every step's errors are raised together before the endpoint runs; an optional
text taken as it comes skips that (nothing to validate). Anything else is refused when the app is built, so a
lean route cannot silently skip what its FastAPI route declares.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant, request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from agentchat.bodylimit import BodyLimits
from agentchat.metrics import MetricsRegistry, RequestMetrics
from agentchat.security import only_checked_sessions
from agentchat.webheaders import with_nosniff

Resolve = Callable[[Request, dict, list], Awaitable[Any]]


def lean_route(api_route: APIRoute, router_dependencies: list[Callable]) -> Route:
    """A Starlette route serving `api_route` (its path and methods), running `router_dependencies` first."""
    steps = [_resolver(get_dependant(path=api_route.path, call=call)) for call in router_dependencies]
    endpoint = _resolver(api_route.dependant, endpoint=True)

    async def serve(request: Request) -> Response:
        results: dict = {}  # one call per dependency and request, as FastAPI caches them
        errors: list = []
        for step in steps:
            await step(request, results, errors)
        return await endpoint(request, results, errors)

    return Route(api_route.path, serve, methods=list(api_route.methods or ()), name=f"lean:{api_route.name}",
                 include_in_schema=False)


def _resolver(dependant: Dependant, *, nested: bool = False, endpoint: bool = False) -> Resolve:
    """How to call `dependant.call` with what it declares: a step that records its result in `results` and its
    parameters' errors in `errors`, and is not called if any of its parameters failed. The endpoint's step raises
    every step's errors, as FastAPI does, rather than be called."""
    name = getattr(dependant.call, "__name__", repr(dependant.call))
    if not inspect.iscoroutinefunction(dependant.call):
        raise TypeError(f"{name}: a lean route calls only async functions")
    if dependant.body_params or dependant.path_params or dependant.cookie_params or (nested and dependant.dependencies):
        raise TypeError(f"{name}: a lean route takes no body, path or cookie parameters, nor nested dependencies")
    if any(sub.name is None for sub in dependant.dependencies):
        raise TypeError(f"{name}: a lean route's dependencies are its parameters")
    subs = [(sub.name or "", sub.call, _resolver(sub, nested=True)) for sub in dependant.dependencies]
    taken: list[tuple[str, Callable[[Request], Any]]] = []  # optional texts, taken as they come
    queries = []  # validated
    for field in dependant.query_params:
        (taken.append((field.name, _query(field.alias))) if _is_plain_text(field) else queries.append(field))
    for field in dependant.header_params:
        if not _is_plain_text(field):
            raise TypeError(f"{name}: {field.name}: a lean route takes headers only as optional texts")
        taken.append((field.name, _header(field.alias.replace("_", "-"))))
    if dependant.request_param_name:
        taken.append((dependant.request_param_name, _request))
    call = dependant.call
    validated = _QueryValidation(queries)

    async def resolve(request: Request, results: dict, errors: list) -> Any:
        kwargs = {}
        failed = False
        for sub_name, sub_call, sub_resolve in subs:
            if sub_call not in results:
                await sub_resolve(request, results, errors)
            if sub_call not in results:  # its parameters failed
                failed = True
                continue
            kwargs[sub_name] = results[sub_call]
        for param_name, source in taken:
            kwargs[param_name] = source(request)
        if queries:
            values, query_errors = validated(request)
            errors.extend(query_errors)
            failed = failed or bool(query_errors)
            kwargs.update(values)
        if endpoint and errors:
            raise RequestValidationError(errors)
        if failed:
            return None
        results[call] = result = await call(**kwargs)
        return result

    return resolve


class _QueryValidation:
    """FastAPI's validation of a step's query parameters (request_params_to_args), remembered per query string:
    it was ~70 µs of a GetChats (bench/), and a console asks with the same few query strings over and over."""

    MAX_ENTRIES = 512
    MAX_QUERY_BYTES = 1024  # longer ones are validated each time: 512 of them must not hold megabytes

    def __init__(self, fields: list):
        self.fields = fields
        self._seen: dict[bytes, tuple[dict, list]] = {}

    def __call__(self, request: Request) -> tuple[dict, list]:
        query = request.scope["query_string"]
        found = self._seen.get(query)
        if found is None:
            found = request_params_to_args(self.fields, request.query_params)
            if len(query) <= self.MAX_QUERY_BYTES:
                if len(self._seen) >= self.MAX_ENTRIES:
                    self._seen.clear()
                self._seen[query] = found
        values, errors = found
        # Fresh containers for the caller, who may change them (a list parameter, an error's details); the values
        # themselves are numbers, texts and dates.
        return ({name: list(value) if isinstance(value, list) else value for name, value in values.items()},
                [dict(error) for error in errors])


def _is_plain_text(field) -> bool:
    """An optional text with no constraints: what the request holds is what the function gets."""
    info = field.field_info
    return not info.is_required() and info.annotation == str | None and not info.metadata


def _request(request: Request) -> Request:
    return request


def _query(alias: str) -> Callable[[Request], Any]:
    return lambda request: request.query_params.get(alias)


def _header(name: str) -> Callable[[Request], Any]:
    return lambda request: request.headers.get(name)


class LeanRoutesFirst(FastAPI):
    """FastAPI, serving its lean routes before its middleware stack.

    Every other request passes ServerErrorMiddleware, FastAPI's telemetry and body-limit middlewares, RequestMetrics,
    ExceptionMiddleware, AsyncExitStackMiddleware and the router's matching before its endpoint: for SendMessage,
    skipping them gave 12-35 % more requests per second on SQLite (bench/HISTORY.md, Round 7). A lean route gets
    here what it needs of them: RequestMetrics, and the app's exception handlers (the contract's error envelope;
    the 500 for an unexpected error, which ServerErrorMiddleware would otherwise give). It reads its body within
    its own limit, has no dependency to close, and is also in the router (routes[0]), where a request under a
    root_path still finds it."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._lean: dict[str, tuple[Route, ASGIApp]] = {}
        self.body_limits = BodyLimits({})

    def add_lean_route(self, route: Route, registry: MetricsRegistry) -> None:
        self.router.routes.insert(0, route)
        self._lean[route.path] = (route, RequestMetrics(route.app, registry))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # Every request's body within its route's limit, lean or not, before anything reads it; every answer
            # with nosniff.
            # A route that took a presented session answers 2xx only once it was checked (security.py).
            await self.body_limits.serve(self._serve_http, scope, receive,
                                         only_checked_sessions(scope, with_nosniff(send)),
                                         scope.get("root_path") or self.root_path)
            return
        await super().__call__(scope, receive, send)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not scope.get("root_path") and not self.root_path:
            found = self._lean.get(scope["path"])
            if found is not None and scope["method"] in (found[0].methods or ()):
                route, app = found
                scope["app"], scope["route"] = self, route
                # What ExceptionMiddleware hands the route, with the 500's handler too (Exception's).
                scope["starlette.exception_handlers"] = (self.exception_handlers, {})
                await app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
