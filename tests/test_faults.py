"""Faults: the server killed mid-load loses no acknowledged message; a Redis restart loses no client.

Each test runs `python -m agentchat serve` as a real subprocess on its own scratch PostgreSQL database
(and, for the Redis test, a private redis-server on a free port, so the shared one is never touched).
"""

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pytest
from conftest import BACKENDS, POSTGRES_ADMIN_URL, free_port
from instances import Instance, drop_database, recreate_database
from realtime_helpers import AgentSocket

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="the fault tests run on PostgreSQL")

PASSWORD = "fault-tolerance"


# ---- scratch database, instances, a private Redis ------------------------------------------------------------

async def _fetch(database: str, query: str, *args) -> list:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


@pytest.fixture
def scratch_env(tmp_path, request):
    """Environment for an instance on a fresh PostgreSQL database, with one Manager made through the CLI."""
    database = f"agentchat_fault_{os.getpid()}_{request.node.name[:20].lower()}"
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=recreate_database(database), AGENTCHAT_BROKER_URL="memory://",
               AGENTCHAT_DATA_DIR=str(tmp_path), AGENTCHAT_ARGON2_TIME_COST="1", AGENTCHAT_ARGON2_MEMORY_KIB="8",
               AGENTCHAT_ARGON2_PARALLELISM="1", AGENTCHAT_LOG_LEVEL="WARNING",
               AGENTCHAT_DATABASE_NAME_FOR_TEST=database)
    subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", "Mia", "--email",
                    "mia@example.com", "--password", PASSWORD], env=env, check=True, capture_output=True)
    yield env
    drop_database(database)


class PrivateRedis:
    """A redis-server of our own, without persistence (a restart forgets everything)."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                import redis

                if redis.Redis(port=port, socket_timeout=1).ping():
                    return
            except Exception:  # noqa: BLE001 (not up yet)
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def logon(instance: Instance, email: str = "mia@example.com") -> str:
    response = httpx.post(f"{instance.base_url}/api/AgentLogon", json={"EmailAddress": email, "Password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["SessionToken"]


def call(instance: Instance, method: str, name: str, token: str, **kwargs) -> dict:
    response = httpx.request(method, f"{instance.base_url}/api/{name}", headers={"Authorization": f"Bearer {token}"},
                             timeout=30, **kwargs)
    assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"
    return response.json()


def assigned_webchat(instance: Instance, token: str, department_id: int, n: int) -> int:
    """A web chat visitor writes and picks the department; the Manager grabs the chat. Returns the ChatID."""
    http = httpx.Client(base_url=instance.base_url, timeout=30)
    visitor = http.post("/webchat/visitors", json={"Name": f"Visitor {n}"}).json()["VisitorToken"]
    headers = {"Authorization": f"Bearer {visitor}"}
    assert http.post("/webchat/messages", headers=headers, json={"Text": "Hello"}).status_code == 200
    response = http.post("/webchat/messages", headers=headers, json={"Choice": f"department:{department_id}"})
    assert response.status_code == 200, response.text
    http.close()
    queued = call(instance, "GET", "GetChats", token, params={"Status": "Unassigned"})["Items"]
    chat_id = queued[0]["ChatID"]
    call(instance, "POST", "GrabChat", token, json={"ChatID": chat_id})
    return chat_id


# ---- (a) SIGKILL during a SendMessage load -----------------------------------------------------------------------

class TestKilledServer:
    def test_every_acknowledged_message_is_stored_exactly_once_after_a_kill(self, scratch_env, tmp_path):
        instance = Instance(scratch_env, tmp_path)
        token = logon(instance)
        department = call(instance, "POST", "CreateDepartment", token,
                          json={"Name": "Sales", "IncludeInWelcomeMenu": True, "MenuOption": 1})["DepartmentID"]
        chats = [assigned_webchat(instance, token, department, n) for n in range(4)]

        acknowledged: list[tuple[int, int, str]] = []  # (ChatID, MessageID, Text) of every 200
        attempted: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker: int) -> None:
            http = httpx.Client(base_url=instance.base_url, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
            n = 0
            while not stop.is_set():
                chat_id = chats[(worker + n) % len(chats)]
                text = f"load w{worker} n{n}"
                n += 1
                with lock:
                    attempted.append(text)
                try:
                    response = http.post("/api/SendMessage", json={"ChatID": chat_id, "Message": text})
                except httpx.TransportError:
                    break  # the server is gone: the answer never came, so nothing was promised
                if response.status_code == 200:
                    body = response.json()
                    assert body["Text"] == text
                    with lock:
                        acknowledged.append((chat_id, body["MessageID"], text))
                else:
                    assert response.status_code < 500, response.text
            http.close()

        threads = [threading.Thread(target=sender, args=(worker,), daemon=True) for worker in range(12)]
        for thread in threads:
            thread.start()
        # Kill mid-load: once a good number of sends have been answered (requests are in flight on all workers).
        deadline = time.monotonic() + 60
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        instance.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert len(acknowledged) >= 300

        restarted = Instance(scratch_env, tmp_path, port=instance.port)
        try:
            rows = asyncio.run(_fetch(scratch_env["AGENTCHAT_DATABASE_NAME_FOR_TEST"],
                                      "SELECT id, chat_id, text FROM message WHERE text LIKE 'load w%'"))
            stored = {(row["chat_id"], row["id"], row["text"]) for row in rows}
            texts = Counter(row["text"] for row in rows)
            assert set(acknowledged) <= stored, f"lost: {sorted(set(acknowledged) - stored)[:10]}"
            assert [text for text, count in texts.items() if count > 1] == []
            assert set(texts) <= set(attempted)
            # The restarted server serves them too.
            token = logon(restarted)
            seen = {m["MessageID"] for chat_id in chats
                    for m in call(restarted, "GET", "GetChat", token, params={"ChatID": chat_id})["Messages"]}
            missing = {message_id for _chat, message_id, _text in acknowledged} - seen
            assert not missing, f"acknowledged but not served after the restart: {sorted(missing)[:10]}"
        finally:
            restarted.stop()


# ---- (b) Redis restart during real-time delivery ---------------------------------------------------------------------

def set_status(instance: Instance, token: str, agent_id: int, status_id: int) -> None:
    call(instance, "POST", "UpdateAgent", token, json={"AgentID": agent_id, "StatusID": status_id})


def status_event_after_restart(instance: Instance, token: str, agent_id: int, socket: AgentSocket) -> dict:
    """Change status until the socket sees the event: the first publish may meet a stale Redis connection."""
    for attempt in range(5):
        status = 2 + attempt % 2
        set_status(instance, token, agent_id, status)
        try:
            return socket.wait_for("AgentStatusChanged", timeout=2, AgentID=agent_id, StatusID=status)
        except (AssertionError, TimeoutError):
            continue
    raise AssertionError("no event reached the socket after Redis came back")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
class TestRedisRestart:
    def test_clients_recover_by_catch_up_and_event_ids_keep_increasing(self, scratch_env, tmp_path):
        redis_port = free_port()
        redis = PrivateRedis(redis_port)
        env = dict(scratch_env, AGENTCHAT_BROKER_URL=redis.url)
        instance = Instance(env, tmp_path)
        try:
            token = logon(instance)
            me = next(a for a in call(instance, "GET", "GetAgents", token)["Items"]
                      if a["EmailAddress"] == "mia@example.com")["AgentID"]
            with AgentSocket(instance, token) as socket:
                for status in (2, 3) * 12:
                    set_status(instance, token, me, status)
                    before = socket.wait_for("AgentStatusChanged", StatusID=status)
                last_before = before["EventID"]
                assert last_before >= 24

                redis.stop()
                redis = PrivateRedis(redis_port)  # empty: the counter and the stream are gone

                # Real-time delivery resumes on the open socket, with EventIDs still increasing.
                after = status_event_after_restart(instance, token, me, socket)
                assert after["EventID"] > last_before
                last_seen = after["EventID"]
                current = after["Data"]["StatusID"]

            # A client that was away across the restart, holding an EventID from before it: the events it
            # missed are gone with the old Redis, so it is told to reload (ResyncRequired), never left silent.
            with AgentSocket(instance, token, last_event_id=last_before - 2) as socket:
                events = socket.drain()
                assert [e["Type"] for e in events][:1] == ["ResyncRequired"]

            # A client that was current catches up on what it missed while disconnected, in order.
            changes = [5 - current, current]  # 2 <-> 3: each one a real change
            for status in changes:
                set_status(instance, token, me, status)
            with AgentSocket(instance, token, last_event_id=last_seen) as socket:
                missed = [e for e in socket.drain() if e["Type"] == "AgentStatusChanged"]
            assert [e["Data"]["StatusID"] for e in missed] == changes
            assert all(e["EventID"] > last_seen for e in missed)
            assert [e["EventID"] for e in missed] == sorted(e["EventID"] for e in missed)
        finally:
            instance.stop()
            redis.stop()
