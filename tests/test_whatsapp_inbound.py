"""WhatsApp payload shapes beyond text and media: number changes, users known only by a business-scoped user id,
statuses that come before the send's answer, and structured content (orders, Flow answers, ads, replies,
reactions, locations, contact cards, unsupported messages). Each is fed through the signed webhook (fixtures in
tests/fixtures/whatsapp, sources in SOURCES.md) against the Graph API stand-in."""
# ruff: noqa: F811 (the fixtures departments and greeted come from test_whatsapp)

import csv
import io
import os
import secrets

import pytest
import redis.asyncio as redis
from conftest import add_agent, error_code
from realtime_helpers import AgentSocket
from sqlalchemy import select
from test_whatsapp import (  # noqa: F401 (departments and greeted are fixtures)
    WA_ID,
    chat_of,
    count,
    customer,
    departments,
    greeted,
    message,
    messages,
    new_wamid,
    payload,
    post_webhook,
    rows,
    send_text,
)

from agentchat import clock
from agentchat.channels.whatsapp import store
from agentchat.channels.whatsapp.statuses import EarlyStatuses
from agentchat.chats.models import BOT, READ, SENDER_CUSTOMER, SENDER_SYSTEM, Message
from agentchat.customers.models import Customer
from agentchat.db import drain_background

NEW_WA_ID = "27829876543"
BSUID = "US.13491208655302741918"
PARENT_BSUID = "US.ENT.11815799212886844830"
REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def webhook(server, fixture: str, **values) -> None:
    defaults = dict(new_wa_id=NEW_WA_ID, user_id=BSUID, parent_user_id=PARENT_BSUID, username="thandi.n",
                    file_size="0")
    response = post_webhook(server, payload(fixture, **{**defaults, **values}))
    assert response.status_code == 200, response.text


def handled(server, api, departments) -> tuple[int, str]:
    """The customer chose Sales; Sam grabbed the chat."""
    send_text(server, "1")
    chat_id = chat_of(server).id
    add_agent(server, name="Sam", email="sam@example.com", department_ids=(departments["Sales"],))
    token = api.logon("sam@example.com")
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
    return chat_id, token


def shown(api, token, chat_id: int, message_id: int) -> dict:
    chat = api.ok(api.get("GetChat", token, {"ChatID": chat_id}))
    return next(m for m in chat["Messages"] if m["MessageID"] == message_id)


# ---- a changed number, a changed identity -------------------------------------------------------------------

class TestSystemNotices:
    def test_a_changed_number_moves_the_customer_and_their_chat_to_it(self, server, api, graph_api, greeted):
        chat_id, token = handled(server, api, greeted)
        before = customer(server).id
        sent_before = len(graph_api.sent())
        webhook(server, "system_user_changed_number.json")

        moved = customer(server, NEW_WA_ID)
        assert moved.id == before and rows(server, select(Customer.id).where(Customer.phone_number == WA_ID)) == []
        line = messages(server, NEW_WA_ID)[-1]
        assert line.sender_type == SENDER_SYSTEM and line.delivery_status is None
        assert line.text == f"The customer changed their WhatsApp number from +{WA_ID} to +{NEW_WA_ID}."
        assert len(graph_api.sent()) == sent_before  # nothing sent to the customer about it

        api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Noted, thanks"}))
        server.run(drain_background())
        assert graph_api.sent(NEW_WA_ID)[-1]["text"]["body"] == "Noted, thanks"

        send_text(server, "Writing from my new phone", wa_id=NEW_WA_ID)
        assert count(server, Customer) == 1
        assert chat_of(server, NEW_WA_ID).id == chat_id
        assert messages(server, NEW_WA_ID)[-1].text == "Writing from my new phone"

    def test_a_changed_identity_is_a_line_for_the_agents_and_the_bot_says_nothing(self, server, graph_api, greeted):
        sent_before = len(graph_api.sent())
        webhook(server, "system_customer_identity_changed.json")
        line = messages(server)[-1]
        assert line.sender_type == SENDER_SYSTEM and "identity changed" in line.text
        assert chat_of(server).status == BOT
        assert len(graph_api.sent()) == sent_before

    def test_a_notice_delivered_twice_is_one_line(self, server, greeted):
        wamid = new_wamid()
        webhook(server, "system_customer_identity_changed.json", wamid=wamid)
        webhook(server, "system_customer_identity_changed.json", wamid=wamid)
        assert [m.sender_type for m in messages(server)].count(SENDER_SYSTEM) == 1


# ---- business-scoped user ids and usernames ----------------------------------------------------------------

class TestBusinessScopedUsers:
    def test_a_user_without_a_number_is_a_customer_answered_by_their_bsuid(self, server, api, manager, graph_api,
                                                                         departments):
        webhook(server, "bsuid_text.json", body="Hi, I saw your ad", name="Thandi")
        found = rows(server, select(Customer).where(Customer.whatsapp_user_id == BSUID))
        assert len(found) == 1
        known = found[0]
        assert known.phone_number is None and known.whatsapp_username == "thandi.n"
        assert known.whatsapp_parent_user_id == PARENT_BSUID and known.name == "Thandi"

        menu = graph_api.wait_for(lambda s: [b for b in s.sent() if b.get("recipient") == BSUID])[0]
        assert "to" not in menu and menu["type"] == "interactive"

        page = api.ok(api.get("SearchCustomer", manager, {"Search": "thandi.N"}))
        assert [c["CustomerID"] for c in page["Items"]] == [known.id]
        assert page["Items"][0]["WhatsAppUsername"] == "thandi.n" and page["Items"][0]["PhoneNumber"] is None

    def test_a_user_later_seen_with_both_is_one_customer(self, server, graph_api, departments):
        webhook(server, "bsuid_text.json", body="Hi")
        webhook(server, "bsuid_with_phone_text.json", body="1")
        assert count(server, Customer) == 1
        both = customer(server)
        assert both.whatsapp_user_id == BSUID
        said = [m.text for m in messages(server) if m.sender_type == SENDER_CUSTOMER]
        assert said == ["Hi", "1"]
        assert graph_api.sent(WA_ID)  # answered at the number now that it is known

    def test_a_known_number_gains_its_bsuid(self, server, greeted):
        webhook(server, "bsuid_with_phone_text.json", body="Still me")
        assert count(server, Customer) == 1 and customer(server).whatsapp_user_id == BSUID

    def test_erasing_the_customer_blanks_their_whatsapp_ids_and_drops_a_file_on_its_way(self, server, api, manager,
                                                                                       graph_api, departments):
        webhook(server, "bsuid_with_phone_text.json", body="Hi")
        media_id = graph_api.add_media(b"\x89PNG" + secrets.token_bytes(64), "image/png")
        graph_api.stalled.set()
        response = post_webhook(server, payload("image.json", media_id=media_id), drain=False)
        assert response.status_code == 200
        erased_id = customer(server).id
        api.ok(api.post("EraseCustomer", manager, {"CustomerID": erased_id}))
        graph_api.stalled.clear()
        server.run(server.app.state.whatsapp_media.drain())
        gone = rows(server, select(Customer).where(Customer.id == erased_id))[0]
        assert (gone.whatsapp_user_id, gone.whatsapp_username, gone.whatsapp_parent_user_id) == (None, None, None)
        assert all(m.file_key is None and m.media_status is None
                   for m in rows(server, select(Message).where(Message.sender_type == SENDER_CUSTOMER)))

    def test_a_message_with_neither_number_nor_bsuid_is_skipped(self, server, departments):
        body = payload("text.json").replace(f'"from": "{WA_ID}", '.encode(), b"")
        assert post_webhook(server, body).status_code == 200
        assert count(server, Message) == 0


# ---- statuses before the send's answer ---------------------------------------------------------------------

class TestEarlyStatuses:
    def test_delivered_before_the_answer_applies_when_the_send_returns(self, server, api, graph_api, greeted):
        chat_id, token = handled(server, api, greeted)
        graph_api.holding.set()
        try:
            reply = api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "On its way"}))
            wamid = graph_api.wait_for(lambda s: s.held and s.held[-1])
            for kind in ("sent", "delivered"):
                assert post_webhook(server, payload(f"status_{kind}.json", wamid=wamid), drain=False).status_code \
                    == 200
            assert message(server, reply["MessageID"]).delivery_status == "Pending"
        finally:
            graph_api.holding.clear()
        server.run(drain_background())
        stored = message(server, reply["MessageID"])
        assert (stored.external_id, stored.delivery_status) == (wamid, "Delivered")

    def test_kept_in_redis_one_instance_finds_what_another_received(self, server):
        prefix = f"agentchat_test_{secrets.token_hex(8)}"

        async def scenario():
            clients = [redis.from_url(REDIS_URL) for _ in range(2)]
            try:
                one, two = (EarlyStatuses(client, prefix) for client in clients)
                await one.keep("wamid.A", "delivered", None)
                await one.keep("wamid.A", "sent", None)
                return sorted(await two.take("wamid.A")), await two.take("wamid.A"), await one.take("wamid.B")
            finally:
                for client in clients:
                    await client.aclose()

        found, again, other = server.run(scenario())
        assert found == [("delivered", None), ("sent", None)]
        assert again == [] and other == []

    def test_what_another_instance_received_applies_when_this_one_records_the_send(self, server, api, graph_api,
                                                                                 greeted):
        chat_id, token = handled(server, api, greeted)
        reply = api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Hello"}))
        server.run(drain_background())
        wamid = message(server, reply["MessageID"]).external_id
        prefix = f"agentchat_test_{secrets.token_hex(8)}"

        async def two_instances():
            clients = [redis.from_url(REDIS_URL) for _ in range(2)]
            try:
                webhook_side, sending_side = (EarlyStatuses(client, prefix) for client in clients)
                await webhook_side.keep(wamid, READ, None)
                await store.apply_early(server.app.state.sessionmaker, sending_side, wamid)
            finally:
                for client in clients:
                    await client.aclose()

        server.run(two_instances())
        assert message(server, reply["MessageID"]).delivery_status == "Read"


# ---- structured content --------------------------------------------------------------------------------------

class TestStructuredContent:
    def test_an_order_keeps_its_items_and_total(self, server, api, manager, departments):
        webhook(server, "order.json", body="Please deliver after 5")
        stored = messages(server)[0]
        assert stored.text == ("Order: 2 × SKU-RED-SHOE at 49.99 USD; 1 × SKU-SOCKS at 5.5 USD. Total 105.48 USD. "
                               "Note: Please deliver after 5")
        content = shown(api, manager, stored.chat_id, stored.id)["Content"]
        assert content["Type"] == "Order" and content["Total"] == "105.48" and content["Currency"] == "USD"
        assert content["Items"][0] == {"ProductRetailerID": "SKU-RED-SHOE", "Quantity": 2, "ItemPrice": "49.99",
                                       "Currency": "USD"}
        assert "WhatsApp does not pass" not in stored.text

    def test_a_flow_reply_shows_the_answers(self, server, api, manager, greeted):
        menu = messages(server)[1]
        webhook(server, "flow_reply.json", context_id=menu.external_id)
        stored = [m for m in messages(server) if m.sender_type == SENDER_CUSTOMER][-1]
        out = shown(api, manager, stored.chat_id, stored.id)
        assert out["Content"]["Type"] == "FlowReply"
        assert out["Content"]["Answers"] == {"comment_text": "Comment Text", "delivery_rating": "4",
                                             "purchase_rating": "2"}
        assert out["ReplyToMessageID"] == menu.id
        assert stored.text.startswith("Form answers: comment_text: Comment Text")

    def test_an_ad_referral_is_on_the_chat_the_message_and_the_export(self, server, api, manager, departments):
        webhook(server, "referral.json", body="Is this still on?")
        stored = messages(server)[0]
        assert stored.text == 'Is this still on?\n[From an ad: "Winter sale: 30% off boots" https://fb.me/2ZulEu42P]'
        chat = api.ok(api.get("GetChat", manager, {"ChatID": stored.chat_id}))
        assert chat["Referral"]["Headline"] == "Winter sale: 30% off boots"
        assert chat["Referral"]["SourceURL"] == "https://fb.me/2ZulEu42P"
        assert chat["Referral"]["CtwaClid"].startswith("ARAkLkA8rmlFeiCktEJQ")
        assert chat["Messages"][0]["Content"]["Referral"]["SourceType"] == "ad"
        exported = api.get("ExportChat", manager, {"ChatID": stored.chat_id})
        rows_ = list(csv.reader(io.StringIO(exported.text)))
        assert "Winter sale: 30% off boots" in rows_[1][4]
        day = clock.now().date().isoformat()
        report = api.get("GetReport", manager, {"ReportID": "ChatSummary", "From": day, "To": day,
                                                "FileFormat": "CSV"})
        assert report.status_code == 200
        summary = {int(row["ChatID"]): row for row in csv.DictReader(io.StringIO(report.text))}
        assert summary[stored.chat_id]["Ad"] == "Winter sale: 30% off boots · https://fb.me/2ZulEu42P"

    def test_a_reply_points_at_the_message_it_quotes(self, server, api, manager, greeted):
        menu = messages(server)[1]
        webhook(server, "text_reply.json", body="1", context_id=menu.external_id)
        stored = next(m for m in messages(server) if m.text == "1")
        assert shown(api, manager, stored.chat_id, stored.id)["ReplyToMessageID"] == menu.id

    def test_a_reaction_goes_onto_the_message_and_the_bot_ignores_it(self, server, api, manager, graph_api,
                                                                     greeted):
        menu = messages(server)[1]
        before, sent_before = len(messages(server)), len(graph_api.sent())
        with AgentSocket(server, manager) as socket:
            webhook(server, "reaction.json", body="👍", context_id=menu.external_id)
            updated = socket.wait_for("MessageUpdated", MessageID=menu.id)
        assert updated["Data"]["Reaction"] == "👍"
        assert len(messages(server)) == before and len(graph_api.sent()) == sent_before
        assert chat_of(server).status == BOT
        webhook(server, "reaction.json", body="", context_id=menu.external_id)
        assert shown(api, manager, menu.chat_id, menu.id)["Reaction"] is None

    def test_a_location_has_a_map_link(self, server, api, manager, departments):
        webhook(server, "location_named.json")
        stored = messages(server)[0]
        content = shown(api, manager, stored.chat_id, stored.id)["Content"]
        assert content["Type"] == "Location" and content["Name"] == "Facebook HQ"
        assert content["MapURL"] == "https://maps.google.com/?q=37.4611978,-122.2164385"
        assert stored.text.startswith("Location: Facebook HQ, 1 Hacker Way")

    def test_contacts_are_cards(self, server, api, manager, departments):
        webhook(server, "contacts.json")
        stored = messages(server)[0]
        content = shown(api, manager, stored.chat_id, stored.id)["Content"]
        assert content == {"Type": "Contacts", "Cards": [{"Name": "Barbara J. Johnson",
                                                          "Phones": ["+1 (940) 555-1234"], "Emails": [],
                                                          "Company": None}]}

    def test_an_unsupported_type_is_named_in_good_grammar(self, server, departments):
        webhook(server, "unsupported_type.json")
        text = messages(server)[0].text
        assert text == ("[The customer sent a message of a type WhatsApp does not pass on (video_note): 131051: "
                        "Message type unknown (Message type is currently not supported.).]")
        assert " a unsupported" not in text and "None" not in text

    def test_media_with_errors_is_a_note_and_nothing_is_fetched(self, server, graph_api, departments):
        webhook(server, "image_with_errors.json")
        stored = messages(server)[0]
        assert stored.text.startswith("[The customer sent an image that WhatsApp could not pass on: 131052")
        assert stored.media_status is None and graph_api.calls("/media-download/") == []
        assert [c for c in graph_api.requests if c.method == "GET"] == []


# ---- an agent's reply quoting a message --------------------------------------------------------------------

class TestReplyQuoting:
    def test_the_reply_goes_with_metas_context(self, server, api, graph_api, greeted):
        wamid = new_wamid()
        send_text(server, "Do you deliver?", wamid=wamid)
        chat_id, token = handled(server, api, greeted)
        question = next(m for m in messages(server) if m.external_id == wamid)
        reply = api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Yes, nationwide",
                                                       "ReplyToMessageID": question.id}))
        assert reply["ReplyToMessageID"] == question.id
        server.run(drain_background())
        sent = graph_api.sent(WA_ID)[-1]
        assert sent["context"] == {"message_id": wamid} and sent["text"]["body"] == "Yes, nationwide"

    def test_a_file_whatsapp_takes_in_no_form_is_a_clear_422(self, server, api, graph_api, greeted, monkeypatch):
        from agentchat.channels.whatsapp import outbound

        chat_id, token = handled(server, api, greeted)
        # Meta's document limit is 100 MB, above this inbox's own file limit: made small here to reach it.
        monkeypatch.setitem(outbound.MAX_BYTES, "document", 10)
        refused = api.post("SendMessage", token, {"ChatID": chat_id, "FileName": "big.pdf",
                                                  "FileType": "application/pdf",
                                                  "FileContent": "JVBERi0xLjcgbG9uZyBlbm91Z2g="})
        assert refused.status_code == 422 and error_code(refused) == "file_not_sendable"
        assert "WhatsApp takes files of at most" in refused.json()["Error"]["Message"]
        assert graph_api.calls("/media") == []

    def test_a_message_of_another_chat_is_refused(self, server, api, graph_api, greeted):
        chat_id, token = handled(server, api, greeted)
        send_text(server, "Other customer", wa_id="27820000009")
        other = messages(server, "27820000009")[0]
        refused = api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Hi", "ReplyToMessageID": other.id})
        assert refused.status_code == 404 and error_code(refused) == "message_not_found"


@pytest.mark.parametrize("fixture", ["order.json", "flow_reply.json", "referral.json", "reaction.json",
                                     "location_named.json", "unsupported_type.json", "image_with_errors.json"])
def test_every_shape_is_answered_200_and_nothing_is_sent_twice(server, graph_api, departments, fixture):
    body = payload(fixture, body="x", context_id=new_wamid(), file_size="0", new_wa_id=NEW_WA_ID, user_id=BSUID,
                   parent_user_id=PARENT_BSUID, username="u")
    assert post_webhook(server, body).status_code == 200
    assert post_webhook(server, body).status_code == 200
    assert len(graph_api.sent(WA_ID)) <= 1
