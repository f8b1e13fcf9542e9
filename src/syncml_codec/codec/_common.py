"""Helpers shared by both WBXML implementations (not on the hot paths).

Everything here is pure data or small functions whose result both the
Cython extension and the pure-Python twin must agree on: language
detection for XML input, the rules that decide what becomes OPAQUE, the XML
prolog, escaping, and the option parsing of the public functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import EncodeError, XMLDecodeError
from .codepages import (
    CHARSET_NAMES,
    DDF12,
    DEVINF_BY_VERSION,
    LANGUAGES,
    METINF_BY_VERSION,
    SYNCML12,
    SYNCML_BY_VERSION,
    WBXML_NS,
    Language,
    charset_codec,
    language_by_key,
    language_by_xml_public_id,
)

#: Deepest element nesting accepted (WBXML and XML).  Real SyncML is about
#: 15 levels deep, DevInf inside it about 25.
DEFAULT_MAX_DEPTH = 256
#: Bytes a document may copy out of its string table, as a multiple of its
#: own size (plus ``TABLE_EXPANSION_SLACK``): each STR_T reference repeats a
#: table string, so without a bound a small message could expand
#: quadratically.  Real messages stay far below 16x.
TABLE_EXPANSION_FACTOR = 16
TABLE_EXPANSION_SLACK = 64 * 1024


def table_expansion_limit(size: int) -> int:
    return TABLE_EXPANSION_FACTOR * size + TABLE_EXPANSION_SLACK


def table_expansion_error(limit: int) -> str:
    return f"string table references expand beyond {limit} bytes (16 times the input): refused"


#: Largest XML input accepted by default (bytes).
DEFAULT_MAX_XML_SIZE = 64 * 1024 * 1024

DEVINF_XML_TYPE = "application/vnd.syncml-devinf+xml"
DEVINF_WBXML_TYPE = "application/vnd.syncml-devinf+wbxml"
DMTNDS_XML_TYPE = "application/vnd.syncml.dmtnds+xml"
DMTNDS_WBXML_TYPE = "application/vnd.syncml.dmtnds+wbxml"
#: ``<Type>`` text rewritten when a document nested in ``<Data>`` changes
#: encoding (keys lower-case).
TYPE_TO_XML = {DEVINF_WBXML_TYPE: DEVINF_XML_TYPE, DMTNDS_WBXML_TYPE: DMTNDS_XML_TYPE}
TYPE_TO_WBXML = {DEVINF_XML_TYPE: DEVINF_WBXML_TYPE, DMTNDS_XML_TYPE: DMTNDS_WBXML_TYPE}

WBXML_VERSIONS = {"1.0": 0, "1.1": 1, "1.2": 2, "1.3": 3}

# Characters XML 1.0 cannot carry literally (besides NUL, which WBXML
# strings cannot hold either).
_XML_FORBIDDEN = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_wbxml_version(version: str | int) -> int:
    if isinstance(version, int) and 0 <= version <= 3:
        return version
    try:
        return WBXML_VERSIONS[str(version)]
    except KeyError:
        raise ValueError(f"wbxml_version must be one of 1.0, 1.1, 1.2, 1.3, not {version!r}") from None


def parse_charset(charset: str | int) -> tuple[int, str]:
    """(MIBenum, Python codec) for a charset given by name or MIBenum."""
    if isinstance(charset, int):
        mib = charset
    else:
        mib = CHARSET_NAMES.get(charset.lower(), 0)
        if not mib:
            raise ValueError(f"unknown charset {charset!r}; give its IANA MIBenum instead")
    codec = charset_codec(mib)
    if codec is None or mib == 0:
        raise ValueError(f"no Python codec for charset MIBenum {mib}")
    return mib, codec


#: Largest ``indent`` (spaces per level) of pretty XML output.  Pretty
#: output already grows with depth times elements (a hostile document of
#: 2-byte elements 256 deep: 256 * indent spaces per 2 input bytes), so the
#: factor stays within 8 times that of the default indent of 2.
MAX_INDENT = 16


def check_indent(indent: int) -> int:
    """``indent`` of ``wbxml_to_xml`` / ``write_xml``, checked (0 to
    :data:`MAX_INDENT` spaces per level; 0 puts each element on its own
    line without indenting it, as ``wbxml2xml -i 0``)."""
    if type(indent) is not int or not 0 <= indent <= MAX_INDENT:
        raise ValueError(f"indent must be an int from 0 to {MAX_INDENT}, not {indent!r}")
    return indent


#: Names a language can be forced by (``language=`` of the decoders, ``syncml
#: decode --language``): wbxml2xml's ``-l`` names, the keys of
#: :data:`~.codepages.LANGUAGES` and dotted forms (``syncml1.2``), any case.
LANGUAGE_NAMES: dict[str, Language] = {}
for _lang in LANGUAGES:
    _dotted = f"{_lang.family}{_lang.version}"
    LANGUAGE_NAMES[_lang.key] = LANGUAGE_NAMES[_dotted] = _lang
LANGUAGE_NAMES["dmddf12"] = LANGUAGE_NAMES["dmddf1.2"] = DDF12
LANGUAGE_NAMES["metinf"] = METINF_BY_VERSION["1.2"]
LANGUAGE_NAMES["ddf"] = DDF12


def language_named(name: str) -> Language:
    """The language called ``name`` (see :data:`LANGUAGE_NAMES`), or
    ValueError listing the choices."""
    lang = LANGUAGE_NAMES.get(name.strip().lower())
    if lang is None:
        choices = "SYNCML10, SYNCML11, SYNCML12, DEVINF10, DEVINF11, DEVINF12, METINF11, METINF12, DMDDF12"
        raise ValueError(f"unknown language {name!r}; choose one of {choices} (or e.g. syncml1.2, devinf1.1)")
    return lang


def check_language(language: Language | str) -> Language:
    """A language to force: a :class:`Language` of the code pages (the
    table's own object) or its name."""
    if isinstance(language, str):
        return language_named(language)
    if not isinstance(language, Language):
        raise TypeError(f"language must be a Language or its name, not {type(language).__name__}")
    return language_by_key(language.key)


def parse_public_id(public_id: str) -> bool:
    """True for textual public IDs."""
    if public_id not in ("numeric", "text"):
        raise ValueError(f"public_id must be 'numeric' or 'text', not {public_id!r}")
    return public_id == "text"


def encode_options(wbxml_version: str | int, string_table: bool, public_id: str,
                   charset: str | int) -> tuple[int, int, str, bool, bool]:
    """The encoders' options: (WBXML version, charset MIBenum, Python codec,
    string table, textual public ID)."""
    mib, codec = parse_charset(charset)
    return parse_wbxml_version(wbxml_version), mib, codec, bool(string_table), parse_public_id(public_id)


def xml_text_safe(text: str) -> bool:
    return "\0" not in text and _XML_FORBIDDEN.search(text) is None


def escape_text(text: str) -> str:
    """Escape character data for XML; CR and the control characters XML
    cannot carry become character references so nothing is lost."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if _XML_FORBIDDEN.search(text):
        text = _XML_FORBIDDEN.sub(lambda m: f"&#x{ord(m.group()):X};", text)
    return text


def escape_attr(text: str) -> str:
    return escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


_WBXML_DECL = f' xmlns:wbxml="{WBXML_NS}"'


def start_tag(name: str, ns: str | None, default: str | None, wbxml: bool,
              attrs: dict[str, str] | None) -> tuple[str, str | None, bool]:
    """The start tag (without its ``>``) of an element written with its
    name and attributes, inside an element whose default namespace is
    ``default`` and where the ``wbxml:`` prefix is declared when ``wbxml``;
    also those two for its content.  The namespace is declared where it
    changes, the ``wbxml:`` prefix where it is first used."""
    tag = "<" + name
    if ns == WBXML_NS:
        if not wbxml:
            tag += _WBXML_DECL
            wbxml = True
    elif ns is not None and ns != default:
        tag += f' xmlns="{ns}"'
        default = ns
    if attrs:
        for key, value in attrs.items():
            if key.startswith("wbxml:") and not wbxml:
                tag += _WBXML_DECL
                wbxml = True
            tag += f' {key}="{escape_attr(value)}"'
    return tag, default, wbxml


def unprefixed_attrs(attrs: dict[str, str], namespace_of: Callable[[str], str | None]) -> dict[str, str] | None:
    """The attributes of an XML start tag as the codec names them:
    namespace declarations left out, a prefix bound to the wbxml namespace
    written ``wbxml:``, any other prefix dropped.  KeyError(prefix) for a
    prefix ``namespace_of`` does not know."""
    clean = {}
    for key, value in attrs.items():
        if key == "xmlns" or key.startswith("xmlns:"):
            continue
        prefix, _, local = key.rpartition(":")
        if prefix:
            uri = namespace_of(prefix)
            if uri is None:
                raise KeyError(prefix)
            key = "wbxml:" + local if uri == WBXML_NS else local
        clean[key] = value
    return clean or None


def opaque_as_text(data: bytes) -> str | None:
    """The text to show for opaque bytes inside CDATA, or None when the
    bytes must be shown as base64 (not UTF-8, characters XML cannot carry,
    a CDATA terminator inside, or only white space, which XML readers may
    take for layout)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "]]>" in text or not xml_text_safe(text) or (text and not text.strip(" \t\r\n")):
        return None
    return text


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def prolog(lang: Language) -> str:
    """XML declaration and DOCTYPE (pretty output puts a newline after each)."""
    return XML_DECLARATION + f'<!DOCTYPE {lang.root} PUBLIC "{lang.xml_public_id}" "{lang.system_id}">'



# -- XML input: which language? -------------------------------------------

_VERDTD = re.compile(r"<(?:[\w.-]+:)?VerDTD\s*>\s*(1\.[012])\s*<")
_ENCODING_DECL = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")


def decode_xml_input(data: bytes | bytearray | memoryview, max_size: int) -> str:
    """The XML document as text: BOM and encoding declaration honoured,
    size bounded."""
    data = bytes(data)
    if len(data) > max_size:
        raise XMLDecodeError(f"document of {len(data)} bytes is larger than the limit of {max_size}", 1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        codec = "utf-8"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        m = _ENCODING_DECL.match(data)
        codec = m.group(1).decode("ascii").lower() if m else "utf-8"
    try:
        text = data.decode(codec)
    except LookupError:
        raise XMLDecodeError(f"unknown encoding {codec!r} in the XML declaration", 1) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise XMLDecodeError(f"byte 0x{data[exc.start]:02X} is not valid {codec}", line,
                             offset=exc.start) from None
    return text


def detect_language(public_id: str | None, root: str, root_ns: str | None, text: str) -> Language:
    """The language of an XML document: DOCTYPE public ID, then the root's
    namespace, then the root name with the version from ``<VerDTD>``."""
    if public_id:
        lang = language_by_xml_public_id(public_id)
        if lang is not None:
            return lang
    ns = (root_ns or "").strip().lower()
    m = _VERDTD.search(text, 0, 4096)
    verdtd = m.group(1) if m else None
    if ns.startswith("syncml:syncml1.") and ns[-3:] in ("1.0", "1.1", "1.2"):
        return SYNCML_BY_VERSION[ns[-3:]]
    if root == "SyncML":
        return SYNCML_BY_VERSION.get(verdtd or "1.2", SYNCML12)
    if root == "DevInf":
        return DEVINF_BY_VERSION.get(verdtd or "1.2", DEVINF_BY_VERSION["1.2"])
    if root == "MetInf":
        return METINF_BY_VERSION["1.1" if ns and verdtd == "1.1" else "1.2"]
    if root == "MgmtTree":
        return DDF12
    raise XMLDecodeError(f"<{root}> is not the root of a SyncML, DevInf, MetInf or DM DDF document", 1)


def did_you_mean(name: str, lang: Language) -> str:
    low = name.lower()
    for known in lang.names:
        if known.lower() == low:
            return f" (did you mean {known!r}?)"
    return ""


def unknown_name_error(name: str, lang: Language) -> EncodeError:
    return EncodeError(
        f"element <{name}> is not in the {lang.family} {lang.version} code pages"
        f"{did_you_mean(name, lang)}; encode with string_table=True to send it as a literal")


def wbxml_attr_name(page: int, token: int) -> str:
    return f"wbxml:attr-{page}-{token:02X}"


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_XML_SIZE",
    "LANGUAGE_NAMES",
    "MAX_INDENT",
    "TYPE_TO_WBXML",
    "TYPE_TO_XML",
    "WBXML_NS",
    "check_indent",
    "check_language",
    "decode_xml_input",
    "detect_language",
    "encode_options",
    "escape_attr",
    "escape_text",
    "language_named",
    "opaque_as_text",
    "parse_charset",
    "parse_public_id",
    "parse_wbxml_version",
    "prolog",
    "start_tag",
    "unknown_name_error",
    "unprefixed_attrs",
    "xml_text_safe",
]
