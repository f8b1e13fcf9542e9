"""Sealing an account's data-encryption secret (issue 13): the secret a
device encrypts its ``des;b64`` / ``3des;b64`` items with must be usable
by the server, so it cannot be hashed; it is kept sealed instead.

A sealed value is ``version byte || 12-byte nonce || AES-256-GCM(secret)``
under a key derived from the store's server secret
(:meth:`~syncml_codec.store.base.Store.server_secret`) with HMAC-SHA256 and
a label of its own (the challenge nonces use the server secret for
something else), and the account's name as associated data: a sealed value
copied into another account's row does not open.  What this protects
against: the ``users`` table read alone (a dump of it, a backup of part of
the database, a log of a query).  It does not protect against a thief of
the whole database, who has the server secret too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["MAIL_IMAP", "SealError", "seal", "unseal"]

_VERSION = b"\x01"
_LABEL = b"syncml-codec data-key seal v1"
#: the label of an account's sealed IMAP settings (``users.mail_imap``): a
#: value sealed for one purpose does not open for another
MAIL_IMAP = b"syncml-codec mail-imap seal v1"
_NONCE = 12


class SealError(ValueError):
    """A sealed value that does not open (another server secret, another account, damaged)."""


def _key(server_secret: bytes, label: bytes) -> bytes:
    return hmac.new(server_secret, label, hashlib.sha256).digest()


def seal(server_secret: bytes, account: str, secret: str, label: bytes = _LABEL) -> bytes:
    """``secret`` sealed for ``account`` (``label``: what it is for, e.g. :data:`MAIL_IMAP`).

    >>> sealed = seal(b"k" * 32, "anna", "the key")
    >>> unseal(b"k" * 32, "anna", sealed)
    'the key'
    """
    nonce = secrets.token_bytes(_NONCE)
    aad = account.encode("utf-8", "surrogatepass")
    return _VERSION + nonce + AESGCM(_key(server_secret, label)).encrypt(nonce, secret.encode("utf-8"), aad)


def unseal(server_secret: bytes, account: str, sealed: bytes, label: bytes = _LABEL) -> str:
    """The secret :func:`seal` sealed for ``account`` with ``label``; :class:`SealError` if it does not open."""
    if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
        raise SealError("not a sealed value of this version")
    nonce, body = sealed[1:1 + _NONCE], sealed[1 + _NONCE:]
    try:
        plain = AESGCM(_key(server_secret, label)).decrypt(nonce, body, account.encode("utf-8", "surrogatepass"))
    except InvalidTag:
        raise SealError("the sealed value does not open with this server secret for this account") from None
    return plain.decode("utf-8")
