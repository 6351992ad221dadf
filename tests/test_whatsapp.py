"""The WhatsApp channel end to end: Meta's signed webhook in, the bot and agents' messages out through a local
stand-in for the Graph API (tests/graph_api_standin.py), statuses back onto our messages."""

import json
import logging
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from string import Template

import httpx
import pytest
import redis.asyncio as redis
from conftest import (
    WHATSAPP_ACCESS_TOKEN,
    WHATSAPP_APP_SECRET,
    WHATSAPP_PHONE_NUMBER_ID,
    WHATSAPP_VERIFY_TOKEN,
    add_agent,
)
from realtime_helpers import AgentSocket
from sqlalchemy import func, select

from agentchat import clock
from agentchat.channels.whatsapp.receipts import Receipts, SharedNotes
from agentchat.channels.whatsapp.signature import sign
from agentchat.chats import service as chats
from agentchat.chats.models import BOT, SENDER_AGENT, SENDER_BOT, SENDER_CUSTOMER, UNASSIGNED, Chat, Message
from agentchat.customers.models import Customer
from agentchat.db import drain_background

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WA_ID = "27821234567"
PATH = "/webhooks/whatsapp"


# ---- building and sending Meta's payloads -------------------------------------------------------------------

def new_wamid() -> str:
    return "wamid.HBgLMjc4MjEyMzQ1NjcVAgASGBQz" + secrets.token_hex(10).upper()


def payload(fixture: str, **values) -> bytes:
    """A fixture in Meta's shape with its $placeholders filled (strings JSON-escaped)."""
    defaults = dict(wa_id=WA_ID, name="Thandi Nkosi", wamid=new_wamid(), timestamp=str(int(time.time())),
                    phone_number_id=WHATSAPP_PHONE_NUMBER_ID, body="Hello", media_id="0", choice_id="",
                    file_name="file.pdf", context_id=new_wamid())
    defaults.update(values)
    escaped = {key: json.dumps(str(value))[1:-1] for key, value in defaults.items()}
    text = Template((FIXTURES / fixture).read_text()).substitute(escaped)
    return json.dumps(json.loads(text)).encode()


def combine(*bodies: bytes) -> bytes:
    """One delivery carrying the messages (and statuses) of several payloads, as Meta batches them."""
    first = json.loads(bodies[0])
    value = first["entry"][0]["changes"][0]["value"]
    for body in bodies[1:]:
        other = json.loads(body)["entry"][0]["changes"][0]["value"]
        for key in ("contacts", "messages", "statuses"):
            if key in other:
                value.setdefault(key, []).extend(other[key])
    return json.dumps(first).encode()


def post_webhook(server, body: bytes, *, signature: str | None = "sign", drain: bool = True) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(WHATSAPP_APP_SECRET, body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    response = httpx.post(server.base_url + PATH, content=body, headers=headers, timeout=30)
    if drain:
        # Deliveries of the bot's answers run after commit, and customers' files are fetched after the answer;
        # wait for both so the test sees their outcome.
        server.run(drain_background())
        server.run(server.app.state.whatsapp_media.drain())
        server.run(drain_background())
    return response


def send_text(server, body: str, **values) -> httpx.Response:
    response = post_webhook(server, payload("text.json", body=body, **values))
    assert response.status_code == 200, response.text
    return response


# ---- reading the database -----------------------------------------------------------------------------------

def rows(server, query):
    async def work(db):
        return list((await db.execute(query)).scalars())
    return server.with_db(work)


def count(server, model) -> int:
    return rows(server, select(func.count()).select_from(model))[0]


def customer(server, wa_id: str = WA_ID) -> Customer:
    found = rows(server, select(Customer).where(Customer.phone_number == wa_id))
    assert found, f"no customer {wa_id}"
    return found[0]


def chat_of(server, wa_id: str = WA_ID) -> Chat:
    return rows(server, select(Chat).where(Chat.customer_id == customer(server, wa_id).id))[-1]


def messages(server, wa_id: str = WA_ID) -> list[Message]:
    return rows(server, select(Message).where(Message.chat_id == chat_of(server, wa_id).id).order_by(Message.id))


def message(server, message_id: int) -> Message:
    return rows(server, select(Message).where(Message.id == message_id))[0]


# ---- fixtures -------------------------------------------------------------------------------------------------

@pytest.fixture
def departments(api, manager) -> dict[str, int]:
    sales = api.ok(api.post("CreateDepartment", manager, {
        "Name": "Sales", "IncludeInWelcomeMenu": True, "WelcomeMenuName": "Buy something", "MenuOption": 1}))
    support = api.ok(api.post("CreateDepartment", manager, {
        "Name": "Support", "IncludeInWelcomeMenu": True,
        "WelcomeMenuName": "Help with something I already bought", "MenuOption": 2}))
    return {"Sales": sales["DepartmentID"], "Support": support["DepartmentID"]}


@pytest.fixture
def greeted(server, graph_api, departments) -> dict[str, int]:
    """A customer who wrote once and was shown the menu."""
    send_text(server, "Hi")
    graph_api.wait_sent(WA_ID)
    return departments


def agent_message(server, *, text: str | None, file: dict | None = None) -> int:
    """An agent's message stored in the customer's chat (Pending), as SendMessage stores it."""
    chat_id = chat_of(server).id

    async def work(db):
        chat = await db.get(Chat, chat_id)
        stored = await chats.add_message(db, chat, sender_type=SENDER_AGENT, text=text, file=file)
        return stored.id

    message_id = server.with_db(work)
    server.run(server.app.state.outbound.deliver(message_id))
    return message_id


def store_file(server, content: bytes, file_name: str, file_type: str) -> dict:
    key = server.run(server.app.state.file_storage.save(content, file_name=file_name))
    return {"file_name": file_name, "file_type": file_type, "file_size": len(content), "file_key": key}


# ---- the verification handshake --------------------------------------------------------------------------------

class TestVerification:
    def test_the_right_token_gets_the_challenge_back(self, server):
        response = httpx.get(server.base_url + PATH, params={
            "hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "1158201444"

    @pytest.mark.parametrize("params", [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ])
    def test_anything_else_is_refused(self, server, params):
        response = httpx.get(server.base_url + PATH, params=params)
        assert response.status_code == 403
        assert response.json()["Error"]["Code"] == "bad_verify_token"


# ---- signature and size -----------------------------------------------------------------------------------------

class TestSignature:
    @pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "garbage"])
    def test_an_unsigned_or_badly_signed_delivery_is_refused_and_nothing_is_stored(self, server, graph_api,
                                                                                   signature):
        response = post_webhook(server, payload("text.json"), signature=signature)
        assert response.status_code == 401
        assert response.json()["Error"]["Code"] == "bad_signature"
        assert count(server, Customer) == 0 and count(server, Message) == 0
        assert graph_api.sent() == []

    def test_a_signature_of_other_bytes_is_refused(self, server):
        body = payload("text.json", body="Hi")
        tampered = body.replace(b"Hi", b"Yo")
        response = post_webhook(server, tampered, signature=sign(WHATSAPP_APP_SECRET, body))
        assert response.status_code == 401
        assert count(server, Message) == 0

    def test_a_body_over_one_megabyte_is_refused(self, server):
        body = payload("text.json", body="x" * (1024 * 1024 + 1))
        response = post_webhook(server, body)
        assert response.status_code == 413
        assert count(server, Message) == 0

    def test_signed_junk_is_a_clear_400(self, server):
        response = post_webhook(server, b"{not json")
        assert response.status_code == 400
        assert response.json()["Error"]["Code"] == "malformed_request"

    @pytest.mark.parametrize("depth", [100_000, 5_000])
    def test_a_signed_body_nested_beyond_reason_is_a_400_not_a_500(self, server, depth):
        body = b'{"object":"whatsapp_business_account","entry":' + b"[" * depth + b"]" * depth + b"}"
        response = post_webhook(server, body)
        assert response.status_code == 400, response.text
        assert response.json()["Error"]["Code"] == "malformed_request"
        assert count(server, Message) == 0
        # The channel still takes the next delivery.
        send_text(server, "Still here")
        assert count(server, Message) >= 1


# ---- a customer's first message -------------------------------------------------------------------------------

class TestFirstMessage:
    def test_a_text_creates_the_customer_and_a_chat_and_the_menu_goes_out_as_a_list(self, server, graph_api,
                                                                                   departments):
        response = send_text(server, "Hi, I need help", name="Thandi Nkosi")
        assert response.json() == {"Received": True}

        found = customer(server)
        assert found.name == "Thandi Nkosi"
        chat = chat_of(server)
        assert chat.status == BOT and chat.channel == "WhatsApp"

        sent = graph_api.wait_sent(WA_ID)
        assert len(sent) == 1
        menu = sent[0]
        assert menu["messaging_product"] == "whatsapp" and menu["recipient_type"] == "individual"
        assert menu["to"] == WA_ID and menu["type"] == "interactive"
        interactive = menu["interactive"]
        assert interactive["type"] == "list"
        assert interactive["body"]["text"].startswith("Welcome!")
        assert interactive["action"]["button"] == "Choose"
        rows_ = interactive["action"]["sections"][0]["rows"]
        assert [row["id"] for row in rows_] == [f"department:{departments['Sales']}",
                                               f"department:{departments['Support']}"]
        assert rows_[0]["title"] == "Buy something"
        # WhatsApp allows 24 characters in a row title: a longer name is cut, and shown whole below it.
        assert len(rows_[1]["title"]) <= 24 and rows_[1]["title"].startswith("Help with something")
        assert rows_[1]["description"] == "Help with something I already bought"

        stored = messages(server)
        assert [m.sender_type for m in stored] == [SENDER_CUSTOMER, SENDER_BOT]
        assert stored[0].text == "Hi, I need help"
        assert stored[1].delivery_status == "Sent" and stored[1].external_id.startswith("wamid.")

    def test_a_retried_delivery_is_stored_once(self, server, graph_api, departments):
        body = payload("text.json", body="Hi")
        assert post_webhook(server, body).status_code == 200
        assert post_webhook(server, body).status_code == 200
        assert count(server, Customer) == 1
        assert [m.sender_type for m in messages(server)] == [SENDER_CUSTOMER, SENDER_BOT]
        assert len(graph_api.sent(WA_ID)) == 1

    def test_the_same_delivery_arriving_concurrently_is_stored_once(self, server, graph_api, departments):
        body = payload("text.json", body="Hi")
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda _: post_webhook(server, body, drain=False), range(6)))
        server.run(drain_background())
        assert [a.status_code for a in answers] == [200] * 6
        assert count(server, Customer) == 1
        assert [m.sender_type for m in messages(server)] == [SENDER_CUSTOMER, SENDER_BOT]
        assert len(graph_api.sent(WA_ID)) == 1

    def test_the_token_goes_in_the_header_and_never_into_the_log(self, server, graph_api, departments, caplog):
        caplog.set_level(logging.DEBUG)
        graph_api.fail_next(5, status=400, code=100, message="(#100) Invalid parameter")
        send_text(server, "Hi")
        assert chat_of(server).status == BOT
        call = graph_api.calls("/messages")[0]
        assert call.headers["authorization"] == f"Bearer {WHATSAPP_ACCESS_TOKEN}"
        assert WHATSAPP_ACCESS_TOKEN not in caplog.text


# ---- the menu choice -------------------------------------------------------------------------------------------

class TestMenuChoice:
    def test_a_list_reply_queues_the_chat_and_the_customer_hears_their_position(self, server, graph_api, greeted):
        body = payload("list_reply.json", choice_id=f"department:{greeted['Support']}", body="Help with somethi…")
        assert post_webhook(server, body).status_code == 200

        chat = chat_of(server)
        assert chat.status == UNASSIGNED and chat.department_id == greeted["Support"]
        sent = graph_api.wait_sent(WA_ID, 2)
        queued = sent[-1]
        assert queued["type"] == "text" and queued["to"] == WA_ID
        assert "number 1 in the queue" in queued["text"]["body"]
        assert queued["text"]["preview_url"] is False

    def test_a_typed_number_works_too(self, server, graph_api, greeted):
        send_text(server, "1")
        assert chat_of(server).department_id == greeted["Sales"]

    def test_a_button_reply_is_a_choice(self, server, graph_api, greeted):
        body = payload("button_reply.json", choice_id=f"department:{greeted['Sales']}", body="Buy something")
        assert post_webhook(server, body).status_code == 200
        assert chat_of(server).status == UNASSIGNED

    def test_an_invalid_choice_shows_the_menu_again(self, server, graph_api, greeted):
        send_text(server, "banana")
        assert chat_of(server).status == BOT
        sent = graph_api.wait_sent(WA_ID, 2)
        again = sent[-1]
        assert again["type"] == "interactive"
        assert again["interactive"]["body"]["text"].startswith("Sorry, that is not one of the options")
        assert len(again["interactive"]["action"]["sections"][0]["rows"]) == 2

    def test_more_than_ten_options_go_as_numbered_text(self, server, graph_api, api, manager):
        for option in range(1, 12):
            api.ok(api.post("CreateDepartment", manager, {
                "Name": f"Department {option}", "IncludeInWelcomeMenu": True, "MenuOption": option}))
        send_text(server, "Hi")
        menu = graph_api.wait_sent(WA_ID)[0]
        assert menu["type"] == "text"
        assert "1. Department 1" in menu["text"]["body"] and "11. Department 11" in menu["text"]["body"]


# ---- media and other message types ------------------------------------------------------------------------------

class TestMedia:
    def test_an_image_is_fetched_from_meta_and_stored(self, server, graph_api, departments):
        picture = b"\xff\xd8\xff\xe0" + secrets.token_bytes(2048)
        media_id = graph_api.add_media(picture, "image/jpeg")
        body = payload("image.json", media_id=media_id, body="The broken part")
        assert post_webhook(server, body).status_code == 200

        stored = messages(server)[0]
        assert stored.sender_type == SENDER_CUSTOMER and stored.text == "The broken part"
        assert stored.file_type == "image/jpeg" and stored.file_size == len(picture)
        assert stored.file_name.endswith(".jpg")
        assert server.run(server.app.state.file_storage.read(stored.file_key)) == picture
        lookup, download = graph_api.calls(f"/{media_id}")
        assert lookup.path.endswith(f"/v21.0/{media_id}") and download.path == f"/media-download/{media_id}"
        assert download.headers["authorization"] == f"Bearer {WHATSAPP_ACCESS_TOKEN}"

    def test_a_document_keeps_its_file_name(self, server, graph_api, departments):
        media_id = graph_api.add_media(b"%PDF-1.7 invoice", "application/pdf")
        body = payload("document.json", media_id=media_id, file_name="Invoice 42.pdf", body="My invoice")
        assert post_webhook(server, body).status_code == 200
        stored = messages(server)[0]
        assert (stored.file_name, stored.file_type, stored.text) == ("Invoice 42.pdf", "application/pdf",
                                                                     "My invoice")

    def test_a_voice_note_is_stored_as_audio(self, server, graph_api, departments):
        media_id = graph_api.add_media(b"OggS voice", "audio/ogg; codecs=opus")
        assert post_webhook(server, payload("audio.json", media_id=media_id)).status_code == 200
        stored = messages(server)[0]
        assert stored.file_type == "audio/ogg" and stored.file_name.endswith(".ogg") and stored.file_size == 10

    def test_media_that_cannot_be_fetched_still_leaves_the_message_with_a_note(self, server, graph_api,
                                                                               departments):
        body = payload("image.json", media_id="999", body="Look at this")
        assert post_webhook(server, body).status_code == 200
        stored = messages(server)[0]
        assert stored.file_key is None
        assert stored.text.startswith("Look at this\n") and "could not be downloaded" in stored.text
        assert chat_of(server).status == BOT

    def test_a_commit_that_answers_with_an_error_but_committed_keeps_the_file(self, server, graph_api, departments,
                                                                              monkeypatch):
        from agentchat.channels.whatsapp import store

        async def commit_then_lose_the_answer(db):
            await db.commit()
            raise ConnectionResetError("the answer to COMMIT was lost")
        monkeypatch.setattr(store, "commit_and_publish", commit_then_lose_the_answer)
        picture = b"\x89PNG" + secrets.token_bytes(64)
        body = payload("image.json", media_id=graph_api.add_media(picture, "image/png"))
        assert post_webhook(server, body).status_code >= 500  # Meta retries; the retry finds it stored
        monkeypatch.undo()
        assert post_webhook(server, body).status_code == 200
        stored = [m for m in messages(server) if m.file_key is not None]
        assert len(stored) == 1 and server.run(server.app.state.file_storage.read(stored[0].file_key)) == picture

    def test_a_retried_media_message_is_fetched_and_stored_once(self, server, graph_api, departments):
        media_id = graph_api.add_media(b"\x89PNG", "image/png")
        body = payload("image.json", media_id=media_id)
        post_webhook(server, body)
        post_webhook(server, body)
        assert count(server, Message) == 2  # the image and the bot's menu
        assert len(graph_api.calls("/media-download/" + media_id)) == 1


class TestOtherTypes:
    def test_a_location_is_stored_as_words_and_a_link(self, server, departments):
        assert post_webhook(server, payload("location.json")).status_code == 200
        text = messages(server)[0].text
        assert "Meta Headquarters" in text and "https://maps.google.com/?q=37.483307,-122.148981" in text

    def test_a_contact_card_is_stored_as_words(self, server, departments):
        assert post_webhook(server, payload("contacts.json")).status_code == 200
        assert messages(server)[0].text == "Contact card: Barbara J. Johnson (+1 (940) 555-1234)"

    def test_an_unsupported_message_is_stored_as_a_note(self, server, departments):
        assert post_webhook(server, payload("unsupported.json")).status_code == 200
        text = messages(server)[0].text
        assert "not pass on" in text and "131051" in text

    def test_a_template_quick_reply_is_text(self, server, greeted):
        body = payload("button.json", body="Buy something", choice_id="promo-yes")
        assert post_webhook(server, body).status_code == 200
        said = [m.text for m in messages(server) if m.sender_type == SENDER_CUSTOMER]
        assert said == ["Hi", "Buy something"]
        assert chat_of(server).department_id == greeted["Sales"]

    def test_an_odd_message_is_skipped_and_the_others_in_the_delivery_are_kept(self, server, departments):
        odd = json.loads(payload("text.json", wa_id="not-a-number"))
        odd_message = odd["entry"][0]["changes"][0]["value"]["messages"][0]
        odd_message["text"] = "not an object"
        good = payload("text.json", body="Still here", wa_id="27829999999")
        response = post_webhook(server, combine(json.dumps(odd).encode(), good))
        assert response.status_code == 200
        assert count(server, Customer) == 1
        assert messages(server, "27829999999")[0].text == "Still here"

    def test_two_customers_in_one_delivery_each_get_their_chat(self, server, graph_api, departments):
        first = payload("text.json", wa_id="27820000001", name="One")
        second = payload("text.json", wa_id="27820000002", name="Two")
        assert post_webhook(server, combine(first, second)).status_code == 200
        assert customer(server, "27820000001").name == "One" and customer(server, "27820000002").name == "Two"
        assert graph_api.sent("27820000001") and graph_api.sent("27820000002")

    def test_messages_to_another_business_number_are_ignored(self, server, departments):
        response = post_webhook(server, payload("text.json", phone_number_id="999999999999"))
        assert response.status_code == 200
        assert count(server, Message) == 0


# ---- statuses of our messages ------------------------------------------------------------------------------------

class TestStatuses:
    def menu_message(self, server) -> Message:
        return messages(server)[1]

    def status(self, server, kind: str, wamid: str) -> None:
        assert post_webhook(server, payload(f"status_{kind}.json", wamid=wamid)).status_code == 200

    def test_sent_delivered_read_move_the_message_forward(self, server, greeted):
        menu = self.menu_message(server)
        for kind, expected in [("sent", "Sent"), ("delivered", "Delivered"), ("read", "Read")]:
            self.status(server, kind, menu.external_id)
            assert message(server, menu.id).delivery_status == expected

    def test_a_late_status_never_moves_it_back(self, server, greeted):
        menu = self.menu_message(server)
        self.status(server, "read", menu.external_id)
        self.status(server, "delivered", menu.external_id)
        self.status(server, "sent", menu.external_id)
        self.status(server, "failed", menu.external_id)
        assert message(server, menu.id).delivery_status == "Read"
        assert message(server, menu.id).failure_reason is None

    def test_failed_records_metas_code_and_title(self, server, greeted):
        menu = self.menu_message(server)
        self.status(server, "failed", menu.external_id)
        failed = message(server, menu.id)
        assert failed.delivery_status == "Failed"
        assert failed.failure_reason.startswith("131047: Re-engagement message")
        assert "24 hours" in failed.failure_reason

    def test_a_status_for_an_unknown_message_is_accepted_and_changes_nothing(self, server, greeted):
        self.status(server, "read", new_wamid())
        assert self.menu_message(server).delivery_status == "Sent"

    def test_statuses_and_messages_in_one_delivery(self, server, greeted):
        menu = self.menu_message(server)
        both = combine(payload("status_read.json", wamid=menu.external_id), payload("text.json", body="1"))
        assert post_webhook(server, both).status_code == 200
        assert message(server, menu.id).delivery_status == "Read"
        assert chat_of(server).status == UNASSIGNED


# ---- sending: retries and failures -------------------------------------------------------------------------------

class TestSending:
    def test_server_errors_are_retried_until_meta_accepts(self, server, graph_api, departments):
        graph_api.fail_next(2, status=500, code=1, message="An unknown error occurred")
        send_text(server, "Hi")
        assert len(graph_api.calls("/messages")) == 3
        assert messages(server)[1].delivery_status == "Sent"

    def test_throttling_is_retried(self, server, graph_api, departments):
        graph_api.fail_next(1, status=400, code=130429, message="(#130429) Rate limit hit")
        send_text(server, "Hi")
        assert messages(server)[1].delivery_status == "Sent"

    def test_a_permanent_error_fails_at_once_with_metas_reason(self, server, graph_api, departments):
        graph_api.fail_next(1, status=400, code=131047, message="Re-engagement message",
                            details="More than 24 hours have passed since the customer last replied.")
        send_text(server, "Hi")
        assert len(graph_api.calls("/messages")) == 1
        failed = messages(server)[1]
        assert failed.delivery_status == "Failed"
        assert failed.failure_reason.startswith("131047: Re-engagement message")

    def test_when_retries_run_out_the_message_fails(self, server, graph_api, departments):
        graph_api.fail_next(10, status=503, code=2, message="Service temporarily unavailable")
        send_text(server, "Hi")
        assert len(graph_api.calls("/messages")) == server.settings.whatsapp_retry_attempts
        failed = messages(server)[1]
        assert (failed.delivery_status, failed.failure_reason) == ("Failed", "2: Service temporarily unavailable")


class TestAgentReply:
    def test_an_agents_text_goes_to_the_customer(self, server, graph_api, greeted):
        message_id = agent_message(server, text="Hello Thandi, how can I help?")
        sent = graph_api.sent(WA_ID)[-1]
        assert sent == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                        "type": "text", "text": {"body": "Hello Thandi, how can I help?", "preview_url": False}}
        stored = message(server, message_id)
        assert stored.delivery_status == "Sent" and stored.external_id.startswith("wamid.")

    def test_a_file_is_uploaded_then_sent_with_its_caption(self, server, graph_api, greeted):
        content = b"%PDF-1.7 quote"
        agent_message(server, text="Your quote", file=store_file(server, content, "Quote.pdf", "application/pdf"))
        upload = graph_api.calls("/media")[0]
        assert upload.form["messaging_product"] == "whatsapp" and upload.form["type"] == "application/pdf"
        assert upload.form["file"]["content"] == content and upload.form["file"]["file_name"] == "Quote.pdf"
        sent = graph_api.sent(WA_ID)[-1]
        assert sent["type"] == "document"
        assert sent["document"]["caption"] == "Your quote" and sent["document"]["filename"] == "Quote.pdf"
        assert sent["document"]["id"]

    def test_an_image_goes_as_an_image(self, server, graph_api, greeted):
        agent_message(server, text=None, file=store_file(server, b"\x89PNG", "map.png", "image/png"))
        sent = graph_api.sent(WA_ID)[-1]
        assert sent["type"] == "image" and "caption" not in sent["image"]

    def test_a_long_text_goes_in_parts(self, server, graph_api, greeted):
        agent_message(server, text=("word " * 1000).strip())
        parts = graph_api.sent(WA_ID)[-2:]
        assert all(p["type"] == "text" and len(p["text"]["body"]) <= 4096 for p in parts)
        assert " ".join(p["text"]["body"] for p in parts) == ("word " * 1000).strip()

    def test_a_failed_upload_fails_the_message(self, server, graph_api, greeted):
        graph_api.fail_next(1, status=400, code=131053, message="Media upload error", path_suffix="/media")
        message_id = agent_message(server, text=None, file=store_file(server, b"x", "a.bin", "application/zip"))
        assert message(server, message_id).failure_reason == "131053: Media upload error"


class TestAgentReplyThroughTheApi:
    def test_an_agent_grabs_the_chat_replies_and_sees_the_customer_read_it(self, server, api, graph_api,
                                                                          greeted):
        send_text(server, "1")
        chat_id = chat_of(server).id
        add_agent(server, name="Sam", email="sam@example.com", department_ids=(greeted["Sales"],))
        token = api.logon("sam@example.com")
        api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
        reply = api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Hi Thandi, Sam here."}))
        server.run(drain_background())

        sent = graph_api.sent(WA_ID)[-1]
        assert sent["type"] == "text" and sent["text"]["body"] == "Hi Thandi, Sam here."

        def shown() -> dict:
            chat = api.ok(api.get("GetChat", token, {"ChatID": chat_id}))
            return next(m for m in chat["Messages"] if m["MessageID"] == reply["MessageID"])

        assert shown()["DeliveryStatus"] == "Sent"
        wamid = message(server, reply["MessageID"]).external_id
        assert post_webhook(server, payload("status_read.json", wamid=wamid)).status_code == 200
        assert shown()["DeliveryStatus"] == "Read"


# ---- read receipts and the typing indicator, from the agent's side -----------------------------------------

def settled(server, socket: AgentSocket) -> None:
    """Every frame sent on the socket so far has been handled, and what it started in the background is done."""
    socket.ws.send(json.dumps({"Type": "Ping"}))
    socket.wait_for("Pong")
    server.run(drain_background())


def typing(server, token: str, chat_id: int) -> None:
    """A fresh socket each time: one connection announces typing at most every 2 s on its own."""
    with AgentSocket(server, token) as socket:
        socket.ws.send(json.dumps({"Type": "Typing", "ChatID": chat_id}))
        settled(server, socket)


def read(wamid: str) -> dict:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}


def read_and_typing(wamid: str) -> dict:
    return {**read(wamid), "typing_indicator": {"type": "text"}}


@pytest.fixture
def handled(server, api, graph_api, greeted) -> dict:
    """The customer chose Sales with a known wamid; Sam grabbed the chat."""
    server.app.state.whatsapp_receipts.forget()
    wamid = new_wamid()
    send_text(server, "1", wamid=wamid)
    chat_id = chat_of(server).id
    add_agent(server, name="Sam", email="sam@example.com", department_ids=(greeted["Sales"],))
    token = api.logon("sam@example.com")
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
    server.run(drain_background())
    return {"chat_id": chat_id, "token": token, "wamid": wamid, **greeted}


class TestAgentTypingOnWhatsApp:
    def test_the_customer_sees_their_message_read_and_the_agent_typing(self, server, graph_api, handled):
        typing(server, handled["token"], handled["chat_id"])
        assert graph_api.receipts() == [read_and_typing(handled["wamid"])]

    def test_it_is_for_the_customers_newest_message(self, server, graph_api, handled):
        newer = new_wamid()
        send_text(server, "One more thing", wamid=newer)
        typing(server, handled["token"], handled["chat_id"])
        assert graph_api.receipts() == [read_and_typing(newer)]

    def test_more_typing_within_ten_seconds_sends_nothing_new(self, server, api, manager, graph_api, handled):
        typing(server, handled["token"], handled["chat_id"])
        typing(server, handled["token"], handled["chat_id"])
        typing(server, manager, handled["chat_id"])
        assert len(graph_api.receipts()) == 1

        clock.travel(timedelta(seconds=11))
        typing(server, handled["token"], handled["chat_id"])
        assert graph_api.receipts() == [read_and_typing(handled["wamid"])] * 2

    def test_a_failure_is_logged_without_the_token_and_not_retried(self, server, graph_api, handled, caplog):
        caplog.set_level(logging.DEBUG)
        graph_api.fail_next(1, status=500, code=1, message="An unknown error occurred")
        typing(server, handled["token"], handled["chat_id"])
        calls = [c for c in graph_api.calls("/messages") if c.json.get("status") == "read"]
        assert len(calls) == 1 and calls[0].status == 500
        assert "typing indicator" in caplog.text and handled["wamid"] in caplog.text
        assert WHATSAPP_ACCESS_TOKEN not in caplog.text

    def test_an_agent_who_may_not_see_the_chat_sends_nothing(self, server, api, graph_api, handled):
        add_agent(server, name="Kim", email="kim@example.com", department_ids=(handled["Support"],))
        typing(server, api.logon("kim@example.com"), handled["chat_id"])
        assert graph_api.receipts() == []


class TestAgentReadsWhatsAppChat:
    def test_the_assigned_agent_opening_the_chat_marks_the_newest_message_read_once(self, server, api,
                                                                                   graph_api, handled):
        for _ in range(3):
            api.ok(api.get("GetChat", handled["token"], {"ChatID": handled["chat_id"]}))
        server.run(drain_background())
        assert graph_api.receipts() == [read(handled["wamid"])]

        newer = new_wamid()
        send_text(server, "Are you there?", wamid=newer)
        api.ok(api.get("GetChat", handled["token"], {"ChatID": handled["chat_id"]}))
        api.ok(api.get("GetChat", handled["token"], {"ChatID": handled["chat_id"]}))
        server.run(drain_background())
        assert graph_api.receipts() == [read(handled["wamid"]), read(newer)]

    def test_a_manager_opening_it_counts_too(self, server, api, manager, graph_api, handled):
        api.ok(api.get("GetChat", manager, {"ChatID": handled["chat_id"]}))
        server.run(drain_background())
        assert graph_api.receipts() == [read(handled["wamid"])]

    def test_a_colleague_looking_in_does_not_mark_it_read(self, server, api, graph_api, handled):
        add_agent(server, name="Lee", email="lee@example.com", department_ids=(handled["Sales"],))
        api.ok(api.get("GetChat", api.logon("lee@example.com"), {"ChatID": handled["chat_id"]}))
        server.run(drain_background())
        assert graph_api.receipts() == []

    def test_after_typing_the_same_message_is_not_marked_read_again(self, server, api, graph_api, handled):
        typing(server, handled["token"], handled["chat_id"])
        api.ok(api.get("GetChat", handled["token"], {"ChatID": handled["chat_id"]}))
        server.run(drain_background())
        assert graph_api.receipts() == [read_and_typing(handled["wamid"])]


class TestReceiptsAcrossInstances:
    """With Redis as the broker the instances note receipts there (receipts.SharedNotes): two instances send
    what one would. Here two Receipts, each with its own Redis client, stand for two instances."""

    @pytest.fixture(autouse=True)
    def _own_keys(self):
        self.prefix = f"agentchat_test_{secrets.token_hex(8)}"  # each test's notes its own

    def scenario(self, server, steps, url: str = REDIS_URL) -> None:
        """Each step(a, b) on the server's loop, its background sends done before the next (no HTTP to the
        server from a step: the loop runs the step)."""
        async def run():
            prefix = self.prefix
            clients = [redis.from_url(url) for _ in range(2)]
            instances = [Receipts(server.app.state.whatsapp_graph, server.app.state.sessionmaker,
                                  SharedNotes(client, prefix)) for client in clients]
            try:
                for step in steps:
                    step(*instances)
                    await drain_background()
            finally:
                for client in clients:
                    await client.aclose()
        server.run(run())

    def test_a_message_is_marked_read_once_and_typing_shown_once_in_ten_seconds(self, server, graph_api, handled):
        chat_id, wamid, newer = handled["chat_id"], handled["wamid"], new_wamid()
        self.scenario(server, [
            lambda a, b: a.chat_read(chat_id, wamid),
            lambda a, b: b.chat_read(chat_id, wamid),  # A marked it already
            lambda a, b: b.agent_typing(chat_id),
            lambda a, b: a.agent_typing(chat_id),  # B showed "typing…" a moment ago
        ])
        send_text(server, "One more thing", wamid=newer)
        self.scenario(server, [lambda a, b: b.chat_read(chat_id, newer), lambda a, b: a.chat_read(chat_id, newer)])
        assert graph_api.receipts() == [read(wamid), read_and_typing(wamid), read(newer)]

    def test_without_redis_each_instance_goes_by_its_own_notes(self, server, graph_api, handled):
        chat_id, wamid = handled["chat_id"], handled["wamid"]
        self.scenario(server, [lambda a, b: a.chat_read(chat_id, wamid), lambda a, b: b.chat_read(chat_id, wamid),
                               lambda a, b: a.chat_read(chat_id, wamid)], url="redis://127.0.0.1:1/0")
        assert graph_api.receipts() == [read(wamid), read(wamid)]


class TestReceiptsStayOnWhatsApp:
    def test_a_web_chat_chat_sends_nothing_to_meta(self, server, api, graph_api, departments):
        visitor = httpx.post(f"{server.base_url}/webchat/visitors", json={}, timeout=30)
        assert visitor.status_code == 200, visitor.text
        headers = {"Authorization": f"Bearer {visitor.json()['VisitorToken']}"}
        for body in ({"Text": "Hi"}, {"Text": "1"}):
            response = httpx.post(f"{server.base_url}/webchat/messages", json=body, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
        server.run(drain_background())
        customer_id = visitor.json()["CustomerID"]
        chat_id = rows(server, select(Chat.id).where(Chat.customer_id == customer_id))[0]
        add_agent(server, name="Sam", email="sam@example.com", department_ids=(departments["Sales"],))
        token = api.logon("sam@example.com")
        api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
        typing(server, token, chat_id)
        api.ok(api.get("GetChat", token, {"ChatID": chat_id}))
        server.run(drain_background())
        assert graph_api.requests == []


class TestReadReceiptStandIn:
    """The stand-in refuses what Meta refuses, so a wrong request shape cannot pass the tests above."""

    @pytest.mark.parametrize("body", [
        {"messaging_product": "whatsapp", "status": "delivered", "message_id": "wamid.X"},
        {"messaging_product": "whatsapp", "status": "read"},
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X",
         "typing_indicator": {"type": "audio"}},
        {"status": "read", "message_id": "wamid.X"},
    ])
    def test_a_bad_receipt_is_refused(self, graph_api, body):
        response = httpx.post(f"{graph_api.api_url}/{WHATSAPP_PHONE_NUMBER_ID}/messages", json=body,
                              headers={"Authorization": f"Bearer {WHATSAPP_ACCESS_TOKEN}"}, timeout=10)
        assert response.status_code == 400 and "error" in response.json()
        assert graph_api.receipts() == []

    def test_a_good_one_succeeds(self, graph_api):
        response = httpx.post(f"{graph_api.api_url}/{WHATSAPP_PHONE_NUMBER_ID}/messages",
                              json=read_and_typing("wamid.X"),
                              headers={"Authorization": f"Bearer {WHATSAPP_ACCESS_TOKEN}"}, timeout=10)
        assert response.json() == {"success": True}
