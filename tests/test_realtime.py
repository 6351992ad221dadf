"""The agent WebSocket: authentication, audiences, catch-up after a reconnect."""

import pytest
from conftest import add_agent
from realtime_helpers import AgentSocket
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from agentchat.db import commit_and_publish
from agentchat.events import Event, emit


def publish(server, *events: Event) -> None:
    async def work(db):
        for event in events:
            emit(db, event)
        await commit_and_publish(db)
    server.with_db(work)


class TestAgentSocketAuth:
    def test_a_bad_token_is_refused_with_4401(self, server):
        url = server.base_url.replace("http://", "ws://") + "/ws?SessionToken=" + "0" * 32
        with pytest.raises((ConnectionClosed, InvalidStatus)) as refused, connect(url, open_timeout=5) as ws:
            ws.recv(timeout=5)
        if isinstance(refused.value, ConnectionClosed):
            assert refused.value.rcvd.code == 4401

    def test_connected_tells_the_last_event_id(self, server, api, manager):
        publish(server, Event("Test", {"N": 1}, everyone=True))
        with AgentSocket(server, manager) as socket:
            assert socket.connected["Data"]["LastEventID"] >= 1


class TestAudience:
    def test_events_reach_exactly_the_agents_allowed_to_see_them(self, server, api, manager):
        sales = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales"}))["DepartmentID"]
        support = api.ok(api.post("CreateDepartment", manager, {"Name": "Support"}))["DepartmentID"]
        add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sipho", department_ids=(support,))
        with AgentSocket(server, manager) as boss, AgentSocket(server, api.logon("sally@example.com")) as sally, \
                AgentSocket(server, api.logon("sipho@example.com")) as sipho:
            publish(server, Event("ChatQueued", {"ChatID": 7}, department_ids=(sales,)))
            assert boss.wait_for("ChatQueued")["Data"] == {"ChatID": 7}
            assert sally.wait_for("ChatQueued")["Data"] == {"ChatID": 7}
            assert [e["Type"] for e in sipho.drain()] == []

    def test_an_event_naming_an_agent_reaches_that_agent(self, server, api, manager):
        sam = add_agent(server, name="Sam")
        add_agent(server, name="Sue")
        with AgentSocket(server, api.logon("sam@example.com")) as sam_socket, \
                AgentSocket(server, api.logon("sue@example.com")) as sue_socket:
            publish(server, Event("ChatAssigned", {"ChatID": 1}, agent_ids=(sam,)))
            event = sam_socket.wait_for("ChatAssigned")
            assert set(event) == {"EventID", "Type", "At", "Data"}
            assert sue_socket.drain() == []


class TestCatchUp:
    def test_a_reconnecting_client_receives_what_it_missed_in_order(self, server, api, manager):
        with AgentSocket(server, manager) as socket:
            publish(server, Event("First", {}, everyone=True))
            last = socket.wait_for("First")["EventID"]
        publish(server, Event("Second", {}, everyone=True), Event("Third", {}, everyone=True))
        with AgentSocket(server, manager, last_event_id=last) as socket:
            missed = socket.drain()
            assert [e["Type"] for e in missed] == ["Second", "Third"]
            assert [e["EventID"] for e in missed] == [last + 1, last + 2]

    def test_a_client_too_far_behind_is_told_to_resync(self, server, api, manager):
        broker = server.app.state.broker
        retained = getattr(broker, "_recent", None)
        if retained is None:
            pytest.skip("retention window test is for the memory broker")
        publish(server, *[Event("Filler", {}, everyone=True) for _ in range(retained.maxlen + 5)])
        with AgentSocket(server, manager, last_event_id=1) as socket:
            assert socket.next()["Type"] == "ResyncRequired"


class TestPresence:
    def test_status_changes_are_events_for_everyone(self, server, api, manager):
        sam = add_agent(server, name="Sam")
        sam_token = api.logon("sam@example.com")
        with AgentSocket(server, manager) as boss:
            api.ok(api.post("UpdateAgent", sam_token, {"AgentID": sam, "StatusID": 3}))
            event = boss.wait_for("AgentStatusChanged")
            assert event["Data"] == {"AgentID": sam, "StatusID": 3}
            api.ok(api.get("AgentLogoff", sam_token))
            assert boss.wait_for("AgentStatusChanged")["Data"] == {"AgentID": sam, "StatusID": 1}

    def test_an_agent_whose_session_expires_goes_offline(self, server, api, manager):
        from datetime import timedelta

        from agentchat import clock
        from agentchat.jobs import sweep_presence

        sam = add_agent(server, name="Sam")
        api.logon("sam@example.com")
        clock.travel(timedelta(minutes=server.settings.session_idle_minutes + 1))
        manager = api.logon("mia@example.com")
        with AgentSocket(server, manager) as boss:
            server.run(sweep_presence(server.app))
            assert boss.wait_for("AgentStatusChanged")["Data"] == {"AgentID": sam, "StatusID": 1}
        agents = api.ok(api.get("GetAgents", manager, {"StatusID": 1}))["Items"]
        assert [a["AgentID"] for a in agents] == [sam]

    def test_logging_off_closes_that_sessions_socket(self, server, api, manager):
        add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        with AgentSocket(server, token) as socket:
            api.ok(api.get("AgentLogoff", token))
            with pytest.raises(ConnectionClosed) as closed:
                socket.drain(quiet=2)
            assert closed.value.rcvd.code == 4401


def customer_says(server, customer_id: int, *, text: str | None = None, choice_id: str | None = None) -> int:
    """An inbound WhatsApp message through the bot, committed and published as a channel does."""
    from agentchat.bot import service as bot

    async def work():
        async with server.app.state.sessionmaker() as db:
            message = await bot.receive_message(db, bot.Inbound(channel="WhatsApp", customer_id=customer_id,
                                                                text=text, choice_id=choice_id))
            await commit_and_publish(db)
            return message.chat_id
    return server.run(work())


def new_customer(server, phone: str) -> int:
    from agentchat.customers import service as customers

    async def work(db):
        customer = await customers.customer_by_phone(db, phone_number=phone, profile_name="Thandi")
        await db.flush()
        return customer.id
    return server.with_db(work)


class TestChatEvents:
    """Every chat action produces its event, heard by the chat's department, its agent and managers only."""

    def test_the_life_of_a_chat_as_heard_on_the_sockets(self, server, api, manager):
        sales = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                              "MenuOption": 1}))["DepartmentID"]
        support = api.ok(api.post("CreateDepartment", manager, {"Name": "Support"}))["DepartmentID"]
        sally_id = add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sipho", department_ids=(support,))
        sally_token, sipho_token = api.logon("sally@example.com"), api.logon("sipho@example.com")
        customer = new_customer(server, "27820000009")
        with AgentSocket(server, manager) as boss, AgentSocket(server, sally_token) as sally, \
                AgentSocket(server, sipho_token) as sipho:
            chat_id = customer_says(server, customer, text="Hello")
            # While the customer is still in the bot's menu, only managers hear of the chat.
            assert boss.wait_for("ChatCreated")["Data"]["ChatID"] == chat_id
            assert boss.wait_for("MessageReceived")["Data"]["Text"] == "Hello"
            customer_says(server, customer, text="1")
            queued = sally.wait_for("ChatQueued")["Data"]
            assert (queued["ChatID"], queued["Status"], queued["DepartmentID"]) == (chat_id, "Unassigned", sales)

            api.ok(api.post("GrabChat", sally_token, {"ChatID": chat_id}))
            grabbed = boss.wait_for("ChatGrabbed")["Data"]
            assert (grabbed["AgentID"], grabbed["ActorAgentID"]) == (sally_id, sally_id)

            api.ok(api.post("SendMessage", sally_token, {"ChatID": chat_id, "Message": "How can I help?"}))
            sent = sally.wait_for("MessageSent", SenderType="Agent")["Data"]
            assert (sent["Text"], sent["AgentID"], sent["SenderType"]) == ("How can I help?", sally_id, "Agent")
            status = sally.wait_for("MessageStatusChanged", MessageID=sent["MessageID"])["Data"]
            assert status["DeliveryStatus"] == "Sent"

            api.ok(api.post("CloseChat", sally_token, {"ChatID": chat_id}))
            assert boss.wait_for("ChatClosed")["Data"]["Status"] == "Closed"
            assert sally.wait_for("ChatClosed")["Data"]["ChatID"] == chat_id
            assert not [e for e in sipho.drain() if "ChatID" in e["Data"]]

    def test_a_transfer_reaches_the_new_department(self, server, api, manager):
        sales = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                              "MenuOption": 1}))["DepartmentID"]
        support = api.ok(api.post("CreateDepartment", manager, {"Name": "Support"}))["DepartmentID"]
        add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sipho", department_ids=(support,))
        sally_token, sipho_token = api.logon("sally@example.com"), api.logon("sipho@example.com")
        customer = new_customer(server, "27820000010")
        chat_id = customer_says(server, customer, text="Hello")
        customer_says(server, customer, text="1")
        api.ok(api.post("GrabChat", sally_token, {"ChatID": chat_id}))
        with AgentSocket(server, sipho_token) as sipho:
            api.ok(api.post("TransferChatToDepartment", sally_token, {"ChatID": chat_id, "DepartmentID": support}))
            moved = sipho.wait_for("ChatTransferred")["Data"]
            assert (moved["Status"], moved["DepartmentID"], moved["AgentID"]) == ("Unassigned", support, None)
