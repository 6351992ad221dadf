"""Completeness: the contract's calls are routed, every route guards its session and role, and the
conventions (Version, tokens, the error envelope) hold everywhere.

The routes are read from the running app, so endpoints added later are covered without editing this file.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import add_agent, assert_error
from fastapi.routing import APIRoute

try:
    # FastAPI >= 0.16x keeps included routers as nodes of app.routes; this walks them.
    from fastapi.routing import iter_route_contexts
except ImportError:  # older FastAPI flattens included routes into app.routes
    def iter_route_contexts(routes):
        return iter(routes)

from agentchat import clock
from agentchat.agents.models import ROLE_AGENT
from agentchat.security import current_caller, manager_caller, presented_session

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_CANDIDATES = [Path(p) for p in filter(None, [os.environ.get("AGENTCHAT_CONTRACT")])] + [
    ROOT / "docs" / "API.md", ROOT.parent / "shared" / "agentchat" / "API.md"]

# Every section of the contract's calls: each of their calls must be routed.
REQUIRED_SECTIONS = ("Authentication", "Chats", "WhatsApp templates", "Agents", "Departments", "Customers", "Tags",
                     "Canned responses", "Working hours", "Reports and dashboard", "Settings",
                     "Webhooks (integrations)", "Audit log", "Notes and mentions", "Search")
# The /api calls that need no session (the contract's "—").
PUBLIC = {"/api/AgentLogon", "/api/SetPassword", "/api/RequestPasswordReset"}

CALL_ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s+(/api/\w+)\s*\|\s*([^|]*?)\s*\|")
# Words that only a database driver or a traceback would put into an answer.
DRIVER_WORDS = re.compile(r"sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg|IntegrityError|DataError|Traceback|"
                          r"UniqueViolation|violates|constraint|SELECT |INSERT |UPDATE \w+ SET", re.IGNORECASE)


def contract_path() -> Path:
    for candidate in CONTRACT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise AssertionError(f"the contract (API.md) is in none of {CONTRACT_CANDIDATES}; set AGENTCHAT_CONTRACT")


def contract_calls() -> list[dict]:
    """Each call row of the contract: {section, method, path, who}."""
    calls, section = [], None
    for line in contract_path().read_text().splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        elif found := CALL_ROW.match(line):
            method, path, who = found.groups()
            calls.append({"section": section, "method": method, "path": path, "who": who})
    return calls


def api_routes(app) -> list[tuple[str, str, Any]]:
    """(method, path, route) for every HTTP route of the app under /api, as included (with the
    including router's dependencies in its `dependant`)."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(getattr(route, "original_route", route), APIRoute) and route.path.startswith("/api/"):
            found += [(method, route.path, route) for method in route.methods - {"HEAD", "OPTIONS"}]
    return sorted(found, key=lambda item: (item[1], item[0]))


def depends_on(dependant, call) -> bool:
    return any(sub.call is call or depends_on(sub, call) for sub in dependant.dependencies)


def send(api, method, path, token=None, **kwargs):
    """A request with a body that is valid JSON but not a valid call, so that only the session can be judged."""
    if method in ("POST", "PUT", "PATCH"):
        kwargs.setdefault("json", {})
    return api.call(method, path.removeprefix("/api/"), token, **kwargs)


def refusals(api, routes, token, status, codes) -> list[str]:
    """The routes that did not refuse with this status, a listed code, and the error envelope."""
    wrong = []
    for method, path, _route in routes:
        response = send(api, method, path, token)
        try:
            assert_error(response, status)
            assert response.json()["Error"]["Code"] in codes
        except (AssertionError, ValueError, KeyError):
            wrong.append(f"{method} {path} -> {response.status_code} {response.text[:200]}")
    return wrong


def private_routes(app):
    return [r for r in api_routes(app) if r[1] not in PUBLIC]


def manager_routes(app):
    return [r for r in api_routes(app) if depends_on(r[2].dependant, manager_caller)]


class TestRouting:
    def test_the_contract_is_readable(self):
        sections = {call["section"] for call in contract_calls()}
        assert set(REQUIRED_SECTIONS) == sections, sections  # a new section of calls is required here too

    def test_required_sections_are_routed_with_their_methods(self, server):
        routed = {(method, path) for method, path, _ in api_routes(server.app)}
        missing = [f"{c['method']} {c['path']}" for c in contract_calls()
                   if c["section"] in REQUIRED_SECTIONS and (c["method"], c["path"]) not in routed]
        assert missing == []

    def test_every_routed_contract_call_has_the_contracts_method(self, server):
        routed: dict[str, set[str]] = {}
        for method, path, _ in api_routes(server.app):
            routed.setdefault(path, set()).add(method)
        wrong = [f"{c['path']}: contract {c['method']}, routed {sorted(routed[c['path']])}" for c in contract_calls()
                 if c["path"] in routed and c["method"] not in routed[c["path"]]]
        assert wrong == []

    def test_the_contracts_session_free_calls_are_the_public_ones(self, server):
        routed = {path for _, path, _ in api_routes(server.app)}
        session_free = {c["path"] for c in contract_calls() if c["who"] in ("—", "-") and c["path"] in routed}
        assert session_free == PUBLIC & routed

    def test_every_private_route_checks_the_session(self, server):
        # presented_session: the hot calls check the token in their own statement (the refusals below prove it).
        unguarded = [f"{m} {p}" for m, p, route in private_routes(server.app)
                     if not depends_on(route.dependant, current_caller)
                     and not depends_on(route.dependant, presented_session)]
        assert unguarded == []

    def test_manager_calls_of_the_contract_are_manager_only(self, server):
        routes = {(method, path): route for method, path, route in api_routes(server.app)}
        open_to_agents = [f"{c['method']} {c['path']}" for c in contract_calls()
                          if c["who"] == "M" and (c["method"], c["path"]) in routes
                          and not depends_on(routes[(c["method"], c["path"])].dependant, manager_caller)]
        assert open_to_agents == []
        foundation = {p for _, p, _ in manager_routes(server.app)}
        assert {"/api/CreateAgent", "/api/CreateDepartment", "/api/UpdateDepartment",
                "/api/UpdateSettings"} <= foundation


class TestSessionRequired:
    def test_missing_token_is_401(self, server, api):
        assert refusals(api, private_routes(server.app), None, 401, {"session_required"}) == []

    def test_unknown_token_is_401(self, server, api):
        assert refusals(api, private_routes(server.app), "f" * 32, 401, {"session_invalid"}) == []

    def test_expired_token_is_401(self, server, api, manager):
        clock.travel(timedelta(minutes=server.settings.session_idle_minutes, seconds=1))
        assert refusals(api, private_routes(server.app), manager, 401, {"session_invalid"}) == []

    def test_revoked_token_is_401(self, server, api, manager):
        api.ok(api.get("AgentLogoff", manager))
        assert refusals(api, private_routes(server.app), manager, 401, {"session_invalid"}) == []

    def test_public_routes_need_no_session(self, server, api):
        for method, path, _ in api_routes(server.app):
            if path in PUBLIC:
                response = send(api, method, path)
                assert response.status_code == 422, f"{path}: {response.status_code} {response.text}"


class TestManagerOnly:
    def test_an_agents_token_is_403_on_every_manager_route(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com", role_id=ROLE_AGENT)
        token = api.logon("ann@example.com")
        assert refusals(api, manager_routes(server.app), token, 403, {"manager_only"}) == []
        # The refusals changed nothing: the agent is still an agent with a working session.
        agents = api.ok(api.get("GetAgents", token))["Items"]
        assert [a["RoleID"] for a in agents if a["EmailAddress"] == "ann@example.com"] == [ROLE_AGENT]


class TestVersion:
    # Version 1 in any form, a client's build number (three or more numbers), a build string, the original's
    # unfilled placeholder, or nothing at all (docs/behaviour.md).
    @pytest.mark.parametrize("version", ["1", "1.2", "1.0.3", " 1 ", "v1", "2.3.1", "10.0.0.4711", "{{BUILD_VERSION}}",
                                         "build-2024.11", "1.2-beta", ""])
    def test_version_one_and_build_numbers_are_served(self, server, api, manager, version):
        api.ok(api.get("GetDepartments", manager, {"Version": version}))

    # Another API version: one or two numbers whose first is not 1; and any value past the length bound.
    @pytest.mark.parametrize("version", ["2", "2.0", "0", "v2", " 3.1 ", "1" * 50, "1." + "1" * 70])
    def test_other_versions_are_400(self, server, api, manager, version):
        error = assert_error(api.get("GetDepartments", manager, {"Version": version}), 400, "unsupported_version",
                             "Version")
        assert "version 1" in error["Message"]

    def test_version_is_checked_on_public_calls_too(self, server, api):
        response = api.post("AgentLogon", json={"EmailAddress": "a@example.com", "Password": "x"},
                            params={"Version": "2"})
        assert_error(response, 400, "unsupported_version")


class TestErrorEnvelope:
    def test_unknown_path_is_404(self, server, api, manager):
        assert_error(api.get("NoSuchCall", manager), 404, "not_found")
        assert_error(api.http.get("/nowhere"), 404, "not_found")

    def test_wrong_method_is_405(self, server, api, manager):
        assert_error(api.get("CreateAgent", manager), 405, "method_not_allowed")

    def test_malformed_json_is_400(self, server, api, manager):
        for content in (b"{not json", b"[1, 2]", b'"text"', b"null"):
            response = api.http.post("/api/CreateDepartment", params={"SessionToken": manager}, content=content,
                                     headers={"Content-Type": "application/json"})
            assert_error(response, 400, "malformed_request")
        assert_error(api.http.post("/api/CreateDepartment", params={"SessionToken": manager}), 400,
                     "malformed_request")
        assert api.ok(api.get("GetDepartments", manager)) == {"Items": []}

    @pytest.mark.parametrize("path", ["CreateDepartment", "SendMessage", "GrabChat", "AddTag"])
    def test_json_nested_beyond_reason_is_malformed_request(self, server, api, manager, path):
        """Python's parser gives up on it (RecursionError): still the documented 400, not another code or a 500."""
        # Deep enough for any parser to give up, small enough for every route's body limit.
        for content in (b"[" * 1_500 + b"]" * 1_500, b"{\"Name\":" + b"[" * 1_500 + b"]" * 1_500 + b"}"):
            response = api.http.post(f"/api/{path}", params={"SessionToken": manager}, content=content,
                                     headers={"Content-Type": "application/json"})
            assert_error(response, 400, "malformed_request")

    @pytest.mark.parametrize("value", [True, False, 1.0, "1", [1], {"ID": 1}])
    def test_ids_are_integers_strictly(self, server, api, manager, value):
        """true is not the ID 1, nor 1.0, nor "1": pydantic would coerce them (an agent could act on chat 1)."""
        sales = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales"}))["DepartmentID"]
        assert sales == 1
        calls = [("UpdateDepartment", {"DepartmentID": value, "Name": "Renamed"}, "DepartmentID"),
                 ("UpdateAgent", {"AgentID": value, "Name": "Renamed"}, "AgentID"),
                 ("UpdateAgent", {"AgentID": 1, "StatusID": value}, "StatusID"),
                 ("CreateAgent", {"Name": "X", "EmailAddress": "x@example.com", "RoleID": value,
                                  "DepartmentIDs": []}, "RoleID"),
                 ("CreateAgent", {"Name": "X", "EmailAddress": "x@example.com", "RoleID": 1,
                                  "DepartmentIDs": [value]}, "DepartmentIDs.0"),
                 ("GrabChat", {"ChatID": value}, "ChatID"),
                 ("SendMessage", {"ChatID": value, "Message": "Hi"}, "ChatID"),
                 ("CloseChat", {"ChatID": value}, "ChatID"),
                 ("AddTag", {"ChatID": value, "TagID": 1}, "ChatID"),
                 ("AddComment", {"CustomerID": value, "Comment": "Hi"}, "CustomerID")]
        for name, body, field in calls:
            assert_error(api.post(name, manager, body), 422, "invalid_field", field)
        assert [d["Name"] for d in api.ok(api.get("GetDepartments", manager))["Items"]] == ["Sales"]
        # In a query string an ID is text, as always.
        assert_error(api.get("GetChat", manager, {"ChatID": "1"}), 404, "chat_not_found")

    def test_unknown_body_fields_are_422(self, server, api, manager):
        assert_error(api.post("CreateDepartment", manager, {"Name": "Sales", "Colour": "red"}), 422, "unknown_field",
                     "Colour")

    def test_hostile_input_never_reaches_the_driver(self, server, api, manager):
        """Values the database would choke on are refused at the edge as 4xx, with no driver text."""
        huge, nul = 2**63, "a\x00b"
        calls = [
            ("POST", "CreateAgent", {"Name": nul, "EmailAddress": "x@example.com", "RoleID": 1, "DepartmentIDs": []}),
            ("POST", "CreateAgent", {"Name": "X", "EmailAddress": "x\x00@example.com", "RoleID": 1,
                                     "DepartmentIDs": []}),
            ("POST", "CreateAgent", {"Name": "X", "EmailAddress": "x@example.com", "RoleID": 1,
                                     "DepartmentIDs": [huge]}),
            ("POST", "UpdateAgent", {"AgentID": huge, "Name": "X"}),
            ("POST", "UpdateAgent", {"AgentID": -1}),
            ("POST", "CreateDepartment", {"Name": nul}),
            ("POST", "CreateDepartment", {"Name": "X", "TagIDs": [huge]}),
            ("POST", "CreateDepartment", {"Name": "X", "MenuOption": huge}),
            ("POST", "UpdateDepartment", {"DepartmentID": huge}),
            ("POST", "UpdateSettings", {"Settings": [{"CompanyName": nul}]}),
            ("POST", "UpdateSettings", {"Settings": [{nul: "x"}]}),
            ("GET", "GetAgents", {"DepartmentID": huge}),
            ("GET", "GetAgents", {"Page": huge}),
        ]
        for method, name, data in calls:
            response = (api.post(name, manager, data) if method == "POST" else api.get(name, manager, data))
            assert 400 <= response.status_code < 500, f"{name} {data!r}: {response.status_code} {response.text}"
            assert_error(response, response.status_code)
            assert not DRIVER_WORDS.search(response.text), response.text
        for params in ({"EmailAddress": "a\x00@example.com"}, {"EmailAddress": "x" * 300}):
            response = api.get("RequestPasswordReset", params=params)
            assert response.status_code in (200, 422) and not DRIVER_WORDS.search(response.text), response.text
        response = api.post("AgentLogon", json={"EmailAddress": "a\x00@example.com", "Password": nul})
        assert response.status_code == 422 and not DRIVER_WORDS.search(response.text), response.text
        response = api.post("SetPassword", json={"ResetCode": nul, "Password": "long enough"})
        assert response.status_code in (401, 422) and not DRIVER_WORDS.search(response.text), response.text
        assert api.ok(api.get("GetDepartments", manager)) == {"Items": []}
        assert api.ok(api.get("GetAgents", manager))["Total"] == 1
