"""The audit log: who did what and when (managers' actions, security events); docs/audit.md.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_agent_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=True),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('client_ip', sa.String(length=64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    )
    op.create_index('ix_audit_entry_at', 'audit_entry', ['at'])
    op.create_index('ix_audit_entry_actor_at', 'audit_entry', ['actor_agent_id', 'at'])
    op.create_index('ix_audit_entry_action_at', 'audit_entry', ['action', 'at'])
    op.create_index('ix_audit_entry_target', 'audit_entry', ['target_type', 'target_id'])


def downgrade() -> None:
    op.drop_table('audit_entry')
