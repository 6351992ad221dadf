"""Message files in S3-compatible object storage (moto's server on loopback, a real S3 wire protocol): stored
as objects, served streamed or by a presigned redirect, swept, erased; and other modules' file tests run again
with this store."""

import base64
import os
from datetime import timedelta

import httpx
import pytest
from chat_helpers import add_department, agent_with_a_chat
from conftest import BACKENDS, add_agent, assert_error
from pydantic import ValidationError
from s3_server import moto_s3, s3_server  # noqa: F401 (moto_s3: a fixture)
from test_chats import TestGetFile, TestVisibility, team  # noqa: F401 (run again, files in S3)
from test_webchat import TestFiles as TestWebChatFiles  # noqa: F401
from test_webchat import _fresh_limits, departments, visitor  # noqa: F401 (its fixtures)

from agentchat import clock
from agentchat.config import Settings
from agentchat.db import drain_background
from agentchat.files import sweep

PDF = b"%PDF-1.4 " + os.urandom(600_000)  # several of a download's pieces


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, mailbox, graph_api, tmp_path_factory, moto_s3):  # noqa: F811
    return s3_server(request, mailbox, graph_api, tmp_path_factory, moto_s3, "s3files")


@pytest.fixture
def alice(server, api):
    return agent_with_a_chat(server, api)


@pytest.fixture
def presigned(server):
    storage = server.app.state.file_storage
    storage.presign_seconds = 120
    yield
    storage.presign_seconds = 0


def objects(server, moto_s3) -> dict[str, bytes]:  # noqa: F811
    return moto_s3.objects(server.bucket, "files/")


def send_file(api, alice, content=PDF, name="statement.pdf") -> dict:
    token, chat_id = alice
    return api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "FileName": name,
                                                  "FileType": "application/pdf",
                                                  "FileContent": base64.b64encode(content).decode()}))


def get_file(api, token, message_id, **kwargs) -> httpx.Response:
    return api.http.get("/api/GetFile", params={"MessageID": message_id},
                        headers={"Authorization": f"Bearer {token}"}, **kwargs)


class TestStoredInTheBucket:
    def test_a_sent_file_is_one_object_and_streams_back_whole(self, server, api, alice, moto_s3):  # noqa: F811
        before = objects(server, moto_s3)
        sent = send_file(api, alice, name="Statement März.pdf")
        added = {name: body for name, body in objects(server, moto_s3).items() if name not in before}
        assert list(added.values()) == [PDF]
        assert next(iter(added)).endswith(".pdf") and "März" not in next(iter(added))

        fetched = get_file(api, alice[0], sent["MessageID"])
        assert fetched.status_code == 200 and fetched.content == PDF
        assert fetched.headers["content-length"] == str(len(PDF))
        assert fetched.headers["content-type"] == "application/pdf"
        assert fetched.headers["content-disposition"].endswith("filename*=UTF-8''Statement%20M%C3%A4rz.pdf")
        assert fetched.headers["content-security-policy"] == "sandbox"

    def test_an_object_gone_from_the_bucket_is_404(self, server, api, alice, moto_s3):  # noqa: F811
        before = objects(server, moto_s3)
        sent = send_file(api, alice)
        (name,) = set(objects(server, moto_s3)) - set(before)
        moto_s3.client.delete_object(Bucket=server.bucket, Key=name)
        assert_error(get_file(api, alice[0], sent["MessageID"]), 404, "file_not_found", "MessageID")

    def test_a_stranger_gets_neither_the_file_nor_a_link(self, server, api, alice, presigned):
        sent = send_file(api, alice)
        sales = add_department(server, "Support", menu_option=2)
        add_agent(server, name="Carol", department_ids=(sales,))
        carol = api.logon("carol@example.com")
        assert_error(get_file(api, carol, sent["MessageID"]), 404, "file_not_found")
        assert_error(api.http.get("/api/GetFile", params={"MessageID": sent["MessageID"]}), 401)


class TestPresignedDownloads:
    def test_getfile_redirects_to_a_short_lived_url_the_store_answers(self, server, api, alice, moto_s3,  # noqa: F811
                                                                       presigned):
        sent = send_file(api, alice, name="Statement März.pdf")
        answer = get_file(api, alice[0], sent["MessageID"])
        assert answer.status_code == 307 and answer.headers["cache-control"] == "private, no-store"
        url = answer.headers["location"]
        assert url.startswith(moto_s3.endpoint_url + "/") and "X-Amz-Expires=120" in url
        assert alice[0] not in url

        direct = httpx.get(url)  # no session: the URL itself is the (short-lived) credential
        assert direct.status_code == 200 and direct.content == PDF
        assert direct.headers["content-type"] == "application/pdf"
        assert direct.headers["content-disposition"].endswith("filename*=UTF-8''Statement%20M%C3%A4rz.pdf")
        assert direct.headers["cache-control"] == "private, no-store"


class TestSweepAndErasure:
    def test_an_old_orphan_goes_a_named_file_and_strays_stay(self, server, api, alice, moto_s3):  # noqa: F811
        storage = server.app.state.file_storage
        sent = send_file(api, alice)
        lost = server.run(storage.save(b"never sent", file_name="lost.png"))
        moto_s3.client.put_object(Bucket=server.bucket, Key="files/notes.txt", Body=b"not ours")
        run = lambda: server.run(sweep.sweep_orphan_files(server.app.state.sessionmaker, storage))  # noqa: E731

        run()  # younger than the grace period: stays
        assert f"files/{lost}" in objects(server, moto_s3)
        clock.travel(sweep.GRACE + timedelta(minutes=5))
        assert run() >= 1
        left = objects(server, moto_s3)
        assert f"files/{lost}" not in left and "files/notes.txt" in left
        assert get_file(api, api.logon("alice@example.com"), sent["MessageID"]).content == PDF

    def test_erasing_a_customer_removes_their_objects(self, server, api, manager, alice, moto_s3):  # noqa: F811
        before = objects(server, moto_s3)
        sent = send_file(api, alice)
        (name,) = set(objects(server, moto_s3)) - set(before)
        customer_id = api.ok(api.get("GetChat", alice[0], {"ChatID": alice[1]}))["Customer"]["CustomerID"]
        api.ok(api.post("EraseCustomer", manager, {"CustomerID": customer_id}))
        server.run(drain_background())
        assert name not in objects(server, moto_s3)
        assert_error(get_file(api, manager, sent["MessageID"]), 404)


class TestWebChatFromTheBucket:
    def test_a_visitors_file_comes_back_by_a_short_lived_url(self, server, visitor, departments,  # noqa: F811
                                                              presigned):
        sent = visitor.post({"FileName": "photo.pdf", "FileType": "application/pdf",
                             "FileContent": base64.b64encode(PDF).decode()})
        url = sent.json()["File"]["URL"]
        answer = visitor.http.get(url)
        assert answer.status_code == 307
        assert httpx.get(answer.headers["location"]).content == PDF


class TestSetting:
    @pytest.mark.parametrize("value", ["s3://", "s3://Upper/x", "ftp://bucket", "s3://b", "/srv/files"])
    def test_a_malformed_storage_is_refused_at_start(self, value):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, file_storage=value)

    def test_a_bucket_and_prefix_are_read(self):
        from agentchat.files.storage import create_file_storage

        storage = create_file_storage(Settings(_env_file=None, file_storage="s3://chat-files/prod/eu",
                                               s3_presign_seconds=60))
        assert (storage.bucket, storage.prefix, storage.presign_seconds) == ("chat-files", "prod/eu", 60)
