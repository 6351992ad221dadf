"""routing and notifications: department routing flag, agent chat limit, chat notification/queue-position marks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routing_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_concurrent_chats', sa.SmallInteger(), server_default='5', nullable=False))
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_notified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('position_told', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position_told_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.drop_column('position_told_at')
        batch_op.drop_column('position_told')
        batch_op.drop_column('waiting_notified_at')
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('max_concurrent_chats')
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('routing_enabled')
