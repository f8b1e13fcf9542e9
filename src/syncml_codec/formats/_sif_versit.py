"""What the SIF converters share: a small builder for Versit items (values
written by :mod:`.versit`'s own escaping, QP and folding rules), the
``X-SIF-*`` carrying and the field fix-up that makes SIF -> Versit -> SIF
lossless (see :mod:`.sif`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from ..errors import FormatError
from ._omaxml import children, escape, parse_root
from ._versit_text import fold_line
from .sif import SIFField, SIFValue, canonical, comparable, fields_from_xml, fields_xml
from .versit import Component, ContentLine, parse_items

X_SIF = "X-SIF-"
ABSENT = "X-SIF-ABSENT"
EOL = "X-SIF-EOL"
XML_PARAM = "X-FORMAT=XML"

Entry = tuple[str, str, str, object]  # (name, params, kind, value)
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_LONE_LF = re.compile("(?<!\r)\n")
_LONE_EOL = re.compile("\r(?!\n)|(?<!\r)\n")


def raw_safe(value: str) -> bool:
    """No control characters (a raw value or a parameter can carry it)."""
    return not _CONTROL.search(value)


def crlf(text: str) -> str:
    """Line breaks as SIF (Outlook) writes them: CRLF."""
    return _LONE_LF.sub("\r\n", text)


def _same(text: str) -> str:
    return text


def text_eol(comp: Component) -> Callable[[str], str]:
    """How line breaks in text values come back: CRLF (SIF's rule), or LF
    when the item says ``X-SIF-EOL:LF`` (a SIF item read by an XML parser
    that normalized its line ends, or written with LF)."""
    eol = comp.find(EOL)
    return _same if eol is not None and eol.value.strip().upper() == "LF" else crlf


def write_eol(b: Builder, fields: Sequence[SIFField]) -> None:
    """``X-SIF-EOL:LF`` if the text values break lines with LF only."""
    texts = [v for n, v in fields if isinstance(v, str) and n != "Photo"]
    if any("\n" in v for v in texts) and not any("\r\n" in v for v in texts):
        b.raw(EOL, "LF")


def quote_param(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ':;,') else value


class Builder:
    """Collects content lines, then :meth:`build` makes the Component."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def begin(self, name: str) -> None:
        self.entries.append(("BEGIN", "", "fixed", name))

    def end(self, name: str) -> None:
        self.entries.append(("END", "", "fixed", name))

    def text(self, name: str, value: str, params: str = "") -> None:
        self.entries.append((name, params, "text", value))

    def raw(self, name: str, value: str, params: str = "") -> None:
        """A value written as it is (dates, numbers, URIs); one with control
        characters is written as escaped text instead, so that it can never
        break the line structure."""
        self.entries.append((name, params, "raw" if raw_safe(value) else "text", value))

    def parts(self, name: str, parts: Sequence[str], params: str = "", sep: str = ";") -> None:
        self.entries.append((name, params, "parts" + sep, list(parts)))

    def binary(self, name: str, b64text: str, params: str) -> None:
        self.entries.append((name, params, "binary", b64text))

    def build(self) -> Component:
        skeleton = bytearray()
        for name, params, kind, value in self.entries:
            head = name + (";" + params if params else "") + ":"
            if kind == "fixed":
                skeleton += f"{head}{value}\r\n".encode()
            elif kind == "binary":
                skeleton += fold_line((head + str(value)).encode(), b"\r\n") + b"\r\n"
            else:
                skeleton += head.encode("utf-8") + b"\r\n"
        (comp,) = parse_items(bytes(skeleton))
        setters = [e for e in self.entries if e[2] != "fixed" or e[0] not in ("BEGIN", "END")]
        for line, (_, _, kind, value) in zip(_walk(comp), setters, strict=True):
            if kind == "text" and value:
                line.set_text(str(value))
            elif kind == "raw" and value:
                line.set_raw_value(str(value))
            elif kind.startswith("parts") and isinstance(value, list) and (len(value) > 1 or any(value)):
                line.set_components(value, kind[5:])
        return comp


def _walk(comp: Component) -> Iterator[ContentLine]:
    for child in comp.children:
        if isinstance(child, Component):
            yield from _walk(child)
        elif isinstance(child, ContentLine):
            yield child


def carry(b: Builder, name: str, value: SIFValue) -> None:
    """Write field ``name`` as ``X-SIF-<name>`` (an X- field keeps its name)."""
    prop = name if name.upper().startswith("X-") else X_SIF + name
    if isinstance(value, tuple):
        b.text(prop, fields_xml(value, nl=""), XML_PARAM)
    elif _LONE_EOL.search(value):  # vCard/iCal text has one line break (\n): keep LF/CR as they are
        b.text(prop, escape(value).replace("\r", "&#13;").replace("\n", "&#10;"), XML_PARAM)
    else:
        b.text(prop, value)


def carried(line: ContentLine, eol: Callable[[str], str] = crlf) -> SIFField | None:
    """The field an ``X-SIF-*`` line carries (None for other lines)."""
    name = line.name
    if not name.upper().startswith(X_SIF) or name.upper() in (ABSENT, EOL):
        return None
    field = canonical(name[len(X_SIF):])
    if any((p[0] or "").upper() == "X-FORMAT" and p[1].upper() == "XML" for p in line.params):
        try:
            root = parse_root(f"<x>{line.value}</x>".encode(), "x")
        except FormatError:  # mangled on the way: keep the text
            return field, line.value
        return (field, fields_from_xml(line.value)) if children(root) else (field, root.text or "")
    return field, eol(line.value)


def apply_carried(fields: list[SIFField], comp: Component) -> list[SIFField]:
    """Apply the ``X-SIF-*`` lines of ``comp`` to ``fields`` (overriding
    mapped values) and drop the fields named in ``X-SIF-ABSENT``."""
    out = list(fields)
    eol = text_eol(comp)
    for line in comp.lines:
        got = carried(line, eol)
        if got is None:
            continue
        for i, (name, _) in enumerate(out):
            if name == got[0]:
                out[i] = got
                break
        else:
            out.append(got)
    absent = {n.strip() for line in comp.find_all(ABSENT) for n in line.value.split(",")}
    return [f for f in out if f[0] not in absent]


def fixup(fields: Sequence[SIFField], forward: Callable[[Sequence[SIFField], list[SIFField]], Component],
          reverse: Callable[[Component], list[SIFField]]) -> Component:
    """``forward(fields, extra)`` with ``extra`` = the fields the reverse
    mapping would not give back as they are (carried as ``X-SIF-*``), plus
    ``X-SIF-ABSENT`` for fields it would invent."""
    first = forward(fields, [])
    back = reverse(first)
    back_first: dict[str, SIFValue] = {}
    for name, value in back:
        back_first.setdefault(name, value)
    extra: list[SIFField] = []
    seen: set[str] = set()
    for name, value in fields:
        if name in seen:
            continue
        seen.add(name)
        if name not in back_first or comparable([(name, value)]) != comparable([(name, back_first[name])]):
            extra.append((name, value))
    absent = [n for n in back_first if n not in seen]
    if absent:
        extra.append(("X-SIF-ABSENT-LIST", ",".join(absent)))
    return forward(fields, extra) if extra else first


def write_extra(b: Builder, extra: Sequence[SIFField], fields: Sequence[SIFField] = ()) -> None:
    """The carried fields (and ``X-SIF-EOL`` for ``fields``)."""
    write_eol(b, fields)
    for name, value in extra:
        if name == "X-SIF-ABSENT-LIST":
            b.raw(ABSENT, str(value))
        else:
            carry(b, name, value)
