"""WhatsApp: the webhook answers before customers' files are fetched; the fetch carries on in the background,
across a restart; and the 24-hour window runs from Meta's timestamp. Payloads in Meta's shapes
(tests/fixtures/whatsapp, sources in SOURCES.md), signed, through the real server and the Graph API stand-in."""

# ruff: noqa: F811 (the fixtures departments and greeted come from test_whatsapp)
import calendar
import secrets
from datetime import timedelta

import httpx
from conftest import WHATSAPP_APP_SECRET, LiveServer, add_agent, error_code
from realtime_helpers import AgentSocket
from test_whatsapp import (  # noqa: F401 (departments and greeted are fixtures)
    PATH,
    WA_ID,
    agent_message,
    chat_of,
    departments,
    greeted,
    message,
    messages,
    payload,
    post_webhook,
    send_text,
    store_file,
)

from agentchat import clock
from agentchat.channels.whatsapp.outbound import MB, NotSendable, media_kind
from agentchat.channels.whatsapp.signature import sign
from agentchat.db import drain_background


def post_quickly(server, body: bytes) -> httpx.Response:
    """The webhook's answer, not waiting for anything it started. The timeout is far below what waiting for a
    stalled download would take (the Graph client's 15 s timeout, retried)."""
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(WHATSAPP_APP_SECRET, body)}
    return httpx.post(server.base_url + PATH, content=body, headers=headers, timeout=10)


def media_done(server) -> None:
    server.run(server.app.state.whatsapp_media.drain())
    server.run(drain_background())


class TestFilesAfterTheAnswer:
    def test_a_stalled_media_server_does_not_hold_the_answer_and_the_file_follows(self, server, api, manager,
                                                                                  graph_api, departments):
        picture = b"\xff\xd8\xff\xe0" + secrets.token_bytes(4096)
        media_id = graph_api.add_media(picture, "image/jpeg")
        graph_api.stalled.set()
        with AgentSocket(server, manager) as socket:
            response = post_quickly(server, payload("image.json", media_id=media_id, body="The broken part"))
            assert response.status_code == 200
            stored = messages(server)[0]
            assert stored.text == "The broken part" and stored.file_key is None
            assert stored.media_status == "Pending"
            shown = api.ok(api.get("GetChat", manager, {"ChatID": stored.chat_id}))["Messages"][0]
            assert shown["MediaStatus"] == "Pending" and shown["File"] is None

            graph_api.stalled.clear()
            updated = socket.wait_for("MessageUpdated", timeout=30, MessageID=stored.id)
        assert updated["Data"]["MediaStatus"] is None
        assert updated["Data"]["File"]["FileType"] == "image/jpeg" and updated["Data"]["File"]["Size"] == len(picture)
        assert updated["Data"]["Text"] == "The broken part"
        media_done(server)
        arrived = message(server, stored.id)
        assert server.run(server.app.state.file_storage.read(arrived.file_key)) == picture

    def test_a_delivery_again_while_the_file_is_on_its_way_downloads_it_once(self, server, graph_api, departments):
        media_id = graph_api.add_media(b"\x89PNG" + secrets.token_bytes(64), "image/png")
        body = payload("image.json", media_id=media_id)
        graph_api.stalled.set()
        assert post_quickly(server, body).status_code == 200
        assert post_quickly(server, body).status_code == 200
        graph_api.stalled.clear()
        media_done(server)
        assert len(graph_api.calls(f"/media-download/{media_id}")) == 1
        assert [m.file_key is not None for m in messages(server)] == [True, False]  # the image, the bot's menu

    def test_a_download_that_finally_fails_leaves_a_clear_note(self, server, api, manager, graph_api, departments):
        with AgentSocket(server, manager) as socket:
            assert post_quickly(server, payload("image.json", media_id="999", body="Look")).status_code == 200
            stored = messages(server)[0]
            updated = socket.wait_for("MessageUpdated", timeout=30, MessageID=stored.id)
        assert updated["Data"]["MediaStatus"] == "Failed" and updated["Data"]["File"] is None
        assert updated["Data"]["Text"].startswith("Look\n[The customer sent an image that could not be downloaded")

    def test_meta_down_for_a_while_is_retried_in_rounds(self, server, graph_api, departments):
        media_id = graph_api.add_media(b"%PDF-1.7", "application/pdf")
        # The first round's quick retries all fail (3 attempts in the test settings); the next round succeeds.
        graph_api.fail_next(3, status=503, code=2, message="Service temporarily unavailable", path_suffix=media_id)
        post_webhook(server, payload("document.json", media_id=media_id, file_name="Invoice.pdf"))
        stored = messages(server)[0]
        assert stored.media_status is None and stored.file_name == "Invoice.pdf"
        assert stored.payload["Media"]["Attempts"] == 1

    def test_a_restart_mid_download_resumes_it(self, server, graph_api, departments):
        picture = b"\x89PNG" + secrets.token_bytes(256)
        media_id = graph_api.add_media(picture, "image/png")
        graph_api.stalled.set()
        first = LiveServer(server.settings)
        first.start()
        try:
            assert post_quickly(first, payload("image.json", media_id=media_id)).status_code == 200
            graph_api.wait_for(lambda s: s.calls(f"/{media_id}"))  # the lookup is done, the download hangs
        finally:
            first.stop()  # mid-download
        assert messages(server)[0].media_status == "Pending"
        graph_api.stalled.clear()
        again = LiveServer(server.settings)
        again.start()
        try:
            again.run(again.app.state.whatsapp_media.drain())
        finally:
            again.stop()
        stored = messages(server)[0]
        assert stored.media_status is None
        assert server.run(server.app.state.file_storage.read(stored.file_key)) == picture


class TestFileSizes:
    def test_a_size_given_as_a_string_in_the_webhook_is_checked_before_fetching(self, server, graph_api,
                                                                               departments):
        too_big = server.settings.max_file_bytes + 1
        media_id = graph_api.add_media(b"%PDF", "application/pdf")
        post_webhook(server, payload("document_sized.json", media_id=media_id, file_size=str(too_big),
                                     file_name="Huge.pdf"))
        stored = messages(server)[0]
        assert stored.media_status == "Failed" and stored.file_key is None
        assert f"a file of {too_big} bytes" in stored.text
        assert graph_api.calls(f"/{media_id}") == []

    def test_a_size_given_as_a_string_by_the_graph_api_is_checked_before_downloading(self, server, graph_api,
                                                                                    departments):
        media_id = graph_api.add_media(b"\0" * (server.settings.max_file_bytes + 1), "video/mp4")
        post_webhook(server, payload("image.json", media_id=media_id))
        assert messages(server)[0].media_status == "Failed"
        assert graph_api.calls(f"/media-download/{media_id}") == []


class TestOutboundMediaKinds:
    def test_metas_table(self):
        assert media_kind("image/jpeg", 5 * MB) == "image"
        assert media_kind("image/jpeg", 5 * MB + 1) == "document"
        assert media_kind("image/webp", 1000) == "document"
        assert media_kind("video/mp4", 16 * MB + 1) == "document"
        assert media_kind("audio/ogg", 1000, b"OggS\0\x02" + b"\0" * 22 + b"OpusHead") == "audio"
        assert media_kind("audio/ogg", 1000, b"OggS\0\x02" + b"\0" * 22 + b"\x01vorbis") == "document"
        assert media_kind("audio/mpeg", 1000) == "audio"
        for size in (0, 100 * MB + 1):
            try:
                media_kind("application/pdf", size)
            except NotSendable:
                continue
            raise AssertionError(f"{size} bytes should not be sendable")

    def test_a_large_image_and_a_webp_go_as_documents(self, server, graph_api, greeted):
        agent_message(server, text="Big", file=store_file(server, b"\xff\xd8" + b"\0" * (5 * MB), "big.jpg",
                                                           "image/jpeg"))
        agent_message(server, text=None, file=store_file(server, b"RIFF\0\0\0\0WEBP", "s.webp", "image/webp"))
        sent = graph_api.sent(WA_ID)[-2:]
        assert [s["type"] for s in sent] == ["document", "document"]
        assert sent[0]["document"]["filename"] == "big.jpg" and sent[0]["document"]["caption"] == "Big"


# ---- the 24-hour window ---------------------------------------------------------------------------------------

def handled_chat(server, api, departments) -> tuple[int, str]:
    send_text(server, "Hi")
    send_text(server, "1")
    chat_id = chat_of(server).id
    add_agent(server, name="Sam", email="sam@example.com", department_ids=(departments["Sales"],))
    token = api.logon("sam@example.com")
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
    return chat_id, token


def unix(at) -> str:
    """Meta's timestamp (Unix seconds, as a string) of a naive UTC time."""
    return str(calendar.timegm(at.utctimetuple()))


class TestWindowFromMetasTimestamp:
    def test_a_message_delivered_25_hours_late_does_not_open_the_window(self, server, api, graph_api, departments):
        chat_id, token = handled_chat(server, api, departments)
        written = clock.now()
        clock.travel(timedelta(hours=30))
        token = api.logon("sam@example.com")  # the session has lapsed meanwhile
        # Written 25 hours ago, delivered only now.
        late = written + timedelta(hours=5)
        send_text(server, "Are you there?", timestamp=unix(late))
        stored = messages(server)[-1]
        assert stored.text == "Are you there?"
        assert abs((stored.sent_at - late).total_seconds()) < 1  # Meta's time
        assert stored.created_at > late + timedelta(hours=24)  # its arrival, kept too
        refused = api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Sorry for the wait"})
        assert refused.status_code == 409 and error_code(refused) == "whatsapp_24h_window"
        with_reply = api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Sorry",
                                                     "ReplyToMessageID": stored.id})
        assert with_reply.status_code == 409 and error_code(with_reply) == "whatsapp_24h_window"

        send_text(server, "Hello?", timestamp=unix(clock.now()))
        api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Here I am"}))

    def test_a_late_message_never_moves_the_window_back(self, server, api, graph_api, departments):
        chat_id, token = handled_chat(server, api, departments)
        clock.travel(timedelta(hours=2))
        send_text(server, "Recent", timestamp=unix(clock.now()))
        send_text(server, "Old", timestamp=unix(clock.now() - timedelta(hours=23, minutes=30)))
        clock.travel(timedelta(hours=1))
        token = api.logon("sam@example.com")
        api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Still within the window"}))
