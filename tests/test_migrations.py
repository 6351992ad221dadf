"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import agentchat.models  # noqa: F401 (every model on Base.metadata)
from agentchat.db import Base, create_engine
from agentchat.migrate import alembic_config

# Indexes made by migrations alone, on purpose (see each migration's docstring).
MIGRATION_ONLY_INDEXES = {"ix_chat_closed_at", "ix_customer_created_at_id", "ix_customer_name_trgm",
                          "ix_customer_phone_number_trgm", "ix_customer_email_address_trgm",
                          "ix_customer_whatsapp_username_trgm", "ix_message_text_search"}


def test_the_migrated_database_matches_the_models(server):
    async def differences():
        engine = create_engine(server.settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        finally:
            await engine.dispose()

    found = asyncio.run(differences())
    unexpected = [d for d in found if not (d[0] == "remove_index" and d[1].name in MIGRATION_ONLY_INDEXES)
                  # SQLite's full-text search: the FTS5 table and its shadow tables (0015_search.py).
                  and not (d[0] == "remove_table" and d[1].name.startswith("message_fts"))]
    assert unexpected == []


def test_a_url_with_percent_encoded_parts_reaches_alembic_unchanged():
    """A password with "@" or PostgreSQL's socket directory is percent-encoded in the URL; Alembic's config is a
    ConfigParser, where "%" starts an interpolation (serve and migrate failed at start with such a URL)."""
    url = "postgresql+asyncpg://agentchat:p%40ss%25word@/agentchat?host=%2Fvar%2Frun%2Fpostgresql"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url
