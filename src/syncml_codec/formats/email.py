"""OMA DS Email object (``application/vnd.omads-email+xml``, "emi") and plain
RFC 822 mail (``message/rfc822``), ``shared/reference/formats.md`` sections 4
and 7.

Both keep the bytes they were parsed from: an untouched item serializes byte
for byte.  Headers and parts are read with the standard library's ``email``
package (``policy=email.policy.default``) from those bytes, lazily; the
parsed message is never written back, so re-folding cannot change the item.
The message inside ``<emailitem>`` keeps its CRLF line ends (see
:mod:`._omaxml`).

``folder`` is not part of the XML: it is the parent folder from the SyncML
item (``SourceParent`` or the ``<folderId>/`` LUID prefix), carried along so
that a conversion to and from RFC 822 loses nothing.

    >>> emi = EmailObject.parse(b"<Email><read>true</read>"
    ...                         b"<emailitem><![CDATA[Subject: hi\\n\\nx]]></emailitem></Email>")
    >>> emi.read, emi.to_rfc822().message["Subject"]
    (True, 'hi')
    >>> emi.flagged = True
    >>> emi.serialize()
    b'<Email><read>true</read><flagged>true</flagged><emailitem><![CDATA[Subject: hi\\n\\nx]]></emailitem></Email>'
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from ..errors import FormatError
from . import _omaxml as X
from .omads import _Object

__all__ = ["EMAIL_CONTENT_TYPE", "RFC822_CONTENT_TYPE", "EmailObject", "LeftOut", "RFC822Item", "Truncated"]

#: the content type of an OMA DS email object (:class:`EmailObject`)
EMAIL_CONTENT_TYPE = "application/vnd.omads-email+xml"
#: the content type of an RFC 822 mail (:class:`RFC822Item`)
RFC822_CONTENT_TYPE = "message/rfc822"
FLAG_NAMES = ("read", "forwarded", "replied", "deleted", "flagged")
DATE_NAMES = ("received", "created", "modified")
_SCHEMA_ORDER = ("read", "forwarded", "replied", "received", "created", "modified", "deleted", "flagged")
_HEADER = re.compile(rb"[!-9;-~]+[ \t]*:")
_MAX_HEADER_LINES = 100_000
#: the most ``<attach>`` entries read from one ``<truncated>``
MAX_TRUNCATED_PARTS = 1000


@dataclass(frozen=True)
class LeftOut:
    """One part a sender left out of ``<emailitem>``: its ``size`` in bytes,
    MIME ``type`` and, for an attachment, its file ``name``."""

    size: int
    type: str | None = None
    name: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> LeftOut:
        return self  # (immutable: an email object's snapshot need not copy it)


@dataclass(frozen=True)
class Truncated:
    """OMA DS 1.2 ``<truncated>``: the email object's ``<emailitem>`` is not
    the whole message (a field filter left parts out; the recipient can fetch
    it whole later).  ``body``: the message body left out (``<body>``: its
    size, type), ``attachments``: each attachment left out (``<attach>``:
    name, size, type).

        >>> Truncated(body=LeftOut(120, "text/plain")).xml()
        '<truncated><body><type>text/plain</type><size>120</size></body></truncated>'
    """

    body: LeftOut | None = None
    attachments: tuple[LeftOut, ...] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Truncated:
        return self  # (immutable: an email object's snapshot need not copy it)

    def xml(self) -> str:
        """The element as XML text."""
        def part(tag: str, p: LeftOut) -> str:
            return (f"<{tag}>" + X.element("name", p.name) + X.element("type", p.type) + X.element("size", p.size)
                    + f"</{tag}>")
        body = part("body", self.body) if self.body is not None else ""
        return "<truncated>" + "".join(part("attach", a) for a in self.attachments) + body + "</truncated>"

    @classmethod
    def parse(cls, node: Any) -> Truncated:
        """Read a ``<truncated>`` node (:class:`FormatError` when malformed)."""
        body: LeftOut | None = None
        attachments: list[LeftOut] = []
        for child in X.children(node):
            tag = X.local(child)
            if tag not in ("body", "attach"):
                raise FormatError(f"unexpected <{tag}> in <truncated>", X.line_of(child), tag)
            values: dict[str, Any] = {}
            for sub in X.children(child):
                name = X.local(sub)
                if name == "size":
                    values["size"] = X.parse_int(sub)
                elif name in ("type", "name"):
                    values[name] = X.text_of(sub).strip() or None
                else:
                    raise FormatError(f"unexpected <{name}> in <{tag}>", X.line_of(sub), name)
            if "size" not in values:
                raise FormatError(f"<{tag}> without <size>", X.line_of(child), tag)
            if tag == "body":
                body = LeftOut(values["size"], values.get("type"))
            elif len(attachments) >= MAX_TRUNCATED_PARTS:
                raise FormatError(f"more than {MAX_TRUNCATED_PARTS} parts in <truncated>", X.line_of(child), tag)
            else:
                attachments.append(LeftOut(values["size"], values.get("type"), values.get("name")))
        return cls(body, tuple(attachments))


class RFC822Item:
    """One RFC 822 / MIME message (``message/rfc822``).

    ``raw`` is the item as received and what :meth:`serialize` returns;
    ``message`` is the ``email`` package's view of it (default policy).

        >>> item = RFC822Item.parse(b"From: a@b.example\\r\\nSubject: Hi\\r\\n\\r\\nHello\\r\\n")
        >>> item.message["Subject"], item.message.get_content()
        ('Hi', 'Hello\\r\\n')
    """

    content_type: ClassVar[str] = RFC822_CONTENT_TYPE

    def __init__(self, raw: bytes) -> None:
        self.raw = bytes(raw)
        self._message: EmailMessage | None = None

    @classmethod
    def parse(cls, data: bytes) -> RFC822Item:
        """Check the header block (an mbox envelope line, ``From`` and a space, is allowed first)
        and keep *data*.  Raises :class:`FormatError` with the line of the
        first line that is neither a header field nor a continuation."""
        data = bytes(data)
        if not data.strip():
            raise FormatError("empty message", 1, "")
        lines = data.split(b"\n", _MAX_HEADER_LINES)
        for number, line in enumerate(lines[:_MAX_HEADER_LINES], 1):
            line = line.rstrip(b"\r")
            if not line:
                break
            if number == 1 and line.startswith(b"From "):
                continue
            if line[:1] in (b" ", b"\t"):
                if number == 1 or (number == 2 and lines[0].startswith(b"From ")):
                    raise FormatError("continuation line before any header", number, "")
                continue
            if not _HEADER.match(line):
                name = line.split(b":", 1)[0][:40].decode("ascii", "replace") if b":" in line else ""
                raise FormatError("not a header field", number, name)
        return cls(data)

    @classmethod
    def from_message(cls, message: Message) -> RFC822Item:
        """A new item from an ``email`` message (e.g. one built or edited)."""
        return cls(message.as_bytes(policy=email.policy.default))

    @property
    def message(self) -> EmailMessage:
        if self._message is None:
            self._message = email.message_from_bytes(self.raw, policy=email.policy.default)
        return self._message

    @property
    def date(self) -> datetime | None:
        """The ``Date`` header as a datetime (aware when it has a zone)."""
        value = self.message.get("Date")
        if value is None:
            return None
        try:
            return parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return None

    def serialize(self) -> bytes:
        return self.raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RFC822Item) and other.raw == self.raw

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RFC822Item({len(self.raw)} bytes)"


@dataclass(eq=False)
class EmailObject(_Object):
    """``<Email>``: flags, dates, the message in ``<emailitem>``, Ext.

    Every element is optional; None means absent (a flag-only Replace must
    patch, not wipe, the stored item).  ``emailitem`` is the message bytes,
    ``emailitem_enc`` the ``enc`` it was read with and is written with;
    ``truncated`` says what ``emailitem`` lacks of the message (OMA DS 1.2
    ``<truncated>``, :class:`Truncated`; None: it is whole).
    """

    content_type: ClassVar[str] = EMAIL_CONTENT_TYPE
    read: bool | None = None
    forwarded: bool | None = None
    replied: bool | None = None
    received: datetime | None = None
    created: datetime | None = None
    modified: datetime | None = None
    deleted: bool | None = None
    flagged: bool | None = None
    emailitem: bytes | None = None
    emailitem_enc: str | None = None
    truncated: Truncated | None = None
    ext: list[X.Ext] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    folder: str | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, data: bytes, *, folder: str | None = None) -> EmailObject:
        root = X.parse_root(bytes(data), "Email")
        obj = cls(folder=folder)
        seen: set[str] = set()
        for node in X.children(root):
            name = X.local(node)
            if name in seen and name != "Ext":
                raise FormatError(f"<{name}> repeated", X.line_of(node), name)
            seen.add(name)
            value: Any
            if name in FLAG_NAMES:
                value = X.parse_bool(node)
            elif name in DATE_NAMES:
                value = X.parse_date(node)
            elif name == "emailitem":
                obj.emailitem, obj.emailitem_enc = X.decode_content(node)
                continue
            elif name == "Ext":
                obj.ext.append(X.parse_ext(node))
                continue
            elif name == "truncated":
                obj.truncated = Truncated.parse(node)
                continue
            else:
                obj.extra.append(X.unknown_xml(node))
                continue
            setattr(obj, name, value)
        obj._remember(bytes(data))
        return obj

    def _state(self) -> tuple[Any, ...]:
        return super()._state()[:-1]  # folder is not part of the XML

    def _write(self) -> str:
        parts = [X.element(name, getattr(self, name)) for name in _SCHEMA_ORDER]
        if self.emailitem is not None:
            parts.append(X.encode_content("emailitem", self.emailitem, self.emailitem_enc))
        if self.truncated is not None:
            parts.append(self.truncated.xml())
        return "<Email>" + "".join(parts) + "".join(self.extra) + X.ext_xml(self.ext) + "</Email>"

    def metadata(self) -> dict[str, Any]:
        """Flags, dates, folder and Ext as keywords for :meth:`from_rfc822`."""
        names = (*FLAG_NAMES, *DATE_NAMES, "folder")
        return {name: getattr(self, name) for name in names} | {"ext": list(self.ext)}

    def to_rfc822(self) -> RFC822Item:
        """The message in ``<emailitem>`` (ValueError if there is none)."""
        if self.emailitem is None:
            raise ValueError("email object has no <emailitem>")
        return RFC822Item(self.emailitem)

    @classmethod
    def from_rfc822(
        cls, message: RFC822Item | bytes | Message, *,
        read: bool | None = None, forwarded: bool | None = None, replied: bool | None = None,
        deleted: bool | None = None, flagged: bool | None = None,
        received: datetime | None = None, created: datetime | None = None, modified: datetime | None = None,
        folder: str | None = None, ext: list[X.Ext] | None = None, enc: str | None = None,
    ) -> EmailObject:
        """An email object around *message* (bytes kept as they are).

        ``enc`` None writes the message as CDATA (or escaped text when it
        has CRs; base64 when it is not UTF-8), or ``"base64"`` /
        ``"quoted-printable"``.
        """
        if isinstance(message, Message):
            raw = RFC822Item.from_message(message).raw
        elif isinstance(message, RFC822Item):
            raw = message.raw
        else:
            raw = bytes(message)
        return cls(read=read, forwarded=forwarded, replied=replied, received=received, created=created,
                   modified=modified, deleted=deleted, flagged=flagged, emailitem=raw, emailitem_enc=enc,
                   ext=list(ext or []), folder=folder)
