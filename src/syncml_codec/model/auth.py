"""SyncML credentials: basic, MD5 digest, the ``x-syncml-hmac`` MAC, nonces.

Why it looks like this:

* Pure functions.  No clock and no randomness inside: the engine passes the
  nonce in, and :func:`make_nonce` turns random bytes *it is given* into a
  nonce, so every path can be tested with fixed values (house rule 1).
* A nonce is ``bytes``.  ``NextNonce`` travels as base64 text (Meta Format
  ``b64``) but the digests are taken over the *decoded* bytes; the
  SyncEvolution captures show this (``tests/model/test_auth.py``).
* Servers need not keep passwords: the 1.1+ digest and the MAC need only
  ``B64(H(user:password))`` (:func:`user_password_hash`), and the ``verify_``
  functions take that with ``hashed=True`` (OMA DM Security 5.1.3.2).
* Digests are compared as decoded bytes with :func:`hmac.compare_digest`.
* ``B64(H(user:password))`` is password-equivalent: whoever reads it can
  answer any MD5 challenge.  An account that needs only basic auth can keep
  a salted, slow :func:`scrypt_hash` instead (:func:`verify_scrypt`); the
  salt, like a nonce, comes from the caller.

The formulas (H = MD5, B64 = base64, text UTF-8)::

    basic              B64(user ":" password)
    md5, SyncML 1.0    B64(H(user ":" password ":" nonce))
    md5, 1.1 and 1.2   B64(H(B64(H(user ":" password)) ":" nonce))
    MAC                B64(H(B64(H(user ":" password)) ":" nonce ":" B64(H(body))))
                       x-syncml-hmac: algorithm=MD5, username="user", mac=...

>>> md5_digest("test", "secret", b"")
'MraccrRHny5AADBfmPIGpQ=='
>>> parse_basic(basic_credential("test", "secret"))
('test', 'secret')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from enum import Enum

from ..errors import SyncMLError

__all__ = [
    "NONCE_LENGTH",
    "AuthFormatError",
    "AuthType",
    "basic_credential",
    "hmac_checker",
    "hmac_header",
    "hmac_mac",
    "hmac_mac_from_hash",
    "make_nonce",
    "md5_credential_from_hash",
    "md5_digest",
    "md5_digest_10",
    "new_nonce",
    "nonce_from_text",
    "nonce_to_text",
    "parse_basic",
    "parse_hmac_header",
    "scrypt_hash",
    "user_password_hash",
    "verify_basic",
    "verify_hmac",
    "verify_md5",
    "verify_scrypt",
]


class AuthFormatError(SyncMLError, ValueError):
    """A credential, nonce or ``x-syncml-hmac`` header that cannot be read
    (or a nonce that cannot be made).  ``status`` is the SyncML status to
    answer a peer's unreadable credential with (401 Unauthorized)."""

    status = 401


class AuthType(str, Enum):
    """The ``Meta/Type`` of a ``Cred`` or ``Chal`` (RepPro 1.2; DM Security
    for ``syncml:auth-MAC``, spelled with capitals there)."""

    BASIC = "syncml:auth-basic"
    MD5 = "syncml:auth-md5"
    MAC = "syncml:auth-MAC"

    def __str__(self) -> str:  # the wire text, in f-strings too, on every Python
        return self.value

    @classmethod
    def from_text(cls, text: str) -> AuthType:
        """Case-insensitive: devices send ``syncml:auth-MD5`` too."""
        for member in cls:
            if member.value.lower() == text.strip().lower():
                return member
        raise AuthFormatError(f"unknown authentication type {text!r}")


#: how many random bytes to give :func:`make_nonce`: each becomes one letter of its 64-letter
#: alphabet, 132 bits in all, above the 128 bits OMA DM Security 5.1.3.3 recommends
NONCE_LENGTH = 22
# Letters and digits only: some clients keep the nonce as a C string or in
# text configuration, so no NUL, no ':' and no quoting problems.
_NONCE_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VERSIONS = ("1.0", "1.1", "1.2")


def _md5(data: bytes) -> bytes:
    # MD5 is what the protocol mandates; the flag lets FIPS builds run it.
    return hashlib.md5(data, usedforsecurity=False).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str | bytes, what: str) -> bytes:
    """Strict alphabet; missing padding and surrounding space are forgiven."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    raw = b"".join(raw.split())
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuthFormatError(f"{what} is not base64: {exc}") from None


def _same_digest(given: str | bytes, expected_b64: str) -> bool:
    try:
        got = _b64decode(given, "credential")
    except AuthFormatError:
        return False
    return hmac.compare_digest(got, base64.b64decode(expected_b64))


# -- basic -------------------------------------------------------------------


def basic_credential(user: str, password: str) -> str:
    """``B64(user:password)``; a ``:`` in the user name could not be read back."""
    if ":" in user:
        raise AuthFormatError("a basic credential's user name cannot contain ':'")
    return _b64(f"{user}:{password}".encode())


def parse_basic(data: str | bytes) -> tuple[str, str]:
    """``(user, password)`` from a basic credential (UTF-8, else Latin-1)."""
    raw = _b64decode(data, "basic credential")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    user, colon, password = text.partition(":")
    if not colon:
        raise AuthFormatError("basic credential has no ':' between user and password")
    return user, password


def verify_basic(credential: str | bytes, user: str, password: str) -> bool:
    """Whether a basic credential (``b64(user:password)``) names ``user`` with ``password``;
    compared in constant time, False for a malformed credential."""
    try:
        got_user, got_password = parse_basic(credential)
    except AuthFormatError:
        return False
    same_user = hmac.compare_digest(got_user.encode(), user.encode())
    return hmac.compare_digest(got_password.encode(), password.encode()) and same_user


# -- scrypt (basic-only accounts) --------------------------------------------

#: RFC 7914 parameters: N=2**14, r=8, p=1 take ~16 MiB and some 50 ms per check
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def scrypt_hash(password: str, salt: bytes, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$N$r$p$B64(salt)$B64(key)``: a salted slow hash of the
    password, for an account restricted to basic auth.  Pass 16 random bytes
    or more as ``salt``.

    >>> stored = scrypt_hash("secret", b"0123456789abcdef", n=2**4)
    >>> verify_scrypt(stored, "secret"), verify_scrypt(stored, "Secret")
    (True, False)
    """
    if len(salt) < 8:
        raise AuthFormatError(f"a salt needs at least 8 bytes, got {len(salt)}")
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_scrypt(stored: str, password: str) -> bool:
    """Whether ``password`` fits a :func:`scrypt_hash`; False for anything
    that is not one (or asks for more than 64 MiB)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
        got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=len(key))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(got, key)


# -- MD5 digest --------------------------------------------------------------


def user_password_hash(user: str, password: str) -> str:
    """``B64(H(user:password))``: what a server stores instead of the password."""
    return _b64(_md5(f"{user}:{password}".encode()))


def md5_digest_10(user: str, password: str, nonce: bytes) -> str:
    """SyncML 1.0 ``syncml:auth-md5``: ``B64(H(user:password:nonce))``."""
    return _b64(_md5(f"{user}:{password}:".encode() + nonce))


def md5_credential_from_hash(user_password_hash_b64: str, nonce: bytes) -> str:
    """SyncML 1.1+ digest from a stored ``B64(H(user:password))``."""
    return _b64(_md5(user_password_hash_b64.strip().encode("ascii") + b":" + nonce))


def md5_digest(user: str, password: str, nonce: bytes) -> str:
    """SyncML 1.1 and 1.2 ``syncml:auth-md5``: ``B64(H(B64(H(user:password)):nonce))``."""
    return md5_credential_from_hash(user_password_hash(user, password), nonce)


def verify_md5(credential: str | bytes, user: str, password: str, nonce: bytes,
               version: str = "1.2", *, hashed: bool = False) -> bool:
    """Whether ``credential`` (the ``Cred/Data`` text) is right.

    ``password`` is the plain password, or with ``hashed=True`` the stored
    ``B64(H(user:password))``; ``version`` is the message's ``VerDTD``.
    SyncML 1.0 digests need the plain password.
    """
    if version not in _VERSIONS:
        raise AuthFormatError(f"unknown SyncML version {version!r}")
    if version == "1.0":
        if hashed:
            raise AuthFormatError("a SyncML 1.0 MD5 digest needs the plain password")
        expected = md5_digest_10(user, password, nonce)
    else:
        secret = password if hashed else user_password_hash(user, password)
        expected = md5_credential_from_hash(secret, nonce)
    return _same_digest(credential, expected)


# -- nonces ------------------------------------------------------------------


def make_nonce(random_bytes: bytes) -> bytes:
    """A nonce of printable letters from random bytes (6 bits each, unbiased:
    256 is a multiple of 64).  Pass :data:`NONCE_LENGTH` bytes or more."""
    if len(random_bytes) < 8:
        raise AuthFormatError(f"a nonce needs at least 8 random bytes, got {len(random_bytes)}")
    return bytes(_NONCE_ALPHABET[b & 63] for b in random_bytes)


def new_nonce(random_source: Callable[[int], bytes], length: int = NONCE_LENGTH) -> bytes:
    """``make_nonce(random_source(length))``, e.g. with :func:`secrets.token_bytes`."""
    return make_nonce(random_source(length))


def nonce_to_text(nonce: bytes) -> str:
    """The ``NextNonce`` text (Format ``b64``)."""
    return _b64(nonce)


def nonce_from_text(text: str | bytes) -> bytes:
    """The nonce bytes from ``NextNonce`` text (``bytes`` when the codec kept
    it as opaque data, still base64 text).  Empty text is the empty nonce."""
    return _b64decode(text, "NextNonce")


# -- x-syncml-hmac -----------------------------------------------------------


def hmac_mac_from_hash(user_password_hash_b64: str, nonce: bytes, body: bytes) -> str:
    """The MAC of a message body from a stored ``B64(H(user:password))``."""
    return _mac_over(user_password_hash_b64, nonce, base64.b64encode(_md5(body)))


def _mac_over(user_password_hash_b64: str, nonce: bytes, body_digest_b64: bytes) -> str:
    secret = user_password_hash_b64.strip().encode("ascii")
    return _b64(_md5(secret + b":" + nonce + b":" + body_digest_b64))


def hmac_mac(user: str, password: str, nonce: bytes, body: bytes) -> str:
    """``B64(H(B64(H(user:password)):nonce:B64(H(body))))`` over the exact
    bytes sent (WBXML or XML), OMA DM Security 5.1.4.2."""
    return hmac_mac_from_hash(user_password_hash(user, password), nonce, body)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hmac_header(user: str, password: str, nonce: bytes, body: bytes) -> str:
    """The value of the ``x-syncml-hmac`` header for ``body``."""
    return f"algorithm=MD5, username={_quote(user)}, mac={hmac_mac(user, password, nonce, body)}"


_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)', re.S)


def parse_hmac_header(value: str) -> dict[str, str]:
    """``{"algorithm", "username", "mac", ...}`` from an ``x-syncml-hmac``
    value: comma-separated ``name=value`` pairs, the user name a quoted
    string.  Names are lower-cased; ``algorithm`` defaults to ``MD5``."""
    params: dict[str, str] = {}
    pos, end = 0, len(value.rstrip())
    while pos < end:
        match = _PARAM.match(value, pos)
        if match is None:
            raise AuthFormatError(f"x-syncml-hmac: cannot read {value[pos:]!r}")
        name, raw = match.group(1).lower(), match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.S)
        params[name] = raw
        pos = match.end()
    params.setdefault("algorithm", "MD5")
    for required in ("username", "mac"):
        if required not in params:
            raise AuthFormatError(f"x-syncml-hmac has no {required}")
    return params


def hmac_checker(header_value: str, user_password_hash_b64: str, body: bytes) -> Callable[[bytes], bool]:
    """A test of the header's MAC against one nonce after another, for a
    server that tries several: the header is read and ``body`` hashed once
    (not once per nonce: a megabyte body with a wrong MAC would otherwise
    cost a hundred megabytes of hashing per request).  ``user_password_hash_b64``
    is the stored ``B64(H(user:password))`` of the header's ``username``.
    :class:`AuthFormatError` for a header that does not read or another algorithm.

    >>> body = b"<SyncML/>"
    >>> check = hmac_checker(hmac_header("u", "p", b"n1", body), user_password_hash("u", "p"), body)
    >>> check(b"n0"), check(b"n1")
    (False, True)
    """
    params = parse_hmac_header(header_value)
    if params["algorithm"].upper() != "MD5":
        raise AuthFormatError(f"x-syncml-hmac: unsupported algorithm {params['algorithm']!r}")
    try:
        given = _b64decode(params["mac"], "x-syncml-hmac mac")
    except AuthFormatError:
        given = b""
    digest = base64.b64encode(_md5(body))

    def check(nonce: bytes) -> bool:
        expected = base64.b64decode(_mac_over(user_password_hash_b64, nonce, digest))
        return bool(given) and hmac.compare_digest(given, expected)

    return check


def verify_hmac(header_value: str, password: str, nonce: bytes, body: bytes, *, hashed: bool = False) -> bool:
    """Whether the header's MAC fits ``body``.  ``password`` is the password
    of the header's ``username`` (or, with ``hashed=True``, the stored
    ``B64(H(user:password))``); look it up from :func:`parse_hmac_header`."""
    params = parse_hmac_header(header_value)
    if params["algorithm"].upper() != "MD5":
        raise AuthFormatError(f"x-syncml-hmac: unsupported algorithm {params['algorithm']!r}")
    secret = password if hashed else user_password_hash(params["username"], password)
    return _same_digest(params["mac"], hmac_mac_from_hash(secret, nonce, body))
