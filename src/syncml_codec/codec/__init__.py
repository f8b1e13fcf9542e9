"""Layer 1: bytes <-> element trees.  WBXML (Cython extension or its
pure-Python twin) and XML (lxml)."""

from .codepages import LANGUAGES, Language
from .tree import Document, Element
from .wbxml import IMPLEMENTATION, decode, encode, wbxml_to_xml, xml_to_wbxml

__all__ = [
    "IMPLEMENTATION",
    "LANGUAGES",
    "Document",
    "Element",
    "Language",
    "decode",
    "encode",
    "wbxml_to_xml",
    "xml_to_wbxml",
]
