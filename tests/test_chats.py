"""The agents' chat calls, through the running server, on SQLite and PostgreSQL."""

import asyncio
import base64
import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from chat_helpers import add_department, add_tag, bot_chat, chat_events, customer_writes, event_types, queued_chat
from conftest import add_agent, assert_error, parse_time, race
from sqlalchemy import update

from agentchat import clock, contract
from agentchat.agents.models import Agent
from agentchat.chats.models import Chat, ChatTag

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@dataclass
class Team:
    sales: int
    support: int
    manager: str
    alice: str
    bob: str
    carol: str
    dave: str
    ids: dict


@pytest.fixture
def team(server, api, manager) -> Team:
    sales = add_department(server, "Sales", menu_option=1)
    support = add_department(server, "Support", menu_option=2)
    ids = {"alice": add_agent(server, name="Alice", department_ids=(sales,)),
           "bob": add_agent(server, name="Bob", department_ids=(sales,)),
           "carol": add_agent(server, name="Carol", department_ids=(support,)),
           "dave": add_agent(server, name="Dave", department_ids=(support,))}
    tokens = {name: api.logon(f"{name}@example.com") for name in ids}
    return Team(sales=sales, support=support, manager=manager, ids=ids, **tokens)


def grab(api, token, chat_id=None):
    return api.post("GrabChat", token, {"ChatID": chat_id} if chat_id else {})


def send_text(api, token, chat_id, text="How can I help?"):
    return api.post("SendMessage", token, {"ChatID": chat_id, "Message": text})


def file_body(chat_id, content=PNG, name="photo.png", file_type="image/png"):
    return {"ChatID": chat_id, "FileName": name, "FileType": file_type,
            "FileContent": base64.b64encode(content).decode()}


def stored_files(server) -> set[Path]:
    return {path for path in Path(server.settings.files_dir).rglob("*") if path.is_file()}


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


class TestLifecycle:
    def test_a_chat_from_queue_to_export(self, server, api, team):
        chat = queued_chat(server, team.sales)
        tricky = 'Hi, I\'m "Zoë" 😀\nsecond line; third, part'
        customer_writes(server, chat.customer_id, tricky)

        waiting = api.ok(api.get("GetChats", team.alice, {"Status": "Unassigned"}))
        assert [c["ChatID"] for c in waiting["Items"]] == [chat.chat_id]

        grabbed = api.ok(grab(api, team.alice))
        assert grabbed["ChatID"] == chat.chat_id and grabbed["Status"] == "Assigned"
        assert grabbed["AgentID"] == team.ids["alice"] and grabbed["AssignedAt"]
        assert tricky in [m["Text"] for m in grabbed["Messages"]]

        text = api.ok(send_text(api, team.alice, chat.chat_id, "Good morning, Zoë"))
        assert text["SenderType"] == "Agent" and text["AgentID"] == team.ids["alice"]
        assert text["Text"] == "Good morning, Zoë" and text["File"] is None
        assert text["DeliveryStatus"] == "Pending"

        sent = api.ok(api.post("SendMessage", team.alice, file_body(chat.chat_id, name="prijslys €.png")))
        assert sent["File"]["FileName"] == "prijslys €.png"
        assert sent["File"]["FileType"] == "image/png" and sent["File"]["Size"] == len(PNG)
        fetched = api.http.get(sent["File"]["URL"], headers={"Authorization": f"Bearer {team.bob}"})
        assert fetched.status_code == 200 and fetched.content == PNG
        assert fetched.headers["content-type"] == "image/png"
        assert "filename*=UTF-8''prijslys%20%E2%82%AC.png" in fetched.headers["content-disposition"]

        moved = api.ok(api.post("TransferChatToDepartment", team.alice,
                                {"ChatID": chat.chat_id, "DepartmentID": team.support}))
        assert moved["Status"] == "Unassigned" and moved["DepartmentID"] == team.support
        assert moved["AgentID"] is None

        again = api.ok(grab(api, team.carol, chat.chat_id))
        assert again["AgentID"] == team.ids["carol"]
        assert "Good morning, Zoë" in [m["Text"] for m in again["Messages"]]  # the history went along

        handed = api.ok(api.post("TransferChatToAgent", team.carol, {"ChatID": chat.chat_id,
                                                                     "AgentID": team.ids["dave"]}))
        assert handed["AgentID"] == team.ids["dave"] and handed["Status"] == "Assigned"

        closed = api.ok(api.post("CloseChat", team.dave, {"ChatID": chat.chat_id}))
        assert closed["Status"] == "Closed" and closed["ClosedAt"]

        exported = api.get("ExportChat", team.manager, {"ChatID": chat.chat_id})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert f'filename="chat-{chat.chat_id}.csv"' in exported.headers["content-disposition"]
        assert exported.content.splitlines()[0] == b"MessageID,CreatedAt,SenderType,SenderName,Text,FileName," \
                                                   b"DeliveryStatus"
        rows = read_csv(exported)
        assert [r["Text"] for r in rows if r["SenderType"] == "Customer"] == ["Hello", "", tricky]
        agent_rows = [r for r in rows if r["SenderType"] == "Agent"]
        assert [(r["SenderName"], r["Text"], r["FileName"]) for r in agent_rows] == [
            ("Alice", "Good morning, Zoë", ""), ("Alice", "", "prijslys €.png")]
        assert rows[-1]["SenderType"] == "System"  # the ChatClosedMessage
        assert all(r["CreatedAt"].endswith("Z") for r in rows)

        assert event_types(server, chat.chat_id) == [
            "Created", "Queued", "Grabbed", "TransferredToDepartment", "Grabbed", "TransferredToAgent", "Closed"]
        actors = [e.actor_agent_id for e in chat_events(server, chat.chat_id)[2:]]
        assert actors == [team.ids[n] for n in ("alice", "alice", "carol", "carol", "dave")]


class TestVisibility:
    def test_another_departments_agent_cannot_see_or_touch_the_chat(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        message = api.ok(api.post("SendMessage", team.alice, file_body(chat.chat_id)))

        assert_error(api.get("GetChat", team.carol, {"ChatID": chat.chat_id}), 404, "chat_not_found", "ChatID")
        assert_error(api.get("ExportChat", team.carol, {"ChatID": chat.chat_id}), 404, "chat_not_found")
        assert_error(api.get("GetFile", team.carol, {"MessageID": message["MessageID"]}), 404, "file_not_found")
        assert_error(send_text(api, team.carol, chat.chat_id), 404, "chat_not_found")
        assert_error(api.post("CloseChat", team.carol, {"ChatID": chat.chat_id}), 404, "chat_not_found")
        assert api.ok(api.get("GetChats", team.carol))["Items"] == []
        # An unknown ID gets the very same answer.
        assert_error(api.get("GetChat", team.carol, {"ChatID": 999999}), 404, "chat_not_found")

    def test_colleagues_and_managers_see_it(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        for token in (team.bob, team.manager):
            detail = api.ok(api.get("GetChat", token, {"ChatID": chat.chat_id}))
            assert detail["Customer"]["CustomerID"] == chat.customer_id
            assert detail["Customer"]["Name"] == "Thandi Nkosi"
            assert detail["Customer"]["PhoneNumber"] == "27821234567"
            assert [m["SenderType"] for m in detail["Messages"]][:2] == ["Customer", "Bot"]

    def test_an_agent_still_sees_a_chat_assigned_to_them_in_another_department(self, server, api, team):
        chat = queued_chat(server, team.support)
        api.ok(api.post("UpdateAgent", team.manager, {"AgentID": team.ids["carol"],
                                                      "DepartmentIDs": [team.support, team.sales]}))
        api.ok(grab(api, team.carol, chat.chat_id))
        api.ok(api.post("UpdateAgent", team.manager, {"AgentID": team.ids["carol"], "DepartmentIDs": [team.sales]}))
        assert api.ok(api.get("GetChat", team.carol, {"ChatID": chat.chat_id}))["AgentID"] == team.ids["carol"]

    def test_every_call_needs_a_session(self, api, team):
        for name, body in [("GrabChat", {}), ("SendMessage", {"ChatID": 1, "Message": "x"}),
                           ("CloseChat", {"ChatID": 1}), ("AssignChat", {"ChatID": 1, "AgentID": 1})]:
            assert_error(api.post(name, None, body), 401)
        for name, params in [("GetChats", {}), ("GetChat", {"ChatID": 1}), ("ExportChat", {"ChatID": 1}),
                             ("GetFile", {"MessageID": 1})]:
            assert_error(api.get(name, None, params), 401)


class TestGrabChat:
    def test_without_chat_id_takes_the_longest_waiting_chat_of_my_departments(self, server, api, team):
        first = queued_chat(server, team.sales, phone="27820000001")
        clock.travel(timedelta(minutes=1))
        queued_chat(server, team.support, phone="27820000002")
        clock.travel(timedelta(minutes=1))
        second = queued_chat(server, team.sales, phone="27820000003")
        assert api.ok(grab(api, team.bob))["ChatID"] == first.chat_id
        assert api.ok(grab(api, team.alice))["ChatID"] == second.chat_id
        assert_error(grab(api, team.alice), 409, "no_unassigned_chats")

    def test_the_oldest_head_of_all_my_queues_and_a_manager_takes_from_every_queue(self, server, api, team):
        add_agent(server, name="Erin", email="erin@example.com", department_ids=(team.sales, team.support))
        erin = api.logon("erin@example.com")
        sales = queued_chat(server, team.sales, phone="27820000001")
        clock.travel(timedelta(minutes=1))
        support = queued_chat(server, team.support, phone="27820000002")
        clock.travel(timedelta(minutes=1))
        newest = queued_chat(server, team.sales, phone="27820000003")
        assert api.ok(grab(api, erin))["ChatID"] == sales.chat_id
        assert api.ok(grab(api, erin))["ChatID"] == support.chat_id
        assert api.ok(grab(api, team.manager))["ChatID"] == newest.chat_id
        assert_error(grab(api, team.manager), 409, "no_unassigned_chats")

    def test_agents_racing_for_the_next_chat_each_get_a_different_one(self, server, api, team):
        chats = [queued_chat(server, team.sales, phone=f"278200001{n:02d}") for n in range(6)]
        emails = [f"racer{i}@example.com" for i in range(10)]
        for i, email in enumerate(emails):
            add_agent(server, name=f"Racer {i}", email=email, department_ids=(team.sales,))
        tokens = [api.logon(email) for email in emails]
        responses = race(server, [("POST", "GrabChat", token, {}) for token in tokens])
        taken = [r.json()["ChatID"] for r in responses if r.status_code == 200]
        assert sorted(taken) == sorted(chat.chat_id for chat in chats)
        assert sorted(r.status_code for r in responses) == [200] * 6 + [409] * 4

    def test_a_taken_chat_cannot_be_grabbed(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        assert_error(grab(api, team.bob, chat.chat_id), 409, "chat_not_unassigned", "ChatID")
        assert event_types(server, chat.chat_id).count("Grabbed") == 1

    def test_another_departments_chat_is_not_found(self, server, api, team):
        chat = queued_chat(server, team.sales)
        assert_error(grab(api, team.carol, chat.chat_id), 404, "chat_not_found")
        assert_error(grab(api, team.carol), 409, "no_unassigned_chats")

    def test_fifty_agents_race_for_one_chat_and_one_wins(self, server, api, team):
        chat = queued_chat(server, team.sales)
        emails = [f"racer{i}@example.com" for i in range(50)]
        agent_ids = [add_agent(server, name=f"Racer {i}", email=email, department_ids=(team.sales,))
                     for i, email in enumerate(emails)]
        tokens = [api.logon(email) for email in emails]

        async def race():
            limits = httpx.Limits(max_connections=60)
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as client:
                return await asyncio.gather(*[
                    client.post("/api/GrabChat", params={"SessionToken": token}, json={"ChatID": chat.chat_id})
                    for token in tokens])

        responses = asyncio.run(race())
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * 49, statuses
        assert {r.json()["Error"]["Code"] for r in responses if r.status_code == 409} == {"chat_not_unassigned"}
        winner = next(r.json() for r in responses if r.status_code == 200)
        assert winner["AgentID"] in agent_ids
        assert api.ok(api.get("GetChat", team.manager, {"ChatID": chat.chat_id}))["AgentID"] == winner["AgentID"]
        assert event_types(server, chat.chat_id).count("Grabbed") == 1


class TestAssignChat:
    def test_a_manager_assigns_to_an_agent_of_the_department(self, server, api, team):
        chat = queued_chat(server, team.sales)
        assigned = api.ok(api.post("AssignChat", team.manager, {"ChatID": chat.chat_id,
                                                                "AgentID": team.ids["bob"]}))
        assert assigned["AgentID"] == team.ids["bob"] and assigned["Status"] == "Assigned"
        reassigned = api.ok(api.post("AssignChat", team.manager, {"ChatID": chat.chat_id,
                                                                  "AgentID": team.ids["alice"]}))
        assert reassigned["AgentID"] == team.ids["alice"]
        assert event_types(server, chat.chat_id)[-2:] == ["Assigned", "Assigned"]

    def test_the_target_must_be_an_enabled_member_of_the_department(self, server, api, team):
        chat = queued_chat(server, team.sales)
        body = {"ChatID": chat.chat_id, "AgentID": team.ids["carol"]}
        assert_error(api.post("AssignChat", team.manager, body), 409, "agent_not_in_department", "AgentID")
        api.ok(api.post("UpdateAgent", team.manager, {"AgentID": team.ids["bob"], "Enabled": False}))
        body["AgentID"] = team.ids["bob"]
        assert_error(api.post("AssignChat", team.manager, body), 409, "agent_disabled", "AgentID")
        body["AgentID"] = 999999
        assert_error(api.post("AssignChat", team.manager, body), 404, "agent_not_found", "AgentID")

    def test_an_agent_may_assign_only_to_self(self, server, api, team):
        chat = queued_chat(server, team.sales)
        assert_error(api.post("AssignChat", team.alice, {"ChatID": chat.chat_id, "AgentID": team.ids["bob"]}),
                     403, "manager_only")
        mine = api.ok(api.post("AssignChat", team.alice, {"ChatID": chat.chat_id, "AgentID": team.ids["alice"]}))
        assert mine["AgentID"] == team.ids["alice"]
        assert_error(api.post("AssignChat", team.bob, {"ChatID": chat.chat_id, "AgentID": team.ids["bob"]}),
                     409, "chat_not_unassigned")


class TestTransferChatToDepartment:
    def test_goes_back_to_the_queue_with_its_history(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        api.ok(send_text(api, team.alice, chat.chat_id, "Let me pass you to Support"))
        clock.travel(timedelta(minutes=5))
        moved = api.ok(api.post("TransferChatToDepartment", team.alice,
                                {"ChatID": chat.chat_id, "DepartmentID": team.support}))
        assert parse_time(moved["QueuedAt"]) > parse_time(moved["CreatedAt"]) + timedelta(minutes=4)
        assert [c["ChatID"] for c in api.ok(api.get("GetChats", team.dave, {"Status": "Unassigned"}))["Items"]] \
            == [chat.chat_id]
        detail = api.ok(api.get("GetChat", team.dave, {"ChatID": chat.chat_id}))
        assert "Let me pass you to Support" in [m["Text"] for m in detail["Messages"]]
        # Alice no longer sees it: it left her department and is no longer hers.
        assert_error(api.get("GetChat", team.alice, {"ChatID": chat.chat_id}), 404)

    def test_the_department_must_exist_and_be_enabled(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        closed = add_department(server, "Closed down", enabled=False)
        assert_error(api.post("TransferChatToDepartment", team.alice, {"ChatID": chat.chat_id,
                                                                       "DepartmentID": 999999}),
                     404, "department_not_found", "DepartmentID")
        assert_error(api.post("TransferChatToDepartment", team.alice, {"ChatID": chat.chat_id,
                                                                       "DepartmentID": closed}),
                     409, "department_disabled", "DepartmentID")

    def test_a_manager_routes_a_chat_stuck_in_the_welcome_menu(self, server, api, team):
        chat = bot_chat(server)
        body = {"ChatID": chat.chat_id, "DepartmentID": team.support}
        assert_error(api.post("AssignChat", team.manager, {"ChatID": chat.chat_id, "AgentID": team.ids["carol"]}),
                     409, "chat_with_bot")
        routed = api.ok(api.post("TransferChatToDepartment", team.manager, body))
        assert (routed["Status"], routed["DepartmentID"]) == ("Unassigned", team.support)
        assert api.ok(grab(api, team.carol))["ChatID"] == chat.chat_id

    def test_only_the_assigned_agent_or_a_manager(self, server, api, team):
        chat = queued_chat(server, team.sales)
        body = {"ChatID": chat.chat_id, "DepartmentID": team.support}
        assert_error(api.post("TransferChatToDepartment", team.alice, body), 409, "chat_not_assigned")
        api.ok(grab(api, team.alice, chat.chat_id))
        assert_error(api.post("TransferChatToDepartment", team.bob, body), 409, "not_chat_agent")
        assert api.ok(api.post("TransferChatToDepartment", team.manager, body))["DepartmentID"] == team.support


class TestTransferChatToAgent:
    def test_the_target_must_be_online_and_in_the_department(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        offline = add_agent(server, name="Olga", department_ids=(team.sales,))  # never logged on: Offline
        body = {"ChatID": chat.chat_id}
        assert_error(api.post("TransferChatToAgent", team.alice, body | {"AgentID": offline}),
                     409, "agent_not_online", "AgentID")
        assert_error(api.post("TransferChatToAgent", team.alice, body | {"AgentID": team.ids["carol"]}),
                     409, "agent_not_in_department", "AgentID")
        assert_error(api.post("TransferChatToAgent", team.bob, body | {"AgentID": team.ids["bob"]}),
                     409, "not_chat_agent")
        done = api.ok(api.post("TransferChatToAgent", team.manager, body | {"AgentID": team.ids["bob"]}))
        assert done["AgentID"] == team.ids["bob"]

    def test_the_chat_must_be_assigned(self, server, api, team):
        chat = queued_chat(server, team.sales)
        assert_error(api.post("TransferChatToAgent", team.manager, {"ChatID": chat.chat_id,
                                                                    "AgentID": team.ids["bob"]}),
                     409, "chat_not_assigned")


class TestSendMessage:
    @pytest.fixture
    def chat(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        return chat

    def test_the_message_goes_out_to_the_customer(self, server, api, team, chat, graph_api):
        api.ok(send_text(api, team.alice, chat.chat_id, "Your order ships today"))
        detail = api.ok(api.get("GetChat", team.alice, {"ChatID": chat.chat_id}))
        assert detail["Messages"][-1]["Text"] == "Your order ships today"
        assert detail["LastMessageAt"] == detail["Messages"][-1]["CreatedAt"]

    def test_only_the_assigned_agent_or_a_manager(self, server, api, team, chat):
        assert_error(send_text(api, team.bob, chat.chat_id), 409, "not_chat_agent", "ChatID")
        assert api.ok(send_text(api, team.manager, chat.chat_id))["AgentID"] is not None

    def test_a_queued_chat_must_be_grabbed_first(self, server, api, team):
        chat = queued_chat(server, team.sales, phone="27829999999")
        assert_error(send_text(api, team.alice, chat.chat_id), 409, "chat_not_assigned")
        assert_error(send_text(api, team.manager, chat.chat_id), 409, "chat_not_assigned")

    def test_whatsapp_24_hour_window(self, server, api, team, chat):
        clock.travel(timedelta(hours=24, minutes=1))
        alice = api.logon("alice@example.com")  # the old session expired meanwhile
        error = assert_error(send_text(api, alice, chat.chat_id), 409, "whatsapp_24h_window")
        assert "24 hours" in error["Message"]
        customer_writes(server, chat.customer_id, "Are you there?")
        api.ok(send_text(api, alice, chat.chat_id))

    def test_bad_input_is_refused_and_changes_nothing(self, server, api, team, chat):
        files_before = stored_files(server)
        def send(**fields):
            return api.post("SendMessage", team.alice, {"ChatID": chat.chat_id} | fields)

        assert_error(send(), 422, "message_required")
        assert_error(send(Message="   "), 422, "message_required")
        assert_error(send(Message="x" * 4097), 422, field="Message")
        assert_error(send(**file_body(chat.chat_id) | {"FileContent": "not base64!!"}), 422, "invalid_base64",
                     "FileContent")
        assert_error(send(**file_body(chat.chat_id, file_type="text/html")), 422, "file_type_not_allowed",
                     "FileType")
        assert_error(send(**file_body(chat.chat_id, name="../etc/passwd")), 422, field="FileName")
        assert_error(send(**file_body(chat.chat_id, name="a" * 256 + ".png")), 422, field="FileName")
        body = file_body(chat.chat_id)
        del body["FileType"]
        assert_error(send(**body), 422, "missing_field", "FileType")
        assert_error(api.post("SendMessage", team.alice, content=b"{not json", headers={
            "content-type": "application/json"}), 400)
        detail = api.ok(api.get("GetChat", team.alice, {"ChatID": chat.chat_id}))
        assert "Agent" not in [m["SenderType"] for m in detail["Messages"]]
        assert stored_files(server) == files_before

    def test_a_file_over_the_limit_is_413(self, server, api, team, chat):
        too_big = b"\0" * (server.settings.max_file_bytes + 1)
        body = file_body(chat.chat_id, content=too_big, name="big.pdf", file_type="application/pdf")
        assert_error(api.post("SendMessage", team.alice, body), 413, "file_too_large")
        assert_error(api.post("SendMessage", team.alice, content=b" " * (server.settings.max_file_bytes * 2),
                              headers={"content-type": "application/json"}), 413, "request_too_large")

    def test_file_types_from_the_allow_list(self, server, api, team, chat):
        sent = api.ok(api.post("SendMessage", team.alice, file_body(
            chat.chat_id, content=b"OggS voice", name="note.ogg", file_type="audio/ogg; codecs=opus")))
        assert sent["File"]["FileType"] == "audio/ogg"
        with_text = api.ok(api.post("SendMessage", team.alice, file_body(
            chat.chat_id, content=b"%PDF-1.4", name="quote.pdf", file_type="application/pdf")
            | {"Message": "Your quote"}))
        assert with_text["Text"] == "Your quote" and with_text["File"]["FileName"] == "quote.pdf"


class TestSessionInTheStatement:
    """SendMessage, GrabChat and GetChats check the session in the same statement as their work (PostgreSQL);
    with a valid body, so that the statement itself must refuse."""

    def messages_of(self, api, token, chat_id) -> list[str]:
        return [m["Text"] for m in api.ok(api.get("GetChat", token, {"ChatID": chat_id}))["Messages"]]

    def test_a_revoked_expired_or_disabled_session_sends_nothing(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        api.ok(api.get("AgentLogoff", team.alice))
        assert_error(send_text(api, team.alice, chat.chat_id, "after logoff"), 401, "session_invalid")
        manager = team.manager
        clock.travel(timedelta(minutes=server.settings.session_idle_minutes, seconds=1))
        assert_error(send_text(api, manager, chat.chat_id, "after expiry"), 401, "session_invalid")
        alice = api.logon("alice@example.com")

        async def disable(db):
            await db.execute(update(Agent).where(Agent.id == team.ids["alice"]).values(enabled=False))
        server.with_db(disable)
        assert_error(send_text(api, alice, chat.chat_id, "while disabled"), 401, "session_invalid")
        assert_error(send_text(api, "0" * 32, chat.chat_id, "unknown token"), 401, "session_invalid")
        texts = self.messages_of(api, api.logon("mia@example.com"), chat.chat_id)
        assert not {"after logoff", "after expiry", "while disabled", "unknown token"} & set(texts)

    def test_sending_extends_the_session(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        idle = server.settings.session_idle_minutes
        clock.travel(timedelta(minutes=idle - 5))
        customer_writes(server, chat.customer_id, "Still there?")  # keeps WhatsApp's 24-hour window open
        api.ok(send_text(api, team.alice, chat.chat_id, "Yes"))
        clock.travel(timedelta(minutes=10))  # past the logon's expiry, within the extended one
        api.ok(send_text(api, team.alice, chat.chat_id, "Still here"))
        assert self.messages_of(api, team.alice, chat.chat_id)[-2:] == ["Yes", "Still here"]

    def test_a_wrong_session_is_told_before_bad_input(self, server, api, team):
        api.ok(api.get("AgentLogoff", team.bob))
        for params in ({"Status": "Bogus"}, {"PageSize": "many"}, {"From": "2024-05-02", "To": "2024-05-01"}):
            assert_error(api.get("GetChats", team.bob, params), 401, "session_invalid")
            assert_error(api.get("GetChats", team.alice, params), 422)
        assert_error(api.post("SendMessage", team.bob, {"ChatID": 1}), 401, "session_invalid")
        assert_error(api.post("GrabChat", team.bob, {"ChatID": "x"}), 401, "session_invalid")

    def test_the_role_comes_from_the_session(self, server, api, team):
        """A manager may write to any assigned chat, an agent only to their own: decided inside the statement."""
        chat = queued_chat(server, team.support)
        api.ok(grab(api, team.carol, chat.chat_id))
        assert_error(send_text(api, team.alice, chat.chat_id), 404, "chat_not_found")  # not her department
        assert_error(send_text(api, team.dave, chat.chat_id), 409, "not_chat_agent")
        assert api.ok(send_text(api, team.manager, chat.chat_id, "From the manager"))["AgentID"] is not None


class TestCloseChat:
    def test_the_customer_gets_the_closed_message(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        api.ok(api.post("UpdateSettings", team.manager, {"Settings": [{"ChatClosedMessage": "Bye, thanks!"}]}))
        api.ok(api.post("CloseChat", team.alice, {"ChatID": chat.chat_id}))
        last = api.ok(api.get("GetChat", team.alice, {"ChatID": chat.chat_id}))["Messages"][-1]
        assert (last["SenderType"], last["Text"]) == ("System", "Bye, thanks!")
        assert_error(api.post("CloseChat", team.alice, {"ChatID": chat.chat_id}), 409, "chat_closed")
        assert_error(send_text(api, team.alice, chat.chat_id), 409, "chat_closed")

    def test_no_closed_message_when_switched_off(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        api.ok(api.post("UpdateSettings", team.manager, {"Settings": [{"SendChatClosedMessage": False}]}))
        api.ok(api.post("CloseChat", team.alice, {"ChatID": chat.chat_id}))
        messages = api.ok(api.get("GetChat", team.alice, {"ChatID": chat.chat_id}))["Messages"]
        assert "System" not in [m["SenderType"] for m in messages]

    def test_agents_close_only_their_chats_managers_any(self, server, api, team):
        chat = queued_chat(server, team.sales)
        assert_error(api.post("CloseChat", team.alice, {"ChatID": chat.chat_id}), 409, "chat_not_assigned")
        api.ok(grab(api, team.alice, chat.chat_id))
        assert_error(api.post("CloseChat", team.bob, {"ChatID": chat.chat_id}), 409, "not_chat_agent")
        assert api.ok(api.post("CloseChat", team.manager, {"ChatID": chat.chat_id}))["Status"] == "Closed"
        assert event_types(server, chat.chat_id)[-1] == "Closed"


class TestGetChats:
    def make_chats(self, server, team, count=5):
        chats = []
        for i in range(count):
            chats.append(queued_chat(server, team.sales if i % 2 == 0 else team.support, phone=f"2782000000{i}"))
            clock.travel(timedelta(minutes=1))  # apart in time, well within the sessions' idle limit
        return chats

    def test_newest_first_in_pages(self, server, api, team):
        chats = self.make_chats(server, team)
        newest_first = [c.chat_id for c in reversed(chats)]
        pages = [api.ok(api.get("GetChats", team.manager, {"PageSize": 2, "Page": n})) for n in (1, 2, 3, 4)]
        assert [p["Total"] for p in pages] == [5, 5, 5, 5]
        assert [c["ChatID"] for p in pages for c in p["Items"]] == newest_first
        assert pages[3]["Items"] == [] and pages[0]["PageSize"] == 2
        assert_error(api.get("GetChats", team.manager, {"PageSize": 201}), 422)

    def test_agents_see_their_departments(self, server, api, team):
        chats = self.make_chats(server, team)
        sales = {c.chat_id for c in chats[::2]}
        listed = api.ok(api.get("GetChats", team.alice))
        assert {c["ChatID"] for c in listed["Items"]} == sales and listed["Total"] == 3

    def test_filters(self, server, api, team):
        chats = self.make_chats(server, team)
        api.ok(grab(api, team.alice, chats[0].chat_id))
        api.ok(grab(api, team.carol, chats[1].chat_id))
        api.ok(api.post("CloseChat", team.carol, {"ChatID": chats[1].chat_id}))

        def ids(**params):
            return {c["ChatID"] for c in api.ok(api.get("GetChats", team.manager, params))["Items"]}

        assert ids(Status="Open") == ids(Status="Assigned") == {chats[0].chat_id}
        assert ids(Status=["Open", "Closed"]) == {chats[0].chat_id, chats[1].chat_id}
        assert ids(Status="Unassigned", DepartmentID=team.sales) == {chats[2].chat_id, chats[4].chat_id}
        assert ids(AgentID=team.ids["carol"]) == {chats[1].chat_id}
        assert ids(CustomerID=chats[3].customer_id) == {chats[3].chat_id}
        created = [parse_time(api.ok(api.get("GetChat", team.manager, {"ChatID": c.chat_id}))["CreatedAt"])
                   for c in chats]
        assert ids(From=created[1].isoformat() + "Z", To=created[3].isoformat() + "Z") == {
            c.chat_id for c in chats[1:4]}
        assert ids(From=created[4].date().isoformat()) >= {chats[4].chat_id}
        assert ids(To=(created[0].date() - timedelta(days=1)).isoformat()) == set()
        assert_error(api.get("GetChats", team.manager, {"Status": "Waiting"}), 422, field="Status")
        assert_error(api.get("GetChats", team.manager, {"From": "yesterday"}), 422, field="From")

    def test_total_is_counted_up_to_the_cap_or_the_page_asked_for(self, server, api, team, monkeypatch):
        chats = self.make_chats(server, team)  # sales: 0, 2, 4; support: 1, 3
        elsewhere = chats[1].chat_id

        async def give_alice_a_support_chat(db):
            await db.execute(update(Chat).where(Chat.id == elsewhere).values(
                status="Assigned", agent_id=team.ids["alice"], assigned_at=clock.now()))
        server.with_db(give_alice_a_support_chat)
        monkeypatch.setattr(contract, "COUNT_CAP", 2)

        def page(token, number):
            return api.ok(api.get("GetChats", token, {"PageSize": 1, "Page": number}))

        assert [page(team.manager, n)["Total"] for n in (1, 3, 5, 6)] == [2, 4, 5, 5]
        # An agent's chats: three of their department's and one of another's assigned to them.
        alice = [page(team.alice, n) for n in (1, 2, 3, 4, 5)]
        assert [p["Total"] for p in alice] == [2, 3, 4, 4, 4]
        assert [c["ChatID"] for p in alice for c in p["Items"]] == [
            c.chat_id for c in reversed(chats) if c.chat_id != chats[3].chat_id]

    def test_an_agent_of_several_departments_pages_through_everything_newest_first(self, server, api, team):
        billing = add_department(server, "Billing", menu_option=3)
        erin = add_agent(server, name="Erin", department_ids=(team.sales, billing))
        erin_token = api.logon("erin@example.com")
        chats = []
        for i, department in enumerate([team.sales, billing, team.support, billing, team.sales, team.support,
                                        billing, team.sales]):
            chats.append(queued_chat(server, department, phone=f"2782100000{i}"))
            clock.travel(timedelta(minutes=1))
        api.ok(grab(api, erin_token, chats[0].chat_id))
        api.ok(api.post("CloseChat", erin_token, {"ChatID": chats[0].chat_id}))
        api.ok(grab(api, erin_token, chats[3].chat_id))
        elsewhere = chats[5].chat_id  # Support's, assigned to Erin: she sees it too

        async def assign_to_erin(db):
            await db.execute(update(Chat).where(Chat.id == elsewhere).values(status="Assigned", agent_id=erin))
        server.with_db(assign_to_erin)
        seen = [c.chat_id for c in reversed(chats) if c.chat_id not in (chats[2].chat_id,)]

        def listed(**params):
            pages = [api.ok(api.get("GetChats", erin_token, {"PageSize": 2, "Page": n, **params}))
                     for n in (1, 2, 3, 4)]
            return [c["ChatID"] for p in pages for c in p["Items"]], pages[0]["Total"]

        assert listed() == (seen, len(seen))
        assert listed(Status=["Open", "Closed"]) == ([chats[5].chat_id, chats[3].chat_id, chats[0].chat_id], 3)
        assert listed(Status="Unassigned", DepartmentID=billing) == ([chats[6].chat_id, chats[1].chat_id], 2)

    def test_items_carry_their_tags(self, server, api, team):
        chat = queued_chat(server, team.sales)
        tags = [add_tag(server, "Billing"), add_tag(server, "Urgent")]

        async def tag(db):
            for tag_id in reversed(tags):
                db.add(ChatTag(chat_id=chat.chat_id, tag_id=tag_id))
        server.with_db(tag)
        assert api.ok(api.get("GetChats", team.alice))["Items"][0]["TagIDs"] == tags


class TestExportChat:
    def test_tricky_text_survives_the_round_trip(self, server, api, team):
        chat = queued_chat(server, team.sales, name='Jan "Die Man", Jr.')
        texts = ['comma, "quote", and\r\nnewline', "-5", "ñandú 中文 🙂", "line\nbreak"]
        for text in texts:
            customer_writes(server, chat.customer_id, text)
        response = api.get("ExportChat", team.alice, {"ChatID": chat.chat_id})
        assert response.status_code == 200
        assert not response.content.startswith(b"\xef\xbb\xbf")  # no byte-order mark
        rows = read_csv(response)
        customer_rows = [r for r in rows if r["SenderType"] == "Customer"]
        assert [r["Text"] for r in customer_rows][-4:] == texts
        assert {r["SenderName"] for r in customer_rows} == {'Jan "Die Man", Jr.'}
        assert [int(r["MessageID"]) for r in rows] == sorted(int(r["MessageID"]) for r in rows)

    def test_formula_cells_are_escaped_as_in_reports(self, server, api, team):
        # A customer's text, name or file name must not run as a formula in the agent's spreadsheet.
        chat = queued_chat(server, team.sales, name="=HYPERLINK(\"http://evil\")")
        texts = ["=SUM(A1:A2)", "+27 82 123 4567", "-cmd", "@import", "\tTab", "\rReturn", "-5", "a=b"]
        for text in texts:
            customer_writes(server, chat.customer_id, text)
        rows = [r for r in read_csv(api.get("ExportChat", team.alice, {"ChatID": chat.chat_id}))
                if r["SenderType"] == "Customer"]
        assert [r["Text"] for r in rows][-len(texts):] == [
            "'=SUM(A1:A2)", "'+27 82 123 4567", "'-cmd", "'@import", "'\tTab", "'\rReturn", "-5", "a=b"]
        assert {r["SenderName"] for r in rows} == {"'=HYPERLINK(\"http://evil\")"}

    def test_large_chats_stream_in_batches(self, server, api, team):
        chat = queued_chat(server, team.sales)

        async def many(db):
            from agentchat.chats import service as chats
            from agentchat.chats.models import Chat
            row = await db.get(Chat, chat.chat_id)
            for i in range(1203):
                await chats.add_message(db, row, sender_type="Customer", text=f"message {i}")
        server.with_db(many)
        rows = read_csv(api.get("ExportChat", team.alice, {"ChatID": chat.chat_id}))
        texts = [r["Text"] for r in rows]
        assert texts[-1] == "message 1202" and len(set(texts)) == len(texts)


class TestGetFile:
    def test_unknown_or_fileless_messages_are_404(self, server, api, team):
        chat = queued_chat(server, team.sales)
        api.ok(grab(api, team.alice, chat.chat_id))
        text = api.ok(send_text(api, team.alice, chat.chat_id))
        assert_error(api.get("GetFile", team.alice, {"MessageID": text["MessageID"]}), 404, "file_not_found")
        assert_error(api.get("GetFile", team.alice, {"MessageID": 999999}), 404, "file_not_found")
        assert_error(api.get("GetFile", team.alice, {"MessageID": "x"}), 422)


def test_disabled_agents_lose_access(server, api, team):
    async def disable(db):
        await db.execute(update(Agent).where(Agent.id == team.ids["bob"]).values(enabled=False))
    server.with_db(disable)
    assert_error(api.get("GetChats", team.bob), 401)
