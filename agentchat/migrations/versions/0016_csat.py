"""CSAT: department.csat_enabled and the chat_rating table (docs/csat.md)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('department') as batch:
        batch.add_column(sa.Column('csat_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'chat_rating',
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('rating', sa.SmallInteger(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('comment', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], name=op.f('fk_chat_rating_chat_id_chat'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_chat_rating')),
    )
    op.create_index('ix_chat_rating_customer', 'chat_rating', ['customer_id', 'requested_at'])
    op.create_index(op.f('ix_chat_rating_answered_at'), 'chat_rating', ['answered_at'])


def downgrade() -> None:
    op.drop_table('chat_rating')
    with op.batch_alter_table('department') as batch:
        batch.drop_column('csat_enabled')
