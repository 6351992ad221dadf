"""AgentChat's own PostgreSQL connections carry its planner setting (Settings.postgres_random_page_cost): both the
ORM's and the hot paths' (rawdb)."""

import asyncio

import pytest
from conftest import BACKENDS, POSTGRES_ADMIN_URL

from agentchat.config import Settings
from agentchat.db import create_engine
from agentchat.rawdb import RawConnections

URL = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _random_page_costs(settings: Settings) -> tuple[str, str]:
    engine = create_engine(settings)
    connections = RawConnections(engine, settings.postgres_server_settings)
    await connections.start()
    try:
        async with engine.connect() as connection:
            orm = (await connection.exec_driver_sql("SHOW random_page_cost")).scalar_one()
        async with connections.connect() as raw:
            hot = (await raw.fetchrow("SHOW random_page_cost"))[0]
        return orm, hot
    finally:
        await connections.stop()
        await engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not in this run")
def test_every_connection_gets_the_planner_setting_and_zero_leaves_the_servers(tmp_path):
    def settings(cost: float) -> Settings:
        return Settings(_env_file=None, database_url=URL, data_dir=tmp_path, postgres_random_page_cost=cost)

    assert asyncio.run(_random_page_costs(settings(1.1))) == ("1.1", "1.1")
    assert asyncio.run(_random_page_costs(settings(2.5))) == ("2.5", "2.5")
    server_default = asyncio.run(_random_page_costs(settings(0)))
    assert server_default[0] == server_default[1] != "1.1"  # the server's own (4 unless someone tuned it)


def test_the_setting_is_validated():
    with pytest.raises(ValueError):
        Settings(_env_file=None, postgres_random_page_cost=-1)
