"""Bots and their status timeline

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bots',
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('meeting_link', sa.Text(), nullable=False),
    sa.Column('meeting_number', sa.String(length=20), nullable=True),
    sa.Column('passcode', sa.String(length=200), nullable=True),
    sa.Column('vanity_name', sa.String(length=100), nullable=True),
    sa.Column('bot_name', sa.String(length=200), nullable=False),
    sa.Column('audio_required', sa.Boolean(), nullable=False),
    sa.Column('video_required', sa.Boolean(), nullable=False),
    sa.Column('callback_url', sa.Text(), nullable=True),
    sa.Column('custom_attributes', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('zoom', sa.JSON(), nullable=False),
    sa.Column('connection_id', sa.String(length=40), nullable=True),
    sa.Column('token_source', sa.String(length=20), nullable=False),
    sa.Column('obf_url', sa.Text(), nullable=True),
    sa.Column('zak_url', sa.Text(), nullable=True),
    sa.Column('join_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_bots_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['zoom_connections.id'], name=op.f('fk_bots_connection_id_zoom_connections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bots'))
    )
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.create_index('ix_bots_account_created', ['account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bots_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index('ix_bots_status_join_at', ['status', 'join_at'], unique=False)

    op.create_table('bot_events',
    sa.Column('bot_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_bot_events_bot_id_bots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_events'))
    )
    with op.batch_alter_table('bot_events', schema=None) as batch_op:
        batch_op.create_index('ix_bot_events_bot_at', ['bot_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bot_events', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_events_bot_at')

    op.drop_table('bot_events')
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.drop_index('ix_bots_status_join_at')
        batch_op.drop_index(batch_op.f('ix_bots_connection_id'))
        batch_op.drop_index('ix_bots_account_created')

    op.drop_table('bots')
