"""organising: tag history, canned responses, working hours

Revision ID: 0003d
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0003d'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tag_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('tag_name', sa.String(length=100), nullable=False),
    sa.Column('tag_group_id', sa.Integer(), nullable=False),
    sa.Column('tag_group_name', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_tag_event_agent_id_agent')),
    sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], name=op.f('fk_tag_event_chat_id_chat'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_event'))
    )
    with op.batch_alter_table('tag_event', schema=None) as batch_op:
        batch_op.create_index('ix_tag_event_chat_id', ['chat_id'], unique=False)
        batch_op.create_index('ix_tag_event_tag_id_at', ['tag_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tag_event_at'), ['at'], unique=False)

    op.create_table('canned_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('short_code', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_response')),
    sa.UniqueConstraint('short_code', name=op.f('uq_canned_response_short_code'))
    )

    op.create_table('working_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('days', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_working_hours_department_id_department'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours')),
    sa.UniqueConstraint('scope', name=op.f('uq_working_hours_scope'))
    )


def downgrade() -> None:
    op.drop_table('working_hours')
    op.drop_table('canned_response')
    with op.batch_alter_table('tag_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_event_at'))
        batch_op.drop_index('ix_tag_event_tag_id_at')
        batch_op.drop_index('ix_tag_event_chat_id')
    op.drop_table('tag_event')
