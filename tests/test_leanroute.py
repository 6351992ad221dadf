"""The lean routes in front of SendMessage and GrabChat (agentchat/leanroute.py)."""

from typing import Annotated

import pytest
from chat_helpers import add_department, queued_chat
from conftest import add_agent, assert_error
from fastapi import APIRouter, Body, Query, Request
from starlette.routing import Route

from agentchat.chats.routes import LEAN_ENDPOINTS
from agentchat.leanroute import lean_route


class TestBuilding:
    def test_what_a_lean_route_cannot_do_faithfully_is_refused_when_the_app_is_built(self):
        router = APIRouter()

        @router.post("/body")
        async def with_body(body: Annotated[dict, Body()]) -> None: ...

        @router.get("/validated")
        async def validated(page: Annotated[int, Query(alias="Page", ge=1)] = 1) -> None: ...

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
            assert "requestBody" in server.app.openapi()["paths"][path]["post"]


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
