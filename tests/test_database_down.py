"""The database goes away: the API answers 503 with Retry-After (not 500) and recovers by itself; `agentchat serve`
with the database down or missing says so in one line (its password hidden) instead of a traceback."""

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time

import asyncpg
import pytest
from conftest import BACKENDS, PASSWORD, Api, LiveServer, add_agent, assert_error, free_port, make_settings
from instances import drop_database, recreate_database
from sqlalchemy import exc as sa_exc
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from agentchat.agents.models import ROLE_MANAGER
from agentchat.dbunreachable import database_unreachable
from agentchat.migrate import migrate

needs_postgres = pytest.mark.skipif("postgresql" not in BACKENDS, reason="a database server that can go down")


class Proxy:
    """A TCP proxy in front of PostgreSQL: stopping it is the database going away (open connections reset, new
    ones refused); starting it again on the same port, the database coming back."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = None
        self.writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        async def serve():
            self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)

    def stop(self) -> None:
        async def cut():
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        asyncio.run_coroutine_threadsafe(cut(), self.loop).result(10)

    async def _pipe(self, reader, writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def copy(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.transport.abort()
        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))


@pytest.fixture
def behind_proxy(tmp_path, mailbox):
    name = f"agentchat_down_{os.getpid()}"
    direct = recreate_database(name)
    host_port = direct.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1) if ":" in host_port else (host_port, "5432")
    proxy = Proxy((host, int(port)))
    proxy.start()
    asyncio.run(migrate(make_settings(tmp_path, direct, mailbox.port)))
    server = LiveServer(make_settings(tmp_path, direct.replace(host_port, f"127.0.0.1:{proxy.port}"), mailbox.port))
    server.start()
    yield server, proxy
    server.stop()
    proxy.stop()
    drop_database(name)


@needs_postgres
def test_the_api_answers_503_with_retry_after_while_the_database_is_down_then_recovers(behind_proxy):
    server, proxy = behind_proxy
    add_agent(server, name="Mia", email="mia@example.com", role_id=ROLE_MANAGER)
    api = Api(server)
    token = api.logon("mia@example.com")
    api.ok(api.get("GetDepartments", token))
    proxy.stop()
    calls = [("GET", "GetDepartments", None), ("GET", "GetChats", None), ("POST", "GrabChat", {}),
             ("POST", "SendMessage", {"ChatID": 1, "Message": "Hi"}), ("POST", "CreateDepartment", {"Name": "X"}),
             ("GET", "KeepAlive", None)]
    for method, name, body in calls:
        response = api.call(method, name, token, json=body)
        assert_error(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == "5", name
    logon = api.post("AgentLogon", json={"EmailAddress": "mia@example.com", "Password": PASSWORD})
    assert_error(logon, 503, "database_unavailable")
    assert api.http.get("/healthz").status_code == 503
    url = server.base_url.replace("http://", "ws://") + f"/ws?SessionToken={token}"
    with pytest.raises(ConnectionClosed) as closed, connect(url, open_timeout=10) as socket:
        socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1013  # try again later
    proxy.start()
    # Connections that died with it are dropped as they are found; the service needs no restart.
    for _ in range(50):
        if api.get("GetDepartments", token).status_code == 200:
            break
        time.sleep(0.1)
    api.ok(api.get("GetDepartments", token))
    api.ok(api.get("GetChats", token))
    api.http.close()


def run_serve(database_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "-m", "agentchat", "serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)


@needs_postgres
class TestServeWithoutItsDatabase:
    def test_a_database_that_is_down_is_one_clear_line_with_the_password_hidden(self):
        port = free_port()  # nothing listens there
        result = run_serve(f"postgresql+asyncpg://agentchat:s3cr3t-pw@127.0.0.1:{port}/agentchat")
        assert result.returncode != 0
        output = (result.stdout + result.stderr).strip()
        assert len(output.splitlines()) == 1, output
        assert "Traceback" not in output and "s3cr3t-pw" not in output, output
        assert f"postgresql+asyncpg://agentchat:***@127.0.0.1:{port}/agentchat" in output
        assert "cannot reach the database" in output and "AGENTCHAT_DATABASE_URL" in output

    def test_a_database_that_does_not_exist_is_one_clear_line(self):
        name = f"agentchat_missing_{os.getpid()}"
        drop_database(name)
        url = recreate_database(f"agentchat_probe_{os.getpid()}").rsplit("/", 1)[0] + f"/{name}"
        drop_database(f"agentchat_probe_{os.getpid()}")
        result = run_serve(url)
        assert result.returncode != 0
        output = (result.stdout + result.stderr).strip()
        assert len(output.splitlines()) == 1 and "Traceback" not in output, output
        assert f"the database '{name}' does not exist" in output and f"createdb {name}" in output, output


class TestWhatCountsAsUnreachable:
    """A failed connection is 503; a failed statement or a missing stored file stays a bug (500)."""

    @staticmethod
    def raised(error: BaseException) -> BaseException:
        try:
            raise error
        except BaseException as caught:
            return caught

    def test_connection_failures_are_unreachable(self):
        locked = sqlite3.OperationalError("database is locked")
        wrapped = sa_exc.OperationalError("COMMIT", None, locked)
        for error in (locked, wrapped, asyncpg.CannotConnectNowError("the database system is starting up"),
                      asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
                      sa_exc.TimeoutError("QueuePool limit reached")):
            assert database_unreachable(self.raised(error)), error

    def test_other_failures_are_not(self):
        for error in (sqlite3.OperationalError("no such table: chat"), FileNotFoundError("files/ab/cd"),
                      ConnectionRefusedError("the mail server"), asyncpg.UniqueViolationError("duplicate key"),
                      ValueError("a bug")):
            assert not database_unreachable(self.raised(error)), error
