"""Lossless Versit tokenizer and serializer: vCard 2.1/3.0 (4.0 read),
vCalendar 1.0, iCalendar 2.0, vNote 1.1.

Why this shape: devices compare items after a sync, so an untouched item must
come back byte for byte (line ends, folds, QP soft breaks, parameter spelling
and order, the blank line that ends a 2.1 BASE64 block).  The raw bytes of
every content line are the source of truth; values are decoded lazily and only
a line that was changed is written again, with the target version's rules
(``shared/reference/formats.md`` sections 1 and 8).

Invariants: ``serialize_items(parse_items(data)) == data`` for every input
that parses; a :class:`ContentLine` that was not changed serializes to its
``raw``.  Tokenizing is one pass over the physical lines (linear); nesting is
limited to :data:`MAX_DEPTH`.  The text rules of a content line (QP,
folding, escapes, the head) are in :mod:`._versit_text`; every error the
tokenizer raises is in :mod:`._versit_messages` and its rules that are not
hot in :mod:`._versit_rules`, both used by the C port as they are.

Two implementations: the code here is the reference; ``VersitCodec`` in the
extension ``syncml_codec.formats._versit`` (``_versit.pyx``) is its C port,
about 10x faster, and builds the same objects.  :func:`parse_items` /
:func:`serialize_items` use the port when it is built, unless
``SYNCML_CODEC_NO_EXTENSIONS=1``; with ``SYNCML_CODEC_REQUIRE_EXTENSION=1``
a missing port is an ImportError (the switches of ``codec.wbxml``).
:data:`IMPLEMENTATION` says which one runs.

    >>> item, = parse_items(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nTEL;CELL:123\\r\\nEND:VCARD\\r\\n")
    >>> tel = item.find("TEL")
    >>> tel.params, tel.value
    ([(None, 'CELL')], '123')
    >>> tel.set_text("Tür")
    >>> tel.raw
    b'TEL;CELL;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:T=C3=BCr\\r\\n'
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, NamedTuple

from ..codec.wbxml import load_extension
from ..errors import FormatError
from . import _versit_messages as M
from . import _versit_rules as R
from ._versit_text import (
    FOLD_MODERN,
    Param,
    escape_value,
    find_colon,
    fold_line,
    parse_head_bytes,
    qp_decode,
    qp_encode,
    split_escaped,
    split_unquoted,
    unescape_value,
    unquoted_colon,
)

__all__ = [
    "IMPLEMENTATION",
    "MAX_DEPTH",
    "PYTHON",
    "Component",
    "ContentLine",
    "FormatError",
    "RawLine",
    "Tokenizer",
    "cython_tokenizer",
    "parse_items",
    "serialize_items",
    "unquoted_colon",
]

#: how deep components may nest (``BEGIN`` inside ``BEGIN``); deeper input is a FormatError
MAX_DEPTH = 32
LEGACY_VERSIONS = frozenset({"2.1", "1.0", "1.1"})  # vCard 2.1, vCalendar 1.0, vNote 1.1
_NAMELESS_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"})
#: one-byte charsets phones label 8-bit text with (codecs names)
_ONE_BYTE = frozenset({"iso8859-1", "iso8859-15", "cp1252"})
_QP_BAD = re.compile(rb"=(?![0-9A-Fa-f]{2}|\r?\n|$)")
_QP_SOFT = re.compile(rb"=\r?\n")
_FOLD_LEGACY = re.compile(rb"\r?\n(?=[ \t])")
_B64_LINE = re.compile(rb"[A-Za-z0-9+/=]+\r?")


def _split_eol(line: bytes) -> tuple[bytes, bytes]:
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


def _is_legacy(version: str | None) -> bool:
    return version is None or version in LEGACY_VERSIONS


class RawLine:
    """A physical line kept as it is: a blank line inside an item, or (lenient
    mode) a line that is not a content line."""

    __slots__ = ("lineno", "raw")

    def __init__(self, raw: bytes, lineno: int) -> None:
        self.raw = raw
        self.lineno = lineno

    def __repr__(self) -> str:
        return f"RawLine({self.raw!r}, line {self.lineno})"




class ContentLine:
    """One logical content line: ``[group.]name(;param)*:value``.

    ``params`` keep order and spelling; a nameless 2.1 parameter
    (``TEL;CELL``) is ``(None, "CELL")``; quoted values keep their quotes.
    ``value_raw`` is the value as on the wire, folds and QP soft breaks
    included; ``eol`` is what ends the line (``b"\\r\\n"``, ``b"\\n"``, ``b""``
    at the end of input, or a line end plus the blank line of a 2.1 BASE64
    block).  ``version`` is the VERSION of the enclosing item, which decides
    how the value is decoded and written.
    """

    __slots__ = ("_head", "_value", "eol", "group", "lineno", "name", "params", "value_raw",
                 "version")

    def __init__(self, head: bytes, group: str | None, name: str, params: list[Param],
                 value_raw: bytes, eol: bytes, lineno: int, version: str | None = None) -> None:
        self._head = head  # raw bytes up to and including the ':'
        self.group = group
        self.name = name
        self.params = params
        self.value_raw = value_raw
        self.eol = eol
        self.lineno = lineno
        self.version = version
        self._value: str | None = None

    def __repr__(self) -> str:
        return f"ContentLine({self.raw!r})"

    @property
    def raw(self) -> bytes:
        """The whole line as bytes, line end included."""
        return self._head + self.value_raw + self.eol

    # -- parameters -------------------------------------------------------
    def param(self, name: str) -> list[str]:
        """Values of parameter ``name`` (case-insensitive), unquoted and split
        on commas; for ``TYPE`` nameless parameters count too."""
        key = name.upper()
        out: list[str] = []
        for pname, pvalue in self.params:
            if (pname is not None and pname.upper() == key) or (
                pname is None and key == "TYPE" and pvalue.upper() not in _NAMELESS_ENCODINGS
            ):
                out.extend(v.strip('"') for v in split_unquoted(pvalue, ","))
            elif pname is None and key == "ENCODING" and pvalue.upper() in _NAMELESS_ENCODINGS:
                out.append(pvalue)
        return out

    @property
    def encoding(self) -> str | None:
        """``QUOTED-PRINTABLE``, ``BASE64``, ``B``, ``8BIT``... (upper case) or None."""
        enc = self.param("ENCODING")
        return enc[0].upper() if enc else None

    @property
    def charset(self) -> str | None:
        cs = self.param("CHARSET")
        return cs[0] if cs else None

    # -- decoding -----------------------------------------------------------
    def _unfolded(self) -> bytes:
        fold = _FOLD_LEGACY if _is_legacy(self.version) else FOLD_MODERN
        return fold.sub(b"", self.value_raw)

    @property
    def data(self) -> bytes:
        """The value's octets after unfolding and transfer decoding (QP, base64)."""
        enc = self.encoding
        if enc == "QUOTED-PRINTABLE":
            fold = _FOLD_LEGACY if _is_legacy(self.version) else FOLD_MODERN
            return qp_decode(fold.sub(b"", _QP_SOFT.sub(b"", self.value_raw)))
        if enc in ("BASE64", "B"):
            compact = re.sub(rb"\s+", b"", self.value_raw)
            try:
                return base64.b64decode(compact, validate=True)
            except binascii.Error as exc:
                raise M.bad_base64(exc, self.lineno, self.name) from None
        return self._unfolded()

    @property
    def value(self) -> str:
        """Decoded text: QP and CHARSET applied, and in 3.0/4.0/iCalendar the
        ``\\\\ \\n \\; \\,`` escapes resolved (2.1 text has no escapes).  For a
        base64 value this is the base64 text without folding (see ``data``)."""
        if self._value is None:
            if self.encoding in ("BASE64", "B"):
                self._value = re.sub(rb"\s+", b"", self.value_raw).decode("ascii", "replace")
            else:
                text = self._decode_charset(self.data)
                self._value = text if _is_legacy(self.version) else unescape_value(text)
        return self._value

    def components(self, sep: str = ";") -> list[str]:
        """Split a compound value (N, ADR, ORG; ``sep=","`` for lists) on
        unescaped separators, then unescape each part."""
        if self.encoding in ("BASE64", "B"):
            return [self.value]
        text = self._decode_charset(self.data)
        legacy = _is_legacy(self.version)
        parts = split_escaped(text, sep)
        if legacy:
            return [p.replace("\\" + sep, sep) for p in parts]
        return [unescape_value(p) for p in parts]

    def _decode_charset(self, octets: bytes) -> str:
        cs = self.charset
        if cs and self.encoding in (None, "8BIT") and not octets.isascii():
            # 8-bit text labelled with a one-byte charset but valid UTF-8: an item
            # sent as XML text (ISO-8859-1 in an XML document) arrives here as UTF-8
            try:
                if codecs.lookup(cs).name in _ONE_BYTE:
                    return octets.decode("utf-8")
            except (LookupError, UnicodeDecodeError):
                pass
        if cs:
            try:
                return octets.decode(cs)
            except LookupError:
                raise M.unknown_charset(cs, self.lineno, self.name) from None
            except UnicodeDecodeError:
                pass
        try:
            return octets.decode("utf-8")
        except UnicodeDecodeError:
            return octets.decode("latin-1")

    # -- changing -------------------------------------------------------------
    def set_text(self, text: str) -> None:
        """Set a TEXT value, escaped as the version requires (3.0/iCal:
        ``\\\\ \\n \\; \\,``; 2.1: nothing, QP when needed)."""
        self._write(text if _is_legacy(self.version) else escape_value(text))

    def set_components(self, parts: Sequence[str], sep: str = ";") -> None:
        """Set a compound value (N, ADR, ORG) from its parts."""
        if _is_legacy(self.version):
            self._write(sep.join(p.replace(sep, "\\" + sep) for p in parts))
        else:
            self._write(sep.join(escape_value(p) for p in parts))

    def set_raw_value(self, text: str) -> None:
        """Set a value that is written without escaping (RRULE, dates...)."""
        self._write(text)

    def set_params(self, params: Sequence[Param]) -> None:
        """Replace the parameters; the value is written again with them."""
        value = self.value
        binary = self.encoding in ("BASE64", "B")
        self.params = list(params)
        if binary:
            self._head = self._build_head()
        else:
            self._write(value if _is_legacy(self.version) else escape_value(value))

    def _build_head(self) -> bytes:
        parts = [(self.group + "." if self.group else "") + self.name]
        parts += [v if n is None else f"{n}={v}" for n, v in self.params]
        return (";".join(parts) + ":").encode("utf-8", "surrogateescape")

    def _write(self, wire_text: str) -> None:
        eol = b"\r\n" if self.eol.startswith(b"\r\n") or not self.eol else b"\n"
        params = [
            p for p in self.params
            if not ((p[0] or "").upper() == "ENCODING"
                    or (p[0] is None and p[1].upper() in _NAMELESS_ENCODINGS))
        ]
        if _is_legacy(self.version):
            needs_qp = not wire_text.isascii() or "\n" in wire_text or "\r" in wire_text
            if needs_qp:
                cs = self.charset or "UTF-8"
                try:
                    codecs.lookup(cs)
                    octets = wire_text.encode(cs)
                except (LookupError, UnicodeEncodeError):
                    cs = "UTF-8"
                    octets = wire_text.encode("utf-8")
                params = [p for p in params if (p[0] or "").upper() != "CHARSET"]
                params += [("CHARSET", cs), ("ENCODING", "QUOTED-PRINTABLE")]
                self.params = params
                head = self._build_head()
                value = qp_encode(octets, len(head), eol)
            else:
                self.params = params
                head = self._build_head()
                value = wire_text.encode("ascii")
        else:
            self.params = [p for p in params if (p[0] or "").upper() != "CHARSET"]
            head = self._build_head()
            value = fold_line(head + wire_text.encode("utf-8"), eol)[len(head):]
        self._head, self.value_raw, self.eol, self._value = head, value, eol, None


class Component:
    """``BEGIN:name`` ... ``END:name`` with content lines, raw lines and nested
    components in order.  ``leading``/``trailing`` hold what surrounds a
    top-level item in its file (blank lines, a BOM, or lenient-mode junk);
    ``end`` is None only for an item cut short in lenient mode."""

    __slots__ = ("begin", "children", "end", "leading", "name", "trailing", "version")

    def __init__(self, begin: ContentLine, version: str | None = None) -> None:
        self.begin = begin
        self.name = R.value_name(begin.value_raw)
        self.children: list[ContentLine | RawLine | Component] = []
        self.end: ContentLine | None = None
        self.version = version
        self.leading = b""
        self.trailing = b""

    def __repr__(self) -> str:
        return f"Component({self.name!r}, version={self.version!r}, {len(self.children)} children)"

    def serialize(self) -> bytes:
        """The item's bytes from BEGIN to END (line end included)."""
        if _CODEC is not None:
            return _CODEC.serialize_one(self)  # type: ignore[no-any-return]
        return b"".join(self._chunks())

    def _chunks(self) -> Iterator[bytes]:
        yield self.begin.raw
        for child in self.children:
            if isinstance(child, Component):
                yield from child._chunks()
            else:
                yield child.raw
        if self.end is not None:
            yield self.end.raw

    @property
    def lines(self) -> list[ContentLine]:
        """This component's own content lines (not those of nested components)."""
        return [c for c in self.children if isinstance(c, ContentLine)]

    @property
    def components(self) -> list[Component]:
        return [c for c in self.children if isinstance(c, Component)]

    def find(self, name: str) -> ContentLine | None:
        """First own content line called ``name`` (case-insensitive)."""
        key = name.upper()
        return next((c for c in self.lines if c.name.upper() == key), None)

    def find_all(self, name: str) -> list[ContentLine]:
        key = name.upper()
        return [c for c in self.lines if c.name.upper() == key]

    def _set_version(self, inherited: str | None) -> None:
        v = self.find("VERSION")
        self.version = R.value_name(v.value_raw) if v else inherited
        for line in (self.begin, self.end):
            if line is not None:
                line.version = self.version
        for child in self.children:
            if isinstance(child, Component):
                child._set_version(self.version)
            elif isinstance(child, ContentLine):
                child.version = self.version


def _serialize_items_py(items: Sequence[Component]) -> bytes:
    return b"".join(c.leading + b"".join(c._chunks()) + c.trailing for c in items)


def _physical_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    out = [ln + b"\n" for ln in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _blank_run_then_fold(phys: list[bytes], i: int) -> int:
    """End of a run of blank lines at ``i`` followed by an indented line, else 0."""
    j = i
    while j < len(phys) and not phys[j].strip():
        j += 1
    return j + 1 if j < len(phys) and phys[j][:1] in (b" ", b"\t") else 0


def _tokenize(data: bytes, lenient: bool) -> Iterator[ContentLine | RawLine]:
    """Logical lines: folds (next line starts with space/tab), QP soft
    breaks (``=`` at the end, next line not indented) and 2.1 BASE64 blocks
    (unindented base64 lines, then one blank line that belongs to the block)."""
    phys = _physical_lines(data)
    n, i = len(phys), 0
    while i < n:
        start = i
        body, eol = _split_eol(phys[i])
        if not body.strip():
            yield RawLine(phys[i], i + 1)
            i += 1
            continue
        # the head may itself be folded: join indented lines until a ':' shows up
        buf = bytearray(phys[i])  # grows in place, so long folded values stay linear
        i += 1
        # (a ':' inside a quoted parameter value, LINKREL="https://...", does not count)
        while (i < n and phys[i][:1] in (b" ", b"\t")
               and (b":" not in phys[i - 1] or (b'"' in buf and unquoted_colon(buf) < 0))):
            buf += phys[i]
            i += 1
        colon = find_colon(buf)
        if colon < 0:
            if not lenient:
                raise M.no_colon(start + 1, body)
            for j in range(start, i):
                yield RawLine(phys[j], j + 1)
            continue
        head_bytes = bytes(buf[: colon + 1])
        parsed = parse_head_bytes(head_bytes[:-1])
        if parsed is None:
            if not lenient:
                raise M.bad_property_name(start + 1, head_bytes)
            for j in range(start, i):
                yield RawLine(phys[j], j + 1)
            continue
        group, name, params = parsed
        line = ContentLine(head_bytes, group, name, params, b"", b"", start + 1)
        enc = line.encoding
        qp, b64 = enc == "QUOTED-PRINTABLE", enc == "BASE64"
        while i < n:
            nxt = phys[i]
            if nxt[:1] in (b" ", b"\t"):
                buf += nxt
            elif not nxt.strip() and _blank_run_then_fold(phys, i):
                j = _blank_run_then_fold(phys, i)
                buf += b"".join(phys[i:j])  # blank lines inside a folded value (seen in the wild)
                i = j - 1
            # QP: the last line (without its line end) ends with a soft break '='
            elif (qp and buf.endswith((b"=\r\n", b"=\n", b"=")) and nxt[:4].upper() != b"END:") or (
                b64 and _B64_LINE.fullmatch(_split_eol(nxt)[0])
            ):
                buf += nxt
            else:
                break
            i += 1
        value, eol = _split_eol(bytes(buf[colon + 1 :]))
        if b64 and eol and i < n and phys[i] in (b"\r\n", b"\n"):
            eol += phys[i]  # the blank line that ends a 2.1 BASE64 block
            i += 1
        line.value_raw, line.eol = value, eol
        if qp and not lenient and _QP_BAD.search(value):
            raise M.bad_quoted_printable(start + 1, name)
        yield line


def _parse_items_py(data: bytes, *, lenient: bool = False,
                    version: str | None = None) -> list[Component]:
    """The reference :func:`parse_items` (``_versit.pyx`` is its port)."""
    items: list[Component] = []
    stack: list[Component] = []
    pending = bytearray()
    if data.startswith(codecs.BOM_UTF8):
        pending += codecs.BOM_UTF8
        data = data[3:]
    lineno = 0
    for tok in _tokenize(data, lenient):
        lineno = tok.lineno
        if isinstance(tok, ContentLine) and tok.name.upper() == "BEGIN":
            comp = Component(tok)
            if len(stack) >= MAX_DEPTH:
                raise M.too_deep(tok.lineno)
            if stack:
                stack[-1].children.append(comp)
            else:
                comp.leading = bytes(pending)
                pending.clear()
                items.append(comp)
            stack.append(comp)
        elif isinstance(tok, ContentLine) and tok.name.upper() == "END" and stack:
            if R.closes(tok.value_raw, stack[-1].name):
                stack.pop().end = tok
            elif lenient:
                stack[-1].children.append(RawLine(tok.raw, tok.lineno))
            else:
                raise M.end_closes_other(tok.lineno, R.value_name(tok.value_raw), stack[-1].name)
        elif stack:
            stack[-1].children.append(tok if isinstance(tok, ContentLine)
                                      else RawLine(tok.raw, tok.lineno))
        elif (isinstance(tok, RawLine) and not tok.raw.strip()) or lenient:
            pending += tok.raw
        else:
            raise M.text_outside(tok.lineno, tok.name if isinstance(tok, ContentLine) else "")
    if stack and not lenient:
        raise M.no_end(stack[0].name, stack[0].begin.lineno)
    if pending:
        if items:
            items[-1].trailing = bytes(pending)
        elif not lenient and R.has_text(pending):
            raise M.no_begin_line(lineno)
    for comp in items:
        comp._set_version(R.default_version(comp.name, version))
    return items


# -- the implementation in use --------------------------------------------------
class Tokenizer(NamedTuple):
    """One implementation of :func:`parse_items` / :func:`serialize_items`."""

    name: str  # "cython" | "python"
    parse_items: Callable[..., list[Component]]
    serialize_items: Callable[[Sequence[Component]], bytes]


PYTHON = Tokenizer("python", _parse_items_py, _serialize_items_py)


def _codec(extension: ModuleType) -> Any:
    return extension.VersitCodec(ContentLine, RawLine, Component, parse_head_bytes, MAX_DEPTH)


def cython_tokenizer(extension: ModuleType) -> Tokenizer:
    """The C tokenizer of ``extension`` (the module
    ``syncml_codec.formats._versit``); tests and benchmarks use this to run
    both implementations side by side."""
    codec = _codec(extension)
    return Tokenizer("cython", codec.parse, codec.serialize)


def _import_extension() -> ModuleType:
    from . import _versit

    return _versit


# The extension when it is built (the same switches as codec.wbxml:
# SYNCML_CODEC_NO_EXTENSIONS / SYNCML_CODEC_REQUIRE_EXTENSION), else the
# pure-Python reference above.  Both give identical trees and errors.
_extension = load_extension(_import_extension)
_CODEC: Any = None if _extension is None else _codec(_extension)
_IMPL = PYTHON if _CODEC is None else Tokenizer("cython", _CODEC.parse, _CODEC.serialize)
#: ``"cython"`` or ``"python"``
IMPLEMENTATION: str = _IMPL.name


def parse_items(data: bytes, *, lenient: bool = False,
                version: str | None = None) -> list[Component]:
    """Read every ``BEGIN..END`` item in ``data``.

    Strict mode raises :class:`FormatError` on a line that is not a content
    line, text outside an item, a BEGIN without END or a mismatched END.
    Lenient mode keeps such lines as :class:`RawLine` (or in ``leading`` /
    ``trailing``) and closes unfinished items at the end of input, so that
    ``serialize_items`` still gives back ``data``.  ``version`` is assumed
    for items without a VERSION line (default: 2.1 rules for VCARD/VNOTE/
    VCALENDAR, 2.0 rules for a bare VEVENT, VTODO...).  Text with no item
    at all has nowhere to be kept, so it is a :class:`FormatError` in both
    modes (blank input gives ``[]``).
    """
    items = _IMPL.parse_items(data, lenient=lenient, version=version)
    if not items and lenient and bytes(data).strip():
        raise M.no_item()
    return items


def serialize_items(items: Sequence[Component]) -> bytes:
    """The file again: each item with what surrounded it."""
    return _IMPL.serialize_items(items)
