"""Alembic, driven from code so that `serve`, `migrate` and the tests share one path."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from agentchat.config import Settings
from agentchat.db import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The config is a ConfigParser: "%" starts an interpolation there, and a URL may hold percent-encoded parts
    # (a password with "@", a socket directory in ?host=%2Fvar%2Frun%2Fpostgresql).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_engine(engine: AsyncEngine) -> None:
    def upgrade(connection) -> None:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


async def migrate(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


def migrate_sync(settings: Settings) -> None:
    asyncio.run(migrate(settings))
