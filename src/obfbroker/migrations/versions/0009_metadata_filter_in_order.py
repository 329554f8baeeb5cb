"""Metadata filter rows carry their connection's created_at, so a filtered page walks one index
in list order (newest first) and reads only the page, however many rows match

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('zoom_connection_metadata', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
    # created_at never changes once a connection exists: copy it once.
    op.execute("UPDATE zoom_connection_metadata SET created_at = (SELECT zoom_connections.created_at "
               "FROM zoom_connections WHERE zoom_connections.id = zoom_connection_metadata.connection_id)")
    with op.batch_alter_table('zoom_connection_metadata', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index('ix_zoom_connection_metadata_account_key_value')
        batch_op.create_index('ix_zoom_connection_metadata_account_key_value_created',
                              ['account_id', 'key', 'value', 'created_at', 'connection_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zoom_connection_metadata', schema=None) as batch_op:
        batch_op.drop_index('ix_zoom_connection_metadata_account_key_value_created')
        batch_op.create_index('ix_zoom_connection_metadata_account_key_value',
                              ['account_id', 'key', 'value'], unique=False)
        batch_op.drop_column('created_at')
