"""agent status history: agent_status_event, for occupancy (time Online)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_status_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('status_id', sa.SmallInteger(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_agent_status_event_agent_id_agent'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_status_event'))
    )
    op.create_index('ix_agent_status_event_agent_id_at', 'agent_status_event', ['agent_id', 'at'], unique=False)
    op.create_index('ix_agent_status_event_at', 'agent_status_event', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_agent_status_event_at', table_name='agent_status_event')
    op.drop_index('ix_agent_status_event_agent_id_at', table_name='agent_status_event')
    op.drop_table('agent_status_event')
