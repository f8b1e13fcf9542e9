"""Shared reading and writing for the small OMA DS XML objects (email, folder,
file: ``shared/reference/formats.md`` sections 4-6).

Reading is hardened like :mod:`syncml_codec.codec.xml`: no DOCTYPE, no
network, no entity expansion, size-limited.  Carriage returns inside text and
CDATA are kept (an XML parser would turn CRLF into LF, which would change the
RFC 822 message in ``<emailitem>``): each CR is swapped for a private-use
character while lxml parses.

Objects keep their input bytes; ``serialize()`` returns them unless a field
differs from what was parsed, and only then writes the whole object again in
schema order.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree

from ..errors import FormatError

MAX_SIZE = 64 * 1024 * 1024
ATTRIBUTE_NAMES = ("h", "s", "a", "d", "w", "r", "x")

_CR = "\ue00d"
_DECL = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DECL_ANY = re.compile(r"\A\ufeff?<\?xml[^>]*\?>")
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})(Z)?)?\Z")
_ROOT_START = re.compile(r"<[^!?]")
_POSITION = re.compile(r",? line \d+, column \d+$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PARSER_OPTIONS: dict[str, Any] = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
)

Ext = tuple[str, tuple[str, ...]]
"""One ``<Ext>``: its ``XNam`` and its ``XVal`` values in order."""


def parse_root(data: bytes, root_name: str) -> etree._Element:
    """Parse *data* and check that the root element is *root_name*."""
    if len(data) > MAX_SIZE:
        raise FormatError(f"object larger than {MAX_SIZE} bytes", 1, root_name)
    m = _DECL.match(data)
    encoding = m.group(1).decode("ascii") if m else "utf-8"
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        bad = exc.start if isinstance(exc, UnicodeDecodeError) else 0
        raise FormatError(f"cannot decode as {encoding}", data.count(b"\n", 0, bad) + 1, root_name) from None
    decl = _DECL_ANY.match(text)
    if decl:  # lxml refuses str input with an encoding declaration; keep the line count
        text = "\n" * decl.group(0).count("\n") + text[decl.end():]
    text = text.lstrip("\ufeff")
    if "<!DOCTYPE" in text:
        raise FormatError("DOCTYPE is not allowed", text.count("\n", 0, text.index("<!DOCTYPE")) + 1, root_name)
    keep_cr = _CR not in text
    if keep_cr:  # inside the root element only: outside, a CR must stay whitespace
        start = _ROOT_START.search(text)
        begin = start.start() if start else 0
        end = max(text.rfind(">") + 1, begin)
        text = text[:begin] + text[begin:end].replace("\r", _CR) + text[end:]
    try:
        root = etree.fromstring(text, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 1
        raise FormatError(f"malformed XML: {_POSITION.sub('', str(exc.msg))}", line, root_name) from None
    except ValueError:  # lxml: a str still holding an (unreadable) encoding declaration
        raise FormatError("malformed XML declaration", 1, root_name) from None
    if not isinstance(root.tag, str) or local(root) != root_name:
        raise FormatError(f"root element is not <{root_name}>", line_of(root), local(root))
    if keep_cr:
        for node in root.iter():
            if node.text:
                node.text = node.text.replace(_CR, "\r")
            if node.tail:
                node.tail = node.tail.replace(_CR, "\r")
            for key, value in node.attrib.items():
                node.set(key, str(value).replace(_CR, "\r"))
    return root


def local(node: etree._Element) -> str:
    tag = node.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(root: etree._Element) -> list[etree._Element]:
    return [c for c in root if isinstance(c.tag, str)]


def line_of(node: etree._Element) -> int:
    line = node.sourceline  # lxml-stubs types it oddly
    return line if isinstance(line, int) and line > 0 else 1


def text_of(node: etree._Element) -> str:
    if any(isinstance(c.tag, str) for c in node):
        raise FormatError("element content where text was expected", line_of(node), local(node))
    return node.text or ""


def parse_bool(node: etree._Element) -> bool:
    value = text_of(node).strip().lower()
    if value not in ("true", "false"):
        raise FormatError(f"not a boolean: {value!r}", line_of(node), local(node))
    return value == "true"


def parse_int(node: etree._Element) -> int:
    value = text_of(node).strip()
    if not value.isdigit() or len(value) > 20:
        raise FormatError(f"not a size: {value!r}", line_of(node), local(node))
    return int(value)


def parse_date(node: etree._Element) -> datetime | None:
    """ISO 8601 basic (``20060315T120000Z``) or extended; ``Z`` gives an
    aware UTC datetime, no ``Z`` a naive (floating) one.  Empty gives None.
    Out-of-range time fields roll over (``T016500`` is 02:05)."""
    value = text_of(node).strip()
    if not value:
        return None
    m = _DATE.match(value)
    if not m:
        raise FormatError(f"not an ISO 8601 date: {value!r}", line_of(node), local(node))
    y, mo, d, h, mi, s, z = m.groups()
    try:  # time fields roll over like Java's lenient parser (Funambol samples have minute 65)
        day = datetime(int(y), int(mo), int(d), tzinfo=timezone.utc if z else None)
    except ValueError as exc:
        raise FormatError(f"bad date {value!r}: {exc}", line_of(node), local(node)) from None
    return day + timedelta(hours=int(h or 0), minutes=int(mi or 0), seconds=int(s or 0))


def format_date(value: datetime) -> str:
    if value.tzinfo is None:
        return value.strftime("%Y%m%dT%H%M%S")
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def parse_attributes(node: etree._Element) -> dict[str, bool]:
    found: dict[str, bool] = {}
    for child in children(node):
        name = local(child)
        if name not in ATTRIBUTE_NAMES:
            raise FormatError(f"unknown attribute <{name}>", line_of(child), name)
        found[name] = parse_bool(child)
    return found


def parse_ext(node: etree._Element) -> Ext:
    xnam = ""
    xvals: list[str] = []
    for child in children(node):
        if local(child) == "XNam":
            xnam = text_of(child)
        elif local(child) == "XVal":
            xvals.append(text_of(child))
        else:
            raise FormatError(f"unexpected <{local(child)}> in <Ext>", line_of(child), local(child))
    if not xnam:
        raise FormatError("<Ext> without <XNam>", line_of(node), "Ext")
    return xnam, tuple(xvals)


def decode_content(node: etree._Element) -> tuple[bytes, str | None]:
    """The bytes of a ``<body>`` / ``<emailitem>`` and its ``enc``."""
    enc = node.get("enc")
    text = text_of(node)
    name = local(node)
    if enc is None or enc == "":
        return text.encode("utf-8"), None
    if enc.lower() == "base64":
        try:
            return base64.b64decode("".join(text.split()), validate=True), enc
        except (binascii.Error, ValueError):
            raise FormatError("bad base64", line_of(node), name) from None
    if enc.lower() == "quoted-printable":
        try:
            return quopri.decodestring(text.encode("ascii")), enc
        except UnicodeEncodeError:
            raise FormatError("non-ASCII in quoted-printable", line_of(node), name) from None
    raise FormatError(f"unknown enc {enc!r}", line_of(node), name)


def escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text.replace('"', "&quot;") if quote else text


def encode_content(name: str, data: bytes, enc: str | None) -> str:
    """Write *data* as ``<name>``: with *enc* base64 or quoted-printable as
    asked; without, as CDATA (text with CR as escaped text), falling back to
    base64 when the bytes are not UTF-8 or hold characters XML cannot."""
    if enc is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
            enc = "base64"
        else:
            if _XML_ILLEGAL.search(text):
                enc = "base64"
        if enc is None:
            if not text:
                return f"<{name}/>"
            if "\r" in text:
                return f"<{name}>{escape(text)}</{name}>"
            return f"<{name}><![CDATA[{text.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>"
    if enc.lower() == "base64":
        body = base64.b64encode(data).decode("ascii")
    elif enc.lower() == "quoted-printable":
        body = escape(quopri.encodestring(data).decode("ascii"))
    else:
        raise ValueError(f"unknown enc {enc!r}")
    return f'<{name} enc="{escape(enc, True)}">{body}</{name}>'


def element(name: str, value: str | bool | int | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = format_date(value)
    else:
        text = escape(str(value))
    return f"<{name}>{text}</{name}>"


def attributes_xml(attributes: dict[str, bool] | None) -> str:
    if attributes is None:
        return ""
    inner = "".join(element(n, attributes[n]) for n in ATTRIBUTE_NAMES if n in attributes)
    return f"<attributes>{inner}</attributes>"


def ext_xml(ext: list[Ext]) -> str:
    return "".join(
        "<Ext>" + element("XNam", xnam) + "".join(element("XVal", v) for v in xvals) + "</Ext>"
        for xnam, xvals in ext
    )


def unknown_xml(node: etree._Element) -> str:
    """An element outside the schema, kept as XML text (tail dropped)."""
    saved, node.tail = node.tail, None
    try:
        return etree.tostring(node, encoding="unicode").replace("\r", "&#13;")
    finally:
        node.tail = saved
