"""Token links (any bot platform's Zoom token URL) and the log of their calls

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('token_links',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('connection_id', sa.String(length=40), nullable=True),
    sa.Column('zoom_user_id', sa.String(length=200), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('meeting_link', sa.Text(), nullable=True),
    sa.Column('meeting_number', sa.String(length=20), nullable=True),
    sa.Column('token_types', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('platform_secret', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=40), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_token_links_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['zoom_connections.id'], name=op.f('fk_token_links_connection_id_zoom_connections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token_links'))
    )
    with op.batch_alter_table('token_links', schema=None) as batch_op:
        batch_op.create_index('ix_token_links_account_created', ['account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_token_links_account_platform_created', ['account_id', 'platform', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_token_links_account_user_created', ['account_id', 'zoom_user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_token_links_connection_id'), ['connection_id'], unique=False)

    op.create_table('token_link_uses',
    sa.Column('link_id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_type', sa.String(length=20), nullable=False),
    sa.Column('minted', sa.JSON(), nullable=False),
    sa.Column('meeting_number', sa.String(length=20), nullable=True),
    sa.Column('platform_bot_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_token_link_uses_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['token_links.id'], name=op.f('fk_token_link_uses_link_id_token_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token_link_uses'))
    )
    with op.batch_alter_table('token_link_uses', schema=None) as batch_op:
        batch_op.create_index('ix_token_link_uses_link_at', ['link_id', 'at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('token_link_uses', schema=None) as batch_op:
        batch_op.drop_index('ix_token_link_uses_link_at')

    op.drop_table('token_link_uses')
    with op.batch_alter_table('token_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_token_links_connection_id'))
        batch_op.drop_index('ix_token_links_account_user_created')
        batch_op.drop_index('ix_token_links_account_platform_created')
        batch_op.drop_index('ix_token_links_account_created')

    op.drop_table('token_links')
