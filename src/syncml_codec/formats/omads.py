"""OMA DS Folder (``application/vnd.omads-folder+xml``) and File
(``application/vnd.omads-file+xml``) objects, ``shared/reference/formats.md``
sections 5 and 6.

An object parsed from bytes serializes to those same bytes until one of its
fields is changed; then the whole object is written again in schema order
(no XML declaration, no indentation).

    >>> f = FileObject.parse(b"<File><name>a.txt</name><body>hi</body></File>")
    >>> f.name, f.body, f.serialize()
    ('a.txt', b'hi', b'<File><name>a.txt</name><body>hi</body></File>')
    >>> f.name = "b.txt"
    >>> f.serialize()
    b'<File><name>b.txt</name><body><![CDATA[hi]]></body></File>'
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar

from ..errors import FormatError
from . import _omaxml as X

__all__ = ["FILE_CONTENT_TYPE", "FOLDER_CONTENT_TYPE", "FileObject", "FolderObject"]

#: the content type of an OMA DS folder object (:class:`FolderObject`)
FOLDER_CONTENT_TYPE = "application/vnd.omads-folder+xml"
#: the content type of an OMA DS file object (:class:`FileObject`)
FILE_CONTENT_TYPE = "application/vnd.omads-file+xml"


@dataclass(eq=False)
class _Object:
    """Keeps the parsed bytes and a snapshot of the fields read from them."""

    _raw: bytes | None = field(default=None, init=False, repr=False)
    _snapshot: tuple[Any, ...] | None = field(default=None, init=False, repr=False)

    def _state(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self) if not f.name.startswith("_"))

    def _remember(self, raw: bytes) -> None:
        self._raw = raw
        self._snapshot = copy.deepcopy(self._state())

    @property
    def changed(self) -> bool:
        """True unless the object serializes to the bytes it was parsed from."""
        return self._raw is None or self._state() != self._snapshot

    def serialize(self) -> bytes:
        if self._raw is not None and not self.changed:
            return self._raw
        return self._write().encode("utf-8")

    def _write(self) -> str:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._state() == other._state()

    __hash__ = None  # type: ignore[assignment]


def _read_common(obj: Any, node: Any, name: str, seen: set[str]) -> bool:
    """Fields shared by folder and file; False if *name* is not one of them."""
    if name in ("name", "role", "cttype"):
        value: Any = X.text_of(node)
    elif name in ("created", "modified", "accessed"):
        value = X.parse_date(node)
    elif name == "attributes":
        value = X.parse_attributes(node)
    elif name == "Ext":
        obj.ext.append(X.parse_ext(node))
        return True
    else:
        return False
    if name in seen:
        raise FormatError(f"<{name}> repeated", X.line_of(node), name)
    seen.add(name)
    setattr(obj, name, value)
    return True


@dataclass(eq=False)
class _NamedObject(_Object):
    """The fields folders and files share, written first in both."""

    name: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    accessed: datetime | None = None
    attributes: dict[str, bool] | None = None

    def _head(self) -> str:
        return (X.element("name", self.name) + X.element("created", self.created)
                + X.element("modified", self.modified) + X.element("accessed", self.accessed)
                + X.attributes_xml(self.attributes))


@dataclass(eq=False)
class FolderObject(_NamedObject):
    """``<Folder>``: name, dates, attributes (h s a d w r x), role, Ext.

    ``extra`` holds elements outside the schema as XML text, written back
    before the ``<Ext>`` elements.
    """

    content_type: ClassVar[str] = FOLDER_CONTENT_TYPE
    role: str | None = None
    ext: list[X.Ext] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> FolderObject:
        root = X.parse_root(bytes(data), "Folder")
        obj = cls()
        seen: set[str] = set()
        for node in X.children(root):
            name = X.local(node)
            if name == "cttype" or not _read_common(obj, node, name, seen):
                obj.extra.append(X.unknown_xml(node))
        obj._remember(bytes(data))
        return obj

    def _write(self) -> str:
        return (
            "<Folder>" + self._head() + X.element("role", self.role)
            + "".join(self.extra) + X.ext_xml(self.ext) + "</Folder>"
        )


@dataclass(eq=False)
class FileObject(_NamedObject):
    """``<File>``: name, dates, attributes, cttype, body, size, Ext.

    ``body`` is the decoded content (None: no ``<body>``, a metadata-only
    update; ``b""``: empty body); ``body_enc`` the ``enc`` it was read with
    and is written with (None: text, or base64 when the bytes are not UTF-8).
    """

    content_type: ClassVar[str] = FILE_CONTENT_TYPE
    cttype: str | None = None
    body: bytes | None = None
    body_enc: str | None = None
    size: int | None = None
    ext: list[X.Ext] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> FileObject:
        root = X.parse_root(bytes(data), "File")
        obj = cls()
        seen: set[str] = set()
        for node in X.children(root):
            name = X.local(node)
            if name in ("body", "size") and name in seen:
                raise FormatError(f"<{name}> repeated", X.line_of(node), name)
            if name == "body":
                obj.body, obj.body_enc = X.decode_content(node)
                seen.add(name)
            elif name == "size":
                obj.size = X.parse_int(node)
                seen.add(name)
            elif name == "role" or not _read_common(obj, node, name, seen):
                obj.extra.append(X.unknown_xml(node))
        obj._remember(bytes(data))
        return obj

    def _write(self) -> str:
        body = "" if self.body is None else X.encode_content("body", self.body, self.body_enc)
        return (
            "<File>" + self._head() + X.element("cttype", self.cttype) + body
            + X.element("size", self.size) + "".join(self.extra) + X.ext_xml(self.ext) + "</File>"
        )
