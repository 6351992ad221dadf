"""Internal notes and mentions: a note is a message with SenderType Note (no schema change); mention names the
agents a note @mentions (docs/notes.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mention',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('by_agent_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_mention_message_id_message'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], name=op.f('fk_mention_chat_id_chat'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_mention_agent_id_agent')),
        sa.ForeignKeyConstraint(['by_agent_id'], ['agent.id'], name=op.f('fk_mention_by_agent_id_agent')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mention')),
    )
    op.create_index('ix_mention_agent_id_id', 'mention', ['agent_id', 'id'])
    op.create_index('ix_mention_message_id', 'mention', ['message_id'])


def downgrade() -> None:
    op.drop_table('mention')
