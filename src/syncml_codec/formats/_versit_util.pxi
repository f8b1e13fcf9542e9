# _versit_util.pxi -- the low-level helpers of _versit.pyx: the growable C
# output buffer, zero-copy access to the caller's bytes, the one helper that
# makes objects without __init__ (validated slot offsets), and the byte
# scanners that mirror the regular expressions and bytes methods of the
# reference (formats/versit.py and formats/_versit_text.py).  Nothing here allocates Python objects
# except the results it is asked for and on error paths.

ctypedef unsigned char uchar


# -- the output buffer (a growable C byte buffer; freed by its owner) -----------
cdef struct Buf:
    uchar* p
    Py_ssize_t n
    Py_ssize_t cap


cdef int buf_put(Buf* b, const void* s, Py_ssize_t n) except -1:
    cdef Py_ssize_t cap
    cdef uchar* p
    if b.cap - b.n < n:
        if n > PY_SSIZE_T_MAX // 2 - b.n:
            raise MemoryError()
        cap = b.cap * 2 if b.cap else 256
        if cap < b.n + n:
            cap = b.n + n
        p = <uchar*>realloc(b.p, <size_t>cap)
        if p == NULL:
            raise MemoryError()
        b.p = p
        b.cap = cap
    if n > 0:
        memcpy(b.p + b.n, s, <size_t>n)
        b.n += n
    return 0


# -- objects made without __init__ -----------------------------------------------
# The one way this module makes and fills the objects of the classes it is
# given.  An object comes from its type's tp_alloc, zeroed, as
# ``object.__new__`` makes it; its ``__slots__`` are read and written through
# their own member descriptors with the C API behind them (PyMember_GetOne /
# PyMember_SetOne: what ``getattr`` / ``object.__setattr__`` end in for a
# slot, minus the attribute lookup).  ``_vs_slot`` accepts only a writable
# object slot (a T_OBJECT_EX member, not READONLY) from the class's own
# __dict__.  Every slot the class's ``__init__`` would set is set before the
# object leaves this module; the parity test compares every slot with the
# reference's, and test_versit_parity checks that classes without such slots
# are refused.
cdef extern from "structmember.h":
    ctypedef struct PyMemberDef:
        pass
    object PyMember_GetOne(const char* obj, PyMemberDef* m)
    int PyMember_SetOne(char* obj, PyMemberDef* m, object v) except -1

cdef extern from *:
    """
    static PyObject* vs_alloc(PyObject* tp) {
        return ((PyTypeObject*)tp)->tp_alloc((PyTypeObject*)tp, 0);
    }
    /* the member behind a descriptor of a writable object slot (T_OBJECT_EX), or NULL */
    static PyMemberDef* vs_member(PyObject* d) {
        PyMemberDef* m;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) return NULL;
        m = ((PyMemberDescrObject*)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return NULL;
        return m;
    }
    """
    object vs_alloc(object tp)
    PyMemberDef* vs_member(object d)


cdef inline object vs_get(object o, PyMemberDef* m):
    """``o.<slot>`` (AttributeError when unset)."""
    return PyMember_GetOne(<const char*><PyObject*>o, m)


cdef inline int vs_set(object o, PyMemberDef* m, object v) except -1:
    """``object.__setattr__(o, <slot>, v)``."""
    return PyMember_SetOne(<char*><PyObject*>o, m, v)


# -- the caller's bytes, without copying -------------------------------------------
cdef class _Input:
    """A bytes object directly, anything else through the buffer protocol
    (bytearray, memoryview...; released when this object goes)."""
    cdef Py_buffer view
    cdef bint held
    cdef object obj
    cdef const uchar* p
    cdef Py_ssize_t n

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)
            self.held = False


cdef _Input make_input(object data):
    cdef _Input inp = _Input.__new__(_Input)
    if type(data) is bytes:
        inp.obj = data
    else:
        try:  # not a buffer at all (a str...): Python's own TypeError
            PyObject_GetBuffer(data, &inp.view, PyBUF_SIMPLE)
        except BufferError:
            inp.obj = bytes(data)  # not contiguous: copy
        else:
            inp.held = True
            inp.obj = data
            inp.p = <const uchar*>inp.view.buf
            inp.n = inp.view.len
            return inp
    inp.p = <const uchar*>PyBytes_AS_STRING(inp.obj)
    inp.n = PyBytes_GET_SIZE(inp.obj)
    return inp


cdef inline bint _vs_space(uchar c) noexcept nogil:
    """bytes.strip()'s whitespace."""
    return c == 32 or (9 <= c <= 13)


cdef inline bint _vs_blank(const uchar* s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    while a < b:
        if not _vs_space(s[a]):
            return False
        a += 1
    return True


cdef inline Py_ssize_t _vs_body_end(const uchar* s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """End of ``s[a:b]`` without its line end (``_split_eol``)."""
    if b - a >= 2 and s[b - 2] == 13 and s[b - 1] == 10:
        return b - 2
    if b > a and s[b - 1] == 10:
        return b - 1
    return b


cdef inline uchar _vs_up(uchar c) noexcept nogil:
    return c - 32 if 97 <= c <= 122 else c


cdef bint _vs_ieq(const uchar* s, Py_ssize_t a, Py_ssize_t b, const char* upper) noexcept nogil:
    """``s[a:b].upper() == upper`` (ASCII)."""
    cdef Py_ssize_t k = 0
    while a < b:
        if upper[k] == 0 or _vs_up(s[a]) != <uchar>upper[k]:
            return False
        a += 1
        k += 1
    return upper[k] == 0


cdef inline bint _vs_name_char(uchar c) noexcept nogil:
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 95 or c == 45


cdef bint _vs_str_ieq(str s, const char* upper) except -1:
    """``s.upper() == upper``."""
    cdef Py_ssize_t n
    cdef const char* p
    if not PyUnicode_IS_ASCII(s):
        return s.upper() == (<bytes>upper).decode("ascii")
    p = PyUnicode_AsUTF8AndSize(s, &n)
    return _vs_ieq(<const uchar*>p, 0, n, upper)


cdef inline void _vs_trim(const uchar* s, Py_ssize_t* a, Py_ssize_t* b) noexcept nogil:
    """``s[a:b].strip()``: moves ``a`` and ``b`` past the whitespace."""
    while a[0] < b[0] and _vs_space(s[a[0]]):
        a[0] += 1
    while b[0] > a[0] and _vs_space(s[b[0] - 1]):
        b[0] -= 1


cdef inline object _vs_strip_ascii(const uchar* s, Py_ssize_t a, Py_ssize_t b):
    """``s[a:b].strip().decode("ascii", "replace")`` (``value_name``, _versit_rules.py)."""
    _vs_trim(s, &a, &b)
    return PyUnicode_DecodeASCII(<const char*>s + a, b - a, "replace")


cdef inline bytes _vs_bytes(const uchar* s, Py_ssize_t a, Py_ssize_t b):
    return PyBytes_FromStringAndSize(<const char*>s + a, b - a)


cdef bint _vs_b64_line(const uchar* s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """``_B64_LINE.fullmatch(body)``: ``[A-Za-z0-9+/=]+\\r?``."""
    cdef uchar c
    if b > a and s[b - 1] == 13:
        b -= 1
    if b <= a:
        return False
    while a < b:
        c = s[a]
        if not ((48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 43 or c == 47 or c == 61):
            return False
        a += 1
    return True


cdef inline bint _vs_hex(uchar c) noexcept nogil:
    return (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


cdef bint _vs_qp_bad(const uchar* s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """``_QP_BAD.search(value)``: an ``=`` not followed by two hex digits,
    a line end or the end of the value."""
    cdef const uchar* q
    while a < b:
        q = <const uchar*>memchr(s + a, 61, <size_t>(b - a))
        if q == NULL:
            return False
        a = q - s + 1
        if a == b:
            continue
        if s[a] == 10 or (s[a] == 13 and a + 1 < b and s[a + 1] == 10):
            continue
        if a + 1 < b and _vs_hex(s[a]) and _vs_hex(s[a + 1]):
            continue
        return True
    return False


cdef Py_ssize_t _vs_unquoted_colon(const uchar* s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """``unquoted_colon(s[a:b])`` (_versit_text.py) as an absolute index, or -1."""
    cdef bint quoted = False
    cdef Py_ssize_t k = a
    while k < b:
        if s[k] == 34:
            quoted = not quoted
        elif s[k] == 58 and not quoted:
            return k
        k += 1
    return -1


cdef Py_ssize_t _vs_find_colon(const uchar* s, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """``find_colon(s[a:b])`` as an absolute index, or -1."""
    cdef Py_ssize_t k = _vs_unquoted_colon(s, a, b)
    cdef const uchar* q
    if k >= 0:
        return k
    q = <const uchar*>memchr(s + a, 58, <size_t>(b - a))
    return -1 if q == NULL else q - s


cdef inline Py_ssize_t _vs_field_end(const uchar* s, Py_ssize_t a, Py_ssize_t b, uchar sep) noexcept nogil:
    """End of the field at ``a`` (``split_unquoted``: quotes toggle)."""
    cdef bint quoted = False
    while a < b:
        if s[a] == 34:
            quoted = not quoted
        elif s[a] == sep and not quoted:
            return a
        a += 1
    return b


cdef bytes _VS_CRLF = b"\r\n"
cdef bytes _VS_LF = b"\n"
cdef bytes _VS_NONE = b""


cdef inline bytes _vs_eol(const uchar* s, Py_ssize_t a, Py_ssize_t b):
    if b == a:
        return _VS_NONE
    if b - a == 2 and s[a] == 13:
        return _VS_CRLF
    if b - a == 1:
        return _VS_LF
    return _vs_bytes(s, a, b)


cdef PyMemberDef* _vs_slot(object cls, str name) except NULL:
    """The member of the ``__slots__`` entry ``name`` of ``cls``."""
    cdef PyMemberDef* m
    if not isinstance(cls, type) or name not in cls.__dict__:
        raise M.not_a_slot(cls, name)
    m = vs_member(cls.__dict__[name])
    if m == NULL:
        raise M.not_a_writable_slot(cls, name)
    return m
