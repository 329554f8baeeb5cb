"""Bot runner: leases, leave requests, adapter session ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('leave_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('adapter_session_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('join_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_bots_status_lease', ['status', 'lease_expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_index('ix_bots_status_lease')
        for column in ('join_attempts', 'adapter_session_id', 'leave_requested_at', 'lease_expires_at',
                       'lease_owner'):
            batch_op.drop_column(column)
