"""Item transfer encodings: the ``<Meta><Format>`` of an item's ``<Data>``.

A SyncML item can travel transformed.  ``b64`` is base64; ``des;b64`` and
``3des;b64`` are the Funambol / IceWarp item encryption: the item is
encrypted, then base64-encoded, and the receiver undoes the steps from the
right (``b64`` first, then ``des``).  ``bin`` and ``chr`` (the OMA MetInf
values for "as is") change nothing.

Facts carried over from Funambol's server (``DESEncoder``): the cipher is
DES in ECB mode with PKCS#5 padding, and its key is the first 8 bytes of
``MD5(password)`` (the password in UTF-8, usually the user's own).  No
public client defines ``3des``; ours is DES-EDE3, ECB, PKCS#5, keyed with
24 bytes: a configured key as is, or from a password ``MD5(password)``
as a two-key triple (K1 K2 K1).  A key can always be given as raw bytes
(:class:`ItemKey`) instead of a password.

ECB and DES are weak; they are here to talk to devices that use them, not
to protect anything.  The cipher comes from ``cryptography`` (its
"decrepit" algorithms), imported only when an encrypted item is met.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass

from ..errors import FormatError, UnsupportedFormatError

__all__ = ["TRANSFORMS", "ItemKey", "decode_item_data", "encode_item_data", "transforms_of"]

#: Transformation names we apply; "bin" and "chr" mean none.
TRANSFORMS = ("b64", "des", "3des")
_IDENTITY = ("", "bin", "chr")
_CIPHERS = ("des", "3des")
_MAX_STEPS = 8  # the most ";"-separated steps read (more: refused, see transforms_of)
_BLOCK = 8


@dataclass(frozen=True)
class ItemKey:
    """The key for ``des`` / ``3des`` items: ``ItemKey.from_password("pw")``
    (Funambol's derivation) or raw bytes (8 bytes for des; 16 or 24 for
    3des)."""

    raw: bytes

    @classmethod
    def from_password(cls, password: str) -> ItemKey:
        return cls(hashlib.md5(password.encode("utf-8")).digest())

    def for_cipher(self, name: str) -> bytes:
        """The 24-byte DES-EDE3 key that performs ``name`` ("des": single
        DES as K K K, "3des": K1 K2 K3, or K1 K2 K1 from 16 bytes)."""
        raw = self.raw
        if name == "des":
            if len(raw) < 8:
                raise ValueError(f"a des key needs 8 bytes, got {len(raw)}")
            return raw[:8] * 3
        if len(raw) == 16:
            return raw + raw[:8]
        if len(raw) == 24:
            return raw
        raise ValueError(f"a 3des key needs 16 or 24 bytes, got {len(raw)}")


def transforms_of(format_value: str | None) -> list[str]:
    """``"des;b64"`` -> ``["des", "b64"]`` (the order they were applied);
    ``None``, ``bin``, ``chr`` -> ``[]``.  Unknown names, a step given
    twice and two ciphers raise :class:`UnsupportedFormatError` so that
    nothing is stored still encoded (and a hostile item cannot make the
    server decrypt it a thousand times over)."""
    if format_value is None:
        return []
    parts = format_value.split(";", _MAX_STEPS)
    if len(parts) > _MAX_STEPS:
        raise UnsupportedFormatError(f"item format {format_value[:80]!r}... has more than {_MAX_STEPS} steps",
                                     ";".join(parts[:_MAX_STEPS])[:40])
    steps = [step.strip().lower() for step in parts]
    steps = [step for step in steps if step not in _IDENTITY]
    for step in steps:
        if step not in TRANSFORMS:
            raise UnsupportedFormatError(f"unknown item format {step[:40]!r} in {format_value[:80]!r}", step[:40])
    # each step once, one cipher at most: a sender's "des;des;...;b64" would make the server run the
    # cipher over the item once per step (minutes of CPU for one item of a hostile message)
    if len(set(steps)) != len(steps) or sum(step in _CIPHERS for step in steps) > 1:
        raise UnsupportedFormatError(f"item format {format_value[:80]!r} repeats a step", ";".join(steps)[:40])
    return steps


def _cipher(name: str, key: ItemKey | None):  # type: ignore[no-untyped-def]
    if key is None:
        raise FormatError(f"item is {name}-encrypted but no key is configured")
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    try:
        material = key.for_cipher(name)
    except ValueError as exc:
        raise FormatError(str(exc)) from None
    return Cipher(TripleDES(material), modes.ECB())


def _encrypt(data: bytes, name: str, key: ItemKey | None) -> bytes:
    encryptor = _cipher(name, key).encryptor()
    pad = _BLOCK - len(data) % _BLOCK
    out: bytes = encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()
    return out


def _decrypt(data: bytes, name: str, key: ItemKey | None) -> bytes:
    if len(data) % _BLOCK or not data:
        raise FormatError(f"{name} data is {len(data)} bytes, not a whole number of 8-byte blocks")
    decryptor = _cipher(name, key).decryptor()
    plain: bytes = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise FormatError(f"{name} data does not decrypt with this key (bad padding)")
    return plain[:-pad]


def _b64decode(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error as exc:
        raise FormatError(f"b64 item data is not base64: {exc}") from None


def decode_item_data(data: bytes, format_value: str | None, key: ItemKey | None = None) -> bytes:
    """The item as the sender had it before ``format_value`` was applied
    (``b64``, ``des;b64``, ``3des;b64``...).  Raises :class:`FormatError`
    on bad base64, a missing or wrong key."""
    for step in reversed(transforms_of(format_value)):
        data = _b64decode(data) if step == "b64" else _decrypt(data, step, key)
    return data


def encode_item_data(data: bytes, format_value: str | None, key: ItemKey | None = None) -> bytes:
    """``data`` transformed for sending with ``<Format>format_value``."""
    for step in transforms_of(format_value):
        data = binascii.b2a_base64(data, newline=False) if step == "b64" else _encrypt(data, step, key)
    return data
