"""Every error text the two WBXML implementations raise, in one place.

The Cython extension and the pure-Python twin must raise the same exception
with the same message at the same offset (the parity tests compare them), so
neither writes its own text: fixed messages are constants here, messages
with values are small functions.  Both call these only on error paths, so
the extra lookup costs nothing on the hot paths.  Change a message here and
both implementations follow.
"""

from __future__ import annotations

from typing import Any

# -- input and options ----------------------------------------------------------


def not_bytes(data: Any) -> str:
    return f"expected bytes, bytearray or memoryview, not {type(data).__name__}"


def not_a_document(doc: Any) -> str:
    return f"expected a Document, not {type(doc).__name__}"


def bad_child(child: Any) -> str:
    return f"an element child cannot be a {type(child).__name__}"


# -- WBXML input (WBXMLDecodeError / UnknownTokenError, with the offset) --------

END_OF_DATA = "unexpected end of data"
END_IN_MB = "unexpected end of data in a multi-byte integer"
MB_OVER_32_BITS = "multi-byte integer does not fit in 32 bits"
MB_OVER_5_BYTES = "multi-byte integer longer than 5 bytes"
INLINE_UNTERMINATED = "inline string has no terminator"
NO_ROOT = "document has no root element"  # also XML input
END_IN_ELEMENT = "unexpected end of data inside an element"
PI_OUTSIDE_ROOT = "processing instruction outside the root element"
LITERAL_ROOT_UNKNOWN = "unknown public ID and a literal root element"
NOT_NESTED_DOCUMENT = "not a nested DevInf or DDF document"
DATA_AFTER_ROOT = "unexpected data after the root element"
DATA_AFTER_NESTED_ROOT = "unexpected data after the nested root element"
PI_TARGETS = "processing instruction without exactly one target"


def table_ref_out_of_range(index: int, size: int) -> str:
    return f"string table reference {index} is out of range (the table has {size} bytes)"


def not_valid_text(codec: str) -> str:
    return f"string is not valid {codec}"


def unsupported_version(version: int) -> str:
    return f"unsupported WBXML version byte 0x{version:02X}"


def unsupported_charset(mib: int) -> str:
    return f"unsupported charset (IANA MIBenum {mib})"


def table_too_long(n: int, left: int) -> str:
    return f"string table length {n} exceeds the remaining {left} bytes"


def opaque_too_long(n: int, left: int) -> str:
    return f"opaque length {n} exceeds the remaining {left} bytes"


def entity_not_char(cp: int) -> str:
    return f"entity {cp} is not a character"


def too_deep(max_depth: Any) -> str:  # also XML input
    return f"elements nested deeper than {max_depth}"


def literal_tag_name(name: str) -> str:
    return f"literal tag name {name!r} is not an XML name"


def cannot_start_element(b: int) -> str:
    return f"token 0x{b:02X} cannot start an element"


def unknown_root(public_id: int, token: int, page: int) -> str:
    return f"unknown public ID {public_id:#x} and unknown root token 0x{token:02X} on page {page}"


def unknown_tag(token: int, page: int, family: str, version: str) -> str:
    return f"tag token 0x{token:02X} is not defined on code page {page} of {family} {version}"


def literal_attr_name(name: str) -> str:
    return f"literal attribute name {name!r} is not an XML name"


def unknown_attr_token(b: int, page: int) -> str:
    return f"attribute token 0x{b:02X} is not defined on attribute page {page}"


def value_before_name(b: int) -> str:
    return f"attribute value token 0x{b:02X} before any attribute name"


def attr_value_token(b: int) -> str:
    return f"attribute value token 0x{b:02X}: SyncML defines no attribute values"


def not_in_attr_list(b: int) -> str:
    return f"token 0x{b:02X} cannot appear in an attribute list"


def ext_token(b: int) -> str:
    return f"extension token 0x{b:02X} has no meaning in SyncML"


# -- encoding (EncodeError) -----------------------------------------------------

TEXT_OUTSIDE_ROOT = "text outside the root element"
OPAQUE_OUTSIDE_ROOT = "opaque data outside the root element"
NUL_IN_STRING = "a WBXML string cannot hold U+0000"
OPEN_AT_END = "document ended with open elements"
WBXML_TAG_ATTRS = "<wbxml:tag> needs page and token attributes"
OPAQUE_NOT_BASE64 = "<wbxml:opaque> does not hold valid base64"
EXT_ATTRS = "<wbxml:ext> needs kind and n attributes"
EXT_KIND = "<wbxml:ext> kind must be i, t or b and n 0, 1 or 2"
EXT_INDEX = "<wbxml:ext kind='t'> needs an index attribute"
PI_TARGET = "<wbxml:pi> needs a target attribute"


def not_in_charset(ch: str, codec: str) -> str:
    return f"{ch!r} cannot be written in {codec}"


def not_inside(name: str, parent: str) -> str:
    return f"<{name}> cannot be inside <{parent}>"


def no_opaque_in(parent: str) -> str:
    return f"<{parent}> cannot hold opaque data"


def wbxml_tag_range(page: int, token: int) -> str:
    return f"<wbxml:tag> page {page} / token {token:#x} out of range"


def unknown_wbxml_element(name: str) -> str:
    return f"<{name}> is not an element syncml-codec knows"


def attr_token_form(key: str) -> str:
    return f"attribute {key!r} is not of the form wbxml:attr-PAGE-TOKEN"


def attr_without_token(key: str) -> str:
    return (f"attribute {key!r} has no WBXML token in SyncML; "
            "encode with string_table=True to send it as a literal")


# -- XML input (XMLDecodeError, with line and column) ---------------------------

DTD_SUBSET = "DTD internal subsets are not supported (entity declarations are refused)"
MALFORMED_DOCTYPE = "malformed DOCTYPE"
MALFORMED_ROOT_TAG = "malformed root element start tag"
MALFORMED_START_TAG = "malformed start tag"
MALFORMED_END_TAG = "malformed end tag"
TEXT_BEFORE_ROOT = "text before the root element"
TEXT_AFTER_ROOT = "text after the root element"
CONTENT_AFTER_ROOT = "content after the root element"
CDATA_OUTSIDE_ROOT = "CDATA outside the root element"
MARKUP_IN_BODY = "markup declarations are not allowed in the body"
BARE_AMPERSAND = "'&' that does not start a reference"


def unterminated(what: str) -> str:
    return f"unterminated {what}"


def char_ref_not_char(ref: str) -> str:
    return f"character reference &{ref}; is not a character"


def undefined_entity(ref: str) -> str:
    return f"undefined entity &{ref}; (entities are not expanded)"


def duplicate_attr(key: str) -> str:
    return f"duplicate attribute {key!r}"


def end_inside(qname: str) -> str:
    return f"unexpected end of document inside <{qname}>"


def end_without_start(name: str) -> str:
    return f"end tag </{name}> without a start tag"


def end_mismatch(name: str, open_name: str) -> str:
    return f"end tag </{name}> does not match <{open_name}>"


def prefix_not_declared(prefix: str) -> str:
    return f"namespace prefix {prefix!r} is not declared"
