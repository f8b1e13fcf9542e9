# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Cython WBXML codec for SyncML, built as ``syncml_codec.codec._wbxml``.

Why it exists: speed.  Its hot paths are ports of the pure-Python twin
(``syncml_codec.codec._wbxml_py`` and ``_pywbxml/``), which stays the
reference: for every input both return identical bytes (equal trees from
``decode``) or raise the same exception class, at the same WBXML offset or
XML line.  Change both together.  What is not hot is not ported: every
error text comes from ``_messages.py``, and the rare paths (attribute
lists, ``wbxml:`` elements and extension tokens, literal names, charsets
other than UTF-8, option parsing, prefixed XML attributes) are the Python
functions in ``_rare.py`` and ``_common.py`` that the twin calls too.

Invariants and complexity:

* Decoding (``_wbxml_decode.pxi``) reads the input in place (bytes, or the
  buffer of a bytearray / memoryview), checks every length against what is
  left before using it (mb_u_int32 at most 5 bytes and 32 bits, string
  table offsets, OPAQUE lengths), keeps the open elements in a C stack
  bounded by ``max_depth`` and never recurses except into one nested
  DevInf / DDF document (which cannot nest again).  Linear in the input
  (plus what the output repeats from the string table).
* XML output (``_wbxml_sinks.pxi``) goes into a malloc'ed buffer using
  tag bytes precomputed per (language, page, token); text is UTF-8
  checked and escaped in C.  Every C buffer belongs to an object whose
  deallocation frees it (or to a try/finally), so exceptions cannot leak
  them.  (A second, tighter loop for the common shape used to come first;
  without it WBXML->XML measured 11x libwbxml instead of 15x, well above
  the 5x target, so there is one decoder here, not two.)
* Encoding (``_wbxml_scan.pxi`` + ``_wbxml_encode.pxi``) scans UTF-8 XML
  bytes in C (other encodings are transcoded first), looks names up in a
  per-language C hash and writes WBXML into C buffers, clearing the content
  bit of elements that stay empty.  With a string table the document is
  scanned twice, like the twin: strings used twice or more (3+ characters)
  go into the table in order of first use.
* ``encode`` walks the Element tree in C (``_wbxml_walk.pxi``), with an
  explicit stack like ``tree.events``, whose events it reproduces (driving
  the encoder from ``tree.events`` itself measured five times slower).
* The rare paths read WBXML through ``_Reader`` (``_rare.Reader`` over the
  C decoder); a document in a language the tables do not know, or XML that
  decodes to lone surrogates, is handed to the twin.
* The C interface (``_wbxml.pxd``, ``_wbxml_capi.pxi``): the decoder and
  encoder classes and a few entry points, cimported by
  ``syncml_codec.model._fast`` (WBXML straight into model objects and
  back).  This module never imports the model.
"""

cimport cython
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy, memset
from libc.stdint cimport uint32_t, uint64_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.object cimport PyObject
from cpython.list cimport PyList_AsTuple
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_DecodeLatin1, PyUnicode_DecodeUTF8

import base64
import math

from syncml_codec.errors import EncodeError, UnknownTokenError, WBXMLDecodeError, XMLDecodeError
from syncml_codec.codec import _common as C
from syncml_codec.codec import _messages as M
from syncml_codec.codec import _rare as R
from syncml_codec.codec.codepages import (
    DDF12,
    DEVINF12,
    DEVINF_FOR_SYNCML,
    LANGUAGES,
    METINF12,
    SYNCML12,
    WBXML_NS,
    language_by_public_id,
    language_by_xml_public_id,
    terminator_width,
)
from syncml_codec.codec.tree import Document, Element
from syncml_codec.codec._pywbxml.tokens import _guess_language as _py_guess_language
from syncml_codec.codec._pywbxml.tokens import _kind as _py_kind

__all__ = ["IMPLEMENTATION", "decode", "encode", "wbxml_to_xml", "xml_to_wbxml"]

IMPLEMENTATION = "cython"

include "_wbxml_util.pxi"
include "_wbxml_tables.pxi"
include "_wbxml_sinks.pxi"
include "_wbxml_decode.pxi"
include "_wbxml_encode.pxi"
include "_wbxml_scan.pxi"
include "_wbxml_walk.pxi"
include "_wbxml_capi.pxi"    # the C interface model._fast cimports (_wbxml.pxd)

_init_util()
_init_scan()
_init_tables()
_init_slots()

_ENCODING_DECL = C._ENCODING_DECL
_OPT_CACHE = {}


cdef tuple _opts(object wbxml_version, object string_table, object public_id, object charset):
    """``encoder._options``, cached for the usual string arguments."""
    if type(wbxml_version) is str and type(public_id) is str and type(charset) is str:
        key = (wbxml_version, public_id, charset)
        r = _OPT_CACHE.get(key)
        if r is None:
            r = C.encode_options(wbxml_version, False, public_id, charset)
            if len(_OPT_CACHE) < 256:
                _OPT_CACHE[key] = r
        return (r[0], r[1], r[2], bool(string_table), r[4])
    return C.encode_options(wbxml_version, string_table, public_id, charset)


cdef Py_ssize_t _limit(object max_depth) except? -1:
    """``max_depth`` as a C bound that compares with depths like the twin's
    Python comparison does."""
    cdef Py_ssize_t big = PY_SSIZE_T_MAX // 4  # no depth arithmetic can overflow
    if isinstance(max_depth, float) and math.isfinite(max_depth):
        max_depth = math.ceil(max_depth)
    elif isinstance(max_depth, float):
        return big if max_depth > 0 else -big
    max_depth = int(max_depth)
    if max_depth > big:
        return big
    if max_depth < -big:
        return -big
    return max_depth


cdef _Dec _decoder(_Input inp, object strict, object max_depth, object language):
    cdef _Dec dec = _Dec.__new__(_Dec)
    cdef int forced = -1
    if language is not None:
        forced = _lang_index(C.check_language(language))  # before any work, as the twin
    dec.setup(inp, inp.p, inp.n, bool(strict), _limit(max_depth), max_depth, 0)
    dec.header()
    if forced >= 0:
        dec.lang = forced  # as wbxml2xml -l: whatever the public ID says
    return dec


def decode(data, *, strict=False, max_depth=256, language=None):
    """Decode a WBXML document into a :class:`Document`."""
    cdef _Input inp = make_input(data)
    cdef _Dec dec = _decoder(inp, strict, max_depth, language)
    cdef _TreeSink h = _TreeSink()
    h.doc = Document(_LANGS[dec.lang] if dec.lang >= 0 else SYNCML12, Element(""),
                     wbxml_version=dec.version, charset=dec.charset,
                     public_id_text=dec.public_id_text)
    dec.body(h, False)
    return h.doc


def wbxml_to_xml(data, *, pretty=False, strict=False, max_depth=256, indent=2, language=None):
    """Decode WBXML straight to XML bytes (UTF-8)."""
    cdef Py_ssize_t step = C.check_indent(indent)
    cdef _Input inp = make_input(data)
    cdef _Dec dec = _decoder(inp, strict, max_depth, language)
    cdef _XmlSink h = _XmlSink()
    h.pretty = bool(pretty)
    h.step = step
    buf_grow(&h.out, 4 * inp.n + 256 if inp.n < (1 << 18) else (1 << 20))  # grows as needed
    if dec.lang >= 0:
        h.prolog(dec.lang)
    dec.body(h, False)
    return h.result()


cdef int _drive(_Enc enc, _Scan sc, object root) except -1:
    if sc is not None:
        return sc.drive(enc)
    if isinstance(root, _Source):
        return (<_Source>root).drive(enc)
    return _walk(enc, root)


cdef bytes _run(int lang, tuple options, _Scan sc, object root):
    cdef _Enc counter, enc
    cdef _Frame f
    cdef list all_counts = None
    if options[3]:
        all_counts = []
        counter = _Enc.__new__(_Enc)
        counter.setup(options, all_counts)
        counter.new_frame(lang, options[4])
        _drive(counter, sc, root)
    enc = _Enc.__new__(_Enc)
    enc.setup(options, None)
    f = enc.new_frame(lang, options[4])
    if all_counts is not None:
        enc.wanted_all = all_counts
        enc.set_wanted(f)
    _drive(enc, sc, root)
    return enc.finish(f)


def encode(doc, *, wbxml_version="1.3", string_table=False, public_id="numeric", charset="utf-8"):
    """Encode a :class:`Document` as WBXML."""
    if not isinstance(doc, Document):
        raise TypeError(M.not_a_document(doc))
    options = _opts(wbxml_version, string_table, public_id, charset)
    try:
        return _run(_lang_index(doc.language), options, None, doc.root)
    except _Fallback:
        from syncml_codec.codec import _wbxml_py
        return _wbxml_py.encode(doc, wbxml_version=wbxml_version, string_table=string_table,
                                public_id=public_id, charset=charset)


def xml_to_wbxml(data, *, string_table=False, wbxml_version="1.3", public_id="numeric",
                 charset="utf-8", max_depth=256, max_size=67108864):
    """Encode SyncML XML straight to WBXML."""
    cdef tuple options = _opts(wbxml_version, string_table, public_id, charset)
    cdef _Input inp = make_input(data)
    cdef const uchar* s = inp.p
    cdef Py_ssize_t n = inp.n
    cdef object keep = inp
    cdef bint utf8 = True
    cdef _Scan sc
    cdef bytes u
    if n > max_size:
        C.decode_xml_input(input_bytes(inp), max_size)  # raises the size error
    if n >= 3 and s[0] == 0xEF and s[1] == 0xBB and s[2] == 0xBF:
        s += 3
        n -= 3
    elif n >= 2 and ((s[0] == 0xFF and s[1] == 0xFE) or (s[0] == 0xFE and s[1] == 0xFF)):
        utf8 = False
    elif n >= 5 and memcmp(s, b"<?xml", 5) == 0:
        m = _ENCODING_DECL.match(inp.obj)
        if m is not None and m.group(1).decode("ascii").lower() != "utf-8":
            utf8 = False
    if not utf8 or utf8_invalid(s, n) >= 0:
        text = C.decode_xml_input(input_bytes(inp), max_size)  # raises the twin's errors
        try:
            u = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (UTF-7 ...): the twin's rare path
            from syncml_codec.codec import _wbxml_py
            return _wbxml_py.xml_to_wbxml(data, string_table=string_table, wbxml_version=wbxml_version,
                                          public_id=public_id, charset=charset, max_depth=max_depth,
                                          max_size=max_size)
        keep = u
        s = <const uchar*>PyBytes_AS_STRING(u)
        n = PyBytes_GET_SIZE(u)
    sc = _Scan.__new__(_Scan)
    sc.keep = keep
    sc.s = s
    sc.n = n
    sc.max_depth = _limit(max_depth)
    sc.max_depth_obj = max_depth
    sc.prolog()
    return _run(sc.language(), options, sc, None)
