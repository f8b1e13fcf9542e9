"""A whole SyncML message: header, body, and the conversions to and from
bytes (WBXML or XML) through the codec."""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any, Literal, cast, overload

from ..codec import wbxml as _wbxml
from ..codec.codepages import SYNCML_BY_VERSION, Language
from ..codec.detect import sniff_encoding
from ..codec.tree import Document
from ..codec.xml import parse_xml, write_xml
from ..errors import StructureError
from ._node import Layout, Missing, Node, flag, model, node, text
from ._schema import SCHEMA
from .commands import COMMANDS, Command
from .elements import Cred, Meta, Source, Target

__all__ = ["Message", "SyncBody", "SyncHdr"]


def _load_fast() -> ModuleType | None:
    """``model._fast`` (WBXML <-> model objects without an element tree)
    when it is built and the codec in use is the extension it drives."""
    if _wbxml.IMPLEMENTATION != "cython":
        return None
    return _wbxml.load_extension(_import_fast)


def _import_fast() -> ModuleType:
    from . import _fast

    return _fast


#: the fast path, or None (then the reference path: the codec's tree and
#: Node.from_element / to_element, which the fast path always agrees with)
FAST: ModuleType | None = _load_fast()


@model("SyncHdr")
class SyncHdr(Node[Missing]):
    """The message header (``<SyncHdr>``): DTD and protocol versions, session and message IDs, the
    target and source, and the optional RespURI, NoResp, credentials and meta."""

    ver_dtd: str | Missing = text("VerDTD", required=True)
    ver_proto: str | Missing = text("VerProto", required=True)
    session_id: str | Missing = text("SessionID", required=True)
    msg_id: str | Missing = text("MsgID", required=True)
    target: Target[Missing] | Missing = node("Target", required=True)
    source: Source[Missing] | Missing = node("Source", required=True)
    resp_uri: str | None = text("RespURI")
    no_resp: bool = flag("NoResp")
    cred: Cred[Missing] | None = node("Cred")
    meta: Meta[Missing] | None = node("Meta")
    _layout: Layout | None = None


@model("SyncBody")
class SyncBody(Node[Missing]):
    """The message body (``<SyncBody>``): its commands in order, and ``final`` on the last message
    of a package."""

    commands: tuple[Command[Missing], ...] = node(*COMMANDS, many=True)
    final: bool = flag("Final")
    _layout: Layout | None = None


@model("SyncML")
class Message(Node[Missing]):
    """A SyncML message.

    >>> msg = Message.from_bytes(open("examples/sync-request.wbxml", "rb").read())
    >>> msg.header.source.loc_uri, [c.TAG for c in msg.body.commands], msg.final
    ('IMEI:356938035643809', ['Put', 'Alert', 'Sync'], True)
    >>> Message.from_bytes(msg.to_bytes("xml")) == msg
    True
    """

    header: SyncHdr[Missing] | Missing = node("SyncHdr", required=True)
    body: SyncBody[Missing] | Missing = node("SyncBody", required=True)
    _layout: Layout | None = None

    # -- convenience -----------------------------------------------------
    @property
    def commands(self) -> tuple[Command[Missing], ...]:
        """The body's commands; none when a leniently read message has no body."""
        body = self.body
        return body.commands if isinstance(body, SyncBody) else ()

    @property
    def final(self) -> bool:
        body = self.body
        return body.final if isinstance(body, SyncBody) else False

    @property
    def version(self) -> str:
        """The SyncML version, from ``<VerDTD>`` (1.0, 1.1 or 1.2)."""
        header = self.header
        ver_dtd = header.ver_dtd if isinstance(header, SyncHdr) else None
        return ver_dtd.strip() if isinstance(ver_dtd, str) and ver_dtd else "1.2"

    def replace(self, **changes: Any) -> Message[Missing]:
        """A copy with some fields changed (the model is immutable)."""
        return dataclasses.replace(self, **changes)

    # -- bytes -------------------------------------------------------------
    @overload
    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, content_type: str | None = None,
                   *, lenient: Literal[False] = False) -> Message: ...

    @overload
    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, content_type: str | None = None,
                   *, lenient: bool) -> Message[None]: ...

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, content_type: str | None = None,
                   *, lenient: bool = False) -> Message[None]:
        """Read a message from WBXML or XML (told apart by ``content_type``,
        e.g. ``application/vnd.syncml+wbxml``, or else by its first byte).
        Invalid structure raises :class:`~syncml_codec.errors.StructureError`
        naming the element; ``lenient=True`` reads what is there instead
        (missing required fields are None, and the type says so:
        ``Message[None]``), for inspecting broken traffic."""
        if sniff_encoding(data, content_type) == "wbxml":
            if FAST is not None:  # no element tree in between; None: the reference path decides
                msg: Message[None] | None = FAST.read(data, cls, SCHEMA, lenient=lenient, family="syncml")
                if msg is not None:
                    return msg
            doc = _wbxml.decode(data)
        else:
            doc = parse_xml(data)
        return cls.from_document(doc, lenient=lenient)

    @overload
    @classmethod
    def from_document(cls, doc: Document, *, lenient: Literal[False] = False) -> Message: ...

    @overload
    @classmethod
    def from_document(cls, doc: Document, *, lenient: bool) -> Message[None]: ...

    @classmethod
    def from_document(cls, doc: Document, *, lenient: bool = False) -> Message[None]:
        if doc.language.family != "syncml":
            raise StructureError("", f"a {doc.language.family} document is not a SyncML message")
        return cast("Message[None]", cls.from_element(doc.root, lenient=lenient))

    def to_document(self) -> Document:
        return Document(self.language(), self.to_element())

    def language(self) -> Language:
        """Code pages for this message's SyncML version (1.2 if unknown)."""
        return SYNCML_BY_VERSION.get(self.version, SYNCML_BY_VERSION["1.2"])

    def to_bytes(self, encoding: str = "wbxml", *, pretty: bool = False, **options: Any) -> bytes:
        """``encoding="wbxml"`` (options as for ``encode_wbxml``:
        ``string_table``, ``wbxml_version``, ``public_id``, ``charset``) or
        ``"xml"`` (``pretty``)."""
        if encoding == "wbxml":
            if FAST is not None:  # no element tree in between; None: the reference path decides
                fast: bytes | None = FAST.write(self, self.language(), SCHEMA, options)
                if fast is not None:
                    return fast
            encoded: bytes = _wbxml.encode(self.to_document(), **options)
            return encoded
        if encoding == "xml":
            return write_xml(self.to_document(), pretty=pretty)
        raise ValueError(f"encoding must be 'wbxml' or 'xml', not {encoding!r}")


