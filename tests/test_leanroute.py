"""The lean routes in front of SendMessage, GrabChat, GetChats and SearchCustomer (agentchat/leanroute.py)."""

from typing import Annotated

import pytest
from chat_helpers import add_department, queued_chat
from conftest import add_agent, assert_error
from fastapi import APIRouter, Body, Depends, FastAPI, Header, Query, Request
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse
from starlette.routing import Route

from agentchat.app import LEAN_ENDPOINTS
from agentchat.contract import Conflict, install_error_handlers
from agentchat.leanroute import LeanRoutesFirst, lean_route
from agentchat.metrics import MetricsRegistry, RequestMetrics


class TestBuilding:
    def test_what_a_lean_route_cannot_do_faithfully_is_refused_when_the_app_is_built(self):
        router = APIRouter()

        @router.post("/body")
        async def with_body(body: Annotated[dict, Body()]) -> None: ...

        @router.get("/validated-header")
        async def validated_header(size: Annotated[int, Header(alias="X-Size")] = 1) -> None: ...

        @router.get("/sync")
        def not_async(request: Request) -> None: ...

        for route in router.routes:
            with pytest.raises(TypeError):
                lean_route(route, [])

    def test_each_hot_call_is_served_by_a_lean_route_and_still_described(self, server):
        first: dict = {}
        for route in server.app.router.routes:
            first.setdefault(getattr(route, "path", None), route)
        for endpoint in LEAN_ENDPOINTS:
            path = f"/api/{''.join(part.title() for part in endpoint.__name__.split('_'))}"
            assert type(first[path]) is Route and first[path].name == f"lean:{endpoint.__name__}"
            assert path in server.app.openapi()["paths"]


class TestBeforeTheMiddleware:
    """LeanRoutesFirst serves a lean route before FastAPI's middleware: what the middleware gave it still holds."""

    @pytest.fixture
    def client(self):
        router = APIRouter()
        passed_middleware = []

        @router.get("/hot")
        async def hot(request: Request, outcome: Annotated[str | None, Query(alias="Outcome")] = None) -> JSONResponse:
            if outcome == "conflict":
                raise Conflict("Taken already.", code="taken", field="ChatID")
            if outcome == "bug":
                raise RuntimeError("a bug")
            return JSONResponse({"Middleware": list(passed_middleware)})

        app = LeanRoutesFirst()
        install_error_handlers(app)
        registry = MetricsRegistry()
        app.include_router(router)
        app.add_lean_route(lean_route(router.routes[0], []), registry)

        @app.middleware("http")
        async def note(request, call_next):
            passed_middleware.append(request.url.path)
            return await call_next(request)

        app.add_middleware(RequestMetrics, registry=registry)
        return TestClient(app, raise_server_exceptions=False), registry, passed_middleware

    def test_served_without_the_middleware_and_counted(self, client):
        http, registry, passed = client
        assert http.get("/hot").json() == {"Middleware": []}
        assert http.get("/docs").status_code == 200  # everything else still goes through it
        assert passed == ["/docs"]
        counted = "\n".join(registry.render())
        assert 'path="/hot",status="200"' in counted

    def test_errors_are_the_contracts(self, client):
        http, registry, _ = client
        conflict = http.get("/hot", params={"Outcome": "conflict"})
        assert (conflict.status_code, conflict.json()["Error"]["Code"]) == (409, "taken")
        bug = http.get("/hot", params={"Outcome": "bug"})
        assert (bug.status_code, bug.json()["Error"]["Code"]) == (500, "internal_error")
        counted = "\n".join(registry.render())
        assert 'path="/hot",status="409"' in counted and 'path="/hot",status="500"' in counted


class TestValidation:
    """A lean route validates the parameters its FastAPI route declares, with FastAPI's function: each bad input
    gets the same answer from both."""

    @pytest.fixture
    def client(self):
        calls = []

        async def version(request: Request, v: Annotated[str | None, Query(alias="V")] = None) -> str:
            calls.append("version")
            return v or "1"

        async def paging(page: Annotated[int, Query(alias="Page", ge=1, le=100)] = 1,
                         size: Annotated[int, Query(alias="Size", ge=1, le=50)] = 10) -> tuple:
            calls.append("paging")
            return page, size

        router = APIRouter()

        @router.get("/items")
        async def items(request: Request, page: Annotated[tuple, Depends(paging)],
                        status: Annotated[list[str], Query(alias="Status", max_length=3)] = (),
                        owner: Annotated[int | None, Query(alias="OwnerID", ge=1)] = None,
                        note: Annotated[str | None, Query(alias="Note")] = None) -> JSONResponse:
            calls.append("items")
            answer = JSONResponse({"Page": page, "Status": list(status), "OwnerID": owner, "Note": note,
                                   "Version": request.query_params.get("V")})
            if isinstance(status, list):
                status.clear()  # what a callee may do to its own list: the next request gets a list of its own
            return answer

        app = FastAPI()
        app.include_router(router, prefix="/fastapi", dependencies=[Depends(version)])
        app.router.routes.append(Route("/lean/items", lean_route(router.routes[0], [version]).endpoint,
                                       methods=["GET"]))
        return TestClient(app), calls

    @pytest.mark.parametrize("query", [
        "", "Page=2&Size=5&Status=a&Status=b&OwnerID=7&Note=hi&V=1", "Page=0", "Page=x&Size=99", "Size=51&OwnerID=0",
        "Status=a&Status=b&Status=c&Status=d", "OwnerID=1.5", "Page=3&Page=4"])
    def test_the_same_answer_as_fastapi(self, client, query):
        http, calls = client
        fastapi = http.get(f"/fastapi/items?{query}")
        fastapi_calls = list(calls)
        calls.clear()
        for _ in range(2):  # the second time, its parameters' validation is remembered (leanroute._QueryValidation)
            lean = http.get(f"/lean/items?{query}")
            assert (lean.status_code, lean.json()) == (fastapi.status_code, fastapi.json())
            assert calls == fastapi_calls  # a step whose parameters failed is not called; the endpoint neither
            calls.clear()


class TestGrabChatBody:
    @pytest.fixture
    def agent(self, server, api):
        sales = add_department(server, "Sales", menu_option=1)
        add_agent(server, name="Alice", email="alice@example.com", department_ids=(sales,))
        return sales, api.logon("alice@example.com")

    def grab(self, api, token, content: bytes):
        return api.http.post("/api/GrabChat", params={"SessionToken": token}, content=content,
                             headers={"Content-Type": "application/json"})

    def test_no_body_empty_object_and_null_take_the_next_chat(self, server, api, agent):
        sales, token = agent
        chats = [queued_chat(server, sales, phone=f"2782000000{n}") for n in range(3)]
        taken = [api.ok(self.grab(api, token, content))["ChatID"] for content in (b"", b"{}", b"null")]
        assert sorted(taken) == sorted(chat.chat_id for chat in chats)

    def test_bad_bodies_are_refused_as_everywhere_else(self, server, api, agent):
        sales, token = agent
        chat = queued_chat(server, sales)
        assert_error(self.grab(api, token, b"{not json"), 400, "malformed_request")
        assert_error(self.grab(api, token, b"[1, 2]"), 400, "malformed_request")
        assert_error(self.grab(api, token, b'{"ChatID": "x"}'), 422, field="ChatID")
        assert_error(self.grab(api, token, b'{"ChatID": 1, "Colour": "red"}'), 422, "unknown_field", "Colour")
        assert_error(self.grab(api, token, b"{" + b" " * 5000 + b"}"), 413, "request_too_large")
        assert api.ok(self.grab(api, token, f'{{"ChatID": {chat.chat_id}}}'.encode()))["ChatID"] == chat.chat_id

    def test_version_and_session_are_checked_first(self, server, api, agent):
        _, token = agent
        response = api.http.post("/api/GrabChat", params={"SessionToken": token, "Version": "2"}, content=b"{bad")
        assert_error(response, 400, "unsupported_version")
        # The body is read after the session check (docs/behaviour.md).
        assert_error(api.http.post("/api/GrabChat", content=b"{bad"), 401, "session_required")
        assert_error(api.http.post("/api/GrabChat", params={"SessionToken": "f" * 32}, json={"ChatID": "x"}), 401,
                     "session_invalid")
