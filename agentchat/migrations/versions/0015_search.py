"""Full-text search over messages (docs/search.md).

- PostgreSQL: a GIN index on the expression to_tsvector(<language>, coalesce(text, '')), the language being
  AGENTCHAT_SEARCH_LANGUAGE when this migration runs (default 'simple': no stemming, right for mixed languages).
  The index is kept by PostgreSQL inside each INSERT and UPDATE (SendMessage, webhook ingest, erasure): no statement
  or round trip is added (fastupdate off: no pending list for searches to scan). A later change of the language needs the index made again (docs/search.md).
- SQLite: an FTS5 table over message.text (external content: the text is not stored twice), kept by triggers on
  message, so likewise inside the writing statement. A future migration that rebuilds `message` in batch mode
  must create these triggers again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""
import os
import re

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE message_fts USING fts5(text, content='message', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER message_fts_insert AFTER INSERT ON message WHEN new.text IS NOT NULL BEGIN "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER message_fts_delete AFTER DELETE ON message WHEN old.text IS NOT NULL BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER message_fts_update AFTER UPDATE OF text ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL; "
    "INSERT INTO message_fts(rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL; END",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
]


def language() -> str:
    value = os.environ.get("AGENTCHAT_SEARCH_LANGUAGE", "simple")
    if not re.fullmatch(r"[a-z_]{1,32}", value):
        raise ValueError("AGENTCHAT_SEARCH_LANGUAGE must be a text search configuration such as simple or english")
    return value


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # fastupdate off: each new message goes into the index at once, instead of a pending list that every
        # search must scan until a vacuum merges it (11 ms for one rare word over 20k fresh messages).
        op.execute(f"CREATE INDEX ix_message_text_search ON message USING gin "
                   f"(to_tsvector('{language()}'::regconfig, coalesce(text, ''))) WITH (fastupdate = off)")
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_message_text_search")
    else:
        for name in ("message_fts_insert", "message_fts_delete", "message_fts_update"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE message_fts")
