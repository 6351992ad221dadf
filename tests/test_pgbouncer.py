"""The service through PgBouncer in transaction mode (AGENTCHAT_POSTGRES_POOLER=pgbouncer), the documented way to
run many workers: migrations, the hot calls (SendMessage, GrabChat, GetChats, the webhook, the session check) and
the ORM's calls, with far fewer server connections than the service's pools hold."""

import asyncio

import pytest
from chat_helpers import queued_chat
from conftest import POSTGRES_TEST_DB, LiveServer, add_agent, make_settings, race, whatsapp_settings
from pgbouncer import POOL_SIZE, pgbouncer, server_connections  # noqa: F401 (pgbouncer: a fixture)
from test_chats import TestGetChats, TestGrabChat, TestSendMessage, TestSessionInTheStatement, team  # noqa: F401
from test_get_chats import TestPaging, office  # noqa: F401 (run again through PgBouncer)
from test_whatsapp import TestFirstMessage, TestMenuChoice, departments, greeted  # noqa: F401

from agentchat.migrate import migrate

DATABASE = f"{POSTGRES_TEST_DB}_pgbouncer"


@pytest.fixture(scope="module")
def server(request, mailbox, graph_api, tmp_path_factory, pgbouncer):  # noqa: F811
    from instances import drop_database, recreate_database

    recreate_database(DATABASE)
    request.addfinalizer(lambda: drop_database(DATABASE))
    settings = make_settings(tmp_path_factory.mktemp("pgbouncer-data"), pgbouncer.url(DATABASE), mailbox.port,
                             postgres_pooler="pgbouncer", **whatsapp_settings(graph_api))
    asyncio.run(migrate(settings))  # through PgBouncer too
    live = LiveServer(settings)
    live.start()
    request.addfinalizer(live.stop)
    return live


class TestUnderLoad:
    def test_concurrent_sends_and_grabs_share_a_few_server_connections(self, server, api, team):  # noqa: F811
        chats = [queued_chat(server, team.sales, phone=f"2782000{n:04d}") for n in range(12)]
        grabs = race(server, [("POST", "GrabChat", token, {"ChatID": chat.chat_id})
                              for chat in chats for token in (team.alice, team.bob)])
        assert sorted(r.status_code for r in grabs) == [200] * 12 + [409] * 12
        mine = [chat.chat_id for chat, r in zip(chats, grabs[::2], strict=True) if r.status_code == 200]
        sends = race(server, [("POST", "SendMessage", team.alice, {"ChatID": chat_id, "Message": f"reply {n}"})
                              for n in range(5) for chat_id in mine])
        assert all(r.status_code == 200 for r in sends), [r.text for r in sends if r.status_code != 200]
        for chat_id in mine:
            texts = [m["Text"] for m in api.ok(api.get("GetChat", team.alice, {"ChatID": chat_id}))["Messages"]
                     if m["SenderType"] == "Agent"]
            assert sorted(texts) == [f"reply {n}" for n in range(5)]
        listed = api.ok(api.get("GetChats", team.alice, {"PageSize": 50}))
        assert {c["ChatID"] for c in listed["Items"]} >= set(mine)
        # Every one of the service's ~40 pooled connections went through these few.
        assert asyncio.run(server_connections(DATABASE)) <= POOL_SIZE


def test_no_startup_settings_and_no_statement_cache_behind_the_pooler(server):
    settings = server.settings
    assert settings.postgres_server_settings == {} and settings.postgres_statement_cache_size == 0
    add_agent(server, name="Zed")  # the ORM's path too
