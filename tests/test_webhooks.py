"""Outgoing webhooks: a manager registers a URL, a local HTTP server receives signed deliveries; retries, pausing,
the delivery log, "send test" and redelivery."""

from datetime import timedelta

import pytest
from chat_helpers import agent_with_a_chat
from conftest import add_agent, assert_error
from realtime_helpers import AgentSocket
from sqlalchemy import func, select
from webhook_receiver import Receiver

from agentchat import clock
from agentchat.db import drain_background
from agentchat.integrations.models import WebhookDelivery


@pytest.fixture
def receiver():
    receiver = Receiver().up()
    yield receiver
    receiver.down()


def register(api, token, url, events, **fields):
    return api.ok(api.post("CreateWebhook", token, {"URL": url, "Events": events, **fields}))


def settle(server) -> None:
    """Wait for the work started after the commits (deliveries are sent in the background)."""
    server.run(drain_background())


def deliver_due(server) -> int:
    """The periodic job's pass: deliveries whose retry is due."""
    return server.run(server.app.state.webhooks.deliverer.run())


def deliveries(api, token, webhook_id, **params):
    return api.ok(api.get("GetWebhookDeliveries", token, {"WebhookID": webhook_id, **params}))


def outbox_size(server) -> int:
    async def work(db):
        return (await db.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one()
    return server.with_db(work)


class TestRegister:
    def test_a_manager_registers_a_url_and_gets_its_secret(self, api, manager, receiver):
        body = register(api, manager, receiver.url, ["MessageSent", "ChatClosed"], Description="CRM")
        assert body["Secret"].startswith("whsec_") and len(body["Secret"]) > 40
        assert body["Events"] == ["ChatClosed", "MessageSent"]
        assert (body["Status"], body["URL"], body["Description"]) == ("Active", receiver.url, "CRM")
        listed = api.ok(api.get("GetWebhooks", manager))
        assert [item["WebhookID"] for item in listed["Items"]] == [body["WebhookID"]]
        assert "CsatReceived" in listed["Events"]

    def test_bad_input_is_422_and_registers_nothing(self, api, manager):
        post = lambda body: api.post("CreateWebhook", manager, body)  # noqa: E731
        assert_error(post({"URL": "ftp://example.com/x", "Events": ["MessageSent"]}), 422, field="URL")
        assert_error(post({"URL": "https://user:pw@example.com/x", "Events": ["MessageSent"]}), 422, field="URL")
        assert_error(post({"URL": "https://example.com/" + "x" * 2000, "Events": ["MessageSent"]}), 422, field="URL")
        assert_error(post({"URL": "https://example.com/x", "Events": []}), 422, field="Events")
        assert_error(post({"URL": "https://example.com/x", "Events": ["SomethingElse"]}), 422)
        assert_error(post({"URL": "https://example.com/x"}), 422, "missing_field", "Events")
        assert api.ok(api.get("GetWebhooks", manager))["Items"] == []

    def test_agents_may_not(self, server, api, receiver):
        add_agent(server, name="Ann", email="ann@example.com")
        ann = api.logon("ann@example.com")
        assert_error(api.post("CreateWebhook", ann, {"URL": receiver.url, "Events": ["MessageSent"]}), 403,
                     "manager_only")
        assert_error(api.get("GetWebhooks", ann), 403, "manager_only")
        assert_error(api.get("GetWebhooks", None), 401)

    def test_unknown_webhook_is_404(self, api, manager):
        assert_error(api.post("UpdateWebhook", manager, {"WebhookID": 99, "Status": "Active"}), 404,
                     "webhook_not_found", "WebhookID")
        assert_error(api.delete("DeleteWebhook", manager, {"WebhookID": 99}), 404, "webhook_not_found")


class TestDelivery:
    def test_events_reach_the_receiver_signed(self, server, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["MessageSent", "ChatClosed"])
        alice, chat_id = agent_with_a_chat(server, api)
        sent = api.ok(api.post("SendMessage", alice, {"ChatID": chat_id, "Message": "Hello from Alice"}))
        api.ok(api.post("CloseChat", alice, {"ChatID": chat_id}))
        settle(server)
        got = receiver.wait_for(3)
        # Alice's message, the chat closed, and the closing message to the customer.
        assert sorted((r.json["Type"], r.json["Data"].get("SenderType")) for r in got) == [
            ("ChatClosed", None), ("MessageSent", "Agent"), ("MessageSent", "System")]
        message = next(r for r in got if r.json["Data"].get("SenderType") == "Agent")
        assert message.json["Data"]["MessageID"] == sent["MessageID"]
        assert message.json["Data"]["Text"] == "Hello from Alice"
        assert message.headers["x-agentchat-event"] == "MessageSent"
        assert message.headers["x-agentchat-delivery"] == str(message.json["DeliveryID"])
        assert all(r.signature_valid(hook["Secret"]) for r in got)
        assert not message.signature_valid("whsec_someone-else")
        closed = next(r for r in got if r.json["Type"] == "ChatClosed")
        assert (closed.json["Data"]["ChatID"], closed.json["Data"]["Status"]) == (chat_id, "Closed")
        log = deliveries(api, manager, hook["WebhookID"])
        assert sorted((d["EventType"], d["Status"], d["Attempts"], d["ResponseStatus"]) for d in log["Items"]) == [
            ("ChatClosed", "Delivered", 1, 200)] + [("MessageSent", "Delivered", 1, 200)] * 2

    def test_events_no_endpoint_wants_are_not_stored(self, server, api, manager, receiver):
        register(api, manager, receiver.url, ["CustomerUpdated"])
        alice, chat_id = agent_with_a_chat(server, api)
        api.ok(api.post("SendMessage", alice, {"ChatID": chat_id, "Message": "Hi"}))
        settle(server)
        assert outbox_size(server) == 0 and receiver.received == []

    def test_a_changed_subscription_applies_at_once(self, server, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["CustomerUpdated"])
        alice, chat_id = agent_with_a_chat(server, api)
        api.ok(api.post("UpdateWebhook", manager, {"WebhookID": hook["WebhookID"], "Events": ["MessageSent"]}))
        api.ok(api.post("SendMessage", alice, {"ChatID": chat_id, "Message": "Hi"}))
        settle(server)
        assert [r.json["Type"] for r in receiver.wait_for(1)] == ["MessageSent"]

    def test_a_failed_delivery_is_retried_after_its_backoff(self, server, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        alice, chat_id = agent_with_a_chat(server, api)
        receiver.answer = 503
        api.ok(api.post("CloseChat", alice, {"ChatID": chat_id}))
        settle(server)
        [first] = deliveries(api, manager, hook["WebhookID"])["Items"]
        assert (first["Status"], first["Attempts"], first["ResponseStatus"], first["Error"]) == (
            "Pending", 1, 503, "HTTP 503")
        assert deliver_due(server) == 0  # not due yet
        receiver.answer = 200
        clock.travel(timedelta(minutes=2))
        assert deliver_due(server) == 1
        [after] = deliveries(api, manager, hook["WebhookID"])["Items"]
        assert (after["Status"], after["Attempts"], after["ResponseStatus"]) == ("Delivered", 2, 200)
        assert [r.answered for r in receiver.received] == [503, 200]
        assert receiver.received[0].json == receiver.received[1].json  # the same event, the same DeliveryID

    def test_an_endpoint_that_keeps_failing_is_paused_and_the_managers_told(self, server, api, manager, receiver,
                                                                          mailbox):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        alice, chat_id = agent_with_a_chat(server, api)
        receiver.answer = 500
        with AgentSocket(server, manager) as socket:
            api.ok(api.post("CloseChat", alice, {"ChatID": chat_id}))
            settle(server)
            for _ in range(9):
                clock.travel(timedelta(hours=1, minutes=1))
                deliver_due(server)
            paused = socket.wait_for("WebhookPaused", WebhookID=hook["WebhookID"])
        assert paused["Data"]["Status"] == "Paused" and paused["Data"]["LastError"] == "HTTP 500"
        assert "Secret" not in paused["Data"]
        manager = api.logon("mia@example.com")  # the session idled out while hours went by
        [mail] = mailbox.wait_for("mia@example.com")
        assert receiver.url in mail["Subject"] and "10 failed attempts" in mail.get_content()
        listed = api.ok(api.get("GetWebhooks", manager))["Items"][0]
        assert (listed["Status"], listed["ConsecutiveFailures"]) == ("Paused", 10)
        # Paused: nothing more is sent, however long it waits.
        clock.travel(timedelta(hours=2))
        assert deliver_due(server) == 0 and len(receiver.received) == 10
        # Resumed: what waited goes out at once.
        receiver.answer = 200
        manager = api.logon("mia@example.com")
        api.ok(api.post("UpdateWebhook", manager, {"WebhookID": hook["WebhookID"], "Status": "Active"}))
        settle(server)
        assert receiver.wait_for(1)[0].json["Type"] == "ChatClosed"
        assert api.ok(api.get("GetWebhooks", manager))["Items"][0]["Status"] == "Active"

    def test_a_deleted_endpoint_gets_nothing_more(self, server, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        alice, chat_id = agent_with_a_chat(server, api)
        body = api.ok(api.delete("DeleteWebhook", manager, {"WebhookID": hook["WebhookID"]}))
        assert body == {"Deleted": True, "WebhookID": hook["WebhookID"]}
        api.ok(api.post("CloseChat", alice, {"ChatID": chat_id}))
        settle(server)
        assert receiver.received == [] and outbox_size(server) == 0


class TestSendTest:
    def test_sends_a_signed_test_event_and_answers_with_the_outcome(self, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        result = api.ok(api.post("TestWebhook", manager, {"WebhookID": hook["WebhookID"]}))
        assert (result["EventType"], result["Status"], result["ResponseStatus"]) == ("WebhookTest", "Delivered", 200)
        [got] = receiver.received
        assert got.json["Type"] == "WebhookTest" and got.signature_valid(hook["Secret"])

    def test_a_receiver_that_is_down_is_reported(self, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        receiver.down()
        result = api.ok(api.post("TestWebhook", manager, {"WebhookID": hook["WebhookID"]}))
        assert result["Status"] == "Failed" and result["Error"].startswith("ConnectError")
        # A test does not count towards pausing the endpoint.
        assert api.ok(api.get("GetWebhooks", manager))["Items"][0]["ConsecutiveFailures"] == 0

    def test_redeliver_sends_a_delivery_again(self, server, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        result = api.ok(api.post("TestWebhook", manager, {"WebhookID": hook["WebhookID"]}))
        again = api.ok(api.post("RedeliverWebhook", manager, {"DeliveryID": result["DeliveryID"]}))
        assert again["Status"] == "Pending"
        settle(server)
        assert [r.json["DeliveryID"] for r in receiver.wait_for(2)] == [result["DeliveryID"]] * 2
        assert_error(api.post("RedeliverWebhook", manager, {"DeliveryID": 999}), 404, "delivery_not_found")

    def test_rotating_the_secret_signs_with_the_new_one(self, api, manager, receiver):
        hook = register(api, manager, receiver.url, ["ChatClosed"])
        rotated = api.ok(api.post("RotateWebhookSecret", manager, {"WebhookID": hook["WebhookID"]}))
        assert rotated["Secret"] != hook["Secret"]
        api.ok(api.post("TestWebhook", manager, {"WebhookID": hook["WebhookID"]}))
        [got] = receiver.received
        assert got.signature_valid(rotated["Secret"]) and not got.signature_valid(hook["Secret"])
