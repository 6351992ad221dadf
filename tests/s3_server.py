"""A real S3-compatible server on loopback for the tests: moto's server mode (it speaks S3's wire protocol over
HTTP) in a subprocess on a free port, and test servers whose files live in it."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import POSTGRES_TEST_DB, LiveServer, free_port, make_settings, whatsapp_settings

from agentchat.migrate import migrate

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


class MotoS3:
    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / "moto.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.endpoint_url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        import boto3

        self.client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
                                   aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def create_bucket(self, name: str) -> None:
        self.client.create_bucket(Bucket=name)

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under prefix, by name, with its bytes."""
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                found[item["Key"]] = self.client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return found

    def settings(self, bucket: str, prefix: str = "files") -> dict:
        return dict(file_storage=f"s3://{bucket}/{prefix}", s3_endpoint_url=self.endpoint_url,
                    s3_access_key_id=ACCESS_KEY, s3_secret_access_key=SECRET_KEY, s3_addressing_style="path")

    def env(self, bucket: str, prefix: str = "files") -> dict[str, str]:
        return {f"AGENTCHAT_{name.upper()}": value for name, value in self.settings(bucket, prefix).items()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> MotoS3:
    server = MotoS3(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


def s3_server(request, mailbox, graph_api, tmp_path_factory, moto_s3: MotoS3, name: str) -> LiveServer:
    """A test server (the backend in request.param) whose files are in a bucket of their own."""
    from instances import drop_database, recreate_database

    tmp = tmp_path_factory.mktemp(f"{name}-{request.param}")
    database = f"{POSTGRES_TEST_DB}_{name}"
    url = f"sqlite+aiosqlite:///{tmp / 'agentchat.db'}" if request.param == "sqlite" else recreate_database(database)
    bucket = f"{name}-{request.param}-{os.getpid()}".replace("_", "-").lower()
    moto_s3.create_bucket(bucket)
    settings = make_settings(tmp, url, mailbox.port, **whatsapp_settings(graph_api), **moto_s3.settings(bucket))
    asyncio.run(migrate(settings))
    if request.param != "sqlite":
        request.addfinalizer(lambda: drop_database(database))  # finalizers run last first: after the stop
    live = LiveServer(settings)
    live.bucket = bucket
    live.start()
    request.addfinalizer(live.stop)
    return live
