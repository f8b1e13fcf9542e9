# _wbxml_util.pxi -- low-level helpers of the WBXML extension: the growable
# C byte buffer every output goes into, strict UTF-8 validation (as Python's
# decoder sees it), XML escaping of UTF-8 text, base64, mb_u_int32 writing,
# and zero-copy access to the caller's bytes / bytearray / memoryview.
# Nothing here allocates Python objects except on error paths.

cdef extern from "Python.h":
    Py_ssize_t PY_SSIZE_T_MAX
    bint PyUnicode_IS_ASCII(object)

# uchar and Buf are declared in _wbxml.pxd


cdef int buf_grow(Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need, cap
    cdef uchar* p
    if extra > PY_SSIZE_T_MAX // 2 - b.n:
        raise MemoryError()
    need = b.n + extra
    cap = b.cap * 2 if b.cap else 256
    if cap < need:
        cap = need
    p = <uchar*>realloc(b.p, <size_t>cap)
    if p == NULL:
        raise MemoryError()
    b.p = p
    b.cap = cap
    return 0


cdef void* grow_array(void* p, Py_ssize_t* cap, Py_ssize_t first, size_t item) except NULL:
    """The C array ``p`` of ``cap[0]`` items of ``item`` bytes, reallocated
    to twice that (``first`` items when empty); ``cap[0]`` follows.  On
    MemoryError ``p`` is left as it was (its owner still frees it)."""
    cdef Py_ssize_t n = cap[0] * 2 if cap[0] else first
    cdef void* q
    if n > PY_SSIZE_T_MAX // <Py_ssize_t>item:
        raise MemoryError()
    q = realloc(p, <size_t>n * item)
    if q == NULL:
        raise MemoryError()
    cap[0] = n
    return q


cdef inline int buf_put(Buf* b, const void* s, Py_ssize_t n) except -1:
    if b.cap - b.n < n:
        buf_grow(b, n)
    if n > 0:
        memcpy(b.p + b.n, s, <size_t>n)
        b.n += n
    return 0


cdef inline int buf_byte(Buf* b, uchar c) except -1:
    if b.n >= b.cap:
        buf_grow(b, 1)
    b.p[b.n] = c
    b.n += 1
    return 0


cdef inline int buf_bytes(Buf* b, bytes s) except -1:
    return buf_put(b, PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s))


cdef inline void buf_free(Buf* b) noexcept:
    free(b.p)
    b.p = NULL
    b.n = 0
    b.cap = 0


cdef int buf_mb(Buf* b, unsigned long long v) except -1:
    """Append ``v`` as a WBXML mb_u_int32 (7 bits a byte, most significant
    first; the twin's ``_mb`` for non-negative values)."""
    cdef uchar tmp[10]
    cdef int i = 9
    tmp[i] = <uchar>(v & 0x7F)
    v >>= 7
    while v:
        i -= 1
        tmp[i] = <uchar>((v & 0x7F) | 0x80)
        v >>= 7
    return buf_put(b, &tmp[i], 10 - i)


cdef inline bytes buf_to_bytes(Buf* b):
    return PyBytes_FromStringAndSize(<char*>b.p, b.n)


# -- UTF-8 -------------------------------------------------------------------

cdef inline uint64_t _load64(const uchar* s) noexcept nogil:
    cdef uint64_t v
    memcpy(&v, s, 8)
    return v


cdef Py_ssize_t utf8_invalid(const uchar* s, Py_ssize_t n) noexcept nogil:
    """-1 when ``s[:n]`` decodes as strict UTF-8 (no surrogates, overlongs or
    code points past U+10FFFF, exactly Python's rules), else the offset of
    the first bad sequence."""
    cdef Py_ssize_t i = 0
    cdef uchar c, lo, hi
    cdef int k, need
    while i < n:
        while i + 8 <= n and (_load64(s + i) & 0x8080808080808080ULL) == 0:
            i += 8
        if i >= n:
            break
        c = s[i]
        if c < 0x80:
            i += 1
            continue
        lo = 0x80
        hi = 0xBF
        if c < 0xC2:
            return i
        elif c < 0xE0:
            need = 1
        elif c < 0xF0:
            need = 2
            if c == 0xE0:
                lo = 0xA0
            elif c == 0xED:
                hi = 0x9F
        elif c < 0xF5:
            need = 3
            if c == 0xF0:
                lo = 0x90
            elif c == 0xF4:
                hi = 0x8F
        else:
            return i
        if i + need >= n:
            return i
        if s[i + 1] < lo or s[i + 1] > hi:
            return i
        for k in range(2, need + 1):
            if s[i + k] < 0x80 or s[i + k] > 0xBF:
                return i
        i += need + 1
    return -1


cdef inline Py_ssize_t utf8_chars(const uchar* s, Py_ssize_t n) noexcept nogil:
    """Characters in UTF-8 (or surrogate-passing UTF-8) bytes."""
    cdef Py_ssize_t i, k = 0
    for i in range(n):
        if (s[i] & 0xC0) != 0x80:
            k += 1
    return k


cdef inline int utf8_put(uchar* out, unsigned long cp) noexcept nogil:
    if cp < 0x80:
        out[0] = <uchar>cp
        return 1
    if cp < 0x800:
        out[0] = <uchar>(0xC0 | (cp >> 6))
        out[1] = <uchar>(0x80 | (cp & 0x3F))
        return 2
    if cp < 0x10000:
        out[0] = <uchar>(0xE0 | (cp >> 12))
        out[1] = <uchar>(0x80 | ((cp >> 6) & 0x3F))
        out[2] = <uchar>(0x80 | (cp & 0x3F))
        return 3
    out[0] = <uchar>(0xF0 | (cp >> 18))
    out[1] = <uchar>(0x80 | ((cp >> 12) & 0x3F))
    out[2] = <uchar>(0x80 | ((cp >> 6) & 0x3F))
    out[3] = <uchar>(0x80 | (cp & 0x3F))
    return 4


# byte classes for text going out as XML: 0 copy, 1 markup (& < > CR),
# 2 control character, 3 0xEF (maybe U+FFFE / U+FFFF), 4 NUL
cdef uchar _ESC[256]
cdef uchar _HEX[16]


cdef void _init_util() noexcept:
    cdef int i
    for i in range(256):
        _ESC[i] = 0
    for i in range(1, 32):
        _ESC[i] = 2
    _ESC[9] = 0
    _ESC[10] = 0
    _ESC[13] = 1
    _ESC[ord('&')] = 1
    _ESC[ord('<')] = 1
    _ESC[ord('>')] = 1
    _ESC[0xEF] = 3
    _ESC[0] = 4
    for i in range(16):
        _HEX[i] = b"0123456789ABCDEF"[i]


cdef int buf_escape(Buf* b, const uchar* s, Py_ssize_t n) except -1:
    """Append text escaped as ``_common.escape_text`` does (``s`` is UTF-8,
    possibly with passed-through surrogates)."""
    cdef Py_ssize_t i = 0, start = 0
    cdef uchar c, cls
    cdef uchar ent[8]
    cdef int k
    if b.cap - b.n < n:
        buf_grow(b, n)
    while i < n:
        c = s[i]
        cls = _ESC[c]
        if cls == 0 or cls == 4:
            i += 1
            continue
        if cls == 3:
            if i + 2 < n and s[i + 1] == 0xBF and (s[i + 2] == 0xBE or s[i + 2] == 0xBF):
                buf_put(b, s + start, i - start)
                buf_put(b, b"&#xFFFE;" if s[i + 2] == 0xBE else b"&#xFFFF;", 8)
                i += 3
                start = i
            else:
                i += 1
            continue
        buf_put(b, s + start, i - start)
        if c == ord('&'):
            buf_put(b, b"&amp;", 5)
        elif c == ord('<'):
            buf_put(b, b"&lt;", 4)
        elif c == ord('>'):
            buf_put(b, b"&gt;", 4)
        elif c == 13:
            buf_put(b, b"&#13;", 5)
        else:
            ent[0] = ord('&')
            ent[1] = ord('#')
            ent[2] = ord('x')
            k = 3
            if c >= 16:
                ent[k] = _HEX[c >> 4]
                k += 1
            ent[k] = _HEX[c & 15]
            ent[k + 1] = ord(';')
            buf_put(b, ent, k + 2)
        i += 1
        start = i
    buf_put(b, s + start, n - start)
    return 0


cdef bint text_safe(const uchar* s, Py_ssize_t n) noexcept nogil:
    """``_common.xml_text_safe`` for valid UTF-8: no NUL, no control
    character XML cannot carry, no U+FFFE / U+FFFF."""
    cdef Py_ssize_t i
    cdef uchar cls
    for i in range(n):
        cls = _ESC[s[i]]
        if cls == 2 or cls == 4:
            return False
        if cls == 3 and i + 2 < n and s[i + 1] == 0xBF and (s[i + 2] == 0xBE or s[i + 2] == 0xBF):
            return False
    return True


cdef bint all_space(const uchar* s, Py_ssize_t n) noexcept nogil:
    """Only " \\t\\r\\n" (or nothing)."""
    cdef Py_ssize_t i
    for i in range(n):
        if s[i] != 32 and s[i] != 9 and s[i] != 13 and s[i] != 10:
            return False
    return True


cdef bint padding_only(const uchar* s, Py_ssize_t n) noexcept nogil:
    """Only " \\t\\r\\n" and NUL: what a device or a file leaves after the
    root element (device quirk "trailing-padding")."""
    cdef Py_ssize_t i
    for i in range(n):
        if s[i] != 32 and s[i] != 9 and s[i] != 13 and s[i] != 10 and s[i] != 0:
            return False
    return True


cdef Py_ssize_t find_bytes(const uchar* s, Py_ssize_t start, Py_ssize_t n,
                           const char* pat, Py_ssize_t m) noexcept nogil:
    """Index of the first ``pat`` in ``s[start:n]``, or -1 (linear: the
    patterns are at most 3 bytes)."""
    cdef const uchar* p
    cdef Py_ssize_t i = start
    while n - i >= m:
        p = <const uchar*>memchr(s + i, pat[0], <size_t>(n - i - m + 1))
        if p == NULL:
            return -1
        i = p - s
        if memcmp(p, pat, <size_t>m) == 0:
            return i
        i += 1
    return -1


cdef const char* _B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


cdef int buf_base64(Buf* b, const uchar* s, Py_ssize_t n) except -1:
    cdef Py_ssize_t i = 0
    cdef uchar* o
    cdef unsigned long v
    if n > (PY_SSIZE_T_MAX // 2) // 4 * 3:
        raise MemoryError()
    if b.cap - b.n < (n + 2) // 3 * 4:
        buf_grow(b, (n + 2) // 3 * 4)
    o = b.p + b.n
    while i + 3 <= n:
        v = (<unsigned long>s[i] << 16) | (<unsigned long>s[i + 1] << 8) | s[i + 2]
        o[0] = _B64[(v >> 18) & 63]
        o[1] = _B64[(v >> 12) & 63]
        o[2] = _B64[(v >> 6) & 63]
        o[3] = _B64[v & 63]
        o += 4
        i += 3
    if n - i == 1:
        v = <unsigned long>s[i] << 16
        o[0] = _B64[(v >> 18) & 63]
        o[1] = _B64[(v >> 12) & 63]
        o[2] = ord('=')
        o[3] = ord('=')
        o += 4
    elif n - i == 2:
        v = (<unsigned long>s[i] << 16) | (<unsigned long>s[i + 1] << 8)
        o[0] = _B64[(v >> 18) & 63]
        o[1] = _B64[(v >> 12) & 63]
        o[2] = _B64[(v >> 6) & 63]
        o[3] = ord('=')
        o += 4
    b.n = o - b.p
    return 0


# -- input buffers --------------------------------------------------------------

cdef class _Input:
    """The caller's bytes, held without copying (a bytes object directly, a
    bytearray / contiguous memoryview through the buffer protocol);
    attributes in _wbxml.pxd."""

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)
            self.held = False


cdef _Input make_input(object data):
    cdef _Input inp = _Input.__new__(_Input)
    if type(data) is bytes:
        inp.obj = data
    elif isinstance(data, (bytearray, memoryview)):
        try:
            PyObject_GetBuffer(data, &inp.view, PyBUF_SIMPLE)
        except BufferError:
            inp.obj = bytes(data)  # not contiguous: the twin copies too
        else:
            inp.held = True
            inp.obj = data
            inp.p = <const uchar*>inp.view.buf
            inp.n = inp.view.len
            return inp
    else:
        raise TypeError(M.not_bytes(data))
    inp.p = <const uchar*>PyBytes_AS_STRING(inp.obj)
    inp.n = PyBytes_GET_SIZE(inp.obj)
    return inp


cdef bytes input_bytes(_Input inp):
    if type(inp.obj) is bytes:
        return inp.obj
    return PyBytes_FromStringAndSize(<const char*>inp.p, inp.n)
