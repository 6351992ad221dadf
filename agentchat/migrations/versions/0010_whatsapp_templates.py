"""WhatsApp message templates

- whatsapp_template: the business's templates as synced from Meta (name, language, category, status, components),
  one row per name and language; Meta's message_template_status_update webhook keeps the status current.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('whatsapp_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meta_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_template')),
    sa.UniqueConstraint('name', 'language', name='uq_whatsapp_template_name_language')
    )
    with op.batch_alter_table('whatsapp_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_template_meta_id'), ['meta_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('whatsapp_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatsapp_template_meta_id'))
    op.drop_table('whatsapp_template')
