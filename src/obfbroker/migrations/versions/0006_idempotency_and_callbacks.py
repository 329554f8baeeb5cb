"""Idempotency keys, bot deduplication keys, callback_url deliveries through the outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_idempotency_keys_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('account_id', 'operation', 'key_hash', name=op.f('uq_idempotency_keys_account_id_operation_key_hash'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_account_expires', ['account_id', 'expires_at'], unique=False)

    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deduplication_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('active_deduplication_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('callback_bot_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('callback_sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_unique_constraint(batch_op.f('uq_bots_account_id_active_deduplication_key'),
                                          ['account_id', 'active_deduplication_key'])

    with op.batch_alter_table('webhook_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stream_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('stream_sequence', sa.Integer(), nullable=True))
        batch_op.create_index('ix_webhook_messages_stream', ['stream_key', 'stream_sequence'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_messages_stream')
        for column in ('stream_sequence', 'stream_key', 'target_url'):
            batch_op.drop_column(column)
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bots_account_id_active_deduplication_key'), type_='unique')
        for column in ('callback_sequence', 'callback_bot_status', 'active_deduplication_key',
                       'deduplication_key'):
            batch_op.drop_column(column)
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_account_expires')
    op.drop_table('idempotency_keys')
