"""Plain Starlette routes in front of the hottest FastAPI routes (SendMessage, GrabChat).

FastAPI's work on every request — matching through each included router, solving the dependency tree, its exit
stacks — was a quarter of a SendMessage's CPU (bench/, README "Round 5"). The FastAPI route stays: it describes
the call (OpenAPI, /docs, the contract tests) and declares what runs. The lean route in front serves the same
path and method by calling those same functions in the same order — the router's dependencies, the route's
dependencies, then the endpoint — each with the parameters it declares, read straight from the request.

The endpoint must return a Response (FastAPI's serialization of a return value does not run). Only what that
needs is supported: parameters that are the Request, the result of a declared dependency, or an
optional text query parameter or header taken as it comes (no validation to run). Anything else is refused when
the app is built, so a lean route cannot silently skip what its FastAPI route declares.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Route

Resolve = Callable[[Request, dict], Awaitable[Any]]


def lean_route(api_route: APIRoute, router_dependencies: list[Callable]) -> Route:
    """A Starlette route serving `api_route` (its path and methods), running `router_dependencies` first."""
    steps = [_resolver(get_dependant(path=api_route.path, call=call)) for call in router_dependencies]
    endpoint = _resolver(api_route.dependant)

    async def serve(request: Request) -> Response:
        results: dict = {}  # one call per dependency and request, as FastAPI caches them
        for step in steps:
            await step(request, results)
        return await endpoint(request, results)

    return Route(api_route.path, serve, methods=list(api_route.methods), name=f"lean:{api_route.name}",
                 include_in_schema=False)


def _resolver(dependant: Dependant, *, nested: bool = False) -> Resolve:
    """How to call `dependant.call` with what it declares."""
    name = getattr(dependant.call, "__name__", repr(dependant.call))
    if not inspect.iscoroutinefunction(dependant.call):
        raise TypeError(f"{name}: a lean route calls only async functions")
    if dependant.body_params or dependant.path_params or dependant.cookie_params or (nested and dependant.dependencies):
        raise TypeError(f"{name}: a lean route takes no body, path or cookie parameters, nor nested dependencies")
    subs = [(sub.name, sub.call, _resolver(sub, nested=True)) for sub in dependant.dependencies]
    params: list[tuple[str, Callable[[Request], Any]]] = []
    for field in dependant.query_params:
        _check_text(name, field)
        params.append((field.name, _query(field.alias)))
    for field in dependant.header_params:
        _check_text(name, field)
        params.append((field.name, _header(field.alias.replace("_", "-"))))
    if dependant.request_param_name:
        params.append((dependant.request_param_name, _request))
    call = dependant.call

    async def resolve(request: Request, results: dict) -> Any:
        kwargs = {}
        for sub_name, sub_call, sub_resolve in subs:
            kwargs[sub_name] = results[sub_call] if sub_call in results else await sub_resolve(request, results)
        for param_name, source in params:
            kwargs[param_name] = source(request)
        results[call] = result = await call(**kwargs)
        return result

    return resolve


def _check_text(name: str, field) -> None:
    if field.field_info.is_required() or field.field_info.annotation != str | None:
        raise TypeError(f"{name}: {field.name} is not an optional text taken as it comes")


def _request(request: Request) -> Request:
    return request


def _query(alias: str) -> Callable[[Request], Any]:
    return lambda request: request.query_params.get(alias)


def _header(name: str) -> Callable[[Request], Any]:
    return lambda request: request.headers.get(name)
