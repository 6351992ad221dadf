"""A client written against the original's published reference works unchanged (docs/API.md, "Compatibility with
the original"; issue 20).

OriginalClient knows only what that reference shows: `/api/<Name>`, `SessionToken` and `Version` (its unfilled
build placeholder, or a build number) in the query string of every call, GET and POST only, and every ID in the
query string. It runs a whole day of work through the real server; the classes after it try each accommodation
on its own.
"""

import base64
import csv
import io
from typing import Any

import httpx
import pytest
from chat_helpers import add_department, add_tag, queued_chat
from conftest import PASSWORD, add_agent, assert_error
from test_contract import api_routes

from agentchat.agents.models import ROLE_MANAGER
from agentchat.compat import IDsInQueryOrBody

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PHONE = "27821234567"


class OriginalClient:
    """The original's documented shapes: query-string SessionToken and Version, GET and POST, IDs in the query."""

    def __init__(self, server, version: str = "{{BUILD_VERSION}}"):
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.version = version
        self.token: str | None = None
        self.agent_id: int | None = None

    def call(self, method: str, name: str, body: dict | None = None, **query: Any) -> httpx.Response:
        assert method in ("GET", "POST"), "the original knows only GET and POST"
        params = {"Version": self.version, **query}
        if self.token:
            params["SessionToken"] = self.token
        return self.http.request(method, f"/api/{name}", params=params, json=body)

    def get(self, name: str, **query: Any) -> Any:
        return self.ok(self.call("GET", name, **query))

    def post(self, name: str, body: dict | None = None, **query: Any) -> Any:
        return self.ok(self.call("POST", name, body, **query))

    @staticmethod
    def ok(response: httpx.Response) -> Any:
        assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
        return response.json() if response.headers["content-type"].startswith("application/json") else response

    def logon(self, email: str) -> "OriginalClient":
        answer = self.post("AgentLogon", {"EmailAddress": email, "Password": PASSWORD})
        self.token, self.agent_id = answer["SessionToken"], answer["Agent"]["AgentID"]
        return self

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def clients(server):
    made: list[OriginalClient] = []

    def make(email: str, version: str = "{{BUILD_VERSION}}") -> OriginalClient:
        made.append(OriginalClient(server, version).logon(email))
        return made[-1]

    yield make
    for client in made:
        client.close()


def texts_sent(graph_api) -> list[str]:
    return [m["text"]["body"] for m in graph_api.sent(PHONE) if m.get("type") == "text"]


class TestAWholeDay:
    def test_a_day_of_work_through_the_originals_shapes(self, server, graph_api, clients):
        sales = add_department(server, "Sales", menu_option=1)
        support = add_department(server, "Support", menu_option=2)
        add_agent(server, name="Mia", email="mia@example.com", role_id=ROLE_MANAGER)
        for name, department in (("alice", sales), ("bob", sales), ("carol", support)):
            add_agent(server, name=name.title(), department_ids=(department,))

        # Morning: the manager sets up a tag and a canned response.
        mia = clients("mia@example.com", version="2.3.1")
        group = mia.post("CreateTagGroup", {"Name": "Topics"})
        tag = mia.post("CreateTag", {"Name": "Refund"}, GroupID=group["TagGroupID"])
        assert tag["TagGroupID"] == group["TagGroupID"]
        canned = mia.post("CreateCannedResponse", {"Name": "Hello", "Text": "Hello {CustomerName}!"})

        alice, bob, carol = (clients(f"{name}@example.com") for name in ("alice", "bob", "carol"))
        assert "ExpiresAt" in alice.get("KeepAlive")
        chat = queued_chat(server, sales, phone=PHONE)

        # Alice serves the customer: grab, a text, a file, a comment, a tag.
        grabbed = alice.post("GrabChat", ChatID=chat.chat_id)
        assert (grabbed["ChatID"], grabbed["Status"]) == (chat.chat_id, "Assigned")
        alice.post("SendMessage", {"Message": "Good morning, how can I help?"}, ChatID=chat.chat_id)
        sent_file = alice.post("SendMessage", {"FileName": "invoice.png", "FileType": "image/png",
                                               "FileContent": base64.b64encode(PNG).decode()}, ChatID=chat.chat_id)
        assert sent_file["File"]["FileName"] == "invoice.png"
        customer = alice.post("AddComment", {"Comment": "Wants a refund for order 42"}, CustomerID=chat.customer_id)
        assert [c["Text"] for c in customer["Comments"]] == ["Wants a refund for order 42"]
        tagged = alice.post("AddTag", ChatID=chat.chat_id, TagID=tag["TagID"])
        assert tagged["TagIDs"] == [tag["TagID"]]
        graph_api.wait_for(lambda g: "Good morning, how can I help?" in texts_sent(g)
                           and any(m.get("type") == "image" for m in g.sent(PHONE)))

        # Two transfers: to Bob, then to the Support queue, where Carol takes it, closes it and exports it.
        moved = alice.post("TransferChatToAgent", ChatID=chat.chat_id, AgentID=bob.agent_id)
        assert moved["AgentID"] == bob.agent_id
        queued = bob.post("TransferChatToDepartment", ChatID=chat.chat_id, DepartmentID=support)
        assert (queued["Status"], queued["DepartmentID"]) == ("Unassigned", support)
        carol.post("GrabChat", ChatID=chat.chat_id)
        closed = carol.post("CloseChat", ChatID=chat.chat_id)
        assert closed["Status"] == "Closed"
        export = carol.get("ExportChat", ChatID=chat.chat_id)
        rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8"))))
        assert "Good morning, how can I help?" in [row["Text"] for row in rows]
        assert "invoice.png" in [row["FileName"] for row in rows]

        # The manager schedules a report the original's way (its number, ScheduledDay misspelt), and tidies up.
        recipient = mia.post("CreateRecipient", {"Name": "Boss", "EmailAddress": "boss@example.com"})
        schedule = mia.post("CreateScheduledReport", {"ReportID": 1, "FileFormat": "CSV", "Period": "Week",
                                                      "DeliveryMethod": "Email", "SheduledDay": 1,
                                                      "ScheduledTime": "08:00"},
                            RecipientID=recipient["RecipientID"])
        assert (schedule["ReportID"], schedule["ScheduledDays"]) == ("ChatSummary", [1])
        assert mia.post("DeleteScheduledReport", ScheduleID=schedule["ScheduleID"])["Deleted"] is True
        assert mia.get("GetRecipients")["Items"][0]["Schedules"] == []
        assert mia.post("DeleteTag", TagID=tag["TagID"])["Deleted"] is True
        assert mia.post("DeleteCannedResponse", CannedResponseID=canned["CannedResponseID"])["Deleted"] is True
        assert mia.get("GetTags")["Items"][0]["Tags"] == []
        assert mia.get("GetCannedResponses")["Items"] == []

        # Evening: everyone logs off, and their tokens are done.
        for client in (alice, bob, carol, mia):
            assert client.get("AgentLogoff")["LoggedOff"] is True
            assert_error(client.call("GET", "KeepAlive"), 401, "session_invalid")



class TestVersion:
    @pytest.mark.parametrize("version", ["{{BUILD_VERSION}}", "2.3.1", "1.4", "nightly-20261204"])
    def test_the_hot_calls_and_logon_take_build_numbers(self, server, api, version):
        sales = add_department(server, "Sales", menu_option=1)
        add_agent(server, name="Alice", department_ids=(sales,))
        client = OriginalClient(server, version).logon("alice@example.com")
        chat = queued_chat(server, sales)
        assert client.post("GrabChat", ChatID=chat.chat_id)["Status"] == "Assigned"
        client.post("SendMessage", {"Message": "Hello"}, ChatID=chat.chat_id)
        assert client.get("GetChats")["Total"] == 1
        client.close()

    @pytest.mark.parametrize("version", ["2", "2.0", "v3"])
    def test_another_api_version_is_refused_naming_the_served_one(self, server, api, version):
        add_agent(server, name="Alice")
        response = api.post("AgentLogon", json={"EmailAddress": "alice@example.com", "Password": PASSWORD},
                            params={"Version": version})
        error = assert_error(response, 400, "unsupported_version", "Version")
        assert "serves version 1" in error["Message"]


@pytest.fixture
def team(server, api, manager):
    """Sales and Support; Alice and Bob in Sales, Carol in Support, all logged on; a queued chat in Sales."""
    sales = add_department(server, "Sales", menu_option=1)
    support = add_department(server, "Support", menu_option=2)
    ids = {name: add_agent(server, name=name.title(), department_ids=(dept,))
           for name, dept in (("alice", sales), ("bob", sales), ("carol", support))}
    tokens = {name: api.logon(f"{name}@example.com") for name in ids}
    chat = queued_chat(server, sales)
    return {"sales": sales, "support": support, "ids": ids, "tokens": tokens, "chat": chat, "manager": manager}


def post_query(api, name, token, body=None, **query):
    """A POST with IDs in the query string (and an optional JSON body)."""
    return api.post(name, token, body, params=query)


class TestIDsInTheQueryString:
    def test_every_api_route_takes_ids_from_either_place(self, server):
        wrong = [f"{m} {p}" for m, p, route in api_routes(server.app)
                 if not isinstance(getattr(route, "original_route", route), IDsInQueryOrBody)]
        assert wrong == []

    def test_the_chat_calls(self, server, api, team):
        alice, chat_id = team["tokens"]["alice"], team["chat"].chat_id
        assert api.ok(post_query(api, "AssignChat", team["manager"], ChatID=chat_id,
                                 AgentID=team["ids"]["alice"]))["AgentID"] == team["ids"]["alice"]
        moved = api.ok(post_query(api, "TransferChatToAgent", alice, ChatID=chat_id, AgentID=team["ids"]["bob"]))
        assert moved["AgentID"] == team["ids"]["bob"]
        queued = api.ok(post_query(api, "TransferChatToDepartment", team["tokens"]["bob"], ChatID=chat_id,
                                   DepartmentID=team["support"]))
        assert (queued["Status"], queued["DepartmentID"]) == ("Unassigned", team["support"])
        carol = team["tokens"]["carol"]
        assert api.ok(post_query(api, "GrabChat", carol, ChatID=chat_id))["AgentID"] == team["ids"]["carol"]
        # Part in the query, part in the body.
        sent = api.ok(post_query(api, "SendMessage", carol, {"Message": "Hi"}, ChatID=chat_id))
        assert (sent["ChatID"], sent["Text"]) == (chat_id, "Hi")
        assert api.ok(post_query(api, "CloseChat", carol, ChatID=chat_id))["Status"] == "Closed"

    def test_the_tag_and_customer_calls(self, server, api, team):
        alice, chat = team["tokens"]["alice"], team["chat"]
        api.ok(post_query(api, "GrabChat", alice, ChatID=chat.chat_id))
        tag_id = add_tag(server, "Refund")
        assert api.ok(post_query(api, "AddTag", alice, CustomerID=chat.customer_id, TagID=tag_id))["TagIDs"] == [
            tag_id]
        assert api.ok(post_query(api, "RemoveTag", alice, ChatID=chat.chat_id, TagID=tag_id))["TagIDs"] == []
        customer = api.ok(post_query(api, "AddComment", alice, {"Comment": "VIP"}, CustomerID=chat.customer_id))
        assert [c["Text"] for c in customer["Comments"]] == ["VIP"]
        renamed = api.ok(post_query(api, "UpdateCustomer", alice, {"Name": "T. Nkosi"}, CustomerID=chat.customer_id))
        assert renamed["Name"] == "T. Nkosi"
        tag = api.ok(post_query(api, "UpdateTag", team["manager"], {"Name": "Refunds"}, TagID=tag_id))
        assert tag["Name"] == "Refunds"

    def test_the_same_value_in_both_places_is_fine(self, server, api, team):
        chat_id = team["chat"].chat_id
        grabbed = post_query(api, "GrabChat", team["tokens"]["alice"], {"ChatID": chat_id}, ChatID=str(chat_id))
        assert api.ok(grabbed)["ChatID"] == chat_id
        closed = post_query(api, "CloseChat", team["tokens"]["alice"], {"ChatID": chat_id}, ChatID=chat_id)
        assert api.ok(closed)["Status"] == "Closed"

    @pytest.mark.parametrize("name", ["GrabChat", "SendMessage", "CloseChat", "AssignChat", "AddTag"])
    def test_different_values_are_422_naming_the_field(self, server, api, team, name):
        chat_id = team["chat"].chat_id
        body = {"ChatID": chat_id, "Message": "Hi", "AgentID": team["ids"]["alice"], "TagID": 1}
        body = {key: value for key, value in body.items() if key in {
            "GrabChat": {"ChatID"}, "SendMessage": {"ChatID", "Message"}, "CloseChat": {"ChatID"},
            "AssignChat": {"ChatID", "AgentID"}, "AddTag": {"ChatID", "TagID"}}[name]}
        response = post_query(api, name, team["manager"], body, ChatID=chat_id + 1)
        error = assert_error(response, 422, "conflicting_field", "ChatID")
        assert "query string" in error["Message"]
        chats = api.ok(api.get("GetChats", team["manager"]))["Items"]
        assert [(c["Status"], c["AgentID"]) for c in chats] == [("Unassigned", None)]

    def test_a_conflict_is_told_after_the_session_and_the_role(self, server, api, team):
        chat_id = team["chat"].chat_id
        for name in ("CloseChat", "GrabChat"):
            assert_error(post_query(api, name, None, {"ChatID": chat_id}, ChatID=chat_id + 1), 401,
                         "session_required")
        tag_id = add_tag(server, "Refund")
        assert_error(post_query(api, "UpdateTag", team["tokens"]["alice"], {"TagID": tag_id, "Name": "X"},
                                TagID=tag_id + 1), 403, "manager_only")

    def test_grab_chat_with_no_chat_named_still_takes_the_longest_waiting(self, server, api, team):
        # An ID the call does not take, in the query string, changes nothing.
        grabbed = post_query(api, "GrabChat", team["tokens"]["alice"], DepartmentID=team["support"])
        assert api.ok(grabbed)["ChatID"] == team["chat"].chat_id

    def test_openapi_describes_the_query_ids(self, server, api):
        paths = api.http.get("/openapi.json").json()["paths"]
        for path, names in (("/api/AssignChat", {"ChatID", "AgentID"}), ("/api/GrabChat", {"ChatID"}),
                            ("/api/SendMessage", {"ChatID"}), ("/api/CreateTag", {"TagGroupID", "GroupID"})):
            assert names <= {p["name"] for p in paths[path]["post"]["parameters"]}, path
        assert "TagID" in str(paths["/api/DeleteTag"]["post"]["requestBody"])

    @pytest.mark.parametrize("name", ["CloseChat", "GrabChat"])
    def test_a_bad_body_beside_query_ids_is_still_400(self, server, api, team, name):
        for content in (b"{not json", b"[1]", b'{"Comment":' + b"[" * 1_500 + b"]" * 1_500 + b"}"):
            response = api.http.post(f"/api/{name}", params={"SessionToken": team["manager"], "ChatID": 1},
                                     content=content, headers={"Content-Type": "application/json"})
            assert_error(response, 400, "malformed_request")
        # "null", like no body at all, is an empty object beside the query's IDs.
        response = api.http.post(f"/api/{name}", params={"SessionToken": team["manager"], "ChatID": 9},
                                 content=b"null", headers={"Content-Type": "application/json"})
        assert_error(response, 404, "chat_not_found", "ChatID")

    def test_a_bad_id_in_the_query_is_422_for_that_field(self, server, api, team):
        assert_error(post_query(api, "CloseChat", team["manager"], ChatID="abc"), 422, "invalid_field", "ChatID")
        assert_error(post_query(api, "GrabChat", team["manager"], ChatID="0"), 422, "invalid_field", "ChatID")
        assert_error(post_query(api, "CloseChat", team["manager"], {"Colour": "red"}, ChatID=1), 422,
                     "unknown_field", "Colour")


class TestExportChat:
    @pytest.mark.parametrize("where", ["query", "body"])
    def test_export_chat_answers_to_post_too(self, server, api, team, where):
        chat_id, alice = team["chat"].chat_id, team["tokens"]["alice"]
        api.ok(post_query(api, "GrabChat", alice, ChatID=chat_id))
        api.ok(post_query(api, "SendMessage", alice, {"Message": "Your refund is on its way"}, ChatID=chat_id))
        response = (post_query(api, "ExportChat", alice, ChatID=chat_id) if where == "query"
                    else api.post("ExportChat", alice, {"ChatID": chat_id}))
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
        assert "Your refund is on its way" in [row["Text"] for row in rows]

    def test_post_export_chat_is_guarded_like_get(self, server, api, team):
        chat_id = team["chat"].chat_id
        assert_error(post_query(api, "ExportChat", None, ChatID=chat_id), 401, "session_required")
        assert_error(post_query(api, "ExportChat", team["tokens"]["carol"], ChatID=chat_id), 404, "chat_not_found")


class TestDeletesAnswerToPost:
    def test_every_delete_also_answers_to_post_with_the_same_guard(self, server):
        routes = {(method, path): route for method, path, route in api_routes(server.app)}
        deletes = [path for method, path in routes if method == "DELETE"]
        assert len(deletes) >= 6
        for path in deletes:
            assert ("POST", path) in routes, path
            assert routes[("POST", path)].endpoint is routes[("DELETE", path)].endpoint, path

    def test_ids_from_the_query_or_the_body(self, server, api, manager):
        first, second = add_tag(server, "Refund"), add_tag(server, "Billing")
        assert api.ok(post_query(api, "DeleteTag", manager, TagID=first)) == {"Deleted": True, "TagID": first}
        assert api.ok(api.post("DeleteTag", manager, {"TagID": second}))["TagID"] == second
        assert api.ok(api.get("GetTags", manager))["Items"][0]["Tags"] == []
        canned = api.ok(api.post("CreateCannedResponse", manager, {"Name": "Hi", "Text": "Hello"}))
        assert api.ok(api.post("DeleteCannedResponse", manager, {"CannedResponseID": canned["CannedResponseID"]}))
        recipient = api.ok(api.post("CreateRecipient", manager, {"Name": "Boss", "EmailAddress": "b@example.com"}))
        assert api.ok(post_query(api, "DeleteRecipient", manager, RecipientID=recipient["RecipientID"]))
        assert api.ok(api.get("GetCannedResponses", manager))["Items"] == []
        assert api.ok(api.get("GetRecipients", manager))["Items"] == []

    def test_a_delete_with_its_id_in_a_body(self, server, api, manager):
        tag_id = add_tag(server, "Refund")
        response = api.http.request("DELETE", "/api/DeleteTag", params={"SessionToken": manager},
                                    json={"TagID": tag_id})
        assert api.ok(response)["TagID"] == tag_id

    def test_different_ids_in_query_and_body_delete_nothing(self, server, api, manager):
        first, second = add_tag(server, "Refund"), add_tag(server, "Billing")
        response = post_query(api, "DeleteTag", manager, {"TagID": second}, TagID=first)
        assert_error(response, 422, "conflicting_field", "TagID")
        hours = {"Days": [{"Day": 1, "Intervals": [{"Start": "08:00", "End": "17:00"}]}]}
        api.ok(api.post("UpdateWorkingHours", manager, hours))
        # An optional ID too: a conflict must not fall back to "no DepartmentID" (the company's hours).
        response = post_query(api, "DeleteWorkingHours", manager, {"DepartmentID": 5}, DepartmentID=6)
        assert_error(response, 422, "conflicting_field", "DepartmentID")
        assert len(api.ok(api.get("GetTags", manager))["Items"][0]["Tags"]) == 2
        assert api.ok(api.get("GetWorkingHours", manager))["Days"][0]["Intervals"] != []

    def test_post_delete_is_manager_only(self, server, api, team):
        tag_id = add_tag(server, "Refund")
        assert_error(post_query(api, "DeleteTag", team["tokens"]["alice"], TagID=tag_id), 403, "manager_only")
        assert_error(post_query(api, "DeleteTag", None, TagID=tag_id), 401, "session_required")


class TestAliases:
    def test_group_id_for_tag_group_id(self, server, api, manager):
        group = api.ok(api.post("CreateTagGroup", manager, {"Name": "Topics"}))["TagGroupID"]
        tag = api.ok(api.post("CreateTag", manager, {"GroupID": group, "Name": "Refund"}))
        assert tag["TagGroupID"] == group and "GroupID" not in tag
        renamed = api.ok(api.post("UpdateTagGroup", manager, {"GroupID": group, "Name": "Subjects"}))
        assert renamed == {"TagGroupID": group, "Name": "Subjects", "Enabled": True}
        assert [g["TagGroupID"] for g in api.ok(api.get("GetTags", manager, {"GroupID": group}))["Items"]] == [group]
        assert_error(api.get("GetTags", manager, {"GroupID": group + 1}), 404, "tag_group_not_found", "TagGroupID")
        assert_error(api.post("CreateTag", manager, {"GroupID": group, "TagGroupID": group + 1, "Name": "X"}), 422,
                     "conflicting_field", "TagGroupID")
        assert_error(api.get("GetTags", manager, {"GroupID": group, "TagGroupID": group + 1}), 422,
                     "conflicting_field", "TagGroupID")
        api.ok(api.delete("DeleteTag", manager, {"TagID": tag["TagID"]}))
        assert api.ok(post_query(api, "DeleteTagGroup", manager, GroupID=group))["TagGroupID"] == group
        assert api.ok(api.get("GetTags", manager))["Items"] == []

    def test_delete_tag_group_needs_one_spelling(self, server, api, manager):
        assert_error(api.post("DeleteTagGroup", manager), 422, "missing_field", "TagGroupID")

    @pytest.mark.parametrize(("days", "expected"), [
        ({"ScheduledDay": 3}, [3]), ({"SheduledDay": [5, 1]}, [1, 5]), ({"SheduledDay": 2}, [2]),
        ({"ScheduledDays": 4}, [4]), ({"ScheduledDays": [2], "ScheduledDay": [2]}, [2])])
    def test_scheduled_day_spellings(self, server, api, manager, days, expected):
        recipient = api.ok(api.post("CreateRecipient", manager, {"Name": "Boss", "EmailAddress": "b@example.com"}))
        body = {"RecipientID": recipient["RecipientID"], "ReportID": "ChatSummary", "FileFormat": "CSV",
                "Period": "Week", "DeliveryMethod": "Email", "ScheduledTime": "08:00", **days}
        schedule = api.ok(api.post("CreateScheduledReport", manager, body))
        assert schedule["ScheduledDays"] == expected and "SheduledDay" not in schedule

    def test_scheduled_days_given_twice_differently_is_422(self, server, api, manager):
        body = {"RecipientID": 1, "ReportID": "ChatSummary", "FileFormat": "CSV", "Period": "Week",
                "DeliveryMethod": "Email", "ScheduledTime": "08:00", "ScheduledDays": [1], "SheduledDay": 2}
        assert_error(api.post("CreateScheduledReport", manager, body), 422, "conflicting_field", "ScheduledDays")


class TestReportNumbers:
    KEYS = {1: "ChatSummary", 2: "AgentPerformance", 3: "DepartmentPerformance", 4: "TagUsage", 5: "MessageLog"}

    def test_get_reports_gives_stable_numbers_beside_the_keys(self, server, api, manager):
        reports = api.ok(api.get("GetReports", manager))["Items"]
        numbers = {r["ReportNumber"]: r["ReportID"] for r in reports}
        assert len(numbers) == len(reports)
        assert {n: k for n, k in numbers.items() if n in self.KEYS} == self.KEYS

    @pytest.mark.parametrize("report_id", [4, "4", "TagUsage"])
    def test_a_schedule_takes_the_number_or_the_key(self, server, api, manager, report_id):
        recipient = api.ok(api.post("CreateRecipient", manager, {"Name": "Boss", "EmailAddress": "b@example.com"}))
        schedule = api.ok(api.post("CreateScheduledReport", manager, {
            "RecipientID": recipient["RecipientID"], "ReportID": report_id, "FileFormat": "CSV", "Period": "Day",
            "DeliveryMethod": "Email", "ScheduledDays": [1], "ScheduledTime": "08:00"}))
        assert schedule["ReportID"] == "TagUsage"

    def test_an_unknown_number_is_404(self, server, api, manager):
        recipient = api.ok(api.post("CreateRecipient", manager, {"Name": "Boss", "EmailAddress": "b@example.com"}))
        response = api.post("CreateScheduledReport", manager, {
            "RecipientID": recipient["RecipientID"], "ReportID": 99, "FileFormat": "CSV", "Period": "Day",
            "DeliveryMethod": "Email", "ScheduledDays": [1], "ScheduledTime": "08:00"})
        assert_error(response, 404, "report_not_found", "ReportID")

    def test_get_report_by_number(self, server, api, manager):
        response = api.get("GetReport", manager, {"ReportID": "4", "From": "2026-01-01", "To": "2026-01-02"})
        assert response.status_code == 200, response.text
        assert 'filename="TagUsage-2026-01-01-2026-01-02.csv"' in response.headers["content-disposition"]
