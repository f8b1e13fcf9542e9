# _wbxml_capi.pxi -- what the codec exports at C level (declared in
# _wbxml.pxd) to syncml_codec.model._fast, which reads WBXML straight into
# model objects and writes model objects as WBXML.  The codec knows nothing
# of the model: these are thin views of its own tables and one-call entry
# points into its decoder and encoder.  Plus the slot access the codec uses
# for its own classes (Element in the tree walk, the Versit classes).

cdef extern from *:
    """
    #include "structmember.h"
    static PyObject* smc_alloc(PyObject* tp) {
        return ((PyTypeObject*)tp)->tp_alloc((PyTypeObject*)tp, 0);
    }
    /* the offset of a writable object slot (T_OBJECT_EX), or -1 */
    static Py_ssize_t smc_member_offset(PyObject* d) {
        PyMemberDef* m;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) return -1;
        m = ((PyMemberDescrObject*)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return -1;
        return m->offset;
    }
    static inline PyObject* smc_get(PyObject* o, Py_ssize_t off) {
        return *(PyObject**)((char*)o + off);
    }
    static inline void smc_set(PyObject* o, Py_ssize_t off, PyObject* v) {
        PyObject** p = (PyObject**)((char*)o + off);
        PyObject* old = *p;
        Py_INCREF(v);
        *p = v;
        Py_XDECREF(old);
    }
    """
    object smc_alloc(object tp)
    Py_ssize_t smc_member_offset(object d)
    PyObject* smc_get(object o, Py_ssize_t off)
    void smc_set(object o, Py_ssize_t off, object v)


# Element's slots, read directly by the tree walk (-1: use getattr)
cdef Py_ssize_t _EL_TAG = -1, _EL_KIDS = -1, _EL_ATTRS = -1


cdef void _init_slots() except *:
    global _EL_TAG, _EL_KIDS, _EL_ATTRS
    offs = [smc_member_offset(Element.__dict__.get(n)) for n in ("tag", "children", "attrs")]
    if Element.__new__ is object.__new__ and min(offs) >= 0:
        _EL_TAG, _EL_KIDS, _EL_ATTRS = offs


cdef NameEnt* _name_ent(int li, object name) noexcept:
    cdef const char* u
    cdef Py_ssize_t un
    if type(name) is not str or not PyUnicode_IS_ASCII(name):
        return NULL
    u = PyUnicode_AsUTF8AndSize(name, &un)
    return name_lookup(li, <const uchar*>u, un)


# -- decoding -------------------------------------------------------------------------

cdef _Input input_of(object data):
    """The caller's bytes / bytearray / memoryview, held without a copy."""
    return make_input(data)


cdef _Dec open_document(_Input inp, object max_depth):
    """A lenient decoder positioned after the header (language, charset and
    string table read); raises WBXMLDecodeError like ``decode``."""
    cdef _Dec dec = _Dec.__new__(_Dec)
    dec.setup(inp, inp.p, inp.n, False, _limit(max_depth), max_depth, 0)
    dec.header()
    return dec


cdef TagEnt* tag_of(int lang, int page, int token) noexcept:
    """The tag a token names on a code page of language ``lang``, or NULL."""
    return tag_lookup(lang, page, token)


cdef int tag_id(object name) noexcept:
    """The id every language gives tag ``name`` (``TagEnt.tid``), or -1."""
    return _TAG_IDS.get(name, -1)


cdef int tag_count() noexcept:
    return len(_TAG_NAMES)


cdef NameEnt* name_of(int lang, object name) noexcept:
    """What tag ``name`` is in language ``lang`` (for the encoder), or NULL."""
    return _name_ent(lang, name)


cdef int family_of(int lang) noexcept:
    return _LINFO[lang].family


cdef int language_count() noexcept:
    return _NLANG


cdef object language_at(int lang):
    """The codepages.Language of a language index."""
    return _LANGS[lang]


cdef object text_of(const uchar* s, Py_ssize_t n, int kind):
    """A string of a UTF-8 document as the tree holds it (``_Dec.text_in``
    + ``emit_text``: Latin-1 bytes read as Latin-1, <Type> values mapped)."""
    if utf8_invalid(s, n) >= 0:  # device quirk "undeclared-latin1"
        return PyUnicode_DecodeLatin1(<const char*>s, n, NULL)
    if kind == K_TYPE:
        _type_match(_TYPE_XML, s, n, &s, &n)
    return PyUnicode_DecodeUTF8(<const char*>s, n, NULL)


cdef object opaque_of(_Dec dec, const uchar* s, Py_ssize_t n, int kind, Py_ssize_t depth):
    """OPAQUE data inside an element of ``kind``, ``depth`` elements deep,
    as the tree holds it: bytes, a str (device quirk "opaque-strings") or a
    nested DevInf / DDF Document -- the decoder's own ``_Dec.opaque``."""
    cdef _TreeSink h = _TreeSink()
    cdef object holder = Element("", [])
    h.stack.append(holder)
    dec.opaque(h, s, n, kind, depth)
    kids = holder.children
    return kids[0] if len(kids) == 1 else ""  # (empty opaque text gives no child)


cdef bint is_utf8(const uchar* s, Py_ssize_t n) noexcept:
    return utf8_invalid(s, n) < 0


cdef bint only_padding(const uchar* s, Py_ssize_t n) noexcept:
    """White space and NULs only (device quirk "trailing-padding")."""
    return padding_only(s, n)


# -- encoding -------------------------------------------------------------------------

cdef class _Source:
    """What ``_run`` encodes besides XML text and an Element tree."""

    cdef int drive(self, _Enc enc) except -1:
        raise NotImplementedError


cdef int language_index(object language) except -2:
    """The index of a codepages.Language (raises _Fallback for one the C
    tables do not know)."""
    return _lang_index(language)


cdef bytes encode_source(int lang, object wbxml_version, object string_table, object public_id,
                         object charset, _Source src):
    """The WBXML document of ``lang`` whose body ``src`` produces, with the
    options of ``encode``."""
    return _run(lang, _opts(wbxml_version, string_table, public_id, charset), None, src)


cdef int walk_child(_Enc enc, object child) except -1:
    """One child of an element tree (str, bytes, Element or Document)."""
    return _walk_child(enc, child)


cdef Py_ssize_t body_size(int lang, int* page, _Source src) except -1:
    """The bytes ``src`` adds to the body of a document of ``lang`` whose
    code page is ``page[0]`` (the encoder run with the defaults of
    ``encode``, counted: no header, no bytes object); ``page[0]`` becomes
    the code page in force after it."""
    cdef _Enc enc = _Enc.__new__(_Enc)
    cdef _Frame f
    enc.setup(_opts("1.3", False, "numeric", "utf-8"), None)
    f = enc.new_frame(lang, False)
    f.page = page[0]
    src.drive(enc)
    page[0] = f.page
    return f.body.n
