# _wbxml.pxd -- the C interface of syncml_codec.codec._wbxml, for the one
# extension above the codec that drives it: syncml_codec.model._fast (the
# model fast path reads WBXML with _Dec and writes it with _Enc, no element
# tree in between).  Everything else about the codec stays private to it.
#
# Cython needs a cdef class that another module cimports declared here in
# full (attributes and every cdef method), so _Input, _Dec, _Sink, _Frame
# and _Enc are declared here and their bodies live in the .pxi files.
# Module-level helpers are exported only through _wbxml_capi.pxi: the
# codec can change its internals as long as those few functions keep their
# meaning.

from cpython.object cimport PyObject

ctypedef unsigned char uchar

cdef enum:
    NLANG_MAX = 16
    NHASH = 512            # power of two, > 2 x the largest code page set
    K_PLAIN = 0            # element kinds (what their text means)
    K_DATA = 1
    K_TYPE = 2
    K_NONCE = 3
    K_WBXML = 4
    F_SYNCML = 0           # language families
    F_DEVINF = 1
    F_METINF = 2
    F_DDF = 3
    NS_WBXML = -1          # namespace id of the explicit wbxml: elements


cdef struct Buf:
    uchar* p
    Py_ssize_t n
    Py_ssize_t cap


cdef struct TagEnt:        # decoder: what a (language, page, token) names
    int defined
    int ns
    int kind
    const char* open_
    Py_ssize_t open_len
    const char* open_ns
    Py_ssize_t open_ns_len
    const char* empty
    Py_ssize_t empty_len
    const char* empty_ns
    Py_ssize_t empty_ns_len
    const char* close
    Py_ssize_t close_len
    PyObject* pyname
    int tid                # tag name id (same name, same id in every language)


cdef struct NameEnt:       # encoder: what a tag name is in a language
    const char* name
    Py_ssize_t len
    int page
    int token
    int kind


cdef struct ElemEnt:       # encoder: an open element
    Py_ssize_t pos         # tag byte; -1: a pending wbxml:ext / pi / opaque
    Py_ssize_t content
    int kind
    int pend               # 1 ext, 2 pi, 3 opaque


cdef class _Input:
    cdef Py_buffer view
    cdef bint held
    cdef object obj
    cdef const uchar* p
    cdef Py_ssize_t n


cdef class _Sink:
    cdef bint surrogates       # text with lone surrogates was written

    cdef int prolog(self, int lang) except -1
    cdef int start_known(self, TagEnt* e, bint content) except -1
    cdef int start_gen(self, str name, int ns, object attrs, bint content) except -1
    cdef int end(self) except -1
    cdef int text(self, const uchar* s, Py_ssize_t n) except -1
    cdef int text_str(self, str s) except -1
    cdef int opaque(self, const uchar* s, Py_ssize_t n) except -1
    cdef int begin_nested(self, _Dec sub) except -1
    cdef object mark(self)
    cdef int rollback(self, object m) except -1


cdef class _Dec:
    cdef object keep               # owns the bytes
    cdef const uchar* data
    cdef Py_ssize_t end, pos
    cdef bint strict
    cdef Py_ssize_t max_depth, depth0
    cdef object max_depth_obj
    cdef int lang                  # -1: unknown
    cdef const uchar* tbl
    cdef Py_ssize_t tbl_len
    cdef bint utf8
    cdef object codec
    cdef int width
    cdef int version
    cdef object charset
    cdef object public_id
    cdef bint public_id_text
    cdef Py_ssize_t expansion_left   # bytes the string table may still give out
    cdef Buf tmp

    cdef void setup(self, object keep, const uchar* data, Py_ssize_t n, bint strict,
                    Py_ssize_t max_depth, object max_depth_obj, Py_ssize_t depth0) noexcept
    cdef int u8(self) except -1
    cdef long long mb(self) except -1
    cdef int inline_string(self, Py_ssize_t tpos, const uchar** s, Py_ssize_t* n) except -1
    cdef int table_string(self, long long index, Py_ssize_t tpos, const uchar** s, Py_ssize_t* n) except -1
    cdef str text_py(self, const uchar* raw, Py_ssize_t n, Py_ssize_t tpos)
    cdef int text_in(self, _Sink h, const uchar* raw, Py_ssize_t n, Py_ssize_t tpos,
                     const uchar** out, Py_ssize_t* outn) except -1
    cdef int header(self) except -1
    cdef int emit_text(self, _Sink h, const uchar* s, Py_ssize_t n, int kind) except -1
    cdef int body(self, _Sink h, bint nested) except -1
    cdef int opaque(self, _Sink h, const uchar* raw, Py_ssize_t n, int kind, Py_ssize_t depth) except -1
    cdef bint nested(self, _Sink h, const uchar* raw, Py_ssize_t n, Py_ssize_t depth) except -1
    cdef dict attributes(self, Py_ssize_t tpos)
    cdef int pi(self, _Sink h, dict attrs, Py_ssize_t pos) except -1
    cdef int ext(self, _Sink h, int b, Py_ssize_t pos) except -1


cdef class _Frame:
    cdef int lang
    cdef bint text_pid
    cdef Buf body
    cdef Buf table
    cdef ElemEnt* st
    cdef Py_ssize_t depth, cap
    cdef int page
    cdef dict table_index
    cdef dict wanted
    cdef Py_ssize_t index
    cdef object pending_attrs
    cdef list pending_text

    cdef int push(self, Py_ssize_t pos, Py_ssize_t content, int kind, int pend) except -1


cdef class _Enc:
    cdef list frames
    cdef _Frame cur
    cdef int version
    cdef object mib
    cdef object codec
    cdef bint utf8
    cdef int width
    cdef bint string_table
    cdef bint text_pid
    cdef list counts           # counting pass: one dict per document
    cdef list wanted_all       # emitting pass with a string table
    cdef Py_ssize_t ndocs

    cdef void setup(self, tuple options, list counts) except *
    cdef _Frame new_frame(self, int lang, bint text_pid)
    cdef bytes encode_text(self, bytes key)
    cdef Py_ssize_t table_ref(self, _Frame f, bytes key) except -1
    cdef int set_wanted(self, _Frame f) except -1
    cdef int check_open(self, _Frame f, object name) except -1
    cdef int start_known(self, NameEnt* ent) except -1
    cdef int start_py(self, object name, object attrs) except -1
    cdef int wbxml_start(self, _Frame f, str name, object attrs) except -1
    cdef int attributes(self, _Frame f, object attrs) except -1
    cdef int end(self) except -1
    cdef int wbxml_end(self, _Frame f, int pend) except -1
    cdef int text_u8(self, const uchar* s, Py_ssize_t n, bint trusted) except -1
    cdef int text_py(self, str text) except -1
    cdef int text_obj(self, str text) except -1
    cdef int string_py(self, _Frame f, object value) except -1
    cdef int string(self, _Frame f, const uchar* s, Py_ssize_t n, bint trusted) except -1
    cdef int opaque(self, const uchar* s, Py_ssize_t n) except -1
    cdef int begin_nested(self, int lang) except -1
    cdef bytes finish(self, _Frame f)


# -- _wbxml_capi.pxi: what the codec exports besides these classes ---------------

cdef class _Source:
    """Something the encoder can encode: ``drive`` feeds it events
    (``enc.start_known`` / ``start_py`` / ``text_obj`` / ``opaque`` /
    ``end``); subclasses override it."""
    cdef int drive(self, _Enc enc) except -1

cdef _Input input_of(object data)
cdef _Dec open_document(_Input inp, object max_depth)
cdef TagEnt* tag_of(int lang, int page, int token) noexcept
cdef int tag_id(object name) noexcept
cdef int tag_count() noexcept
cdef NameEnt* name_of(int lang, object name) noexcept
cdef int family_of(int lang) noexcept
cdef int language_count() noexcept
cdef object language_at(int lang)
cdef object text_of(const uchar* s, Py_ssize_t n, int kind)
cdef object opaque_of(_Dec dec, const uchar* s, Py_ssize_t n, int kind, Py_ssize_t depth)
cdef bint is_utf8(const uchar* s, Py_ssize_t n) noexcept
cdef bint only_padding(const uchar* s, Py_ssize_t n) noexcept
cdef int language_index(object language) except -2
cdef bytes encode_source(int lang, object wbxml_version, object string_table, object public_id,
                         object charset, _Source src)
cdef int walk_child(_Enc enc, object child) except -1
cdef Py_ssize_t body_size(int lang, int* page, _Source src) except -1
