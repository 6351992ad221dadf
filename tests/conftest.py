"""Real servers for the tests: the app under uvicorn on SQLite and on PostgreSQL, and an SMTP server.

Each backend gets one uvicorn server (in a thread, with its own event loop) for the whole run; every
test starts from empty tables. `server.run(coro)` runs a coroutine on the server's loop, which is how
tests reach the database and service functions without a second connection pool.
"""

import asyncio
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from graph_api_standin import GraphApiStandIn
from sqlalchemy import select, text

from agentchat import clock
from agentchat.agents.models import ROLE_AGENT, ROLE_MANAGER, STATUS_OFFLINE, Agent, AgentDepartment
from agentchat.app import create_app
from agentchat.config import Settings
from agentchat.db import Base, drain_background
from agentchat.migrate import migrate
from agentchat.security import hash_password

POSTGRES_ADMIN_URL = os.environ.get("AGENTCHAT_TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# One database per test run (by pid), so that concurrent runs on one machine do not drop each other's.
POSTGRES_TEST_DB = os.environ.get("AGENTCHAT_TEST_POSTGRES_DB", f"agentchat_test_{os.getpid()}")
BACKENDS = os.environ.get("AGENTCHAT_TEST_BACKENDS", "sqlite,postgresql").split(",")
PASSWORD = "correct horse battery"


# ---- SMTP -------------------------------------------------------------------------------------------

@dataclass
class MailBox:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} mail(s) to {address}, got {len(self.to(address))}")

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mailbox():
    box = MailBox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


# ---- the app server -----------------------------------------------------------------------------------

class LiveServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.app = create_app(settings)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                ws_per_message_deflate=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.server.serve(),),
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def run(self, coro: Coroutine) -> Any:
        """Run a coroutine on the server's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def with_db(self, work: Callable[[Any], Coroutine]) -> Any:
        """Run `work(db)` in a fresh session on the server's loop, and commit it."""
        async def job():
            async with self.app.state.sessionmaker() as db:
                result = await work(db)
                await db.commit()
                return result
        return self.run(job())

    def truncate(self) -> None:
        async def job():
            await drain_background()
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            async with self.app.state.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                else:
                    for table in tables:
                        await connection.execute(text(f"DELETE FROM {table}"))
            # The webhooks' subscriptions are cached in memory: the endpoints are gone with their table.
            self.app.state.webhooks.subscriptions.invalidate()
        self.run(job())


async def _drop_stale_databases(admin) -> None:
    """Drop the databases of earlier runs whose process is gone."""
    for (name,) in await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'agentchat_test_%'"):
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _recreate_postgres_database() -> str:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", POSTGRES_TEST_DB)
        await admin.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_TEST_DB}"')
        await admin.execute(f'CREATE DATABASE "{POSTGRES_TEST_DB}"')
        await _drop_stale_databases(admin)
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{POSTGRES_TEST_DB}"


def make_settings(tmp: Path, database_url: str, smtp_port: int, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        data_dir=tmp,
        public_url="http://agentchat.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        run_jobs=False,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


# ---- Meta's Graph API (a local stand-in) -----------------------------------------------------------------

WHATSAPP_APP_SECRET = "test-app-secret"
WHATSAPP_VERIFY_TOKEN = "test-verify-token"
WHATSAPP_ACCESS_TOKEN = "EAAtestaccesstoken"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
WHATSAPP_BUSINESS_ACCOUNT_ID = "102290129340398"


@pytest.fixture(scope="session")
def graph_api() -> GraphApiStandIn:
    standin = GraphApiStandIn(access_token=WHATSAPP_ACCESS_TOKEN, phone_number_id=WHATSAPP_PHONE_NUMBER_ID,
                              business_account_id=WHATSAPP_BUSINESS_ACCOUNT_ID, port=free_port())
    standin.start()
    yield standin
    standin.stop()


def whatsapp_settings(graph_api: GraphApiStandIn) -> dict:
    return dict(whatsapp_api_url=graph_api.api_url, whatsapp_access_token=WHATSAPP_ACCESS_TOKEN,
                whatsapp_phone_number_id=WHATSAPP_PHONE_NUMBER_ID, whatsapp_app_secret=WHATSAPP_APP_SECRET,
                whatsapp_verify_token=WHATSAPP_VERIFY_TOKEN, whatsapp_retry_attempts=3,
                whatsapp_business_account_id=WHATSAPP_BUSINESS_ACCOUNT_ID,
                whatsapp_retry_base_seconds=0.01)


@pytest.fixture(scope="session", params=BACKENDS)
def server(request, mailbox, graph_api, tmp_path_factory) -> LiveServer:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'agentchat.db'}"
    else:
        url = asyncio.run(_recreate_postgres_database())
    settings = make_settings(tmp, url, mailbox.port, **whatsapp_settings(graph_api))
    asyncio.run(migrate(settings))
    live = LiveServer(settings)
    live.start()
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test that uses the server starts from empty tables, an empty mailbox and the real clock."""
    clock.reset()
    if "server" in request.fixturenames:
        live: LiveServer = request.getfixturevalue("server")
        live.truncate()
        live.app.state.reset_request_limit.reset()
        request.getfixturevalue("mailbox").clear()
        request.getfixturevalue("graph_api").reset()
    yield
    clock.reset()


# ---- talking to the API ---------------------------------------------------------------------------------

class Api:
    """A thin client: `api.post("CreateAgent", token, {...})` -> httpx.Response."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)

    def call(self, method: str, name: str, token: str | None = None, json: Any = None,
             params: dict | None = None, **kwargs) -> httpx.Response:
        params = dict(params or {})
        if token:
            params["SessionToken"] = token
        return self.http.request(method, f"/api/{name}", params=params, json=json, **kwargs)

    def post(self, name: str, token: str | None = None, json: Any = None, **kwargs) -> httpx.Response:
        return self.call("POST", name, token, json=json, **kwargs)

    def get(self, name: str, token: str | None = None, params: dict | None = None, **kwargs) -> httpx.Response:
        return self.call("GET", name, token, params=params, **kwargs)

    def delete(self, name: str, token: str | None = None, params: dict | None = None, **kwargs) -> httpx.Response:
        return self.call("DELETE", name, token, params=params, **kwargs)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        return response.json()

    def logon(self, email: str, password: str = PASSWORD) -> str:
        return self.ok(self.post("AgentLogon", json={"EmailAddress": email, "Password": password}))["SessionToken"]


def race(server: LiveServer, requests: list[tuple]) -> list[httpx.Response]:
    """Send the requests [(method, name, token, json), ...] all at once; the responses in order."""
    async def run():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60,
                                     limits=httpx.Limits(max_connections=len(requests) + 5)) as client:
            return await asyncio.gather(*[
                client.request(method, f"/api/{name}", params={"SessionToken": token}, json=body)
                for method, name, token, body in requests])
    return asyncio.run(run())


def error_code(response: httpx.Response) -> str:
    return response.json()["Error"]["Code"]


@pytest.fixture
def api(server) -> Api:
    client = Api(server)
    yield client
    client.http.close()


def add_agent(server: LiveServer, *, name: str = "Agent", email: str | None = None, role_id: int = ROLE_AGENT,
              department_ids: tuple[int, ...] = (), password: str = PASSWORD) -> int:
    """Insert an agent with a known password straight into the database; returns the AgentID."""
    email = email or f"{name.lower().replace(' ', '.')}@example.com"

    async def work(db):
        hasher = server.app.state.password_hasher
        agent = Agent(name=name, email_address=email, role_id=role_id, status_id=STATUS_OFFLINE,
                      notifications=[], enabled=True, password_hash=await hash_password(hasher, password),
                      departments=[AgentDepartment(department_id=d) for d in department_ids])
        db.add(agent)
        await db.flush()
        return agent.id

    return server.with_db(work)


def agent_row(server: LiveServer, agent_id: int) -> Agent:
    async def work(db):
        return (await db.execute(select(Agent).where(Agent.id == agent_id))).scalar_one()
    return server.with_db(work)


@pytest.fixture
def manager(server, api) -> str:
    """A logged-on Manager's session token."""
    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    return api.logon("mia@example.com")


# ---- reading what the service sends ------------------------------------------------------------------------

RESET_LINK = re.compile(r"http://agentchat\.test/reset-password\?ResetCode=([A-Za-z0-9_\-]+)")


def reset_code(message: EmailMessage) -> str:
    """The ResetCode from the link in a password-reset or invitation mail."""
    found = RESET_LINK.search(message.get_content())
    assert found, f"no reset link in: {message.get_content()!r}"
    return found.group(1)


def parse_time(value: str) -> datetime:
    """A contract time ("2024-05-01T10:00:00Z") as a naive UTC datetime, comparable with clock.now()."""
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value[:-1])


def assert_error(response: httpx.Response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is the contract's error envelope with this status (and code and field, if given)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    error = response.json()["Error"]
    assert set(error) <= {"Code", "Message", "Field"} and error["Message"], error
    if code is not None:
        assert error["Code"] == code, error
    if field is not None:
        assert error.get("Field") == field, error
    return error
