"""Connections: erase on delete, last error and recovery, list filters, reconnect intents

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
import json
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CONNECTION_EVENTS = ('zoom_oauth_connection.connected', 'zoom_oauth_connection.reconnected',
                     'zoom_oauth_connection.disconnected')


def _scalar(value):
    """A metadata value as the filter index stores it (None: not indexable)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str) or value is None:
        text = value if isinstance(value, str) else json.dumps(value)
    else:
        return None
    return text if len(text) <= 500 else None


def upgrade() -> None:
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_lower', sa.String(length=320), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('last_error_code', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('last_error_message', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_zoom_connections_account_email', ['account_id', 'email_lower'],
                              unique=False, postgresql_ops={'email_lower': 'text_pattern_ops'})
        batch_op.create_index('ix_zoom_connections_account_zoom_account',
                              ['account_id', 'zoom_account_id', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('webhook_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_id', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_webhook_messages_account_subject', ['account_id', 'subject_id'],
                              unique=False)
    op.create_table(
        'zoom_connection_metadata',
        sa.Column('connection_id', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('value', sa.String(length=500), nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_zoom_connection_metadata_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['connection_id'], ['zoom_connections.id'],
                                name=op.f('fk_zoom_connection_metadata_connection_id_zoom_connections'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_connection_metadata')),
        sa.UniqueConstraint('connection_id', 'key', name=op.f('uq_zoom_connection_metadata_connection_id_key')),
    )
    op.create_index('ix_zoom_connection_metadata_account_key_value', 'zoom_connection_metadata',
                    ['account_id', 'key', 'value'], unique=False)
    op.create_table(
        'zoom_reconnect_intents',
        sa.Column('account_id', sa.String(length=40), nullable=False),
        sa.Column('zoom_user_id', sa.String(length=200), nullable=False),
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('redirect_uri', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_zoom_reconnect_intents_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_reconnect_intents')),
        sa.UniqueConstraint('account_id', 'state_hash',
                            name=op.f('uq_zoom_reconnect_intents_account_id_state_hash')),
    )
    op.create_index(op.f('ix_zoom_reconnect_intents_expires_at'), 'zoom_reconnect_intents',
                    ['expires_at'], unique=False)
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    # Connections deleted before this release were kept as 'disconnected/deleted' with their
    # identity: a delete now erases, so they are erased (their bots keep the Zoom user id).
    # Spelled out rather than left to ON DELETE, which SQLite applies only with foreign keys on.
    bind.execute(sa.text("UPDATE bots SET connection_id = NULL WHERE connection_id IN "
                         "(SELECT id FROM zoom_connections WHERE disconnected_reason = 'deleted')"))
    bind.execute(sa.text("DELETE FROM zoom_code_exchanges WHERE connection_id IN "
                         "(SELECT id FROM zoom_connections WHERE disconnected_reason = 'deleted')"))
    bind.execute(sa.text("DELETE FROM zoom_connections WHERE disconnected_reason = 'deleted'"))
    bind.execute(sa.text("UPDATE zoom_connections SET disconnected_reason = 'app_deauthorized' "
                         "WHERE disconnected_reason = 'deauthorized'"))
    bind.execute(sa.text("UPDATE zoom_connections SET email_lower = lower(email)"))
    rows = bind.execute(sa.text("SELECT id, account_id, metadata FROM zoom_connections")).fetchall()
    entries = []
    for row in rows:
        metadata = row.metadata if isinstance(row.metadata, dict) else json.loads(row.metadata or "{}")
        for key, value in (metadata or {}).items():
            text = _scalar(value)
            if text is not None and len(key) <= 200:
                entries.append({"id": f"cmeta_{secrets.token_hex(12)}", "connection_id": row.id,
                                "account_id": row.account_id, "key": key, "value": text})
    if entries:
        bind.execute(sa.text("INSERT INTO zoom_connection_metadata (id, connection_id, account_id, key, value) "
                             "VALUES (:id, :connection_id, :account_id, :key, :value)"), entries)
    # Connection events queued before: name the connection they are about.
    messages = bind.execute(
        sa.text("SELECT id, account_id, payload FROM webhook_messages WHERE event_type IN :types")
        .bindparams(sa.bindparam("types", expanding=True)), {"types": list(CONNECTION_EVENTS)}).fetchall()
    for message in messages:
        user = (json.loads(message.payload).get("data") or {}).get("zoom_user_id")
        found = bind.execute(sa.text("SELECT id FROM zoom_connections WHERE account_id = :a AND zoom_user_id = :u"),
                             {"a": message.account_id, "u": user}).scalar()
        if found:
            bind.execute(sa.text("UPDATE webhook_messages SET subject_id = :s WHERE id = :m"),
                         {"s": found, "m": message.id})


def downgrade() -> None:
    op.drop_index(op.f('ix_zoom_reconnect_intents_expires_at'), table_name='zoom_reconnect_intents')
    op.drop_table('zoom_reconnect_intents')
    op.drop_index('ix_zoom_connection_metadata_account_key_value', table_name='zoom_connection_metadata')
    op.drop_table('zoom_connection_metadata')
    with op.batch_alter_table('webhook_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_messages_account_subject')
        batch_op.drop_column('subject_id')
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_zoom_connections_account_zoom_account')
        batch_op.drop_index('ix_zoom_connections_account_email')
        for column in ('failing_since', 'last_error_at', 'last_error_message', 'last_error_code',
                       'email_lower'):
            batch_op.drop_column(column)
    op.execute("UPDATE zoom_connections SET disconnected_reason = 'deauthorized' "
               "WHERE disconnected_reason = 'app_deauthorized'")
