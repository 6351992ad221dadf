"""A route that takes a presented session (security.Presented: the hot calls, which check the token in their own
statement) cannot answer with a success unless that session was checked: a route that forgets is refused with 401
for every token, a good one included, lean or served by FastAPI (security.only_checked_sessions)."""

import pytest
from conftest import assert_error
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from agentchat.app import API_DEPENDENCIES
from agentchat.leanroute import lean_route
from agentchat.security import Presented


async def forgetful(session: Presented) -> JSONResponse:
    """A hot endpoint with the check left out."""
    return JSONResponse({"Secret": "served to anyone"})


async def careful(session: Presented) -> JSONResponse:
    caller = await session.check()
    return JSONResponse({"AgentID": caller.agent_id})


@pytest.fixture
def routes(server):
    """The two endpoints at /api/Forgetful and /api/Careful, each twice: as FastAPI routes and as lean routes at
    /api/LeanForgetful and /api/LeanCareful; removed afterwards."""
    app = server.app
    before = list(app.router.routes)
    for name, endpoint in (("Forgetful", forgetful), ("Careful", careful)):
        app.add_api_route(f"/api/{name}", endpoint, methods=["GET"], dependencies=[])
        api_route = APIRoute(f"/api/Lean{name}", endpoint, methods=["GET"])
        app.add_lean_route(lean_route(api_route, API_DEPENDENCIES), app.state.request_metrics)
    yield
    app.router.routes[:] = before
    for name in ("Forgetful", "Careful"):
        app._lean.pop(f"/api/Lean{name}", None)


@pytest.mark.parametrize("name", ["Forgetful", "LeanForgetful"])
def test_a_route_that_forgets_the_check_serves_nobody(server, api, manager, routes, name):
    assert_error(api.get(name, manager), 401, "session_invalid")
    assert_error(api.get(name, "f" * 32), 401, "session_invalid")
    assert_error(api.get(name, None), 401, "session_required")


@pytest.mark.parametrize("name", ["Careful", "LeanCareful"])
def test_a_route_that_checks_serves_its_caller_only(server, api, manager, routes, name):
    assert api.ok(api.get(name, manager))["AgentID"] >= 1
    assert_error(api.get(name, "f" * 32), 401, "session_invalid")


def test_the_hot_calls_still_answer(server, api, manager):
    assert api.ok(api.get("GetChats", manager))["Items"] == []
    assert api.ok(api.get("SearchCustomer", manager, {"Search": "x"}))["Items"] == []
    assert_error(api.post("GrabChat", manager, {}), 409, "no_unassigned_chats")
