"""Encrypted items (issue 13, item 8): ``des;b64`` and ``3des;b64`` in an
item's Meta Format, Funambol's "enable encryption" (IceWarp takes them too).

What the clients do (Funambol's server ``DESEncoder``/``DESDecoder``, its
Windows client's CryptoAPI decoder, its BlackBerry client): the item is
encrypted, then base64-encoded; the key comes from a secret (in Funambol the
user's password) as ``MD5(secret)``: DES takes its first 8 bytes, 3DES all
16 as a two-key triple (K1 K2 K1); ECB mode, PKCS#5 padding.  The cipher is
:mod:`syncml_codec.formats.item_encoding` (over ``cryptography``'s DES-EDE
from its "decrepit" algorithms: a library kept up to date, already a
dependency; DES is single DES as EDE with K K K).

Here the secret is the account's data-encryption secret (``syncml user
add|passwd --encryption-key``), kept sealed by the store
(:meth:`~syncml_codec.store.base.Store.data_key`).  An item that comes
encrypted is decrypted (after its chunks are put together: the cipher runs
over the whole item) and the device's encoding is remembered with its
format (:class:`~syncml_codec.store.base.DeviceFormat` ``encoding``
``des;b64``), so what the server sends it is encrypted the same way.

A bad item never reaches the store: without a key for the account, or when
the data does not decrypt with it, the item gets Status 415 (the server
cannot read this format for this account) and a WARNING names the session,
device, item and why.  A wrong key almost always breaks the padding; the
1-in-256-or-so that does not is caught by requiring text types to decrypt
to UTF-8 without control characters (every format a datastore keeps is
text), so no garbage is stored.
"""

from __future__ import annotations

import logging

from ..errors import FormatError, UnsupportedFormatError
from ..formats import ItemKey, decode_item_data, encode_item_data, transforms_of
from ..store.base import Store

__all__ = ["account_key", "decrypt", "encrypt", "encryption_of"]

log = logging.getLogger("syncml_codec.engine")

_CIPHERS = frozenset({"des", "3des"})
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13)) + b"\x7f"


def encryption_of(fmt: str | None) -> str:
    """The encryption a Meta Format names, as the device's encoding is kept
    (``"des;b64"``, ``"3des;b64"``); "" for none (or an unknown step, which
    decoding refuses anyway).

    >>> encryption_of("DES;b64"), encryption_of("b64"), encryption_of(None)
    ('des;b64', '', '')
    """
    try:
        steps = transforms_of(fmt)
    except UnsupportedFormatError:
        return ""
    return ";".join(steps) if _CIPHERS.intersection(steps) else ""


def account_key(store: Store, user: str) -> ItemKey | None:
    """The key of ``user``'s encrypted items, or None when the account has
    no data-encryption secret (or its sealed secret does not open: logged)."""
    try:
        secret = store.data_key(user)
    except ValueError as exc:  # SealError: the database's server secret changed
        log.warning("user %s: the encryption key does not open (%s)", user, exc)
        return None
    return None if secret is None else ItemKey.from_password(secret)


def decrypt(data: bytes, fmt: str, key: ItemKey | None, content_type: str | None) -> bytes:
    """The item in clear; :class:`FormatError` saying why not (no key, not
    base64, not whole blocks, bad padding, or a text type that is not text)."""
    if key is None:
        raise FormatError("no encryption key for this account")
    plain = decode_item_data(data, fmt, key)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if not ctype or ctype.startswith("text/"):
        try:
            plain.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("does not decrypt to text with this key") from None
        if len(plain.translate(None, _CONTROL)) != len(plain):
            raise FormatError("does not decrypt to text with this key")
    return plain


def encrypt(data: bytes, encoding: str, key: ItemKey) -> bytes:
    """``data`` encrypted and encoded as ``encoding`` (``des;b64``...) says."""
    return encode_item_data(data, encoding, key)
