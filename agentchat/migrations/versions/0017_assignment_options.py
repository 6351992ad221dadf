"""Auto-assignment options: department.routing_strategy, agent.max_chats_per_channel and agent.last_routed_at

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('department') as batch:
        batch.add_column(sa.Column('routing_strategy', sa.String(length=16), server_default='LeastBusy',
                                   nullable=False))
    with op.batch_alter_table('agent') as batch:
        batch.add_column(sa.Column('max_chats_per_channel', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('last_routed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agent') as batch:
        batch.drop_column('last_routed_at')
        batch.drop_column('max_chats_per_channel')
    with op.batch_alter_table('department') as batch:
        batch.drop_column('routing_strategy')
