"""The rare paths of WBXML, written once and called by both implementations.

Charsets other than UTF-8 are rare too: the extension handles UTF-8 in C
and hands text in any other charset to the functions here, which the twin
uses for every charset.

SyncML defines no attributes, extensions or processing instructions, and
real messages carry none; the codec still keeps them lossless by showing
them as ``wbxml:`` elements and attributes (``wbxml:tag`` for a token the
code pages lack, ``wbxml:ext``, ``wbxml:pi``, ``wbxml:opaque``,
``wbxml:attr-PAGE-TOKEN``) and reading them back.  What those forms mean,
which of them are well formed and which error each raises is decided here,
for the Cython extension and the pure-Python twin alike; each keeps only the
few lines that put the result into its own buffers and sinks.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Protocol

from ..errors import EncodeError, UnknownTokenError, WBXMLDecodeError
from . import _common as C
from . import _messages as M
from .codepages import charset_codec, terminator_width

SWITCH_PAGE, END, ENTITY, STR_I, LITERAL = 0x00, 0x01, 0x02, 0x03, 0x04
EXT_I_0, PI, LITERAL_C = 0x40, 0x43, 0x44
EXT_T_0, STR_T, LITERAL_A = 0x80, 0x83, 0x84
EXT_0, OPAQUE, LITERAL_AC = 0xC0, 0xC3, 0xC4

XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")

#: ``wbxml:`` elements whose content is gathered and written at their end
#: (the extension keeps the code, the twin the name).
PENDING = {"wbxml:ext": 1, "wbxml:pi": 2, "wbxml:opaque": 3}
PENDING_NAMES = (None, "wbxml:ext", "wbxml:pi", "wbxml:opaque")


def mb(value: int) -> bytes:
    """``value`` as a WBXML mb_u_int32 (7 bits a byte, most significant first)."""
    if value < 0x80:
        return bytes((value,))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


# -- reading WBXML ---------------------------------------------------------------


class Reader(Protocol):
    """What the rare paths read through: the twin's ``_Decoder`` itself, or
    the extension's ``_Reader`` over its C decoder.  Each method checks what
    it reads and raises WBXMLDecodeError at the token's offset ``tpos``."""

    pos: int
    strict: bool

    def u8(self) -> int: ...
    def mb(self) -> int: ...
    def inline_string(self, tpos: int) -> bytes: ...
    def table_string(self, index: int, tpos: int) -> bytes: ...
    def opaque_bytes(self, tpos: int) -> bytes: ...
    def text(self, raw: bytes, tpos: int) -> str: ...
    def has_table(self) -> bool: ...


_NAME_TOKENS = frozenset([END, LITERAL, *(b for b in range(5, 128) if b not in (EXT_I_0, EXT_I_0 + 1, EXT_I_0 + 2,
                                                                              PI, LITERAL_C))])
_NO_VALUE_TOKENS = frozenset([EXT_T_0, EXT_T_0 + 1, EXT_T_0 + 2, LITERAL_A, EXT_0, EXT_0 + 1, EXT_0 + 2, LITERAL_AC])


def read_attributes(r: Reader, tpos: int) -> dict[str, str]:
    """An attribute list up to its END (also the body of a PI).  SyncML
    defines no attributes: names come as LITERALs or unknown tokens
    (``wbxml:attr-PAGE-TOKEN``), values as strings, entities or opaque text."""
    attrs: dict[str, str] = {}
    name: str | None = None
    parts: list[str] = []
    page = 0
    while True:
        pos = r.pos
        b = r.u8()
        if b in _NAME_TOKENS:
            if name is not None:
                attrs[name] = "".join(parts)
                parts = []
            if b == END:
                break
            if b == LITERAL:
                index = r.mb()
                if index == 0 and not r.has_table():
                    name = "xmlns"  # device quirk "nokia-literal-xmlns"
                else:
                    name = literal_attr(r.text(r.table_string(index, pos), pos), pos)
            else:
                if r.strict:
                    raise UnknownTokenError(M.unknown_attr_token(b, page), pos)
                name = C.wbxml_attr_name(page, b)
            continue
        if b == SWITCH_PAGE:
            page = r.u8()
            continue
        if name is None:
            raise WBXMLDecodeError(M.value_before_name(b), pos)
        if b == STR_I:
            parts.append(r.text(r.inline_string(pos), pos))
        elif b == STR_T:
            parts.append(r.text(r.table_string(r.mb(), pos), pos))
        elif b == ENTITY:
            parts.append(entity_char(r.mb(), pos))
        elif b == OPAQUE:
            parts.append(r.text(r.opaque_bytes(pos), pos))
        elif b >= 0x80 and b not in _NO_VALUE_TOKENS:
            raise UnknownTokenError(M.attr_value_token(b), pos)
        else:
            raise WBXMLDecodeError(M.not_in_attr_list(b), pos)
    attrs.pop("xmlns", None)
    return attrs


def entity_char(cp: int, pos: int) -> str:
    """The character of an ENTITY token."""
    if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        raise WBXMLDecodeError(M.entity_not_char(cp), pos)
    return chr(cp)


def ext_element(r: Reader, b: int, pos: int) -> tuple[dict[str, str], str]:
    """Extension token ``b`` (its inline string or index read) as the
    attributes and text of ``<wbxml:ext>``."""
    if r.strict:
        raise UnknownTokenError(M.ext_token(b), pos)
    if b < EXT_T_0:
        return ext_attrs(b), r.text(r.inline_string(pos), pos)
    return ext_attrs(b, r.mb() if b < EXT_0 else None), ""


def document_charset(mib: int, pos: int) -> tuple[str, int]:
    """(Python codec, terminator width) of a document's charset MIBenum."""
    codec = charset_codec(mib)
    if codec is None:
        raise WBXMLDecodeError(M.unsupported_charset(mib), pos)
    return codec, terminator_width(codec)


def undecodable_text(raw: bytes, codec: str, strict: bool, pos: int) -> str:
    """A string that is not valid in the document's charset: an error when
    strict, else read as Latin-1 (device quirk "undeclared-latin1")."""
    if strict:
        raise WBXMLDecodeError(M.not_valid_text(codec), pos)
    return raw.decode("latin-1")


def opaque_as_string(raw: bytes, codec: str) -> str | None:
    """OPAQUE data where a string belongs, as the string it holds when that
    is valid text in the charset that XML can carry (device quirk
    "opaque-strings", Nokia 9210), else None (it stays opaque)."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if C.xml_text_safe(text) else None



def literal_tag(name: str, pos: int) -> str:
    """The name of a LITERAL tag, checked."""
    if not XML_NAME.match(name) or name.startswith("wbxml"):
        raise WBXMLDecodeError(M.literal_tag_name(name), pos)
    return name


def literal_attr(name: str, pos: int) -> str:
    """The name of a LITERAL attribute, checked (one prefix allowed)."""
    if not XML_NAME.match(name.replace(":", "_", 1)):
        raise WBXMLDecodeError(M.literal_attr_name(name), pos)
    return name


def unknown_tag_attrs(page: int, token: int, attrs: dict[str, str] | None) -> dict[str, str]:
    """The attributes of ``<wbxml:tag>`` for a token the code page lacks."""
    extra = {"page": str(page), "token": f"0x{token:02X}"}
    return extra if attrs is None else {**extra, **attrs}


def pi_element(attrs: dict[str, str], pos: int) -> tuple[dict[str, str], str]:
    """A processing instruction (its attribute list read) as the
    attributes and text of ``<wbxml:pi>``."""
    if len(attrs) != 1:
        raise WBXMLDecodeError(M.PI_TARGETS, pos)
    ((target, value),) = attrs.items()
    return {"target": target}, value


def ext_attrs(b: int, index: int | None = None) -> dict[str, str]:
    """The attributes of ``<wbxml:ext>`` for extension token ``b`` (EXT_T
    tokens carry ``index``; EXT_I tokens have the string as text)."""
    n = str(b & 0x03)
    if b < EXT_T_0:
        return {"kind": "i", "n": n}
    if b < EXT_0:
        return {"kind": "t", "n": n, "index": str(index)}
    return {"kind": "b", "n": n}


# -- writing WBXML ---------------------------------------------------------------


def encode_text(text: str, codec: str) -> bytes:
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise EncodeError(M.not_in_charset(text[exc.start], codec)) from None


def entity_tokens(text: str, codec: str, width: int) -> bytes:
    """A string the charset cannot hold whole: STR_I tokens for what it can
    hold, an ENTITY token for each character it lacks."""
    out = bytearray()
    for ch in text:
        try:
            piece = ch.encode(codec)
        except UnicodeEncodeError:
            out.append(0x02)  # ENTITY
            out += mb(ord(ch))
        else:
            out.append(0x03)  # STR_I
            out += piece + b"\0" * width
    return bytes(out)


def wbxml_tag(attrs: dict[str, str]) -> tuple[int, int, dict[str, str]]:
    """``<wbxml:tag page=".." token="0x..">``: (page, token, the other attributes)."""
    try:
        page = int(attrs["page"])
        token = int(attrs["token"], 16)
    except (KeyError, ValueError):
        raise EncodeError(M.WBXML_TAG_ATTRS) from None
    if not (0 <= page <= 255 and 5 <= token <= 0x3F):
        raise EncodeError(M.wbxml_tag_range(page, token))
    return page, token, {k: v for k, v in attrs.items() if k not in ("page", "token")}


def pending_code(name: str) -> int:
    """The code of a ``wbxml:`` element other than ``wbxml:tag``, or EncodeError."""
    code = PENDING.get(name)
    if code is None:
        raise EncodeError(M.unknown_wbxml_element(name))
    return code


def attribute_names(attrs: dict[str, str], string_table: bool) -> list[tuple[bytes, str, str]]:
    """The attributes to write, in order, as (name tokens, name, value):
    the tokens of a ``wbxml:attr-PAGE-TOKEN`` name (with its page switch), or
    b"" for a name written as a LITERAL from the string table.  ``xmlns``
    attributes are left out."""
    out = []
    for key, value in attrs.items():
        if key.startswith("xmlns"):
            continue
        if key.startswith("wbxml:attr-"):
            try:
                _, page_s, token_s = key[len("wbxml:"):].split("-")
                page, token = int(page_s), int(token_s, 16)
            except ValueError:
                raise EncodeError(M.attr_token_form(key)) from None
            piece = bytes((SWITCH_PAGE, page, token)) if page else bytes((token,))
        else:
            if not string_table:
                raise EncodeError(M.attr_without_token(key))
            piece = b""
        out.append((piece, key, value))
    return out


def opaque_tokens(text: str) -> bytes:
    """``<wbxml:opaque>`` (base64 text) as an OPAQUE token."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise EncodeError(M.OPAQUE_NOT_BASE64) from None
    return bytes((OPAQUE,)) + mb(len(raw)) + raw


def ext_tokens(attrs: dict[str, str], text: str, codec: str, width: int) -> bytes:
    """``<wbxml:ext kind=".." n="..">`` as its extension token (plus its
    inline string or table index)."""
    try:
        n = int(attrs.get("n", ""))
        kind = attrs["kind"]
    except (KeyError, ValueError):
        raise EncodeError(M.EXT_ATTRS) from None
    if not 0 <= n <= 2 or kind not in ("i", "t", "b"):
        raise EncodeError(M.EXT_KIND)
    if kind == "i":
        return bytes((EXT_I_0 + n,)) + encode_text(text, codec) + b"\0" * width
    if kind == "t":
        try:
            index = int(attrs["index"])
        except (KeyError, ValueError):
            raise EncodeError(M.EXT_INDEX) from None
        return bytes((EXT_T_0 + n,)) + mb(index)
    return bytes((EXT_0 + n,))


def pi_target(attrs: dict[str, Any]) -> str:
    """The target of ``<wbxml:pi>`` (written as a PI token and a one-entry
    attribute list ``{target: text}``)."""
    target: str = attrs.get("target", "")
    if not target:
        raise EncodeError(M.PI_TARGET)
    return target
