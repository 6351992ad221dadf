"""reports: recipients, schedules and claimed schedule runs

Revision ID: 0004
Revises: 0003d
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email_address', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_recipient'))
    )
    op.create_table('report_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=40), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('delivery_method', sa.String(length=16), nullable=False),
    sa.Column('scheduled_days', sa.JSON(), nullable=False),
    sa.Column('scheduled_time', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['report_recipient.id'],
                            name=op.f('fk_report_schedule_recipient_id_report_recipient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_schedule'))
    )
    op.create_index(op.f('ix_report_schedule_recipient_id'), 'report_schedule', ['recipient_id'], unique=False)
    op.create_table('report_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['schedule_id'], ['report_schedule.id'],
                            name=op.f('fk_report_run_schedule_id_report_schedule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_run')),
    sa.UniqueConstraint('schedule_id', 'due_at', name=op.f('uq_report_run_schedule_id'))
    )


def downgrade() -> None:
    op.drop_table('report_run')
    op.drop_index(op.f('ix_report_schedule_recipient_id'), table_name='report_schedule')
    op.drop_table('report_schedule')
    op.drop_table('report_recipient')
