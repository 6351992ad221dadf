"""Two AgentChat processes on one PostgreSQL and one Redis: an action on one reaches sockets on the other."""

import asyncio
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
import redis
from conftest import POSTGRES_ADMIN_URL
from instances import Instance, drop_database, recreate_database
from realtime_helpers import AgentSocket, next_frame, visitor_acknowledges
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE = f"agentchat_multi_{os.getpid()}"
# This run's own Redis keys: the shared visitor limits of an earlier run (kept for their window) must not count.
REDIS_PREFIX = f"agentchat_test_{os.getpid()}"


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("multi")
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=recreate_database(DATABASE), AGENTCHAT_BROKER_URL=REDIS_URL,
               AGENTCHAT_REDIS_PREFIX=REDIS_PREFIX,
               AGENTCHAT_DATA_DIR=str(tmp), AGENTCHAT_ARGON2_TIME_COST="1", AGENTCHAT_ARGON2_MEMORY_KIB="8",
               AGENTCHAT_ARGON2_PARALLELISM="1", AGENTCHAT_LOG_LEVEL="WARNING",
               # Sockets of idle-expired sessions are closed within a second, not 30.
               AGENTCHAT_PRESENCE_SWEEP_SECONDS="1")
    for name, email in (("Ann", "ann@example.com"), ("Ben", "ben@example.com")):
        subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", name, "--email", email,
                        "--password", "multi-instance"], env=env, check=True, capture_output=True)
    instances = [Instance(env, tmp), Instance(env, tmp)]
    for instance in instances:
        instance.env = env
    yield instances
    for instance in instances:
        instance.stop()
    drop_database(DATABASE)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{REDIS_PREFIX}:*"):
        client.delete(key)
    client.close()


def logon(instance: Instance, email: str) -> str:
    response = httpx.post(f"{instance.base_url}/api/AgentLogon",
                          json={"EmailAddress": email, "Password": "multi-instance"})
    assert response.status_code == 200, response.text
    return response.json()["SessionToken"]


class TestAcrossInstances:
    def test_an_action_on_one_instance_reaches_a_socket_on_the_other(self, two_instances):
        a, b = two_instances
        ann_on_a = logon(a, "ann@example.com")
        ben_on_b = logon(b, "ben@example.com")
        with AgentSocket(b, ben_on_b) as ben_socket:
            agents = httpx.get(f"{a.base_url}/api/GetAgents", params={"SessionToken": ann_on_a}).json()["Items"]
            ann = next(agent for agent in agents if agent["EmailAddress"] == "ann@example.com")
            response = httpx.post(f"{a.base_url}/api/UpdateAgent", params={"SessionToken": ann_on_a},
                                  json={"AgentID": ann["AgentID"], "StatusID": 2})
            assert response.status_code == 200, response.text
            event = ben_socket.wait_for("AgentStatusChanged")
            assert event["Data"] == {"AgentID": ann["AgentID"], "StatusID": 2}

    def test_event_ids_are_shared_so_catch_up_works_on_either_instance(self, two_instances):
        a, b = two_instances
        ann_on_a = logon(a, "ann@example.com")
        with AgentSocket(a, ann_on_a) as socket:
            last = socket.connected["Data"]["LastEventID"]
        ben_on_b = logon(b, "ben@example.com")
        agents = httpx.get(f"{b.base_url}/api/GetAgents", params={"SessionToken": ben_on_b}).json()["Items"]
        ben = next(agent for agent in agents if agent["EmailAddress"] == "ben@example.com")
        response = httpx.post(f"{b.base_url}/api/UpdateAgent", params={"SessionToken": ben_on_b},
                              json={"AgentID": ben["AgentID"], "StatusID": 3})
        assert response.status_code == 200, response.text
        # Ann reconnects to the other instance with the EventID she last saw on the first one.
        with AgentSocket(b, ann_on_a, last_event_id=last) as socket:
            missed = socket.drain()
        assert [e["EventID"] for e in missed] == sorted(e["EventID"] for e in missed)
        assert all(e["EventID"] > last for e in missed)
        assert {"AgentID": ben["AgentID"], "StatusID": 3} in [e["Data"] for e in missed
                                                            if e["Type"] == "AgentStatusChanged"]


def api_post(instance: Instance, name: str, token: str, body: dict) -> dict:
    response = httpx.post(f"{instance.base_url}/api/{name}", params={"SessionToken": token}, json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


class TestWebChatAcrossInstances:
    def test_a_visitor_on_one_instance_gets_replies_receipts_and_typing_from_the_other(self, two_instances):
        a, b = two_instances
        ann = logon(a, "ann@example.com")
        department = api_post(a, "CreateDepartment", ann, {
            "Name": f"Web sales {time.monotonic_ns()}", "IncludeInWelcomeMenu": True, "MenuOption": 7})
        created = httpx.post(f"{b.base_url}/webchat/visitors", json={"Name": "Vera"}, timeout=30)
        assert created.status_code == 200, created.text
        token, customer_id = created.json()["VisitorToken"], created.json()["CustomerID"]
        visitor = httpx.Client(base_url=b.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"})
        socket_url = b.base_url.replace("http://", "ws://") + f"/webchat/ws?VisitorToken={token}"
        with visitor, AgentSocket(a, ann) as ann_socket, connect(socket_url, compression=None) as ws:
            for body in ({"Text": "Hello"}, {"Choice": f"department:{department['DepartmentID']}"}):
                assert visitor.post("/webchat/messages", json=body).status_code == 200
            queued = ann_socket.wait_for("ChatQueued", CustomerID=customer_id)
            chat_id = queued["Data"]["ChatID"]
            api_post(a, "GrabChat", ann, {"ChatID": chat_id})
            sent = api_post(a, "SendMessage", ann, {"ChatID": chat_id, "Message": "Hi Vera, Ann here."})
            # Sent through A, pushed by B to the visitor's socket.
            reply = next_frame(ws, lambda f: f["Type"] == "Message" and f["Message"]["SenderType"] == "Agent")
            assert (reply["Message"]["MessageID"], reply["Message"]["Text"]) == (sent["MessageID"],
                                                                                 "Hi Vera, Ann here.")
            message_id = sent["MessageID"]
            assert ann_socket.wait_for("MessageStatusChanged", MessageID=message_id)["Data"]["DeliveryStatus"] == "Sent"
            # The page's acknowledgements, made on B, are heard by Ann's socket on A.
            visitor_acknowledges(ws, ann_socket, message_id=message_id, chat_id=chat_id)
            # Typing both ways.
            ann_socket.ws.send(json.dumps({"Type": "Typing", "ChatID": chat_id}))
            assert next_frame(ws, lambda f: f["Type"] == "AgentTyping") == {"Type": "AgentTyping"}
            ws.send(json.dumps({"Type": "Typing"}))
            typing = ann_socket.wait_for("CustomerTyping")
            assert typing["Data"] == {"ChatID": chat_id, "CustomerID": customer_id}
        chat = httpx.get(f"{a.base_url}/api/GetChat", params={"SessionToken": ann, "ChatID": chat_id}).json()
        assert next(m for m in chat["Messages"] if m["MessageID"] == message_id)["DeliveryStatus"] == "Read"


class TestSharedVisitorLimits:
    def test_new_visitors_from_one_address_are_counted_across_instances(self, two_instances):
        """20 new visitors per address per 10 minutes, for the deployment: not 20 on each instance."""
        from agentchat.channels.webchat import VISITORS_PER_IP

        a, b = two_instances
        address = {"X-Forwarded-For": f"198.51.100.{os.getpid() % 250 + 1}"}  # uvicorn trusts it from loopback
        for n in range(VISITORS_PER_IP):
            instance = (a, b)[n % 2]
            response = httpx.post(f"{instance.base_url}/webchat/visitors", headers=address, timeout=30)
            assert response.status_code == 200, (n, response.text)
        for instance in (a, b):
            refused = httpx.post(f"{instance.base_url}/webchat/visitors", headers=address, timeout=30)
            assert refused.status_code == 429 and refused.json()["Error"]["Code"] == "too_many_visitors", refused.text
            assert 1 <= int(refused.headers["Retry-After"]) <= 600
        other = httpx.post(f"{a.base_url}/webchat/visitors", headers={"X-Forwarded-For": "198.51.100.251"})
        assert other.status_code == 200, other.text


def agent_id_of(instance: Instance, token: str, email: str) -> int:
    agents = httpx.get(f"{instance.base_url}/api/GetAgents", params={"SessionToken": token}).json()["Items"]
    return next(agent["AgentID"] for agent in agents if agent["EmailAddress"] == email)


def assert_closed_with_4401(socket: AgentSocket) -> None:
    socket.wait_for("SessionEnded", timeout=15)
    with pytest.raises(ConnectionClosed) as closed:
        socket.drain(quiet=5)
    assert closed.value.rcvd.code == 4401


async def _expire_sessions_of(email: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}")
    try:
        await connection.execute("UPDATE agent_session SET expires_at = now() AT TIME ZONE 'UTC' - interval '1 minute' "
                                 "WHERE agent_id = (SELECT id FROM agent WHERE email_address = $1)", email)
    finally:
        await connection.close()


class TestSessionsEndAcrossInstances:
    """A session ended through one instance closes its sockets on the other."""

    def test_logoff_on_one_closes_the_socket_on_the_other(self, two_instances):
        a, b = two_instances
        token = logon(a, "ben@example.com")
        with AgentSocket(b, token) as socket:
            assert httpx.get(f"{a.base_url}/api/AgentLogoff", params={"SessionToken": token}).status_code == 200
            assert_closed_with_4401(socket)

    def test_disabling_on_one_closes_the_socket_on_the_other(self, two_instances):
        a, b = two_instances
        ann = logon(a, "ann@example.com")
        email = f"cy{time.monotonic_ns()}@example.com"
        subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", "Cy", "--email", email,
                        "--password", "multi-instance"], env=a.env, check=True, capture_output=True)
        token = logon(b, email)
        with AgentSocket(b, token) as socket:
            api_post(a, "UpdateAgent", ann, {"AgentID": agent_id_of(a, ann, email), "Enabled": False})
            assert_closed_with_4401(socket)

    def test_idle_expiry_closes_the_socket_wherever_it_is(self, two_instances):
        a, b = two_instances
        token = logon(a, "ben@example.com")
        with AgentSocket(b, token) as socket:
            asyncio.run(_expire_sessions_of("ben@example.com"))
            assert_closed_with_4401(socket)

    def test_a_manager_demoted_on_one_hears_only_their_departments_on_the_other(self, two_instances):
        a, b = two_instances
        ann = logon(a, "ann@example.com")
        email = f"dee{time.monotonic_ns()}@example.com"
        subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", "Dee", "--email", email,
                        "--password", "multi-instance"], env=a.env, check=True, capture_output=True)
        department = api_post(a, "CreateDepartment", ann, {
            "Name": f"Not Dee's {time.monotonic_ns()}", "IncludeInWelcomeMenu": True, "MenuOption": 8})
        with AgentSocket(b, logon(b, email)) as dee_socket, AgentSocket(a, ann) as ann_socket:
            dee = agent_id_of(a, ann, email)
            api_post(a, "UpdateAgent", ann, {"AgentID": dee, "RoleID": 1})
            dee_socket.wait_for("AgentUpdated", AgentID=dee, RoleID=1)
            created = httpx.post(f"{a.base_url}/webchat/visitors", json={"Name": "Vic"}, timeout=30).json()
            visitor = {"Authorization": f"Bearer {created['VisitorToken']}"}
            for body in ({"Text": "Hello"}, {"Choice": f"department:{department['DepartmentID']}"}):
                assert httpx.post(f"{a.base_url}/webchat/messages", json=body, headers=visitor).status_code == 200
            ann_socket.wait_for("ChatQueued", CustomerID=created["CustomerID"])
            api_post(a, "UpdateAgent", ann, {"AgentID": dee, "StatusID": 3})
            heard = dee_socket.drain(quiet=1)
            assert {"AgentID": dee, "StatusID": 3} in [e["Data"] for e in heard if e["Type"] == "AgentStatusChanged"]
            assert [e for e in heard if e["Data"].get("CustomerID") == created["CustomerID"]] == []
