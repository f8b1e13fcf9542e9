"""Layer 1: bytes <-> element trees.  WBXML (Cython extension or its
pure-Python twin) and XML (lxml); and the one binary SyncML message that is
no tree, the Data Sync Notification of server-alerted sync (:mod:`.san`)."""

from . import san
from .codepages import LANGUAGES, Language
from .san import Notification, SyncAlert, looks_like_notification
from .tree import Document, Element
from .wbxml import IMPLEMENTATION, TokenTrace, decode, encode, trace_tokens, wbxml_to_xml, xml_to_wbxml

__all__ = [
    "IMPLEMENTATION",
    "LANGUAGES",
    "Document",
    "Element",
    "Language",
    "Notification",
    "SyncAlert",
    "TokenTrace",
    "decode",
    "encode",
    "looks_like_notification",
    "san",
    "trace_tokens",
    "wbxml_to_xml",
    "xml_to_wbxml",
]
