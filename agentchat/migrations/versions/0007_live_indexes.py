"""indexes for the live metrics and the customer search

- ix_chat_closed_at: GetLiveMetrics counts the chats closed today without reading every closed chat.
- ix_customer_created_at_id: SearchCustomer's page (newest first) can stop at the page's end on SQLite.
- PostgreSQL only, when the pg_trgm extension is available: trigram GIN indexes on the customer's name, phone
  number and e-mail address, which PostgreSQL uses for SearchCustomer's ILIKE '%text%' (3 characters or more).
  Without pg_trgm the search stays correct and reads the whole table.

These indexes live only here (not in the models): the trigram ones are PostgreSQL's own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = ("name", "phone_number", "email_address")


def _has_trigrams(bind) -> bool:
    """pg_trgm installed, or installed now (a trusted extension: the database owner may; else we do without)."""
    if bind.dialect.name != "postgresql":
        return False
    if bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first() is None:
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    op.create_index('ix_chat_closed_at', 'chat', ['closed_at'], unique=False)
    op.create_index('ix_customer_created_at_id', 'customer', ['created_at', 'id'], unique=False)
    bind = op.get_bind()
    if _has_trigrams(bind):
        for column in TRIGRAM_COLUMNS:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_customer_{column}_trgm ON customer "
                       f"USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_customer_{column}_trgm")
    op.drop_index('ix_customer_created_at_id', table_name='customer')
    op.drop_index('ix_chat_closed_at', table_name='chat')
