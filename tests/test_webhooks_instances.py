"""Outgoing webhooks across processes (PostgreSQL and Redis): a delivery that failed is retried after a restart,
and with two instances each delivery reaches the receiver once."""

import os
import subprocess
import sys
import time

import httpx
import pytest
import redis
from instances import Instance, drop_database, recreate_database
from test_multi_instance import REDIS_URL, api_post, logon
from webhook_receiver import Receiver

DATABASE = f"agentchat_webhooks_{os.getpid()}"
REDIS_PREFIX = f"agentchat_test_wh_{os.getpid()}"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webhooks")
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=recreate_database(DATABASE), AGENTCHAT_BROKER_URL=REDIS_URL,
               AGENTCHAT_REDIS_PREFIX=REDIS_PREFIX, AGENTCHAT_DATA_DIR=str(tmp), AGENTCHAT_ARGON2_TIME_COST="1",
               AGENTCHAT_ARGON2_MEMORY_KIB="8", AGENTCHAT_ARGON2_PARALLELISM="1", AGENTCHAT_LOG_LEVEL="WARNING",
               # Retries within the test's patience: every 0.2 s at first, each instance looking 5 times a second.
               AGENTCHAT_WEBHOOK_RETRY_BASE_SECONDS="0.2", AGENTCHAT_WEBHOOK_POLL_SECONDS="0.2",
               AGENTCHAT_WEBHOOK_PAUSE_AFTER_FAILURES="1000")
    subprocess.run([sys.executable, "-m", "agentchat", "create-manager", "--name", "Ann", "--email",
                    "ann@example.com", "--password", "multi-instance"], env=env, check=True, capture_output=True)
    env["_tmp"] = str(tmp)
    yield env
    drop_database(DATABASE)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{REDIS_PREFIX}:*"):
        client.delete(key)
    client.close()


def start(env) -> Instance:
    from pathlib import Path

    return Instance({k: v for k, v in env.items() if k != "_tmp"}, Path(env["_tmp"]))


def visitor_writes(instance: Instance, name: str, texts: list[str]) -> None:
    created = httpx.post(f"{instance.base_url}/webchat/visitors", json={"Name": name}, timeout=30)
    assert created.status_code == 200, created.text
    headers = {"Authorization": f"Bearer {created.json()['VisitorToken']}"}
    for text in texts:
        response = httpx.post(f"{instance.base_url}/webchat/messages", json={"Text": text}, headers=headers,
                              timeout=30)
        assert response.status_code == 200, response.text


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def received_texts(receiver: Receiver, prefix: str) -> list[str]:
    return [r.json["Data"]["Text"] for r in receiver.accepted()
            if r.json["Type"] == "MessageReceived" and (r.json["Data"]["Text"] or "").startswith(prefix)]


class TestWebhooksAcrossInstances:
    def test_a_failed_delivery_is_sent_after_a_restart(self, env):
        receiver = Receiver().up()
        instance = start(env)
        try:
            ann = logon(instance, "ann@example.com")
            hook = api_post(instance, "CreateWebhook", ann, {"URL": receiver.url, "Events": ["MessageReceived"]})
            receiver.answer = 503
            visitor_writes(instance, "Rita", ["restart-1"])
            wait_until(lambda: any(r.answered == 503 for r in receiver.received))
            instance.stop()
            receiver.down()  # nothing listens while the service is down, nor when it comes back
            instance = start(env)
            receiver.answer = 200
            receiver.up()
            wait_until(lambda: received_texts(receiver, "restart-") == ["restart-1"])
            [got] = [r for r in receiver.accepted() if r.json["Type"] == "MessageReceived"]
            assert got.signature_valid(hook["Secret"])
            assert all(r.json["DeliveryID"] == got.json["DeliveryID"] for r in receiver.received
                       if r.json["Type"] == "MessageReceived")
        finally:
            instance.stop()
            receiver.down()

    def test_two_instances_send_each_delivery_once(self, env):
        receiver = Receiver().up()
        a, b = start(env), start(env)
        try:
            ann = logon(a, "ann@example.com")
            hook = api_post(a, "CreateWebhook", ann, {"URL": receiver.url, "Events": ["MessageReceived"]})
            # Refused at first: both instances' retry passes then race for the same due deliveries.
            receiver.answer = 500
            expected = []
            for n in range(6):
                texts = [f"once-{n}-{i}" for i in range(3)]
                visitor_writes(a if n % 2 else b, f"Visitor {n}", texts)
                expected += texts
            wait_until(lambda: len({r.json["DeliveryID"] for r in receiver.received}) >= len(expected))
            time.sleep(1)  # several retry passes of both instances
            receiver.answer = 200
            wait_until(lambda: sorted(received_texts(receiver, "once-")) == sorted(expected))
            time.sleep(1.5)  # anything sent twice would have arrived by now
            accepted = [r for r in receiver.accepted() if r.json["Type"] == "MessageReceived"]
            ids = [r.json["DeliveryID"] for r in accepted]
            assert len(ids) == len(set(ids)) == len(expected)
            assert sorted(received_texts(receiver, "once-")) == sorted(expected)
            assert all(r.signature_valid(hook["Secret"]) for r in accepted)
        finally:
            a.stop()
            b.stop()
            receiver.down()
