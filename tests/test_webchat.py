"""The web chat channel, over real HTTP and a real WebSocket: visitors, the bot's menu, queueing, pushes."""

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import add_agent, assert_error, race
from realtime_helpers import AgentSocket, next_frame, visitor_acknowledges
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from agentchat.chats import service as chats
from agentchat.chats.models import Chat, Message
from agentchat.customers.models import Customer
from agentchat.db import commit_and_publish

WAIT_SECONDS = 10


# ---- helpers -----------------------------------------------------------------------------------------------

class Visitor:
    """A web chat visitor: their token, an HTTP client that presents it, and their sockets."""

    def __init__(self, server, token: str, customer_id: int):
        self.server = server
        self.token = token
        self.customer_id = customer_id
        self.http = httpx.Client(base_url=server.base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})

    def post(self, body: Any) -> httpx.Response:
        response = self.http.post("/webchat/messages", json=body)
        # The bot's answers are handed to the channel after the commit: wait until they have been, so that a
        # socket opened next does not also receive them.
        settled(self.server, self.customer_id)
        return response

    def say(self, text: str) -> dict:
        response = self.post({"Text": text})
        assert response.status_code == 200, response.text
        return response.json()

    def choose(self, choice: str) -> httpx.Response:
        return self.post({"Choice": choice})

    def messages(self, after: int | None = None) -> list[dict]:
        params = {} if after is None else {"After": after}
        response = self.http.get("/webchat/messages", params=params)
        assert response.status_code == 200, response.text
        return response.json()["Items"]

    def socket(self) -> ClientConnection:
        return open_socket(self.server, f"VisitorToken={self.token}")


def open_socket(server, query: str) -> ClientConnection:
    url = server.base_url.replace("http://", "ws://") + "/webchat/ws?" + query
    return connect(url, proxy=None, compression=None, open_timeout=WAIT_SECONDS)


def new_visitor(server, **body) -> Visitor:
    response = httpx.post(f"{server.base_url}/webchat/visitors", json=body, timeout=30)
    assert response.status_code == 200, response.text
    data = response.json()
    return Visitor(server, data["VisitorToken"], data["CustomerID"])


def pushed(ws: ClientConnection, sender_type: str) -> dict:
    """The next pushed message from this kind of sender."""
    frame = next_frame(ws, lambda f: f["Type"] == "Message" and f["Message"]["SenderType"] == sender_type)
    return frame["Message"]


def wait_until(probe: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def chat_of(server, customer_id: int) -> Chat | None:
    async def work(db):
        query = select(Chat).where(Chat.customer_id == customer_id).order_by(Chat.id.desc()).limit(1)
        return (await db.execute(query)).scalar_one_or_none()
    return server.with_db(work)


def message_count(server) -> int:
    return server.with_db(lambda db: _scalar(db, select(func.count()).select_from(Message)))


def customer_count(server) -> int:
    return server.with_db(lambda db: _scalar(db, select(func.count()).select_from(Customer)))


async def _scalar(db, query):
    return (await db.execute(query)).scalar_one()


def settled(server, customer_id: int) -> None:
    """Wait until no outbound message of the customer is still Pending (waiting for the channel)."""
    query = (select(func.count()).select_from(Message).join(Chat, Chat.id == Message.chat_id)
             .where(Chat.customer_id == customer_id, Message.delivery_status == "Pending"))
    wait_until(lambda: server.with_db(lambda db: _scalar(db, query)) == 0, "outbound messages handed over")


def delivery_status(server, message_id: int) -> str:
    return server.with_db(lambda db: _scalar(db, select(Message.delivery_status).where(Message.id == message_id)))


def agent_writes(server, customer_id: int, agent_id: int, text: str) -> int:
    """An agent's message stored through the service, delivered after commit as the API would."""
    async def work(db):
        chat = await chats.active_chat(db, customer_id)
        message = await chats.add_message(db, chat, sender_type="Agent", agent_id=agent_id, text=text)
        await commit_and_publish(db)
        return message.id
    message_id = server.with_db(work)
    settled(server, customer_id)
    return message_id


@pytest.fixture(autouse=True)
def _fresh_limits(server):
    server.app.state.webchat_visitor_limit.reset()
    server.app.state.webchat_message_limit.reset()


@pytest.fixture
def departments(api, manager) -> dict[str, int]:
    ids = {}
    for option, name in ((1, "Sales"), (2, "Support")):
        body = {"Name": name, "IncludeInWelcomeMenu": True, "MenuOption": option,
                "NewCustomerMessage": f"Welcome to {name}."}
        ids[name] = api.ok(api.post("CreateDepartment", manager, body))["DepartmentID"]
    return ids


@pytest.fixture
def visitor(server) -> Visitor:
    v = new_visitor(server, Name="Vera Visitor")
    yield v
    v.http.close()


# ---- visitors -----------------------------------------------------------------------------------------------

class TestConfig:
    def test_the_page_learns_the_company_its_colour_and_greeting_without_a_session(self, server, api, manager):
        config = httpx.get(f"{server.base_url}/webchat/config")
        assert config.status_code == 200, config.text
        assert config.json() == {"CompanyName": "AgentChat", "Colour": "#0b5cad",
                                 "Greeting": config.json()["Greeting"]}
        assert config.json()["Greeting"].startswith("Welcome!")
        api.ok(api.post("UpdateSettings", manager, {"Settings": [
            {"CompanyName": "Acme Bikes"}, {"WebChatColour": "#8A1538"},
            {"WelcomeMessageNewCustomer": "Hi! Ask us about bikes."}]}))
        assert httpx.get(f"{server.base_url}/webchat/config").json() == {
            "CompanyName": "Acme Bikes", "Colour": "#8a1538", "Greeting": "Hi! Ask us about bikes."}
        for bad in ("red", "#12345", "#1234567", "#ggg000", 12):
            assert_error(api.post("UpdateSettings", manager, {"Settings": [{"WebChatColour": bad}]}),
                         422, "invalid_setting", "WebChatColour")

    def test_the_launcher_script_is_served(self, server):
        script = httpx.get(f"{server.base_url}/webchat/widget.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "/chat" in script.text and "aria-expanded" in script.text


class TestCreateVisitor:
    def test_gives_a_token_stored_only_hashed(self, server):
        response = httpx.post(f"{server.base_url}/webchat/visitors",
                              json={"Name": "Vera", "EmailAddress": "Vera@Example.com"})
        assert response.status_code == 200, response.text
        data = response.json()
        assert set(data) == {"VisitorToken", "CustomerID"}
        assert re.fullmatch(r"[0-9a-f]{32}", data["VisitorToken"])
        customer = server.with_db(lambda db: db.get(Customer, data["CustomerID"]))
        assert customer.name == "Vera" and customer.email_address == "vera@example.com"
        assert customer.visitor_token_hash == hashlib.sha256(data["VisitorToken"].encode()).digest()

    def test_name_is_optional(self, server):
        response = httpx.post(f"{server.base_url}/webchat/visitors")
        assert response.status_code == 200, response.text
        assert customer_count(server) == 1

    @pytest.mark.parametrize("body", [{"EmailAddress": "not-an-address"}, {"Name": ""}, {"Name": "x" * 101},
                                      {"Name": "Vera", "PhoneNumber": "123"}])
    def test_bad_details_are_refused_and_nothing_is_made(self, server, body):
        response = httpx.post(f"{server.base_url}/webchat/visitors", json=body)
        assert_error(response, 422)
        assert customer_count(server) == 0

    def test_malformed_json_is_400(self, server):
        response = httpx.post(f"{server.base_url}/webchat/visitors", content=b"{not json",
                              headers={"Content-Type": "application/json"})
        assert_error(response, 400, "malformed_request")
        assert customer_count(server) == 0

    def test_too_many_from_one_address_are_refused(self, server):
        limit = server.app.state.webchat_visitor_limit.limit
        for _ in range(limit):
            assert httpx.post(f"{server.base_url}/webchat/visitors").status_code == 200
        response = httpx.post(f"{server.base_url}/webchat/visitors")
        assert_error(response, 429, "too_many_visitors")
        assert int(response.headers["Retry-After"]) >= 1
        assert customer_count(server) == limit


class TestVisitorToken:
    def test_missing_or_unknown_token_is_401(self, server, visitor):
        url = f"{server.base_url}/webchat/messages"
        assert_error(httpx.get(url), 401, "visitor_token_required")
        assert_error(httpx.get(url, headers={"Authorization": "Bearer " + "0" * 32}), 401, "visitor_invalid")
        assert_error(httpx.get(url, params={"VisitorToken": "nonsense"}), 401, "visitor_invalid")
        assert_error(httpx.post(url, json={"Text": "hi"}, params={"VisitorToken": "f" * 32}), 401)
        assert message_count(server) == 0

    def test_token_as_query_parameter_works(self, server, visitor):
        response = httpx.get(f"{server.base_url}/webchat/messages", params={"VisitorToken": visitor.token})
        assert response.status_code == 200 and response.json() == {"Items": [], "LastChatClosed": False}

    @pytest.mark.parametrize("query", ["VisitorToken=" + "0" * 32, "VisitorToken=bad", ""])
    def test_socket_with_a_bad_token_is_closed_with_4401(self, server, query):
        with open_socket(server, query) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT_SECONDS)
        assert closed.value.rcvd.code == 4401


# ---- the conversation ----------------------------------------------------------------------------------------

class TestFirstMessage:
    def test_gets_welcome_and_menu_on_the_socket_and_via_get(self, server, visitor, departments):
        with visitor.socket() as ws:
            sent = visitor.say("Hello there")
            assert sent["SenderType"] == "Customer" and sent["Text"] == "Hello there"
            welcome = pushed(ws, "Bot")
        assert welcome["Text"].startswith("Welcome!")
        assert welcome["Menu"] == [
            {"Option": 1, "Title": "Sales", "ID": f"department:{departments['Sales']}"},
            {"Option": 2, "Title": "Support", "ID": f"department:{departments['Support']}"},
        ]
        assert "1. Sales" in welcome["Text"] and "2. Support" in welcome["Text"]
        items = visitor.messages()
        assert [(m["SenderType"], m["MessageID"]) for m in items] == [("Customer", sent["MessageID"]),
                                                                     ("Bot", welcome["MessageID"])]
        assert set(items[1]) == {"MessageID", "SenderType", "AgentName", "Text", "File", "Menu", "CreatedAt"}
        assert items[1]["CreatedAt"].endswith("Z")
        chat = chat_of(server, visitor.customer_id)
        assert chat.channel == "WebChat" and chat.status == "Bot"
        wait_until(lambda: delivery_status(server, welcome["MessageID"]) == "Delivered", "welcome delivered")

    def test_own_message_reaches_the_visitors_other_tabs(self, server, visitor, departments):
        with visitor.socket() as other_tab:
            sent = visitor.say("Hi")
            assert pushed(other_tab, "Customer")["MessageID"] == sent["MessageID"]

    def test_visitors_see_only_their_own_conversation(self, server, visitor, departments):
        visitor.say("Mine")
        stranger = new_visitor(server, Name="Sam")
        assert stranger.messages() == []
        assert stranger.messages(after=0) == []


class TestChoosing:
    def test_a_choice_queues_the_chat_in_that_department(self, server, visitor, departments):
        visitor.say("Hello")
        with visitor.socket() as ws:
            menu = visitor.messages()[-1]["Menu"]
            response = visitor.choose(menu[1]["ID"])
            assert response.status_code == 200, response.text
            assert response.json()["Text"] == "Support"
            greeting = pushed(ws, "Bot")
            queued = pushed(ws, "Bot")
        assert greeting["Text"] == "Welcome to Support."
        assert "number 1 in the queue" in queued["Text"]
        chat = chat_of(server, visitor.customer_id)
        assert chat.status == "Unassigned" and chat.department_id == departments["Support"]

    def test_second_visitor_is_number_two(self, server, visitor, departments):
        visitor.say("Hello")
        visitor.choose(f"department:{departments['Sales']}")
        other = new_visitor(server, Name="Otto")
        other.say("Hi")
        other.choose(f"department:{departments['Sales']}")
        assert "number 2 in the queue" in other.messages()[-1]["Text"]

    def test_typing_the_number_works_too(self, server, visitor, departments):
        visitor.say("Hello")
        visitor.say("1")
        chat = chat_of(server, visitor.customer_id)
        assert chat.status == "Unassigned" and chat.department_id == departments["Sales"]

    def test_an_answer_not_on_the_menu_gets_the_menu_again(self, server, visitor, departments):
        visitor.say("Hello")
        with visitor.socket() as ws:
            visitor.say("9")
            again = pushed(ws, "Bot")
        assert again["Text"].startswith("Sorry, that is not one of the options.")
        assert [item["Title"] for item in again["Menu"]] == ["Sales", "Support"]
        assert chat_of(server, visitor.customer_id).status == "Bot"

    @pytest.mark.parametrize("choice", ["department:999999", "Sales", "1"])
    def test_an_unknown_choice_is_refused_and_nothing_stored(self, server, visitor, departments, choice):
        visitor.say("Hello")
        before = message_count(server)
        assert_error(visitor.choose(choice), 422, "unknown_choice", "Choice")
        assert message_count(server) == before
        assert chat_of(server, visitor.customer_id).status == "Bot"

    def test_a_choice_after_queueing_is_409(self, server, visitor, departments):
        visitor.say("Hello")
        assert visitor.choose(f"department:{departments['Sales']}").status_code == 200
        before = message_count(server)
        assert_error(visitor.choose(f"department:{departments['Support']}"), 409, "menu_closed")
        assert message_count(server) == before
        assert chat_of(server, visitor.customer_id).department_id == departments["Sales"]

    def test_a_choice_with_no_open_menu_is_409(self, server, visitor, departments):
        assert_error(visitor.choose(f"department:{departments['Sales']}"), 409, "menu_closed")
        assert message_count(server) == 0


class TestBadMessages:
    @pytest.mark.parametrize("body, status", [
        ({"Text": ""}, 422),
        ({"Text": "   "}, 422),
        ({"Text": "x" * 4097}, 422),
        ({"Text": 5}, 422),
        ({"Text": "a\x00b"}, 422),
        ({}, 422),
        ({"Text": "hi", "Choice": "department:1"}, 422),
        ({"Text": "hi", "Colour": "red"}, 422),
        ({"FileName": "a.txt"}, 422),
        ({"FileContent": "aGk="}, 422),
        ([1, 2], 400),
    ])
    def test_refused_with_nothing_stored(self, server, visitor, departments, body, status):
        assert_error(visitor.post(body), status)
        assert message_count(server) == 0
        assert chat_of(server, visitor.customer_id) is None

    def test_malformed_json_is_400(self, server, visitor):
        response = visitor.http.post("/webchat/messages", content=b'{"Text": ',
                                     headers={"Content-Type": "application/json"})
        assert_error(response, 400, "malformed_request")
        assert message_count(server) == 0

    def test_longest_text_is_taken(self, server, visitor, departments):
        assert visitor.say("x" * 4096)["Text"] == "x" * 4096

    def test_bad_after_is_422(self, server, visitor):
        assert_error(visitor.http.get("/webchat/messages", params={"After": "abc"}), 422)
        assert_error(visitor.http.get("/webchat/messages", params={"After": -1}), 422)


# ---- agents' messages ----------------------------------------------------------------------------------------

class TestAgentMessages:
    def test_pushed_to_the_visitor_sent_then_delivered_when_the_page_acknowledges(self, server, visitor,
                                                                                  departments):
        agent_id = add_agent(server, name="Ann Agent", department_ids=(departments["Sales"],))
        visitor.say("Hello")
        visitor.choose(f"department:{departments['Sales']}")
        with visitor.socket() as ws:
            message_id = agent_writes(server, visitor.customer_id, agent_id, "Hi Vera, how can I help?")
            reply = pushed(ws, "Agent")
            assert reply["MessageID"] == message_id
            assert reply["Text"] == "Hi Vera, how can I help?" and reply["AgentName"] == "Ann Agent"
            assert "AgentID" not in reply
            wait_until(lambda: delivery_status(server, message_id) == "Sent", "agent message sent")
            ws.send(json.dumps({"Type": "Received", "MessageID": message_id}))
            wait_until(lambda: delivery_status(server, message_id) == "Delivered", "agent message delivered")

    def test_while_away_it_is_sent_then_delivered_when_fetched(self, server, visitor, departments):
        agent_id = add_agent(server, name="Ann Agent", department_ids=(departments["Sales"],))
        visitor.say("Hello")
        visitor.choose(f"department:{departments['Sales']}")
        last = visitor.messages()[-1]["MessageID"]
        message_id = agent_writes(server, visitor.customer_id, agent_id, "Are you still there?")
        wait_until(lambda: delivery_status(server, message_id) == "Sent", "agent message sent")
        fetched = visitor.messages(after=last)
        assert [(m["MessageID"], m["AgentName"]) for m in fetched] == [(message_id, "Ann Agent")]
        assert delivery_status(server, message_id) == "Delivered"

    def test_reconnect_catches_up_with_after(self, server, visitor, departments):
        agent_id = add_agent(server, name="Ann Agent", department_ids=(departments["Sales"],))
        with visitor.socket() as ws:
            visitor.say("Hello")
            last = pushed(ws, "Bot")["MessageID"]
        visitor.choose(f"department:{departments['Sales']}")
        agent_writes(server, visitor.customer_id, agent_id, "Back soon")
        with visitor.socket() as ws:
            missed = visitor.messages(after=last)
            assert [(m["SenderType"], m["Text"]) for m in missed] == [
                ("Customer", "Sales"), ("Bot", "Welcome to Sales."),
                ("Bot", "Thank you. You are number 1 in the queue; an agent will be with you shortly."),
                ("Agent", "Back soon")]
            assert visitor.messages(after=missed[-1]["MessageID"]) == []
            # ...and the socket is live again.
            later = agent_writes(server, visitor.customer_id, agent_id, "Here now")
            assert pushed(ws, "Agent")["MessageID"] == later


# ---- read receipts and typing -----------------------------------------------------------------------------

@pytest.fixture
def conversation(server, api, visitor, departments):
    """Ann (Sales) has grabbed Vera's queued chat: (Ann's session token, Ann's AgentID, the ChatID)."""
    agent_id = add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(departments["Sales"],))
    token = api.logon("ann@example.com")
    visitor.say("Hello")
    visitor.choose(f"department:{departments['Sales']}")
    chat_id = chat_of(server, visitor.customer_id).id
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
    return token, agent_id, chat_id


def settle(ws: ClientConnection) -> None:
    """Frames of one socket are handled in order: once a Ping is answered, every earlier frame is done."""
    ws.send(json.dumps({"Type": "Ping"}))
    next_frame(ws, lambda f: f["Type"] == "Pong")


def statuses_until(agent: AgentSocket, event_type: str) -> list[tuple[int, str]]:
    """(MessageID, DeliveryStatus) of each MessageStatusChanged the agent hears before the next `event_type`."""
    seen = []
    while True:
        event = agent.next()
        if event["Type"] == event_type:
            return seen
        if event["Type"] == "MessageStatusChanged":
            seen.append((event["Data"]["MessageID"], event["Data"]["DeliveryStatus"]))


class TestDeliveryRecords:
    def test_a_burst_of_messages_is_each_sent_pushed_and_announced_once(self, server, api, visitor, conversation):
        """Outcomes are written in batches (outbound.DeliveryRecords): none is lost or announced twice."""
        token, _, chat_id = conversation
        with AgentSocket(server, token) as agent, visitor.socket() as ws:
            responses = race(server, [("POST", "SendMessage", token, {"ChatID": chat_id, "Message": f"Line {n}"})
                                      for n in range(12)])
            sent = {api.ok(response)["MessageID"] for response in responses}
            assert len(sent) == 12
            assert {pushed(ws, "Agent")["MessageID"] for _ in range(12)} == sent
            wait_until(lambda: all(delivery_status(server, m) == "Sent" for m in sent), "all sent")
            ws.send(json.dumps({"Type": "Typing"}))
            changes = statuses_until(agent, "CustomerTyping")
        assert sorted(changes) == sorted((message_id, "Sent") for message_id in sent)


class TestReadReceipts:
    def test_received_then_read_and_the_agent_hears_each_change(self, server, api, visitor, conversation):
        token, _, chat_id = conversation
        with AgentSocket(server, token) as agent, visitor.socket() as ws:
            sent = api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Hi Vera!"}))
            message_id = pushed(ws, "Agent")["MessageID"]
            assert message_id == sent["MessageID"]
            assert agent.wait_for("MessageStatusChanged", MessageID=message_id)["Data"]["DeliveryStatus"] == "Sent"
            visitor_acknowledges(ws, agent, message_id=message_id, chat_id=chat_id)
        messages = api.ok(api.get("GetChat", token, params={"ChatID": chat_id}))["Messages"]
        assert next(m for m in messages if m["MessageID"] == message_id)["DeliveryStatus"] == "Read"

    def test_read_covers_every_earlier_message_and_statuses_never_go_back(self, server, api, visitor, conversation):
        token, agent_id, chat_id = conversation
        first = agent_writes(server, visitor.customer_id, agent_id, "One")
        second = agent_writes(server, visitor.customer_id, agent_id, "Two")
        wait_until(lambda: delivery_status(server, second) == "Sent", "both sent")
        with AgentSocket(server, token) as agent, visitor.socket() as ws:
            ws.send(json.dumps({"Type": "Read", "UpTo": second}))
            settle(ws)
            assert (delivery_status(server, first), delivery_status(server, second)) == ("Read", "Read")
            # Late acknowledgements, and the page fetching them again, do not move a Read message back.
            ws.send(json.dumps({"Type": "Received", "MessageID": first}))
            settle(ws)
            visitor.messages()
            ws.send(json.dumps({"Type": "Typing"}))
            changes = statuses_until(agent, "CustomerTyping")
        # Each outbound message up to `second` (the bot's too) became Read exactly once, and nothing else happened.
        assert {(first, "Read"), (second, "Read")} <= set(changes)
        assert {status for _, status in changes} == {"Read"} and len(changes) == len({m for m, _ in changes})
        assert (delivery_status(server, first), delivery_status(server, second)) == ("Read", "Read")
        # The customer's own messages have no delivery status to move.
        own = api.ok(api.get("GetChat", token, params={"ChatID": chat_id}))["Messages"]
        assert {m["DeliveryStatus"] for m in own if m["SenderType"] == "Customer"} != {"Read"}

    def test_fetching_marks_delivered_and_tells_agents(self, server, api, visitor, conversation):
        token, agent_id, _ = conversation
        last = visitor.messages()[-1]["MessageID"]
        message_id = agent_writes(server, visitor.customer_id, agent_id, "Are you there?")
        wait_until(lambda: delivery_status(server, message_id) == "Sent", "sent")
        with AgentSocket(server, token) as agent:
            assert [m["MessageID"] for m in visitor.messages(after=last)] == [message_id]
            event = agent.wait_for("MessageStatusChanged", MessageID=message_id)
        assert event["Data"]["DeliveryStatus"] == "Delivered"

    def test_receipts_for_another_visitors_messages_change_nothing(self, server, api, visitor, conversation):
        _, agent_id, _ = conversation
        message_id = agent_writes(server, visitor.customer_id, agent_id, "For Vera only")
        wait_until(lambda: delivery_status(server, message_id) == "Sent", "sent")
        stranger = new_visitor(server, Name="Sam")
        with stranger.socket() as ws:
            ws.send(json.dumps({"Type": "Received", "MessageID": message_id}))
            ws.send(json.dumps({"Type": "Read", "UpTo": message_id}))
            settle(ws)
        assert delivery_status(server, message_id) == "Sent"

    @pytest.mark.parametrize("frame, field", [
        ({"Type": "Received"}, "MessageID"),
        ({"Type": "Received", "MessageID": "7"}, "MessageID"),
        ({"Type": "Received", "MessageID": True}, "MessageID"),
        ({"Type": "Received", "MessageID": 0}, "MessageID"),
        ({"Type": "Read", "UpTo": 2**40}, "UpTo"),
        ({"Type": "Read", "UpTo": 5, "Extra": 1}, "Extra"),
    ])
    def test_bad_receipts_get_an_error(self, server, visitor, frame, field):
        with visitor.socket() as ws:
            ws.send(json.dumps(frame))
            error = next_frame(ws)
        assert error["Type"] == "Error" and error["Error"]["Field"] == field, error


class TestTyping:
    def test_an_agent_typing_is_shown_to_the_visitor(self, server, api, visitor, conversation):
        token, agent_id, chat_id = conversation
        with AgentSocket(server, token) as agent, visitor.socket() as ws:
            agent.ws.send(json.dumps({"Type": "Typing", "ChatID": chat_id}))
            assert next_frame(ws) == {"Type": "AgentTyping"}
            assert agent.wait_for("AgentTyping")["Data"] == {"ChatID": chat_id, "AgentID": agent_id}

    def test_the_visitor_typing_is_told_to_agents_and_not_stored(self, server, api, visitor, conversation):
        token, _, chat_id = conversation
        before = message_count(server)
        with AgentSocket(server, token) as agent, visitor.socket() as ws:
            ws.send(json.dumps({"Type": "Typing"}))
            event = agent.wait_for("CustomerTyping")
        assert event["Data"] == {"ChatID": chat_id, "CustomerID": visitor.customer_id}
        assert message_count(server) == before

    def test_typing_without_a_chat_is_ignored(self, server, visitor):
        with visitor.socket() as ws:
            ws.send(json.dumps({"Type": "Typing"}))
            ws.send(json.dumps({"Type": "Ping"}))
            assert next_frame(ws) == {"Type": "Pong"}


# ---- the socket as a way in ----------------------------------------------------------------------------------

class TestSocketMessages:
    def test_text_and_choice_over_the_socket(self, server, visitor, departments):
        with visitor.socket() as ws:
            ws.send(json.dumps({"Type": "Message", "Text": "Hello by socket"}))
            assert pushed(ws, "Customer")["Text"] == "Hello by socket"
            menu = pushed(ws, "Bot")["Menu"]
            ws.send(json.dumps({"Type": "Choice", "Choice": menu[0]["ID"]}))
            assert pushed(ws, "Customer")["Text"] == "Sales"
        chat = chat_of(server, visitor.customer_id)
        assert chat.status == "Unassigned" and chat.department_id == departments["Sales"]

    @pytest.mark.parametrize("frame, code", [
        ("not json", "malformed_request"),
        ("[1]", "malformed_request"),
        (json.dumps({"Type": "Shout", "Text": "hi"}), "unknown_type"),
        (json.dumps({"Type": "Message", "Text": ""}), "invalid_field"),
        (json.dumps({"Type": "Message"}), "missing_field"),
        (json.dumps({"Type": "Choice", "Choice": "department:999999"}), "menu_closed"),
        (json.dumps({"Type": "Message", "Text": "x" * 20000}), "too_large"),
    ])
    def test_bad_frames_get_an_error_and_store_nothing(self, server, visitor, departments, frame, code):
        with visitor.socket() as ws:
            ws.send(frame)
            error = next_frame(ws)
            assert error["Type"] == "Error" and error["Error"]["Code"] == code, error
            ws.send(json.dumps({"Type": "Ping"}))
            assert next_frame(ws) == {"Type": "Pong"}
        assert message_count(server) == 0


# ---- files ----------------------------------------------------------------------------------------------------

class TestFiles:
    def test_upload_and_download(self, server, visitor, departments):
        content = b"%PDF-1.4 invoice"
        sent = visitor.post({"FileName": "invoice.pdf", "FileType": "application/pdf", "Text": "My invoice",
                             "FileContent": base64.b64encode(content).decode()})
        assert sent.status_code == 200, sent.text
        file = sent.json()["File"]
        assert file["FileName"] == "invoice.pdf" and file["Size"] == len(content)
        download = visitor.http.get(file["URL"])
        assert download.status_code == 200 and download.content == content
        assert download.headers["content-disposition"].startswith("attachment")
        stranger = new_visitor(server, Name="Sam")
        assert_error(stranger.http.get(file["URL"]), 404, "file_not_found")
        assert_error(httpx.get(server.base_url + file["URL"]), 401)

    def test_bad_base64_is_422(self, server, visitor, departments):
        response = visitor.post({"FileName": "a.txt", "FileContent": "not base64!"})
        assert_error(response, 422, "invalid_file", "FileContent")
        assert message_count(server) == 0

    def test_too_large_is_413(self, server, visitor, departments):
        settings = server.app.state.settings
        saved = settings.max_file_bytes
        settings.max_file_bytes = 10
        try:
            response = visitor.post({"FileName": "a.txt", "FileContent": base64.b64encode(b"x" * 11).decode()})
        finally:
            settings.max_file_bytes = saved
        assert_error(response, 413, "file_too_large")
        assert message_count(server) == 0


# ---- the page -------------------------------------------------------------------------------------------------

class TestPage:
    def test_chat_page_is_served(self, server):
        response = httpx.get(f"{server.base_url}/chat")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "connect-src 'self'" in response.headers["content-security-policy"]
        page = response.text
        assert "/webchat/visitors" in page and "/webchat/ws" in page and 'aria-live="polite"' in page
        assert "<label for=\"text\">" in page


# ---- end to end with the agents' API ---------------------------------------------------------------------------

class TestWithAgentApi:
    def test_visitor_queues_agent_grabs_and_replies(self, server, api, visitor, departments):
        add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(departments["Sales"],))
        agent = api.logon("ann@example.com")
        visitor.say("Hello")
        visitor.choose(f"department:{departments['Sales']}")
        waiting = api.ok(api.get("GetChats", agent, params={"Status": "Unassigned"}))["Items"]
        assert [(c["CustomerID"], c["Channel"], c["DepartmentID"]) for c in waiting] == [
            (visitor.customer_id, "WebChat", departments["Sales"])]
        chat_id = waiting[0]["ChatID"]
        api.ok(api.post("GrabChat", agent, {"ChatID": chat_id}))
        with visitor.socket() as ws:
            sent = api.ok(api.post("SendMessage", agent, {"ChatID": chat_id, "Message": "Hi Vera!"}))
            reply = pushed(ws, "Agent")
            ws.send(json.dumps({"Type": "Received", "MessageID": reply["MessageID"]}))
        assert (reply["MessageID"], reply["Text"], reply["AgentName"]) == (sent["MessageID"], "Hi Vera!", "Ann Agent")

        def delivered():
            messages = api.ok(api.get("GetChat", agent, params={"ChatID": chat_id}))["Messages"]
            return next(m for m in messages if m["MessageID"] == sent["MessageID"])["DeliveryStatus"] == "Delivered"
        wait_until(delivered, "DeliveryStatus Delivered in GetChat")
        visitor.say("Thanks!")
        messages = api.ok(api.get("GetChat", agent, params={"ChatID": chat_id}))["Messages"]
        assert messages[-1]["SenderType"] == "Customer" and messages[-1]["Text"] == "Thanks!"

    def test_after_a_close_the_next_message_starts_a_new_chat(self, server, api, visitor, departments):
        add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(departments["Sales"],))
        agent = api.logon("ann@example.com")
        visitor.say("Hello")
        visitor.choose(f"department:{departments['Sales']}")
        chat_id = chat_of(server, visitor.customer_id).id
        api.ok(api.post("GrabChat", agent, {"ChatID": chat_id}))
        last = visitor.messages()[-1]["MessageID"]
        with visitor.socket() as ws:
            api.ok(api.post("CloseChat", agent, {"ChatID": chat_id}))
            closed = pushed(ws, "System")
        assert closed["Text"] == "This chat has been closed. Thank you for contacting us."
        assert [m["MessageID"] for m in visitor.messages(after=last)] == [closed["MessageID"]]
        visitor.say("One more thing")
        current = visitor.messages()
        assert [(m["SenderType"], m["Text"].split("\n")[0]) for m in current] == [
            ("Customer", "One more thing"), ("Bot", "Welcome back! How can we help you today?")]
        assert chat_of(server, visitor.customer_id).id != chat_id

    def test_an_erased_visitors_token_stops_working(self, server, api, manager, visitor, departments):
        visitor.say("Hello")
        api.ok(api.post("EraseCustomer", manager, {"CustomerID": visitor.customer_id}))
        assert_error(visitor.http.get("/webchat/messages"), 401, "visitor_invalid")
        assert_error(visitor.post({"Text": "Still there?"}), 401, "visitor_invalid")
        with visitor.socket() as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT_SECONDS)
        assert closed.value.rcvd.code == 4401


class TestClosedAndStartedAgain:
    def test_the_visitor_is_told_their_chat_closed_and_a_new_one_starts_before_they_write(self, server, api, visitor,
                                                                                        conversation):
        token, _agent_id, chat_id = conversation
        # While a chat is open, "Start a new chat" carries on with it.
        assert visitor.http.post("/webchat/chats").json() == {"Started": False}
        assert visitor.http.get("/webchat/messages").json()["LastChatClosed"] is False
        with visitor.socket() as ws:
            api.ok(api.post("CloseChat", token, {"ChatID": chat_id}))
            assert next_frame(ws, lambda f: f["Type"] == "ChatClosed") == {"Type": "ChatClosed", "ChatID": chat_id}
        assert visitor.http.get("/webchat/messages").json()["LastChatClosed"] is True
        with visitor.socket() as ws:
            assert visitor.http.post("/webchat/chats").json() == {"Started": True}
            welcome = pushed(ws, "Bot")  # at once, with the menu
        assert welcome["Menu"] and welcome["Text"].startswith("Welcome back")
        new = chat_of(server, visitor.customer_id)
        assert new.id != chat_id and new.status == "Bot"
        assert visitor.http.get("/webchat/messages").json()["LastChatClosed"] is False
        visitor.say("One more thing")  # belongs to the new chat
        assert chat_of(server, visitor.customer_id).id == new.id
