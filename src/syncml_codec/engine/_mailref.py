"""The references the store keeps for mail (:mod:`._mailds`, :mod:`._mailtree`):
one small JSON document per message, and the email object made from one."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..formats.email import EmailObject, RFC822Item
from ..mail import MessageInfo
from ..store.base import StoredItem

__all__ = ["FLAG_ELEMENTS", "REF_TYPE", "flagged", "incoming", "listed_ref", "make_ref", "read_ref"]

#: the content type of the store's reference to a message
REF_TYPE = "application/x-syncml-mail-ref"
FLAG_ELEMENTS = ("read", "replied", "forwarded", "flagged", "deleted")  # the flags an email object carries


def make_ref(folder: str, uid: str, flags: Iterable[str], date: datetime, fingerprint: str,
             size: int | None = None) -> bytes:
    """A message's reference as the store keeps it (``folder`` ``""`` in the tree: its parent's;
    ``size``: the whole message's, for filters; references made before filters have none)."""
    ref: dict[str, Any] = {"folder": folder, "uid": uid, "flags": sorted(flags), "date": date.timestamp(),
                           "fp": fingerprint}
    if size is not None:
        ref["size"] = size
    return json.dumps(ref, separators=(",", ":"), sort_keys=True).encode("utf-8")


def listed_ref(folder: str, m: MessageInfo) -> bytes:
    """The reference of a message as the back end lists it."""
    return make_ref(folder, m.uid, m.flags, m.internal_date, m.fingerprint, m.size)


def read_ref(item: StoredItem) -> dict[str, Any] | None:
    """The reference an item holds (None: a tombstone, or not a reference)."""
    if item.deleted or item.content_type != REF_TYPE:
        return None
    try:
        ref = json.loads(item.data)
        return ref if isinstance(ref, dict) and isinstance(ref.get("uid"), str) else None
    except ValueError:
        return None


def flagged(obj: EmailObject, flags: Iterable[str]) -> EmailObject:
    """``obj`` with every flag it can carry said (true or false)."""
    on = set(flags)
    for name in FLAG_ELEMENTS:
        setattr(obj, name, name in on)
    return obj


def incoming(data: bytes) -> tuple[bytes | None, dict[str, bool], datetime | None, bool]:
    """``(message or None, flags it sets, received, truncated)`` of an item a
    client sent: an OMA DS email object or an RFC 822 message
    (:class:`FormatError` otherwise); ``truncated``: the object says its
    message is not whole (``<truncated>``)."""
    if data.lstrip()[:1] == b"<":
        obj = EmailObject.parse(data)
        flags = {name: value for name in FLAG_ELEMENTS if (value := getattr(obj, name)) is not None}
        if obj.emailitem is not None:
            RFC822Item.parse(obj.emailitem)
        return obj.emailitem, flags, obj.received, obj.truncated is not None
    RFC822Item.parse(data)
    return data, {}, None, False
