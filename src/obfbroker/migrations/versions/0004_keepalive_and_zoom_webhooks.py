"""Keep-alive schedule on connections; receipts of Zoom webhooks (replay protection)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_keepalive_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_zoom_connections_state_keepalive', ['state', 'next_keepalive_at'], unique=False)
    # Connections made before keep-alive existed are due at once (the worker's budget paces them).
    op.execute("UPDATE zoom_connections SET next_keepalive_at = last_refreshed_at "
               "WHERE state = 'connected'")

    op.create_table('zoom_webhook_receipts',
    sa.Column('app_id', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_webhook_receipts'))
    )
    with op.batch_alter_table('zoom_webhook_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zoom_webhook_receipts_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zoom_webhook_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zoom_webhook_receipts_received_at'))
    op.drop_table('zoom_webhook_receipts')
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_zoom_connections_state_keepalive')
        batch_op.drop_column('next_keepalive_at')
