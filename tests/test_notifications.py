"""Notifications (UnassignedChatsWaiting, queue positions), typing indicators, ChatTagged and CustomerUpdated."""

import asyncio
import json
from datetime import timedelta

import pytest
from chat_helpers import add_department, add_tag, queued_chat
from conftest import add_agent
from realtime_helpers import AgentSocket
from sqlalchemy import select

from agentchat import clock
from agentchat.chats.models import SENDER_BOT, Message
from agentchat.db import drain_background
from agentchat.jobs import notify_waiting_chats, tell_queue_positions

WAITING = "UnassignedChatsWaiting"


def run_job(server, job) -> None:
    server.run(job(server.app))
    server.run(drain_background())


def opt_in(api, manager, agent_id: int) -> None:
    api.ok(api.post("UpdateAgent", manager, {"AgentID": agent_id, "Notifications": [WAITING]}))


@pytest.fixture
def sales(server) -> int:
    return add_department(server, "Sales", menu_option=1)


class TestUnassignedChatsWaiting:
    def test_agents_who_asked_hear_once_by_event_and_mail(self, server, api, manager, mailbox, sales):
        support = add_department(server, "Support", menu_option=2)
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sam", department_ids=(sales,))
        sipho = add_agent(server, name="Sipho", department_ids=(support,))
        for agent in (sally, sipho):
            opt_in(api, manager, agent)
        chat = queued_chat(server, sales).chat_id
        run_job(server, notify_waiting_chats)
        assert mailbox.to("sally@example.com") == []

        clock.travel(timedelta(minutes=5, seconds=1))
        tokens = [api.logon(f"{name}@example.com") for name in ("sally", "sam", "sipho")]
        with AgentSocket(server, tokens[0]) as sally_socket, AgentSocket(server, tokens[1]) as sam_socket, \
                AgentSocket(server, tokens[2]) as sipho_socket, AgentSocket(server, manager) as boss:
            run_job(server, notify_waiting_chats)
            event = sally_socket.wait_for(WAITING)["Data"]
            assert (event["AgentID"], event["Minutes"]) == (sally, 5)
            assert [(c["ChatID"], c["DepartmentID"]) for c in event["Chats"]] == [(chat, sales)]
            # Only the agents who asked: not Sam, not another department's Sipho, not a manager who did not.
            for other in (sam_socket, sipho_socket, boss):
                assert WAITING not in [e["Type"] for e in other.drain()]
            mail = mailbox.wait_for("sally@example.com")[0]
            assert "1 chat waiting unassigned for over 5 minutes" in mail["Subject"]
            assert f"chat {chat} in Sales" in mail.get_content()

            clock.travel(timedelta(minutes=10))
            run_job(server, notify_waiting_chats)
            assert WAITING not in [e["Type"] for e in sally_socket.drain()]
        assert len(mailbox.to("sally@example.com")) == 1
        assert mailbox.to("sam@example.com") == mailbox.to("sipho@example.com") == []

    def test_the_threshold_is_the_setting(self, server, api, manager, mailbox, sales):
        opt_in(api, manager, add_agent(server, name="Sally", department_ids=(sales,)))
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"UnassignedChatsWaitingMinutes": 30}]}))
        queued_chat(server, sales)
        clock.travel(timedelta(minutes=29))
        run_job(server, notify_waiting_chats)
        assert mailbox.to("sally@example.com") == []
        clock.travel(timedelta(minutes=2))
        run_job(server, notify_waiting_chats)
        assert len(mailbox.wait_for("sally@example.com")) == 1

    def test_grabbed_chats_are_not_notified(self, server, api, manager, mailbox, sales):
        opt_in(api, manager, add_agent(server, name="Sally", department_ids=(sales,)))
        chat = queued_chat(server, sales).chat_id
        api.ok(api.post("GrabChat", api.logon("sally@example.com"), {"ChatID": chat}))
        clock.travel(timedelta(minutes=6))
        run_job(server, notify_waiting_chats)
        assert mailbox.to("sally@example.com") == []

    def test_a_chat_queued_again_is_notified_again(self, server, api, manager, mailbox, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        opt_in(api, manager, sally)
        chat = queued_chat(server, sales).chat_id
        clock.travel(timedelta(minutes=6))
        run_job(server, notify_waiting_chats)
        mailbox.wait_for("sally@example.com")
        token = api.logon("sally@example.com")
        api.ok(api.post("GrabChat", token, {"ChatID": chat}))
        support = add_department(server, "Support", menu_option=2)
        api.ok(api.post("TransferChatToDepartment", token, {"ChatID": chat, "DepartmentID": support}))
        api.ok(api.post("UpdateAgent", manager, {"AgentID": sally, "DepartmentIDs": [sales, support]}))
        clock.travel(timedelta(minutes=6))
        run_job(server, notify_waiting_chats)
        assert len(mailbox.wait_for("sally@example.com", count=2)) == 2

    def test_instances_running_the_job_at_once_notify_once(self, server, api, manager, mailbox, sales):
        opt_in(api, manager, add_agent(server, name="Sally", department_ids=(sales,)))
        for n in range(3):
            queued_chat(server, sales, phone=f"2782000000{n}")
        clock.travel(timedelta(minutes=6))

        async def at_once():
            await asyncio.gather(*[notify_waiting_chats(server.app) for _ in range(5)])
            await drain_background()
        server.run(at_once())
        mails = mailbox.wait_for("sally@example.com")
        assert len(mails) == 1 and "3 chats waiting" in mails[0]["Subject"]


def bot_texts(server, chat_id: int) -> list[str]:
    async def work(db):
        query = select(Message.text).where(Message.chat_id == chat_id, Message.sender_type == SENDER_BOT)
        return list((await db.execute(query.order_by(Message.id))).scalars())
    return server.with_db(work)


class TestQueuePosition:
    def test_a_customer_hears_a_new_place_at_most_once_a_minute(self, server, api, manager, sales):
        add_agent(server, name="Sally", department_ids=(sales,))
        token = api.logon("sally@example.com")
        first, second, third = (queued_chat(server, sales, phone=f"2782000000{n}").chat_id for n in range(3))
        assert "number 3 in the queue" in bot_texts(server, third)[-1]
        api.ok(api.post("GrabChat", token, {"ChatID": first}))
        run_job(server, tell_queue_positions)
        # Told its place a moment ago (when queued): the news waits for the minute to pass.
        assert "number 3 in the queue" in bot_texts(server, third)[-1]
        clock.travel(timedelta(seconds=61))
        run_job(server, tell_queue_positions)
        assert bot_texts(server, second)[-1] == "You are now number 1 in the queue; an agent will be with you shortly."
        assert bot_texts(server, third)[-1].startswith("You are now number 2 in the queue")
        api.ok(api.post("GrabChat", token, {"ChatID": second}))
        run_job(server, tell_queue_positions)
        assert bot_texts(server, third)[-1].startswith("You are now number 2 in the queue")
        clock.travel(timedelta(seconds=61))
        run_job(server, tell_queue_positions)
        run_job(server, tell_queue_positions)
        texts = bot_texts(server, third)
        assert texts[-1].startswith("You are now number 1 in the queue")
        assert sum("You are now" in text for text in texts) == 2


class TestTyping:
    def test_an_agent_typing_is_relayed_to_those_who_see_the_chat(self, server, api, manager, sales):
        support = add_department(server, "Support", menu_option=2)
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sam", department_ids=(sales,))
        add_agent(server, name="Sipho", department_ids=(support,))
        chat = queued_chat(server, sales).chat_id
        tokens = [api.logon(f"{name}@example.com") for name in ("sally", "sam", "sipho")]
        with AgentSocket(server, tokens[0]) as sally_socket, AgentSocket(server, tokens[1]) as sam_socket, \
                AgentSocket(server, tokens[2]) as sipho_socket, AgentSocket(server, manager) as boss:
            sally_socket.ws.send(json.dumps({"Type": "Typing", "ChatID": chat}))
            assert sam_socket.wait_for("AgentTyping")["Data"] == {"ChatID": chat, "AgentID": sally}
            assert boss.wait_for("AgentTyping")["Data"]["ChatID"] == chat
            assert "AgentTyping" not in [e["Type"] for e in sipho_socket.drain()]
            # A chat Sipho may not see, and nonsense: ignored, and the socket stays open.
            for frame in (json.dumps({"Type": "Typing", "ChatID": chat}), '{"Type":"Typing","ChatID":"x"}',
                          '{"Type":"Typing"}', '[1]'):
                sipho_socket.ws.send(frame)
            sipho_socket.ws.send('{"Type":"Ping"}')
            assert sipho_socket.wait_for("Pong")["Type"] == "Pong"
            assert "AgentTyping" not in [e["Type"] for e in sam_socket.drain()]


class TestChatAndCustomerEvents:
    def test_tagging_a_chat_is_heard_by_its_department_only(self, server, api, manager, sales):
        support = add_department(server, "Support", menu_option=2)
        tag = add_tag(server, "Billing")
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sipho", department_ids=(support,))
        chat = queued_chat(server, sales).chat_id
        sally_token, sipho_token = api.logon("sally@example.com"), api.logon("sipho@example.com")
        with AgentSocket(server, sally_token) as sally_socket, AgentSocket(server, sipho_token) as sipho_socket, \
                AgentSocket(server, manager) as boss:
            api.ok(api.post("AddTag", sally_token, {"ChatID": chat, "TagID": tag}))
            event = sally_socket.wait_for("ChatTagged")["Data"]
            assert event == {"ChatID": chat, "TagIDs": [tag], "ActorAgentID": sally}
            assert boss.wait_for("ChatTagged")["Data"]["TagIDs"] == [tag]
            api.ok(api.post("RemoveTag", sally_token, {"ChatID": chat, "TagID": tag}))
            assert sally_socket.wait_for("ChatTagged")["Data"]["TagIDs"] == []
            assert "ChatTagged" not in [e["Type"] for e in sipho_socket.drain()]

    def test_updating_a_customer_is_heard_by_those_who_see_the_active_chat(self, server, api, manager, sales):
        support = add_department(server, "Support", menu_option=2)
        add_agent(server, name="Sally", department_ids=(sales,))
        add_agent(server, name="Sipho", department_ids=(support,))
        customer = queued_chat(server, sales).customer_id
        sally_token, sipho_token = api.logon("sally@example.com"), api.logon("sipho@example.com")
        with AgentSocket(server, sally_token) as sally_socket, AgentSocket(server, sipho_token) as sipho_socket, \
                AgentSocket(server, manager) as boss:
            api.ok(api.post("UpdateCustomer", sally_token, {"CustomerID": customer, "Name": "Thandi N."}))
            event = sally_socket.wait_for("CustomerUpdated")["Data"]
            assert (event["CustomerID"], event["Name"]) == (customer, "Thandi N.")
            assert boss.wait_for("CustomerUpdated")["Data"]["Name"] == "Thandi N."
            api.ok(api.post("AddComment", sally_token, {"CustomerID": customer, "Comment": "Prefers e-mail"}))
            comments = sally_socket.wait_for("CustomerUpdated")["Data"]["Comments"]
            assert comments[-1]["Text"] == "Prefers e-mail"
            assert "CustomerUpdated" not in [e["Type"] for e in sipho_socket.drain()]
