"""Several Zoom apps per account: a name, a kind (user_managed or admin_managed) and at most one
default app per account; an account's existing app becomes its default

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('zoom_apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False,
                                      server_default='user_managed'))
        # Until now an account had one app: it is the default.
        batch_op.add_column(sa.Column('is_default', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.drop_constraint('uq_zoom_apps_account_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_zoom_apps_account_id_client_id'),
                                          ['account_id', 'client_id'])
    with op.batch_alter_table('zoom_apps', schema=None) as batch_op:
        batch_op.alter_column('name', server_default=None)
        batch_op.alter_column('kind', server_default=None)
        batch_op.alter_column('is_default', server_default=None)
    op.create_index('uq_zoom_apps_default', 'zoom_apps', ['account_id'], unique=True,
                    sqlite_where=sa.text('is_default IS 1'), postgresql_where=sa.text('is_default IS true'))


def downgrade() -> None:
    op.drop_index('uq_zoom_apps_default', table_name='zoom_apps')
    # Only the default app of each account survives a downgrade to one app per account.
    op.execute(sa.text("DELETE FROM zoom_apps WHERE NOT is_default"))
    with op.batch_alter_table('zoom_apps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_zoom_apps_account_id_client_id'), type_='unique')
        batch_op.create_unique_constraint('uq_zoom_apps_account_id', ['account_id'])
        batch_op.drop_column('is_default')
        batch_op.drop_column('kind')
        batch_op.drop_column('name')
