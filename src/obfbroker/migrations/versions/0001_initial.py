"""Initial schema: accounts, api keys, zoom apps, connections

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    op.create_table('server_secrets',
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_secrets'))
    )
    op.create_table('api_keys',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_keys_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_account_id'), ['account_id'], unique=False)

    op.create_table('zoom_apps',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('client_secret', sa.Text(), nullable=False),
    sa.Column('webhook_secret_token', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_zoom_apps_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_apps')),
    sa.UniqueConstraint('account_id', name=op.f('uq_zoom_apps_account_id'))
    )
    with op.batch_alter_table('zoom_apps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zoom_apps_client_id'), ['client_id'], unique=False)

    op.create_table('zoom_connections',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('zoom_user_id', sa.String(length=200), nullable=False),
    sa.Column('zoom_account_id', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=400), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('token_generation', sa.Integer(), nullable=False),
    sa.Column('last_refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnected_reason', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_zoom_connections_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_connections')),
    sa.UniqueConstraint('account_id', 'zoom_user_id', name=op.f('uq_zoom_connections_account_id_zoom_user_id'))
    )
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.create_index('ix_zoom_connections_account_created', ['account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_zoom_connections_account_state_created', ['account_id', 'state', 'created_at', 'id'], unique=False)

    op.create_table('zoom_code_exchanges',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('connection_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_zoom_code_exchanges_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['zoom_connections.id'], name=op.f('fk_zoom_code_exchanges_connection_id_zoom_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_code_exchanges')),
    sa.UniqueConstraint('account_id', 'code_hash', name=op.f('uq_zoom_code_exchanges_account_id_code_hash'))
    )


def downgrade() -> None:
    op.drop_table('zoom_code_exchanges')
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_zoom_connections_account_state_created')
        batch_op.drop_index('ix_zoom_connections_account_created')

    op.drop_table('zoom_connections')
    with op.batch_alter_table('zoom_apps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zoom_apps_client_id'))

    op.drop_table('zoom_apps')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_account_id'))

    op.drop_table('api_keys')
    op.drop_table('server_secrets')
    op.drop_table('accounts')
