"""WhatsApp inbound: media fetched after the webhook's answer, Meta's send time, business-scoped user ids, ads

- message.sent_at: when the customer sent it, by Meta's `timestamp` (created_at stays the arrival). WhatsApp's
  24-hour window (chat.last_customer_message_at) runs from it.
- message.media_status: Pending while the customer's file is still being fetched from Meta (after the webhook
  has answered), Failed when it finally could not be; ix_message_media_pending finds what to resume at start.
- customer.whatsapp_user_id / whatsapp_parent_user_id / whatsapp_username: Meta's business-scoped user id
  (BSUID), for users who show no phone number, and their username.
- chat.referral: the click-to-WhatsApp ad the chat came from (headline, source URL, ctwa_clid).
- ix_customer_whatsapp_username_trgm (PostgreSQL with pg_trgm, as 0007): SearchCustomer finds users by username.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('media_status', sa.String(length=16), nullable=True))
    op.create_index('ix_message_media_pending', 'message', ['media_status'], unique=False,
                    sqlite_where=sa.text("media_status = 'Pending'"),
                    postgresql_where=sa.text("media_status = 'Pending'"))
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('whatsapp_user_id', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('whatsapp_parent_user_id', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('whatsapp_username', sa.String(length=100), nullable=True))
        batch.create_unique_constraint('uq_customer_whatsapp_user_id', ['whatsapp_user_id'])
    with op.batch_alter_table('chat') as batch:
        batch.add_column(sa.Column('referral', sa.JSON(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.execute(sa.text(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is not None:
        # SearchCustomer's ILIKE on the username, as 0007 indexes name, phone number and e-mail address.
        op.execute("CREATE INDEX IF NOT EXISTS ix_customer_whatsapp_username_trgm ON customer "
                   "USING gin (whatsapp_username gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customer_whatsapp_username_trgm")
    with op.batch_alter_table('chat') as batch:
        batch.drop_column('referral')
    with op.batch_alter_table('customer') as batch:
        batch.drop_constraint('uq_customer_whatsapp_user_id', type_='unique')
        batch.drop_column('whatsapp_username')
        batch.drop_column('whatsapp_parent_user_id')
        batch.drop_column('whatsapp_user_id')
    op.drop_index('ix_message_media_pending', table_name='message')
    with op.batch_alter_table('message') as batch:
        batch.drop_column('media_status')
        batch.drop_column('sent_at')
