"""Encryption of provider tokens at rest.

Tokens are Fernet-encrypted with the keys in ``TOKEN_ENCRYPTION_KEYS``: the
first key encrypts, every key decrypts, so a key is rotated by putting a new
one first and running ``manage.py rotate_token_keys``.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenDecryptionError(Exception):
    """A stored token could not be decrypted with any configured key."""


def _fernet() -> MultiFernet:
    keys = settings.TOKEN_ENCRYPTION_KEYS
    if not keys:
        raise RuntimeError("TOKEN_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_token(token: str) -> str:
    if not token:
        return ""
    return _fernet().encrypt(token.encode()).decode("ascii")


def decrypt_token(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode()
    except InvalidToken as error:
        raise TokenDecryptionError("No configured key decrypts this token.") from error


def reencrypt_token(ciphertext: str) -> str:
    """Return ``ciphertext`` encrypted under the current first key."""
    if not ciphertext:
        return ""
    return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
