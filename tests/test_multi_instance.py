"""Two AgentChat processes on one PostgreSQL and one Redis: an action on one reaches sockets on the other."""

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest
from conftest import POSTGRES_ADMIN_URL, free_port
from realtime_helpers import AgentSocket

REDIS_URL = os.environ.get("AGENTCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE = f"agentchat_multi_{os.getpid()}"


async def _recreate_database() -> str:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{DATABASE}"


async def _drop_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


class Instance:
    def __init__(self, env: dict[str, str], tmp):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / f"instance-{self.port}.log", "wb")  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen([sys.executable, "-m", "agentchat", "serve", "--port", str(self.port)],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"instance on port {self.port} did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("multi")
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=asyncio.run(_recreate_database()), AGENTCHAT_BROKER_URL=REDIS_URL,
               AGENTCHAT_DATA_DIR=str(tmp), AGENTCHAT_ARGON2_TIME_COST="1", AGENTCHAT_ARGON2_MEMORY_KIB="8",
               AGENTCHAT_ARGON2_PARALLELISM="1", AGENTCHAT_LOG_LEVEL="WARNING")
    for name, email in (("Ann", "ann@example.com"), ("Ben", "ben@example.com")):
        subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", name, "--email", email,
                        "--password", "multi-instance"], env=env, check=True, capture_output=True)
    instances = [Instance(env, tmp), Instance(env, tmp)]
    yield instances
    for instance in instances:
        instance.stop()
    asyncio.run(_drop_database())


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
