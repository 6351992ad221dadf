"""WhatsApp message templates end to end: synced page by page from the Graph API stand-in
(tests/graph_api_templates.py, Meta's shapes in tests/fixtures/whatsapp/message_templates.json), kept current by
Meta's signed message_template_status_update webhook, and sent by the chat's agent outside the 24-hour window;
the rules of that window for CloseChat and the bot."""

import json
from datetime import timedelta
from pathlib import Path
from string import Template

import httpx
import pytest
from chat_helpers import add_department, queued_chat
from conftest import WHATSAPP_APP_SECRET, WHATSAPP_BUSINESS_ACCOUNT_ID, add_agent, assert_error
from sqlalchemy import select, update
from test_whatsapp import send_text

from agentchat import clock
from agentchat.channels.whatsapp.signature import sign
from agentchat.chats.models import SENDER_AGENT, Chat, Message
from agentchat.db import drain_background
from agentchat.jobs import tell_queue_positions

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
WA_ID = "27821234567"
LATER = timedelta(hours=25)
SEASONAL = {"Header": ["Summer Sale"], "Body": ["the end of August", "25OFF", "25%"]}


def template_status(server, *, event: str, template_id: str | None = None, name: str = "seasonal_promotion",
                    language: str = "en_US", reason: str | None = None,
                    account: str = WHATSAPP_BUSINESS_ACCOUNT_ID) -> httpx.Response:
    """Meta's signed message_template_status_update delivery (the fixture's `_source` is ours, not Meta's)."""
    text = Template((FIXTURES / "template_status_update.json").read_text()).substitute(
        event=event, template_id=template_id or "0", name=name, language=language, reason=json.dumps(reason))
    body = json.loads(text)
    del body["_source"]
    body["entry"][0]["id"] = account
    raw = json.dumps(body).encode()
    return httpx.post(f"{server.base_url}/webhooks/whatsapp", content=raw, timeout=30, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(WHATSAPP_APP_SECRET, raw)})


def templates_by_key(api, token: str, **params) -> dict[tuple[str, str], dict]:
    items = api.ok(api.get("GetTemplates", token, params))["Items"]
    return {(t["Name"], t["Language"]): t for t in items}


def sent_templates(graph_api) -> list[dict]:
    return [body for body in graph_api.sent(WA_ID) if body.get("type") == "template"]


def close_window(server, chat_id: int) -> None:
    """The customer last wrote 25 hours ago (the sessions stay fresh: no clock travel)."""
    async def work(db):
        await db.execute(update(Chat).where(Chat.id == chat_id)
                         .values(last_customer_message_at=clock.now() - LATER))
    server.with_db(work)


def stored(server, message_id: int) -> Message:
    async def work(db):
        return (await db.execute(select(Message).where(Message.id == message_id))).scalar_one()
    return server.with_db(work)


@pytest.fixture
def synced(api, manager) -> dict:
    return api.ok(api.post("SyncTemplates", manager))


@pytest.fixture
def serving(server, api, graph_api, synced) -> dict:
    """A WhatsApp customer queued in Sales, grabbed by Sam; the templates synced."""
    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Sam", email="sam@example.com", department_ids=(sales,))
    token = api.logon("sam@example.com")
    chat_id = queued_chat(server, sales, phone=WA_ID).chat_id
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
    server.run(drain_background())
    return {"chat_id": chat_id, "token": token, "sales": sales}


def send_template(api, serving, name: str = "seasonal_promotion", language: str = "en_US",
                  parameters: dict | None = None, token: str | None = None) -> httpx.Response:
    body = {"ChatID": serving["chat_id"], "TemplateName": name, "Language": language}
    if parameters is not None:
        body["Parameters"] = parameters
    return api.post("SendTemplate", token or serving["token"], body)


class TestSyncTemplates:
    def test_a_manager_syncs_every_page_of_the_accounts_templates(self, server, api, manager, graph_api):
        graph_api.template_page_size = 3
        result = api.ok(api.post("SyncTemplates", manager))
        assert result["Synced"] == 8 and result["Removed"] == 0 and len(result["Items"]) == 8

        calls = graph_api.calls("/message_templates")
        assert [c.path for c in calls] == [f"/v21.0/{WHATSAPP_BUSINESS_ACCOUNT_ID}/message_templates"] * 3
        assert "after" not in calls[0].query and calls[1].query["after"] and calls[2].query["after"]
        assert calls[0].query["fields"] == "id,name,language,status,category,components"

        seasonal = templates_by_key(api, manager)[("seasonal_promotion", "en_US")]
        assert (seasonal["Category"], seasonal["Status"]) == ("MARKETING", "APPROVED")
        assert seasonal["Components"][0] == {"type": "HEADER", "format": "TEXT", "text": "Our {{1}} is on!",
                                             "example": {"header_text": ["Summer Sale"]}}
        assert seasonal["Parameters"] == {
            "Header": [{"Name": "1", "Type": "Text", "Example": "Summer Sale"}],
            "Body": [{"Name": "1", "Type": "Text", "Example": "the end of August"},
                     {"Name": "2", "Type": "Text", "Example": "25OFF"},
                     {"Name": "3", "Type": "Text", "Example": "25%"}],
            "Buttons": []}
        assert seasonal["Preview"].startswith("Our {{1}} is on!\n\nShop now through {{1}}")
        assert seasonal["Sendable"] is True

    def test_agents_read_them_and_may_filter_by_status(self, server, api, synced):
        add_agent(server, name="Sam", email="sam@example.com")
        token = api.logon("sam@example.com")
        approved = templates_by_key(api, token, Status="APPROVED")
        assert ("seasonal_promotion", "es") not in approved and ("hello_world", "en_US") in approved
        location = approved[("order_delivery_update", "en_US")]
        assert location["Sendable"] is False and "location" in location["NotSendableReason"]

    def test_a_later_sync_follows_meta_and_removes_what_meta_no_longer_lists(self, api, manager, graph_api, synced):
        graph_api.templates = [t for t in graph_api.templates if t["name"] != "hello_world"]
        graph_api.templates[1]["status"] = "DISABLED"
        result = api.ok(api.post("SyncTemplates", manager))
        assert (result["Synced"], result["Removed"]) == (7, 1)
        found = templates_by_key(api, manager)
        assert ("hello_world", "en_US") not in found
        assert found[(graph_api.templates[1]["name"], graph_api.templates[1]["language"])]["Status"] == "DISABLED"

    def test_agents_may_not_sync(self, server, api):
        add_agent(server, name="Sam", email="sam@example.com")
        assert_error(api.post("SyncTemplates", api.logon("sam@example.com")), 403, "manager_only")

    def test_a_graph_api_error_is_a_clear_502_and_keeps_what_was_synced(self, api, manager, graph_api, synced):
        graph_api.fail_next(1, status=400, code=100, message="(#100) Invalid parameter",
                            path_suffix="/message_templates")
        response = api.post("SyncTemplates", manager)
        assert_error(response, 502, "whatsapp_unavailable")
        assert "100: (#100) Invalid parameter" in response.json()["Error"]["Message"]
        assert len(templates_by_key(api, manager)) == 8

    def test_without_a_business_account_id_it_says_what_to_set(self, server, api, manager, monkeypatch):
        monkeypatch.setattr(server.app.state.settings, "whatsapp_business_account_id", None)
        response = api.post("SyncTemplates", manager)
        assert_error(response, 409, "templates_not_configured")
        assert "AGENTCHAT_WHATSAPP_BUSINESS_ACCOUNT_ID" in response.json()["Error"]["Message"]


class TestStatusWebhook:
    def test_meta_pausing_a_template_shows_and_stops_its_sends(self, server, api, manager, serving):
        response = template_status(server, event="PAUSED", template_id="594425479261596",
                                   reason="Your template has been paused due to low quality.")
        assert response.status_code == 200, response.text
        seasonal = templates_by_key(api, manager)[("seasonal_promotion", "en_US")]
        assert seasonal["Status"] == "PAUSED"
        assert seasonal["Reason"] == "Your template has been paused due to low quality."
        assert_error(send_template(api, serving, parameters=SEASONAL), 409, "template_not_approved")

        assert template_status(server, event="APPROVED", template_id="594425479261596", reason=None).status_code == 200
        seasonal = templates_by_key(api, manager)[("seasonal_promotion", "en_US")]
        assert (seasonal["Status"], seasonal["Reason"]) == ("APPROVED", None)

    def test_without_an_id_the_name_and_language_find_it(self, server, api, manager, synced):
        response = template_status(server, event="REJECTED", name="hello_world", language="en-US",
                                   reason="INCORRECT_CATEGORY")
        assert response.status_code == 200
        hello = templates_by_key(api, manager)[("hello_world", "en_US")]
        assert (hello["Status"], hello["Reason"]) == ("REJECTED", "INCORRECT_CATEGORY")

    def test_a_template_created_since_the_last_sync_is_fetched_when_meta_approves_it(self, server, api, manager,
                                                                                    graph_api, synced):
        graph_api.templates.append({**graph_api.templates[0], "name": "brand_new", "id": "999"})
        assert template_status(server, event="APPROVED", template_id="999", name="brand_new").status_code == 200
        server.run(drain_background())
        assert templates_by_key(api, manager)[("brand_new", "en_US")]["Status"] == "APPROVED"

    def test_another_business_accounts_update_changes_nothing(self, server, api, manager, graph_api, synced):
        before = templates_by_key(api, manager)
        assert template_status(server, event="DISABLED", template_id="594425479261596",
                               account="999999999").status_code == 200
        server.run(drain_background())
        assert templates_by_key(api, manager) == before
        assert len(graph_api.calls("/message_templates")) == 1  # the first sync's only


class TestSendTemplate:
    def test_on_a_closed_window_it_goes_as_metas_template_message_and_reopens_the_chat(self, server, api,
                                                                                       graph_api, serving):
        close_window(server, serving["chat_id"])
        chat = api.ok(api.get("GetChat", serving["token"], {"ChatID": serving["chat_id"]}))
        assert chat["WindowOpen"] is False
        assert_error(api.post("SendMessage", serving["token"], {"ChatID": serving["chat_id"], "Message": "Hi"}),
                     409, "whatsapp_24h_window")

        message = api.ok(send_template(api, serving, parameters=SEASONAL))
        server.run(drain_background())
        assert sent_templates(graph_api) == [{
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "template",
            "template": {"name": "seasonal_promotion", "language": {"code": "en_US"}, "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "Summer Sale"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "the end of August"},
                                                {"type": "text", "text": "25OFF"},
                                                {"type": "text", "text": "25%"}]}]}}]
        assert message["SenderType"] == SENDER_AGENT and message["DeliveryStatus"] == "Pending"
        assert message["Text"] == (
            "Our Summer Sale is on!\n\nShop now through the end of August and use code 25OFF to get 25% off of all "
            "merchandise.\n\nUse the buttons below to manage your marketing subscriptions\n\n"
            "[Unsubscribe from Promos] [Unsubscribe from All]")
        assert stored(server, message["MessageID"]).delivery_status == "Sent"

        # The customer answers: the same chat, still Sam's, and free text may follow again.
        send_text(server, "Unsubscribe from Promos", wa_id=WA_ID)
        chat = api.ok(api.get("GetChat", serving["token"], {"ChatID": serving["chat_id"]}))
        assert chat["Status"] == "Assigned" and chat["WindowOpen"] is True
        assert chat["Messages"][-1]["Text"] == "Unsubscribe from Promos"
        api.ok(api.post("SendMessage", serving["token"], {"ChatID": serving["chat_id"], "Message": "Noted."}))

    def test_a_wrong_parameter_count_is_a_clear_422_and_nothing_reaches_meta(self, server, api, graph_api,
                                                                            serving):
        response = send_template(api, serving, parameters={"Header": ["Summer Sale"], "Body": ["August", "25OFF"]})
        assert_error(response, 422, "template_parameter_count")
        error = response.json()["Error"]
        assert error["Field"] == "Parameters.Body"
        assert error["Message"] == ("The template's body has 3 placeholders ({{1}}, {{2}}, {{3}}); 2 were given.")
        assert_error(send_template(api, serving, parameters={"Body": ["a", "b", "c"]}), 422,
                     "template_parameter_count")
        assert_error(send_template(api, serving, "hello_world", parameters={"Body": ["extra"]}), 422,
                     "template_parameter_count")
        server.run(drain_background())
        assert sent_templates(graph_api) == []

    def test_a_parameter_meta_would_refuse_is_a_422(self, api, serving):
        bad_text = send_template(api, serving, parameters={**SEASONAL, "Body": ["line\nbreak", "25OFF", "25%"]})
        assert_error(bad_text, 422, "invalid_template_parameter")
        assert bad_text.json()["Error"]["Field"] == "Parameters.Body"
        too_long = send_template(api, serving, parameters={**SEASONAL, "Header": ["x" * 61]})
        assert_error(too_long, 422, "invalid_template_parameter")
        not_a_link = send_template(api, serving, "order_confirmation",
                                   parameters={"Header": ["http://example.com/r.pdf"], "Body": ["Pablo", "1"]})
        assert_error(not_a_link, 422, "invalid_template_parameter")

    @pytest.mark.parametrize("name, language, status, code", [
        ("seasonal_promotion", "es", 409, "template_not_approved"),
        ("appointment_reminder", "en_US", 409, "template_not_approved"),
        ("order_delivery_update", "en_US", 409, "template_not_supported"),
        ("no_such_template", "en_US", 404, "template_not_found"),
    ])
    def test_a_template_that_cannot_be_sent_is_refused(self, server, api, graph_api, serving, name, language,
                                                       status, code):
        response = send_template(api, serving, name, language, parameters={"Body": ["Thandi", "Monday"]})
        assert_error(response, status, code)
        assert response.json()["Error"]["Field"] == "TemplateName"
        server.run(drain_background())
        assert sent_templates(graph_api) == []

    def test_named_parameters_media_headers_and_button_parameters(self, server, api, graph_api, serving):
        api.ok(send_template(api, serving, "order_confirmation_named", parameters={"Body": ["Pablo", "860198"]}))
        api.ok(send_template(api, serving, "order_confirmation", parameters={
            "Header": ["https://example.com/receipts/860198.pdf"], "Body": ["Pablo", "860198"]}))
        coupon = api.ok(send_template(api, serving, "coupon_code_fall2023_25off", parameters={
            "Body": ["25OFF", "25%"], "Buttons": ["fall2023", "25OFF"]}))
        server.run(drain_background())
        named, document, buttons = [body["template"]["components"] for body in sent_templates(graph_api)]
        assert named == [{"type": "body", "parameters": [
            {"type": "text", "text": "Pablo", "parameter_name": "first_name"},
            {"type": "text", "text": "860198", "parameter_name": "order_number"}]}]
        assert document[0] == {"type": "header", "parameters": [
            {"type": "document", "document": {"link": "https://example.com/receipts/860198.pdf"}}]}
        assert buttons[1:] == [
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "fall2023"}]},
            {"type": "button", "sub_type": "copy_code", "index": "2",
             "parameters": [{"type": "coupon_code", "coupon_code": "25OFF"}]}]
        assert stored(server, coupon["MessageID"]).delivery_status == "Sent"

    def test_only_the_chats_agent_may_send_as_for_send_message(self, server, api, serving):
        add_agent(server, name="Lee", email="lee@example.com", department_ids=(serving["sales"],))
        colleague = api.logon("lee@example.com")
        assert_error(send_template(api, serving, "hello_world", token=colleague), 409, "not_chat_agent")
        add_agent(server, name="Kim", email="kim@example.com")
        assert_error(send_template(api, serving, "hello_world", token=api.logon("kim@example.com")), 404,
                     "chat_not_found")

    def test_a_web_chat_takes_no_templates(self, server, api, synced):
        sales = add_department(server, "Sales", menu_option=1)
        add_agent(server, name="Sam", email="sam@example.com", department_ids=(sales,))
        token = api.logon("sam@example.com")
        visitor = httpx.post(f"{server.base_url}/webchat/visitors", json={}, timeout=30).json()
        headers = {"Authorization": f"Bearer {visitor['VisitorToken']}"}
        for text in ("Hi", "1"):
            httpx.post(f"{server.base_url}/webchat/messages", json={"Text": text}, headers=headers, timeout=30)
        chat = api.ok(api.post("GrabChat", token, {}))
        assert chat["Channel"] == "WebChat"
        response = api.post("SendTemplate", token, {"ChatID": chat["ChatID"], "TemplateName": "hello_world",
                                                     "Language": "en_US"})
        assert_error(response, 409, "not_whatsapp_chat")


class TestOutsideTheWindow:
    def test_get_chat_tells_the_window(self, server, api, serving):
        chat = api.ok(api.get("GetChat", serving["token"], {"ChatID": serving["chat_id"]}))
        assert chat["WindowOpen"] is True and chat["WindowClosesAt"].endswith("Z")
        clock.travel(LATER)
        token = api.logon("sam@example.com")
        later = api.ok(api.get("GetChat", token, {"ChatID": serving["chat_id"]}))
        assert later["WindowOpen"] is False and later["WindowClosesAt"] == chat["WindowClosesAt"]

    def test_close_chat_outside_the_window_sends_nothing_to_meta(self, server, api, graph_api, serving):
        before = len(graph_api.sent(WA_ID))
        close_window(server, serving["chat_id"])
        api.ok(api.post("CloseChat", serving["token"], {"ChatID": serving["chat_id"]}))
        server.run(drain_background())
        assert len(graph_api.sent(WA_ID)) == before
        chat = api.ok(api.get("GetChat", serving["token"], {"ChatID": serving["chat_id"]}))
        assert chat["Status"] == "Closed" and chat["Messages"][-1]["SenderType"] != "System"

    def test_close_chat_inside_the_window_still_says_goodbye(self, server, api, graph_api, serving):
        api.ok(api.post("CloseChat", serving["token"], {"ChatID": serving["chat_id"]}))
        server.run(drain_background())
        assert graph_api.sent(WA_ID)[-1]["text"]["body"].startswith("This chat has been closed.")

    @pytest.mark.parametrize("hours, told", [(1, True), (25, False)])
    def test_the_bot_tells_a_new_queue_position_only_inside_the_window(self, server, api, serving, hours, told):
        first = queued_chat(server, serving["sales"], phone="27820000001").chat_id
        second = queued_chat(server, serving["sales"], phone="27820000002").chat_id
        clock.travel(timedelta(hours=hours))
        token = api.logon("sam@example.com")
        api.ok(api.post("GrabChat", token, {"ChatID": first}))
        server.run(tell_queue_positions(server.app))
        server.run(drain_background())

        async def bot_texts(db):
            query = select(Message.text).where(Message.chat_id == second, Message.sender_type == "Bot")
            return list((await db.execute(query)).scalars())
        assert any(t.startswith("You are now number 1") for t in server.with_db(bot_texts)) is told
