"""index for the orphaned-files sweep

- ix_message_file_key (partial: only messages with a file): the hourly sweep asks, 500 stored keys at a time,
  which of them a message names (agentchat/files/sweep.py). Without it each question read the whole message
  table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_message_file_key', 'message', ['file_key'], unique=False,
                    sqlite_where=sa.text('file_key IS NOT NULL'), postgresql_where=sa.text('file_key IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_message_file_key', table_name='message')
