"""Pure-Python twin of the ``_wbxml`` extension (``src/syncml_codec/codec/_wbxml.pyx``).

Both implementations expose the surface in ``_wbxml.pyi`` and must agree
byte for byte on output and, for bad input, on the exception class and the
offset (the parity tests feed them the corpus and thousands of mutated
copies).  So this module is also the reference for the extension: change
both together.  What both need but is not hot lives once, outside the
twins: error texts in ``_messages.py``, the rare paths (attributes,
``wbxml:`` forms, literal names, other charsets) in ``_rare.py``, option
parsing and XML helpers in ``_common.py``.

The twin's own fast path (``_pywbxml/fast.py``, compact WBXML -> XML of the
common shape) is what keeps it at the pure-Python target: without it
WBXML -> XML measured 0.35x libwbxml, with it 0.76x (target 0.5x).

Decoding (WBXML -> events): one pass over the input, an explicit stack (no
recursion, so hostile nesting cannot exhaust the C stack), every length
checked against what is left before anything is allocated; linear time.
The events go to a handler that writes XML directly (``wbxml_to_xml``) or
builds a :class:`~syncml_codec.codec.tree.Document` (``decode``).

Encoding (events -> WBXML): a writer that drops the content bit of
elements that stay empty, switches code pages lazily and nests DevInf /
DDF documents as OPAQUE sub-documents.  It is driven either by a small,
hardened XML scanner (``xml_to_wbxml``) or by a tree walk (``encode``).
With a string table, a first pass counts strings: those used at least
twice (3 bytes or longer) go into the table, in order of first use.

Rules that decide the wire form (shared with the extension):
* the text of an ``<Item>``'s ``<Data>`` is OPAQUE; other text is a string;
* an element directly in ``<Data>`` named ``DevInf`` / ``MgmtTree`` starts a
  nested DevInf (version of the enclosing SyncML) / DDF 1.2 document;
* ``<Type>`` text ``application/vnd.syncml-devinf+xml`` (and ``dmtnds``)
  becomes ``+wbxml`` on encode and back on decode;
* OPAQUE outside ``<Data>``/``<NextNonce>`` that is valid text in the
  document charset decodes as text (Nokia 9210 sends strings as OPAQUE).
"""


from __future__ import annotations

from typing import Any

from . import _common as C
from ._pywbxml.decoder import _generic_xml, decode
from ._pywbxml.encoder import encode
from ._pywbxml.fast import _fast_xml
from ._pywbxml.scanner import xml_to_wbxml
from ._pywbxml.tokens import _as_bytes
from .codepages import Language

__all__ = ["IMPLEMENTATION", "decode", "encode", "wbxml_to_xml", "xml_to_wbxml"]

IMPLEMENTATION = "python"


def wbxml_to_xml(data: Any, *, pretty: bool = False, strict: bool = False,
                 max_depth: int = C.DEFAULT_MAX_DEPTH, indent: int = 2,
                 language: Language | str | None = None) -> bytes:
    """Decode WBXML straight to XML bytes (UTF-8).  ``pretty``: one element
    a line, indented ``indent`` spaces a level; ``language`` forces the code
    pages (a :class:`~.codepages.Language` or its name, as ``wbxml2xml -l``)."""
    data = _as_bytes(data)
    if not pretty and language is None:
        C.check_indent(indent)
        fast = _fast_xml(data, strict, max_depth)
        if fast is not None:
            return fast
    return _generic_xml(data, pretty, strict, max_depth, indent, language)


