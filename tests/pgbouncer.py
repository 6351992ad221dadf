"""Debian's PgBouncer in transaction mode on a free loopback port, in front of the tests' PostgreSQL."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import asyncpg
import pytest
from conftest import POSTGRES_ADMIN_URL, free_port
from sqlalchemy.engine import make_url

POOL_SIZE = 4  # server connections per database: far fewer than the service's pools, so they must be shared


def need_binary(path: str) -> str:
    """The binary, or a skip with the reason; in CI (CI=true) its absence fails instead (.ci/run installs it)."""
    found = path if os.access(path, os.X_OK) else shutil.which(Path(path).name)
    if found:
        return found
    message = f"{path} is not installed (Debian: apt-get install {Path(path).name})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class PgBouncer:
    def __init__(self, folder: Path):
        binary = need_binary("/usr/sbin/pgbouncer")
        admin = make_url(POSTGRES_ADMIN_URL)
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # PgBouncer refuses to run as root: it reads its config as nobody
        config = folder / "pgbouncer.ini"
        config.write_text(f"""[databases]
* = host={admin.host or '127.0.0.1'} port={admin.port or 5432} user={admin.username or 'postgres'}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 1000
server_reset_query =
""")
        config.chmod(0o644)
        self.log = open(folder / "pgbouncer.log", "wb")  # noqa: SIM115
        command = [binary, str(config)] if os.geteuid() else [binary, "-u", "nobody", str(config)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer did not start: {(folder / 'pgbouncer.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        import socket

        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` through PgBouncer."""
        user = make_url(POSTGRES_ADMIN_URL).username or "postgres"
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def server_connections(database: str) -> int:
    """PostgreSQL's backends serving `database` (through PgBouncer: at most its pool)."""
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        return await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def pgbouncer(tmp_path_factory) -> PgBouncer:
    bouncer = PgBouncer(tmp_path_factory.mktemp("pgbouncer"))
    yield bouncer
    bouncer.stop()
