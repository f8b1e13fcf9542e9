"""Field filters: which properties of an item to send (``<Field>``, DevInf ``<Property>``
elements), and the mail reduction behind them.

Versit items (vCard, vCalendar/iCalendar, vNote) keep the listed properties and the ones their
format cannot do without (``VERSION``, vCard ``N``/``FN``, ``UID``, ``DTSTART``, ``PRODID``,
time zones); a listed ``PropParam`` with ``ValEnum`` keeps only the lines carrying one of those
values (``TEL`` with ``TYPE`` ``CELL``); ``MaxSize`` cuts a longer single-value text.  Nested
components (VALARM) go unless listed.

Mail (OMA DS email object or RFC 822) follows the ``emailitem`` property as Funambol clients
send it: ``emailitem`` alone is the header block only; with ``PropParam`` ``texttype`` the text
body too; with ``attachtype`` the attachments too; ``MaxSize`` caps the message in bytes
(attachments go first, then the text is cut).  Flags and dates always go (they are small and a
client needs them).  An item that lost anything is reported as truncated: the client can
fetch it whole later (an INCLUSIVE filter on its ``&LUID;``).  An OMA DS email object
that lost anything says so (OMA DS 1.2 ``<truncated>``: the body and each attachment left
out, with their sizes and types; :func:`truncation`) and carries the whole message's size
as Funambol's ``x-funambol-size`` extension (:data:`SIZE_EXT`), which a record filter's
``size`` reads in preference to the bytes at hand.

Every reduction works on a copy: the item given is not changed.
"""

from __future__ import annotations

import copy
import email
import email.policy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from ..devinf import Property
from ..formats import LeftOut, RFC822Item, Truncated, parse

__all__ = ["SIZE_EXT", "FieldFilter", "Reduced", "reduce_message", "truncation"]

#: the email object extension holding the whole message's size in bytes (Funambol's name)
SIZE_EXT = "x-funambol-size"

_KEEP = {"VCARD": {"VERSION", "N", "FN", "UID"}, "VCALENDAR": {"VERSION", "PRODID", "TZ", "DAYLIGHT"},
         "VEVENT": {"UID", "DTSTART", "DTSTAMP"}, "VTODO": {"UID", "DTSTAMP"},
         "VJOURNAL": {"UID", "DTSTAMP"}, "VNOTE": {"VERSION"}}
_KEEP_COMPONENTS = {"VTIMEZONE"}
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_POLICY = email.policy.SMTP  # the default policy with CRLF line ends, as mail travels


@dataclass(frozen=True)
class Reduced:
    """What a field filter made of an item: the ``item`` to send and whether something was
    left out (``truncated``: the full item can be fetched later)."""

    item: Any
    truncated: bool


def _cut_text(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def _headers_only(raw: bytes) -> bytes:
    m = _HEAD_END.search(raw)
    if m is None:
        return raw if raw.endswith(b"\n") else raw + b"\r\n"
    return raw[:m.start()] + m.group()


def reduce_message(raw: bytes, *, body: bool = True, attachments: bool = True,
                   max_size: int | None = None) -> tuple[bytes, bool]:
    """An RFC 822 message reduced to its headers (``body=False``), to headers and text
    (``attachments=False``) and/or to ``max_size`` bytes; returns the bytes and whether anything
    was left out.  An untouched message comes back byte for byte.

        >>> mail = (b"Subject: hi\\r\\nContent-Type: multipart/mixed; boundary=b\\r\\n\\r\\n"
        ...         b"--b\\r\\nContent-Type: text/plain\\r\\n\\r\\nHello\\r\\n--b\\r\\n"
        ...         b"Content-Type: application/pdf\\r\\nContent-Disposition: attachment\\r\\n\\r\\n"
        ...         b"PDF\\r\\n--b--\\r\\n")
        >>> reduce_message(mail, body=False)
        (b'Subject: hi\\r\\nContent-Type: multipart/mixed; boundary=b\\r\\n\\r\\n', True)
        >>> out, cut = reduce_message(mail, attachments=False)
        >>> cut, b"Hello" in out, b"PDF" in out
        (True, True, False)
    """
    if not body:
        head = _headers_only(raw)
        return head, head != raw
    try:
        return _reduce(raw, attachments, max_size)
    except (ValueError, TypeError, LookupError, IndexError):  # a message the email package chokes on
        head = _headers_only(raw)
        return head, head != raw


def _reduce(raw: bytes, attachments: bool, max_size: int | None) -> tuple[bytes, bool]:
    truncated = False
    out = raw
    message = email.message_from_bytes(raw, policy=_POLICY)
    if not isinstance(message, EmailMessage):  # pragma: no cover - the default policy makes one
        raise TypeError("not an EmailMessage")
    if (not attachments or (max_size is not None and len(raw) > max_size)) and (
            message.is_multipart() and any(True for _ in message.iter_attachments())):
        text_part = message.get_body(preferencelist=("plain", "html"))
        slim = EmailMessage(policy=_POLICY)
        for key, value in message.items():
            if key.lower() not in ("content-type", "content-transfer-encoding", "mime-version"):
                slim[key] = value
        if text_part is not None:
            slim.set_content(_text_of(text_part), subtype=text_part.get_content_subtype())
        else:
            slim.set_content("")
        message, out, truncated = slim, slim.as_bytes(), True
    if max_size is not None and len(out) > max_size:
        part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
        text = _text_of(part) if part is not None else ""
        room = max(0, max_size - len(_headers_only(out)))
        for _ in range(4):  # the new content headers and the transfer encoding take room too
            cut = EmailMessage(policy=_POLICY)
            for key, value in message.items():
                if key.lower() not in ("content-type", "content-transfer-encoding", "mime-version"):
                    cut[key] = value
            cut.set_content(_cut_text(text, room), subtype=part.get_content_subtype() if part else "plain")
            out = cut.as_bytes()
            if len(out) <= max_size or room == 0:
                break
            room = max(0, room - (len(out) - max_size))
        truncated = True
        if len(out) > max_size:  # no room for any text: the headers as they came, nothing else
            out = _headers_only(raw)
    return out, truncated


def _head_type(raw: bytes) -> str:
    """The Content-Type of a message from its header block alone."""
    head = email.message_from_bytes(_headers_only(raw), policy=_POLICY)
    return str(head.get_content_type())


def truncation(raw: bytes, reduced: bytes) -> Truncated:
    """What ``reduced`` (made by :func:`reduce_message`) lacks of the message ``raw``:
    the body (its size and type) when no text was kept or the text was cut, and each
    attachment left out (name, size as it travels in the message, type).

        >>> truncation(b"Subject: hi\\r\\n\\r\\nHello\\r\\n", b"Subject: hi\\r\\n\\r\\n")
        Truncated(body=LeftOut(size=7, type='text/plain', name=None), attachments=())
    """
    head = _headers_only(raw)
    if _headers_only(reduced) == reduced:  # the header block only: the whole body left out
        return Truncated(body=LeftOut(len(raw) - len(head), _head_type(raw)))
    try:
        whole = email.message_from_bytes(raw, policy=_POLICY)
        kept = email.message_from_bytes(reduced, policy=_POLICY)
        if not isinstance(whole, EmailMessage) or not isinstance(kept, EmailMessage):  # pragma: no cover
            raise TypeError("not an EmailMessage")
        kept_names = {part.get_filename() for part in kept.iter_attachments()} if kept.is_multipart() else set()
        attachments = tuple(
            LeftOut(len(bytes(part.as_bytes())) - len(_headers_only(bytes(part.as_bytes()))),
                    part.get_content_type(), part.get_filename())
            for part in (whole.iter_attachments() if whole.is_multipart() else ())
            if part.get_filename() not in kept_names)
        text = whole.get_body(preferencelist=("plain", "html"))
        kept_text = kept.get_body(preferencelist=("plain", "html"))
        full, left = _text_of(text) if text is not None else "", _text_of(kept_text) if kept_text is not None else ""
        body = None
        if len(left) < len(full):
            body = LeftOut(len(full.encode("utf-8")), text.get_content_type() if text is not None else None)
        return Truncated(body=body, attachments=attachments)
    except (ValueError, TypeError, LookupError, IndexError, AttributeError):  # a message the email package chokes on
        return Truncated(body=LeftOut(len(raw) - len(head), None))


def mail_part(field: FieldFilter | None) -> str:
    """What of a mail ``field`` sends: ``"headers"`` (the header block only, so a store
    need not read the rest) or ``"whole"`` (the message, to be reduced as it says).

        >>> mail_part(FieldFilter([Property("emailitem")])), mail_part(None)
        ('headers', 'whole')
    """
    spec = field.properties.get("EMAILITEM") if field is not None else None
    if spec is not None and not any(p.name.strip().lower() == "texttype" for p in spec.params):
        return "headers"
    return "whole"


def _text_of(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        return ""
    return content if isinstance(content, str) else ""


class FieldFilter:
    """The properties to send, from a ``<Field>`` item's DevInf ``<Property>`` list.

        >>> from syncml_codec.formats import parse
        >>> card = parse(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nN:Doe;Jo\\r\\nTEL;CELL:1\\r\\n"
        ...              b"TEL;HOME:2\\r\\nNOTE:long\\r\\nEND:VCARD\\r\\n")
        >>> f = FieldFilter([Property("TEL")])
        >>> f.apply(card).item.serialize()
        b'BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nN:Doe;Jo\\r\\nTEL;CELL:1\\r\\nTEL;HOME:2\\r\\nEND:VCARD\\r\\n'
    """

    def __init__(self, properties: Iterable[Property]) -> None:
        self.properties = {p.name.strip().upper(): p for p in properties}

    def apply(self, item: Any) -> Reduced:
        """A reduced copy of ``item`` (a parsed item) and whether anything was left out."""
        obj = getattr(item, "obj", None)
        if isinstance(obj, RFC822Item) or (obj is not None and hasattr(obj, "emailitem")):
            return self._mail(item, obj)
        if getattr(item, "component", None) is None:
            return Reduced(item, False)  # SIF, text, files: sent whole
        data = item.serialize()
        clone: Any = parse(data, item.content_type, lenient=True)
        self._versit(clone.component)
        out = clone.serialize()
        return Reduced(parse(out, item.content_type, lenient=True) if out != data else item, out != data)

    def _mail(self, item: Any, obj: Any) -> Reduced:
        spec = self.properties.get("EMAILITEM")
        raw: bytes | None = obj.raw if isinstance(obj, RFC822Item) else obj.emailitem
        if spec is None or raw is None:
            return Reduced(item, False)
        names = {p.name.strip().lower() for p in spec.params}
        reduced, cut = reduce_message(raw, body="texttype" in names, attachments="attachtype" in names,
                                      max_size=spec.max_size)
        if not cut:
            return Reduced(item, False)
        if isinstance(obj, RFC822Item):
            new_obj: Any = RFC822Item(reduced)
        else:
            new_obj = copy.copy(obj)
            new_obj.emailitem = reduced
            new_obj.truncated = truncation(raw, reduced)
            whole = next((x for x in obj.ext if x[0].lower() == SIZE_EXT and x[1] and x[1][0].isdigit()), None)
            new_obj.ext = [x for x in obj.ext if x[0].lower() != SIZE_EXT] + [whole or (SIZE_EXT, (str(len(raw)),))]
        clone = copy.copy(item)
        clone.obj = new_obj
        return Reduced(clone, True)

    def _versit(self, component: Any) -> None:
        keep = _KEEP.get(component.name.upper(), set())
        children = []
        for child in component.children:
            if hasattr(child, "children"):  # a nested component
                name = child.name.upper()
                if name in _KEEP_COMPONENTS:
                    children.append(child)
                elif name in _KEEP or name in self.properties:
                    if name in _KEEP:
                        self._versit(child)
                    children.append(child)
                continue
            name = getattr(child, "name", None)
            if name is None:  # a raw line
                children.append(child)
                continue
            key = name.upper()
            spec = self.properties.get(key)
            if spec is None:
                if key in keep:
                    children.append(child)
                continue
            if not self._params_ok(child, spec):
                continue
            if spec.max_size is not None and not spec.no_truncate:
                value = child.value
                if len(value.encode("utf-8")) > spec.max_size and len(child.components()) <= 1:
                    child.set_text(_cut_text(value, spec.max_size))
            children.append(child)
        component.children = children

    @staticmethod
    def _params_ok(line: Any, spec: Property) -> bool:
        for param in spec.params:
            if param.values and not any(param.accepts(v) for v in line.param(param.name)):
                return False
        return True
