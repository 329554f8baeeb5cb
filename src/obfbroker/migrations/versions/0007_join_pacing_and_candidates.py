"""Join pacing and several authorizing users per bot

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_connection_ids', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('acting_for_zoom_user_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('tokens_minted', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bot_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acting_for_zoom_user_id', sa.String(length=200), nullable=True))
    # Bots made before: their one authorizing user is their only candidate.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE bots SET candidate_connection_ids = json_build_array(connection_id) "
                   "WHERE connection_id IS NOT NULL")
    else:
        op.execute("UPDATE bots SET candidate_connection_ids = json_array(connection_id) "
                   "WHERE connection_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('bot_events', schema=None) as batch_op:
        batch_op.drop_column('acting_for_zoom_user_id')
    with op.batch_alter_table('bots', schema=None) as batch_op:
        for column in ('next_attempt_at', 'tokens_minted', 'acting_for_zoom_user_id',
                       'candidate_connection_ids'):
            batch_op.drop_column(column)
