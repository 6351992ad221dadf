"""indexes for an agent's GetChats

- ix_chat_department_status_created: a department's chats of one status, newest first.
- ix_chat_agent_status_created replaces ix_chat_agent_status (its leading columns): an agent's chats of one
  status, newest first.

GetChats reads an agent's page from these, a (department or agent, status) range at a time, and only as deep as
the page (chats/fastpath.py); before, it read every chat of theirs newer than the page's end.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_chat_department_status_created', 'chat', ['department_id', 'status', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_chat_agent_status_created', 'chat', ['agent_id', 'status', 'created_at', 'id'], unique=False)
    op.drop_index('ix_chat_agent_status', table_name='chat')


def downgrade() -> None:
    op.create_index('ix_chat_agent_status', 'chat', ['agent_id', 'status'], unique=False)
    op.drop_index('ix_chat_agent_status_created', table_name='chat')
    op.drop_index('ix_chat_department_status_created', table_name='chat')
