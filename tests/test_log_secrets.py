"""No secret reaches the log: a real `agentchat serve`, logging everything at DEBUG, goes through agent sockets, the
web chat, invitation and reset links and Meta's webhook; then its whole output and /metrics are searched for every
token, code and secret used."""

import json
import os
import re
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from conftest import (
    WHATSAPP_ACCESS_TOKEN,
    WHATSAPP_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN,
    free_port,
    whatsapp_settings,
)
from instances import Instance
from realtime_helpers import AgentSocket
from test_whatsapp import payload
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from agentchat.channels.whatsapp.signature import sign

PASSWORD = "a manager's secret"
CODE = re.compile(r"ResetCode=([A-Za-z0-9_\-]+)")


def codes_in_outbox(outbox: Path, seen: set[str]) -> list[str]:
    codes = []
    for path in sorted(outbox.glob("*.eml")):
        text = message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
        codes += [code for code in CODE.findall(text) if code not in seen]
    return codes


@pytest.fixture
def serving(tmp_path, graph_api):
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}",
               AGENTCHAT_DATA_DIR=str(tmp_path), AGENTCHAT_BROKER_URL="memory://", AGENTCHAT_LOG_LEVEL="DEBUG",
               AGENTCHAT_ARGON2_TIME_COST="1", AGENTCHAT_ARGON2_MEMORY_KIB="8", AGENTCHAT_ARGON2_PARALLELISM="1")
    env.pop("AGENTCHAT_SMTP_HOST", None)
    env.update({f"AGENTCHAT_{key.upper()}": str(value) for key, value in whatsapp_settings(graph_api).items()})
    subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", "Mia", "--email",
                    "mia@example.com", "--password", PASSWORD], env=env, check=True, capture_output=True)
    instance = Instance(env, tmp_path, port=free_port())
    yield instance, tmp_path
    instance.stop()


def test_no_token_code_or_secret_reaches_any_log_line(serving, graph_api):
    instance, tmp_path = serving
    base = instance.base_url
    http = httpx.Client(base_url=base, timeout=30)
    secrets = {PASSWORD, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN}

    def call(method: str, name: str, token: str | None = None, **kwargs) -> dict:
        params = {**kwargs.pop("params", {}), **({"SessionToken": token} if token else {})}
        response = http.request(method, f"/api/{name}", params=params, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    manager = call("POST", "AgentLogon", json={"EmailAddress": "mia@example.com", "Password": PASSWORD})["SessionToken"]
    secrets.add(manager)
    department = call("POST", "CreateDepartment", manager, json={"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                                  "MenuOption": 1})["DepartmentID"]
    # An invitation, its link opened and used; then a reset, its link opened and used.
    call("POST", "CreateAgent", manager, json={"Name": "Sam", "EmailAddress": "sam@example.com", "RoleID": 1,
                                              "DepartmentIDs": [department]})
    seen: set[str] = set()
    for step in ("invitation", "reset"):
        if step == "reset":
            call("GET", "RequestPasswordReset", params={"EmailAddress": "sam@example.com"})
        deadline = time.monotonic() + 10
        while not (codes := codes_in_outbox(tmp_path / "outbox", seen)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert codes, f"no {step} mail"
        seen.update(codes)
        assert http.get("/reset-password", params={"ResetCode": codes[0]}).status_code == 200
        call("POST", "SetPassword", json={"ResetCode": codes[0], "Password": f"sam's {step} password"})
        secrets.add(f"sam's {step} password")
    secrets |= seen
    sam = call("POST", "AgentLogon", json={"EmailAddress": "sam@example.com",
                                           "Password": "sam's reset password"})["SessionToken"]
    secrets.add(sam)
    # Agent sockets: accepted, a token refused, and one whose session ends.
    bad = "f" * 32
    secrets.add(bad)
    with pytest.raises((ConnectionClosed, InvalidStatus)), connect(
            base.replace("http://", "ws://") + f"/ws?SessionToken={bad}", open_timeout=5) as refused:
        refused.recv(timeout=5)
    with AgentSocket(instance, manager) as boss, AgentSocket(instance, sam) as sam_socket:
        # The web chat: a visitor, their socket, messages by header and by query.
        visitor = http.post("/webchat/visitors", json={"Name": "Vera"}).json()["VisitorToken"]
        secrets.add(visitor)
        with connect(base.replace("http://", "ws://") + f"/webchat/ws?VisitorToken={visitor}") as ws:
            ws.send(json.dumps({"Type": "Ping"}))
            assert http.post("/webchat/messages", headers={"Authorization": f"Bearer {visitor}"},
                             json={"Text": "Hello"}).status_code == 200
            assert http.post("/webchat/messages", params={"VisitorToken": visitor},
                             json={"Text": "1"}).status_code == 200
            assert http.get("/webchat/messages", headers={"Authorization": f"Bearer {visitor}"}).status_code == 200
            queued = sam_socket.wait_for("ChatQueued")["Data"]["ChatID"]
            call("POST", "GrabChat", sam, json={"ChatID": queued})
            call("POST", "SendMessage", sam, json={"ChatID": queued, "Message": "Hi Vera"})
        # Meta's webhook: the handshake with the verify token, a signed delivery, a badly signed one.
        handshake = {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "42"}
        assert http.get("/webhooks/whatsapp", params=handshake).text == "42"
        body = payload("text.json", body="Hello from WhatsApp")
        signed = http.post("/webhooks/whatsapp", content=body,
                           headers={"X-Hub-Signature-256": sign(WHATSAPP_APP_SECRET, body)})
        assert signed.status_code == 200, signed.text
        assert http.post("/webhooks/whatsapp", content=body,
                         headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 401
        boss.wait_for("MessageReceived", timeout=10)
        call("GET", "AgentLogoff", sam)
        with pytest.raises(ConnectionClosed):
            sam_socket.drain(quiet=3)
    metrics = http.get("/metrics").text
    http.close()
    instance.stop()
    log = Path(instance.log.name).read_text(errors="replace")
    # The lines that used to carry them are there, redacted.
    assert '"WebSocket /ws?SessionToken=***" [accepted]' in log, log[-3000:]
    assert "/webchat/ws?VisitorToken=***" in log
    assert "GET /reset-password?ResetCode=*** HTTP/1.1" in log
    for secret in secrets:
        assert secret not in log, f"{secret!r} is in the log"
        assert secret not in metrics, f"{secret!r} is in /metrics"
