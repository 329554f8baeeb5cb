"""Encryption of secrets at rest: AES-256-GCM bound to the row that holds the value.

Stored form: ``v1.<key id>.<base64url(nonce || ciphertext+tag)>``. The associated data is
``table:column:row id``, so a ciphertext copied into another row or column fails to decrypt.
The first key encrypts; every configured key decrypts, which is what lets keys rotate.

Code that holds the ORM row calls ``seal``/``open``, which read the table and id from the row;
``encrypt``/``decrypt`` take them explicitly, for the key rotation that walks raw columns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12


class VaultError(Exception):
    """A value could not be decrypted: unknown key, tampering, or moved between rows."""


def key_id(key: bytes) -> str:
    """A short public identifier for a key that reveals nothing about it."""
    return hmac.new(key, b"obfbroker key id", hashlib.sha256).hexdigest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SealedRow(Protocol):
    """An ORM row with a vault column: its table name and id bind the ciphertext to it."""

    __tablename__: str
    id: str


class Vault:
    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("the vault needs at least one key")
        self._primary_id = key_id(keys[0])
        self._ciphers = {key_id(key): AESGCM(key) for key in keys}

    def __repr__(self) -> str:
        return f"Vault(primary={self._primary_id}, keys={len(self._ciphers)})"

    @property
    def primary_key_id(self) -> str:
        return self._primary_id

    @staticmethod
    def associated_data(table: str, column: str, row_id: str) -> bytes:
        return f"{table}:{column}:{row_id}".encode()

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self._primary_id].encrypt(
            nonce, plaintext.encode(), self.associated_data(table, column, row_id)
        )
        return f"{VERSION}.{self._primary_id}.{_b64(nonce + sealed)}"

    def decrypt(self, stored: str, *, table: str, column: str, row_id: str) -> str:
        try:
            version, kid, payload = stored.split(".", 2)
        except ValueError:
            raise VaultError(f"{table}.{column} of {row_id} is not a vault value") from None
        cipher = self._ciphers.get(kid)
        if version != VERSION or cipher is None:
            raise VaultError(f"{table}.{column} of {row_id} is sealed with unknown key {kid}")
        raw = _unb64(payload)
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                   self.associated_data(table, column, row_id))
        except InvalidTag:
            raise VaultError(f"{table}.{column} of {row_id} failed authentication") from None
        return plain.decode()

    def seal(self, row: SealedRow, column: str, value: str) -> str:
        """``value`` sealed for ``row``'s ``column`` (the caller assigns it to the column)."""
        return self.encrypt(value, table=row.__tablename__, column=column, row_id=row.id)

    def open(self, row: SealedRow, column: str) -> str:
        """The plain text of ``row``'s sealed ``column``."""
        stored = getattr(row, column)
        if stored is None:
            raise VaultError(f"{row.__tablename__}.{column} of {row.id} is empty")
        return self.decrypt(stored, table=row.__tablename__, column=column, row_id=row.id)

    def is_current(self, stored: str) -> bool:
        """True when the value is already sealed with the primary key."""
        return stored.split(".", 2)[1:2] == [self._primary_id]
