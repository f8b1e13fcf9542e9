"""syncml-codec: SyncML (OMA DS 1.0-1.2) in Python.

The codec layer converts between WBXML, XML and an element tree::

    >>> import syncml_codec
    >>> xml = b"<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr></SyncML>"
    >>> wbxml = syncml_codec.xml_to_wbxml(xml)
    >>> wbxml[:4].hex()
    '03a4016a'
    >>> syncml_codec.decode_wbxml(wbxml).root.find("SyncHdr").find("VerDTD").text
    '1.2'
"""

from . import _native, errors
from ._native import implementations
from .codec import LANGUAGES, Document, Element, Language
from .codec import decode as decode_wbxml
from .codec import encode as encode_wbxml
from .codec.detect import looks_like_wbxml, sniff_encoding
from .codec.wbxml import IMPLEMENTATION, wbxml_to_xml, xml_to_wbxml
from .codec.xml import parse_xml, write_xml
from .errors import (
    DecodeError,
    DevInfError,
    EncodeError,
    FormatError,
    PurePythonWarning,
    StructureError,
    SyncMLError,
    UnknownTokenError,
    UnsupportedFormatError,
    WBXMLDecodeError,
    XMLDecodeError,
)
from .model import Message

#: the version of this package
__version__ = "0.1.0"

__all__ = [
    "IMPLEMENTATION",
    "LANGUAGES",
    "DecodeError",
    "DevInfError",
    "Document",
    "Element",
    "EncodeError",
    "FormatError",
    "Language",
    "Message",
    "PurePythonWarning",
    "StructureError",
    "SyncMLError",
    "UnknownTokenError",
    "UnsupportedFormatError",
    "WBXMLDecodeError",
    "XMLDecodeError",
    "__version__",
    "decode_wbxml",
    "encode_wbxml",
    "errors",
    "implementations",
    "looks_like_wbxml",
    "parse_xml",
    "sniff_encoding",
    "wbxml_to_xml",
    "write_xml",
    "xml_to_wbxml",
]

# once, attributed to this module (so "-W ignore::RuntimeWarning:syncml_codec" silences it)
_native.warn_if_missing()
