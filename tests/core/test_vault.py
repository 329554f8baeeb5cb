"""AES-256-GCM sealing bound to table, column and row; keys rotate."""

from __future__ import annotations

import pytest

from obfbroker.settings import decode_key, generate_key
from obfbroker.vault import Vault, VaultError

WHERE = dict(table="zoom_connections", column="refresh_token", row_id="conn_1")


def test_values_round_trip_with_a_fresh_nonce_each_time():
    vault = Vault([decode_key(generate_key())])
    first = vault.encrypt("secret-token", **WHERE)
    second = vault.encrypt("secret-token", **WHERE)
    assert first != second and "secret-token" not in first
    assert first.startswith(f"v1.{vault.primary_key_id}.")
    assert vault.decrypt(first, **WHERE) == vault.decrypt(second, **WHERE) == "secret-token"


@pytest.mark.parametrize("moved", [
    dict(WHERE, row_id="conn_2"), dict(WHERE, column="access_token"), dict(WHERE, table="zoom_apps"),
])
def test_a_value_moved_to_another_row_or_column_fails(moved):
    vault = Vault([decode_key(generate_key())])
    sealed = vault.encrypt("secret-token", **WHERE)
    with pytest.raises(VaultError):
        vault.decrypt(sealed, **moved)


def test_tampering_and_unknown_keys_fail_closed():
    vault = Vault([decode_key(generate_key())])
    sealed = vault.encrypt("secret-token", **WHERE)
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(VaultError):
        vault.decrypt(tampered, **WHERE)
    with pytest.raises(VaultError):
        Vault([decode_key(generate_key())]).decrypt(sealed, **WHERE)
    with pytest.raises(VaultError):
        vault.decrypt("plain-text", **WHERE)


def test_old_keys_decrypt_and_only_the_first_encrypts():
    old, new = decode_key(generate_key()), decode_key(generate_key())
    sealed_old = Vault([old]).encrypt("x", **WHERE)
    both = Vault([new, old])
    assert both.decrypt(sealed_old, **WHERE) == "x"
    assert not both.is_current(sealed_old)
    assert both.is_current(both.encrypt("x", **WHERE))
    assert "x" not in repr(both) and repr(both).startswith("Vault(")


def test_the_row_form_seals_exactly_what_the_explicit_form_reads():
    """``seal``/``open`` take the table and id from the row, so stored rows stay readable."""
    from obfbroker.connections.models import ZoomConnection

    vault = Vault([decode_key(generate_key())])
    row = ZoomConnection(id="conn_1")
    row.refresh_token = vault.seal(row, "refresh_token", "secret-token")
    assert vault.decrypt(row.refresh_token, **WHERE) == "secret-token"
    row.refresh_token = vault.encrypt("other-token", **WHERE)
    assert vault.open(row, "refresh_token") == "other-token"
    with pytest.raises(VaultError):
        vault.open(row, "access_token")  # empty
    with pytest.raises(VaultError):
        vault.open(ZoomConnection(id="conn_2", refresh_token=row.refresh_token), "refresh_token")
