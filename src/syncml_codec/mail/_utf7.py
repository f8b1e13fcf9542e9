"""IMAP's modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): printable
ASCII as itself but ``&`` as ``&-``; anything else as ``&`` + base64 of its
UTF-16BE with ``,`` for ``/`` and no padding + ``-``.

    >>> encode("Entwürfe & Co"), decode("Entw&APw-rfe &- Co")
    ('Entw&APw-rfe &- Co', 'Entwürfe & Co')
"""

from __future__ import annotations

import base64
import binascii

from ..errors import MailError


def encode(text: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be", "surrogatepass")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def decode(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = text.find("-", i + 1)
        if end < 0:
            raise MailError(f"mailbox name {text!r}: '&' without its '-'")
        chunk = text[i + 1:end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            try:
                raw = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)
                out.append(raw.decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise MailError(f"mailbox name {text!r}: bad modified UTF-7") from None
        i = end + 1
    return "".join(out)
