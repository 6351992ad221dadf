"""Three nodes: `agentchat serve` processes with data folders of their own, sharing PostgreSQL (through
PgBouncer in transaction mode), Redis and S3-compatible object storage (moto's server), behind nginx with
deploy/nginx.conf's site; every one of them started here. Heavier load: AGENTCHAT_MULTINODE_SENDS (default 200)."""

import asyncio
import base64
import os
import threading
import time
from collections import Counter

import asyncpg
import httpx
import pytest
import redis
from conftest import PASSWORD, POSTGRES_ADMIN_URL
from instances import Instance, drop_database, recreate_database
from nginx import Nginx
from pgbouncer import pgbouncer  # noqa: F401 (a fixture)
from realtime_helpers import AgentSocket
from s3_server import moto_s3  # noqa: F401 (a fixture)

REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE = f"agentchat_nodes_{os.getpid()}"
REDIS_PREFIX = f"agentchat_nodes_{os.getpid()}"
SENDS = int(os.environ.get("AGENTCHAT_MULTINODE_SENDS", "200"))


class Nodes:
    def __init__(self, envs: list[dict], logs, nginx: Nginx, instances: list[Instance]):
        self.envs, self.logs, self.nginx, self.instances = envs, logs, nginx, instances
        self.http = httpx.Client(base_url=nginx.base_url, timeout=30)

    def restart(self, *indexes: int) -> None:
        """Start these nodes again on their ports, at the same time (each runs its start-up jobs)."""
        def start(i: int) -> None:
            self.instances[i] = Instance(self.envs[i], self.logs, port=self.instances[i].port)
        threads = [threading.Thread(target=start, args=(i,)) for i in indexes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def index_of_port(self, port: int) -> int:
        return next(i for i, instance in enumerate(self.instances) if instance.port == port)

    def call(self, method: str, name: str, token: str, base_url: str | None = None, **kwargs) -> dict:
        response = httpx.request(method, f"{base_url or self.nginx.base_url}/api/{name}",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)
        assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"
        return response.json()

    def logon(self) -> str:
        response = self.http.post("/api/AgentLogon", json={"EmailAddress": "mia@example.com", "Password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["SessionToken"]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, pgbouncer, moto_s3, mailbox):  # noqa: F811
    import subprocess
    import sys

    tmp = tmp_path_factory.mktemp("nodes")
    recreate_database(DATABASE)
    bucket = f"nodes-{os.getpid()}"
    moto_s3.create_bucket(bucket)
    base = dict(os.environ, AGENTCHAT_DATABASE_URL=pgbouncer.url(DATABASE), AGENTCHAT_POSTGRES_POOLER="pgbouncer",
                AGENTCHAT_BROKER_URL=REDIS_URL, AGENTCHAT_REDIS_PREFIX=REDIS_PREFIX,
                AGENTCHAT_SMTP_HOST="127.0.0.1", AGENTCHAT_SMTP_PORT=str(mailbox.port),
                AGENTCHAT_ARGON2_TIME_COST="1", AGENTCHAT_ARGON2_MEMORY_KIB="8", AGENTCHAT_ARGON2_PARALLELISM="1",
                AGENTCHAT_LOG_LEVEL="WARNING", **moto_s3.env(bucket))
    envs = [dict(base, AGENTCHAT_DATA_DIR=str(tmp / f"node{i}")) for i in range(3)]
    subprocess.run([sys.executable, "-m", "agentchat", "migrate"], env=envs[0], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", "Mia", "--email", "mia@example.com",
                    "--password", PASSWORD], env=envs[0], check=True, capture_output=True)
    instances = [Instance(env, tmp) for env in envs]
    nginx = Nginx([instance.port for instance in instances], tmp / "nginx")
    deployment = Nodes(envs, tmp, nginx, instances)
    yield deployment
    nginx.stop()
    for instance in deployment.instances:
        instance.stop()
    drop_database(DATABASE)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{REDIS_PREFIX}:*"):
        client.delete(key)
    client.close()


def assigned_webchat(nodes: Nodes, token: str, department_id: int, n: int) -> int:
    """A web-chat visitor writes and picks the department (through nginx); the manager grabs it."""
    http = httpx.Client(base_url=nodes.nginx.base_url, timeout=30)
    visitor = http.post("/webchat/visitors", json={"Name": f"Visitor {n}"}).json()["VisitorToken"]
    headers = {"Authorization": f"Bearer {visitor}"}
    assert http.post("/webchat/messages", headers=headers, json={"Text": "Hello"}).status_code == 200
    chosen = http.post("/webchat/messages", headers=headers, json={"Choice": f"department:{department_id}"})
    assert chosen.status_code == 200, chosen.text
    http.close()
    queued = nodes.call("GET", "GetChats", token, params={"Status": "Unassigned"})["Items"]
    nodes.call("POST", "GrabChat", token, json={"ChatID": queued[0]["ChatID"]})
    return queued[0]["ChatID"]


@pytest.fixture(scope="module")
def chats(nodes) -> list[int]:
    token = nodes.logon()
    department = nodes.call("POST", "CreateDepartment", token, json={
        "Name": "Sales", "IncludeInWelcomeMenu": True, "MenuOption": 1})["DepartmentID"]
    return [assigned_webchat(nodes, token, department, n) for n in range(4)]


class TestFilesOnEveryNode:
    def test_a_file_sent_through_one_node_is_served_by_the_others(self, nodes, chats):
        token = nodes.logon()
        content = b"%PDF-1.4 " + os.urandom(300_000)
        first = nodes.instances[0].base_url
        sent = nodes.call("POST", "SendMessage", token, base_url=first, json={
            "ChatID": chats[0], "FileName": "quote.pdf", "FileType": "application/pdf",
            "FileContent": base64.b64encode(content).decode()})
        for instance in nodes.instances[1:]:
            fetched = httpx.get(f"{instance.base_url}/api/GetFile", params={"MessageID": sent["MessageID"]},
                                headers={"Authorization": f"Bearer {token}"})
            assert fetched.status_code == 200 and fetched.content == content
        through_nginx = nodes.http.get("/api/GetFile", params={"MessageID": sent["MessageID"]},
                                       headers={"Authorization": f"Bearer {token}"})
        assert through_nginx.status_code == 200 and through_nginx.content == content
        for i in range(3):  # each node's own data folder holds no file
            assert not list((nodes.logs / f"node{i}").rglob("*.pdf"))


class TestSocketOnAKilledNode:
    def test_the_socket_reconnects_through_nginx_to_another_node_and_catches_up(self, nodes):
        token = nodes.logon()
        me = next(a for a in nodes.call("GET", "GetAgents", token)["Items"] if a["EmailAddress"] == "mia@example.com")
        socket = AgentSocket(nodes.nginx, token)
        held_by = nodes.index_of_port(int(socket.ws.response.headers["X-Upstream"].rsplit(":", 1)[1]))
        last = socket.connected["Data"]["LastEventID"]
        nodes.call("POST", "UpdateAgent", token, json={"AgentID": me["AgentID"], "StatusID": 2})
        last = socket.wait_for("AgentStatusChanged")["EventID"]

        nodes.instances[held_by].kill()
        with pytest.raises(Exception):  # noqa: B017 (closed, however the library words it)
            socket.drain(quiet=5)
            socket.next(timeout=5)
        # While it is away, the others carry on: three changes it has not seen.
        for status in (3, 1, 2):
            nodes.call("POST", "UpdateAgent", token, json={"AgentID": me["AgentID"], "StatusID": status})
        try:
            with AgentSocket(nodes.nginx, token, last_event_id=last) as again:
                now_on = nodes.index_of_port(int(again.ws.response.headers["X-Upstream"].rsplit(":", 1)[1]))
                missed = again.drain(quiet=1)
        finally:
            nodes.restart(held_by)
        assert now_on != held_by
        changes = [e for e in missed if e["Type"] == "AgentStatusChanged"]
        assert [e["Data"]["StatusID"] for e in changes] == [3, 1, 2]
        ids = [e["EventID"] for e in missed]
        assert ids == sorted(ids) and ids[0] == last + 1, ids  # from the very next event: no gap


async def _fetch(query: str) -> list:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}")
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


class TestSendsWhileANodeDies:
    def test_every_acknowledged_message_is_stored_exactly_once(self, nodes, chats):
        token = nodes.logon()
        acknowledged: list[tuple[int, int, str]] = []
        unexpected: list[str] = []
        lock, stop = threading.Lock(), threading.Event()

        def sender(worker: int) -> None:
            http = httpx.Client(base_url=nodes.nginx.base_url, timeout=10, headers={"Authorization": f"Bearer {token}"})
            n = 0
            while not stop.is_set() and n < 10 * SENDS:
                chat_id, text = chats[(worker + n) % len(chats)], f"load w{worker} n{n}"
                n += 1
                try:
                    response = http.post("/api/SendMessage", json={"ChatID": chat_id, "Message": text})
                except httpx.TransportError:
                    continue  # no answer: nothing was promised
                if response.status_code == 200:
                    with lock:
                        acknowledged.append((chat_id, response.json()["MessageID"], text))
                elif response.status_code not in (502, 503, 504):  # only the dying node's, via nginx
                    unexpected.append(f"{response.status_code} {response.text}")
            http.close()

        threads = [threading.Thread(target=sender, args=(w,), daemon=True) for w in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < SENDS // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        nodes.instances[1].kill()
        while len(acknowledged) < SENDS and time.monotonic() < deadline + 60:
            time.sleep(0.01)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        nodes.restart(1)
        assert len(acknowledged) >= SENDS and unexpected == []

        rows = asyncio.run(_fetch("SELECT id, chat_id, text FROM message WHERE text LIKE 'load w%'"))
        stored = {(row["chat_id"], row["id"], row["text"]) for row in rows}
        assert set(acknowledged) <= stored, f"lost: {sorted(set(acknowledged) - stored)[:10]}"
        assert [text for text, count in Counter(row["text"] for row in rows).items() if count > 1] == []


class TestScheduledReportsOnce:
    def test_a_due_report_goes_out_once_from_three_nodes_starting_together(self, nodes, mailbox):
        token = nodes.logon()
        address = f"boss{os.getpid()}@example.com"
        recipient = nodes.call("POST", "CreateRecipient", token, json={"Name": "Boss", "EmailAddress": address})
        nodes.call("POST", "CreateScheduledReport", token, json={
            "RecipientID": recipient["RecipientID"], "ReportID": "ChatSummary", "FileFormat": "CSV", "Period": "Day",
            "DeliveryMethod": "Email", "ScheduledDays": [1, 2, 3, 4, 5, 6, 7], "ScheduledTime": "00:00"})
        # Made two days ago: today's 00:00 run is one it missed (a schedule never sends runs older than itself).
        asyncio.run(_fetch("UPDATE report_schedule SET created_at = created_at - interval '2 days'"))
        for instance in nodes.instances:
            instance.stop()
        nodes.restart(0, 1, 2)  # each sends what it missed at start-up: today's 00:00 run, all at once
        mailbox.wait_for(address, count=1, timeout=30)
        time.sleep(3)  # a second copy would be on its way by now
        assert len(mailbox.to(address)) == 1
