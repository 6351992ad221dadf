"""Security headers wherever a page, a file or JSON is served (issue 17): nosniff on every answer; downloads
sandboxed and never cached; the reset page locked down; /chat framed only by the origins a setting lists."""

import base64
import datetime
import re

import httpx
import pytest
from chat_helpers import agent_with_a_chat
from pydantic import ValidationError

from agentchat.channels.webchat.routes import chat_page_headers
from agentchat.config import Settings
from agentchat.webheaders import inline_hashes

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
                       "awAAAABJRU5ErkJggg==")


def policy(response: httpx.Response) -> dict[str, str]:
    """The Content-Security-Policy's directives, by name."""
    return {part.split()[0]: part.strip() for part in response.headers["content-security-policy"].split(";")}


def assert_download(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["content-disposition"].startswith("attachment")


class TestApiAnswers:
    def test_every_json_answer_is_nosniff(self, server, api, manager):
        token, _chat_id = agent_with_a_chat(server, api)
        for response in (api.get("GetChats", token), api.get("GetAgents", manager), api.get("KeepAlive"),
                         api.get("NoSuchCall"), api.post("SendMessage", token, {"ChatID": 1, "Message": "hi"})):
            assert response.headers["content-type"].startswith("application/json")
            assert response.headers["x-content-type-options"] == "nosniff", response.request.url


class TestDownloads:
    def test_files_exports_and_reports_are_sandboxed_and_never_cached(self, server, api, manager):
        token, chat_id = agent_with_a_chat(server, api)
        sent = api.ok(api.post("SendMessage", token, {
            "ChatID": chat_id, "FileName": "page.html", "FileType": "text/plain",
            "FileContent": base64.b64encode(b"<script>alert(1)</script>").decode()}))
        assert_download(api.get("GetFile", token, {"MessageID": sent["MessageID"]}))
        assert_download(api.get("ExportChat", token, {"ChatID": chat_id}))
        today = datetime.date.today().isoformat()
        for file_format in ("CSV", "XLSX"):
            assert_download(api.get("GetReport", manager, {"ReportID": "ChatSummary", "From": today, "To": today,
                                                          "FileFormat": file_format}))

    def test_a_visitors_file_is_sandboxed_and_never_cached(self, server):
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            token = client.post("/webchat/visitors", json={"Name": "Vera"}).json()["VisitorToken"]
            auth = {"Authorization": f"Bearer {token}"}
            sent = client.post("/webchat/messages", headers=auth, json={
                "FileName": "dot.png", "FileType": "image/png", "FileContent": base64.b64encode(PNG).decode()})
            assert sent.status_code == 200, sent.text
            assert_download(client.get(f"/webchat/files/{sent.json()['MessageID']}", headers=auth))


class TestPages:
    def test_the_reset_page_runs_only_its_own_script_and_is_never_framed(self, server, api):
        response = api.http.get("/reset-password", params={"ResetCode": "abc"})
        assert response.status_code == 200
        directives = policy(response)
        assert directives["default-src"] == "default-src 'none'"
        assert directives["frame-ancestors"] == "frame-ancestors 'none'"
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        # The page's own inline script and style, exactly: the browser runs them and nothing else.
        (script,) = re.findall(r"<script>(.*?)</script>", response.text, flags=re.S)
        assert directives["script-src"] == f"script-src {inline_hashes(response.text, 'script')}" and script
        assert directives["connect-src"] == "connect-src 'self'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"  # the URL holds the ResetCode
        assert response.headers["cache-control"] == "no-store"

    def test_the_chat_page_is_framed_by_this_origin_only_by_default(self, server, api):
        response = api.http.get("/chat")
        assert response.status_code == 200
        assert policy(response)["frame-ancestors"] == "frame-ancestors 'self'"
        assert response.headers["x-content-type-options"] == "nosniff"

    def test_the_chat_page_may_be_framed_by_the_listed_origins(self):
        settings = Settings(_env_file=None, webchat_frame_ancestors="https://shop.example.com http://localhost:8080")
        directive = chat_page_headers(settings)["Content-Security-Policy"].split(";")[-1].strip()
        assert directive == "frame-ancestors 'self' https://shop.example.com http://localhost:8080"

    @pytest.mark.parametrize("bad", ["shop.example.com", "https://shop.example.com; script-src *", "'none'",
                                     "https://shop.example.com/path", "*"])
    def test_anything_but_an_origin_is_refused_at_start(self, bad):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, webchat_frame_ancestors=bad)
