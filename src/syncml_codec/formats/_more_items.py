"""The registry entries beyond vCards: vNote <-> text/plain, and the OMA DS
email, folder and file objects with RFC 822 mail.  Each wraps the format's
own class so that every registered type answers the Item protocol
(``content_type``, ``serialize()``, ``convert(target)``)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import FormatError, UnsupportedFormatError
from ._guard import guarded
from .email import EMAIL_CONTENT_TYPE, RFC822_CONTENT_TYPE, EmailObject, RFC822Item
from .omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE, FileObject, FolderObject
from .versit import parse_items

__all__ = ["TEXT_PLAIN", "ObjectItem", "TextItem", "vnote_from_text", "vnote_to_text"]

TEXT_PLAIN = "text/plain"
VNOTE = "text/x-vnote"
_EMPTY_VNOTE = b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:\r\nEND:VNOTE\r\n"


def vnote_to_text(component: Any) -> bytes:
    """The note text of a vNote (its BODY, decoded), as UTF-8."""
    body = component.find("BODY")
    return b"" if body is None else body.value.encode("utf-8")


def vnote_from_text(text: bytes) -> bytes:
    """A vNote 1.1 with ``text`` (UTF-8) as its BODY, written by the 1.1
    rules (quoted-printable for line breaks and non-ASCII text)."""
    (note,) = parse_items(_EMPTY_VNOTE)
    body = note.find("BODY")
    assert body is not None
    body.set_text(text.decode("utf-8"))
    return note.serialize()


class TextItem:
    """``text/plain``: a note as plain UTF-8 text."""

    content_type = TEXT_PLAIN

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str = TEXT_PLAIN) -> TextItem:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            from ..errors import FormatError
            raise FormatError(f"text/plain item is not UTF-8 (byte {exc.start})", 1) from None
        return cls(data)

    def serialize(self) -> bytes:
        return self.data

    @guarded("text conversion")
    def convert(self, target_content_type: str) -> Any:
        from .registry import content_type_of, parse
        target = content_type_of(target_content_type)
        if target == TEXT_PLAIN:
            return TextItem(self.data)
        if target == VNOTE:
            return parse(vnote_from_text(self.data), VNOTE)
        if target == "text/x-s4j-sifn":
            from .sif import to_sif
            return to_sif(self, target)
        raise UnsupportedFormatError(f"conversion text/plain -> {target} is not supported", target)


class ObjectItem:
    """An OMA DS email, folder or file object, or an RFC 822 message, as a
    registry item (``obj`` is the format's own object)."""

    _CLASSES: ClassVar[dict[str, Any]] = {
        EMAIL_CONTENT_TYPE: EmailObject, RFC822_CONTENT_TYPE: RFC822Item,
        FOLDER_CONTENT_TYPE: FolderObject, FILE_CONTENT_TYPE: FileObject,
    }

    def __init__(self, obj: Any, content_type: str) -> None:
        self.obj = obj
        self.content_type = content_type

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str) -> ObjectItem:
        return cls(cls._CLASSES[content_type].parse(data), content_type)

    def serialize(self) -> bytes:
        data: bytes = self.obj.serialize()
        return data

    @guarded("object conversion")
    def convert(self, target_content_type: str) -> ObjectItem:
        from .registry import content_type_of
        target = content_type_of(target_content_type)
        if target == self.content_type:
            return ObjectItem.from_bytes(self.serialize(), target)
        if self.content_type == EMAIL_CONTENT_TYPE and target == RFC822_CONTENT_TYPE:
            if self.obj.emailitem is None:
                raise FormatError("email object has no <emailitem> to give as message/rfc822",
                                  0, "emailitem")
            return ObjectItem(self.obj.to_rfc822(), target)
        if self.content_type == RFC822_CONTENT_TYPE and target == EMAIL_CONTENT_TYPE:
            return ObjectItem(EmailObject.from_rfc822(self.obj), target)
        raise UnsupportedFormatError(f"conversion {self.content_type} -> {target} is not supported", target)
