# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The Versit (vCard, vCalendar/iCalendar, vNote) tokenizer and serializer in
C, built as ``syncml_codec.formats._versit``: a port of
``syncml_codec.formats.versit`` (``_tokenize`` + ``_parse_items_py`` +
``_serialize_items_py``), which stays the reference.  For every input both
build equal trees (same objects of the classes passed in, same raw bytes,
line numbers and versions) or raise the same FormatError (message, line,
property).  Change both together; tests/formats/test_versit_parity.py checks
them on the corpus and on mutated copies.

This module serves the formats layer only and imports two modules of it,
written once for both implementations: ``formats._versit_messages`` (every
error it raises, called on error paths only) and ``formats._versit_rules``
(the rules that are not hot: a component name that is not ASCII, text
outside any item, the default version of an item).  ``formats.versit``
hands down its own classes and head parser (``VersitCodec(ContentLine,
RawLine, Component, parse_head, max_depth)``, the msgspec ``Decoder(type)``
pattern), so the C code never looks a name up.

How: the physical line starts are found once with memchr; logical lines
are ranges of the input, so a folded value costs no copies (the twin grows
a bytes object).  The head ``[group.]name(;param)*`` is split in C when it
is plain ASCII on one line with a valid name; anything else (folds in the
head, 8-bit bytes, spaces around the name) is handed to the twin's
``parse_head_bytes`` and the line's ``encoding`` property, so Unicode
case rules stay Python's.  Objects are made without calling ``__init__``
(tp_alloc, then their slots set through PyMember_SetOne, the C API behind
a slot's descriptor; ``_vs_slot`` and ``vs_set`` in ``_versit_util.pxi``):
what makes this fast.  Linear in the input, nesting bounded by
``max_depth``.  (``wraparound`` is off in this module: no negative
indexing.)
"""

cimport cython
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_DecodeASCII, PyUnicode_DecodeLatin1

from syncml_codec.formats import _versit_messages as M
from syncml_codec.formats import _versit_rules as R

__all__ = ["IMPLEMENTATION", "VersitCodec"]

IMPLEMENTATION = "cython"

cdef extern from "Python.h":
    Py_ssize_t PY_SSIZE_T_MAX
    bint PyUnicode_IS_ASCII(object)
    int PyGC_Disable()
    int PyGC_Enable()

include "_versit_util.pxi"   # buffer, input, slot helper, byte scanners


cdef enum:
    VS_OTHER = 0
    VS_BEGIN = 1
    VS_END = 2


@cython.final
cdef class VersitCodec:
    """The C tokenizer/serializer for the classes of ``formats.versit``:
    ``VersitCodec(ContentLine, RawLine, Component, parse_head, max_depth)``
    where ``parse_head(head: bytes)`` is the twin's head parser (used for
    heads the C path leaves alone)."""

    cdef object cl_cls, raw_cls, comp_cls, parse_head, max_depth_obj
    cdef Py_ssize_t max_depth
    # the slots of the three classes (see _vs_slot)
    cdef PyMemberDef *cl_head, *cl_group, *cl_name, *cl_params, *cl_value_raw, *cl_eol, *cl_lineno
    cdef PyMemberDef *cl_version, *cl_value
    cdef PyMemberDef *rl_raw, *rl_lineno
    cdef PyMemberDef *co_begin, *co_name, *co_children, *co_end, *co_version, *co_leading, *co_trailing

    def __init__(self, content_line, raw_line, component, parse_head, max_depth):
        self.cl_cls, self.raw_cls, self.comp_cls = content_line, raw_line, component
        self.parse_head = parse_head
        self.max_depth = max_depth
        self.cl_head = _vs_slot(content_line, "_head")
        self.cl_group = _vs_slot(content_line, "group")
        self.cl_name = _vs_slot(content_line, "name")
        self.cl_params = _vs_slot(content_line, "params")
        self.cl_value_raw = _vs_slot(content_line, "value_raw")
        self.cl_eol = _vs_slot(content_line, "eol")
        self.cl_lineno = _vs_slot(content_line, "lineno")
        self.cl_version = _vs_slot(content_line, "version")
        self.cl_value = _vs_slot(content_line, "_value")
        self.rl_raw = _vs_slot(raw_line, "raw")
        self.rl_lineno = _vs_slot(raw_line, "lineno")
        self.co_begin = _vs_slot(component, "begin")
        self.co_name = _vs_slot(component, "name")
        self.co_children = _vs_slot(component, "children")
        self.co_end = _vs_slot(component, "end")
        self.co_version = _vs_slot(component, "version")
        self.co_leading = _vs_slot(component, "leading")
        self.co_trailing = _vs_slot(component, "trailing")

    # -- objects, made like their __init__ would -------------------------
    cdef object _raw_line(self, const uchar* s, Py_ssize_t a, Py_ssize_t b, Py_ssize_t lineno):
        cdef object o = vs_alloc(self.raw_cls)
        vs_set(o, self.rl_raw, _vs_bytes(s, a, b))
        vs_set(o, self.rl_lineno, lineno)
        return o

    cdef object _component(self, object begin, object name):
        cdef object o = vs_alloc(self.comp_cls)
        vs_set(o, self.co_begin, begin)
        vs_set(o, self.co_name, name)
        vs_set(o, self.co_children, [])
        vs_set(o, self.co_end, None)
        vs_set(o, self.co_version, None)
        vs_set(o, self.co_leading, b"")
        vs_set(o, self.co_trailing, b"")
        return o

    cdef inline object _get(self, object o, PyMemberDef* m):
        return vs_get(o, m)

    # -- parsing -----------------------------------------------------------
    def parse(self, data, *, lenient=False, version=None):
        """``parse_items(data, lenient=..., version=...)``."""
        cdef _Input inp = make_input(data)
        cdef const uchar* s = inp.p
        cdef Py_ssize_t n = inp.n
        cdef Py_ssize_t* ls = NULL
        cdef Py_ssize_t nl = 0, base = 0, k, cap
        cdef const uchar* q
        cdef int gc_was_enabled
        if n >= 3 and s[0] == 0xEF and s[1] == 0xBB and s[2] == 0xBF:
            base = 3
        # physical lines: ls[i] .. ls[i + 1]
        cap = 2
        k = base
        while k < n:
            q = <const uchar*>memchr(s + k, 10, <size_t>(n - k))
            if q == NULL:
                break
            cap += 1
            k = q - s + 1
        ls = <Py_ssize_t*>malloc(<size_t>cap * sizeof(Py_ssize_t))
        if ls == NULL:
            raise MemoryError()
        # The tree is acyclic and only grows while we build it, so the cyclic
        # GC would just walk it again and again (4x the parse time for a
        # 10,000-contact file); it is paused until the tree is done.
        gc_was_enabled = PyGC_Disable()
        try:
            ls[0] = base
            k = base
            while k < n:
                q = <const uchar*>memchr(s + k, 10, <size_t>(n - k))
                k = n if q == NULL else q - s + 1
                nl += 1
                ls[nl] = k
            return self._parse(s, n, base, ls, nl, bool(lenient), version)
        finally:
            free(ls)
            if gc_was_enabled:
                PyGC_Enable()

    cdef list _parse(self, const uchar* s, Py_ssize_t n, Py_ssize_t base, Py_ssize_t* ls,
                     Py_ssize_t nl, bint lenient, object version):
        cdef list items = []
        cdef list stack = []
        cdef Py_ssize_t pstart = 0, pend = base  # pending: s[pstart:pend]
        cdef Py_ssize_t i = 0, start, a, be, colon, j, hb, f, fe, eq, ve, vend, last, x, y, lineno = 0
        cdef bint fast, qp, b64, kind_named
        cdef int kind
        cdef object line, group, name, params, parsed, enc, comp, top
        cdef list children
        while i < nl:
            start = i
            a = ls[i]
            be = _vs_body_end(s, a, ls[i + 1])
            if _vs_blank(s, a, be):
                lineno = i + 1
                if stack:
                    children = <list>self._get(stack[len(stack) - 1], self.co_children)
                    children.append(self._raw_line(s, a, ls[i + 1], i + 1))
                else:  # blank lines outside items go with what surrounds them
                    if pend == pstart:
                        pstart = a
                    pend = ls[i + 1]
                i += 1
                continue
            # the head may itself be folded: join indented lines until a ':' shows up
            i += 1
            # (a ':' inside a quoted parameter value, LINKREL="https://...", does not count)
            while (i < nl and (s[ls[i]] == 32 or s[ls[i]] == 9)
                   and (memchr(s + ls[i - 1], 58, <size_t>(ls[i] - ls[i - 1])) == NULL
                        or (memchr(s + a, 34, <size_t>(ls[i] - a)) != NULL
                            and _vs_unquoted_colon(s, a, ls[i]) < 0))):
                i += 1
            colon = _vs_find_colon(s, a, ls[i])
            if colon < 0:
                if not lenient:
                    raise M.no_colon(start + 1, _vs_bytes(s, a, be))
                for j in range(start, i):
                    lineno = j + 1
                    self._loose(s, ls[j], ls[j + 1], j + 1, stack, &pstart, &pend)
                continue
            # -- the head: [group.]name(;param)* --------------------------
            fast = True
            x = a
            while x < colon:
                if s[x] >= 0x80 or s[x] == 10:
                    fast = False
                    break
                x += 1
            group = None
            enc = None
            qp = b64 = False
            if fast:
                fe = _vs_field_end(s, a, colon, 59)
                # name: [A-Za-z0-9_-]+ with at most one '.' between two such runs
                x = a
                y = -1
                while x < fe:
                    if s[x] == 46:
                        if y >= 0:
                            fast = False
                            break
                        y = x
                    elif not _vs_name_char(s[x]):
                        fast = False
                        break
                    x += 1
                if fe == a or y == a or y == fe - 1:
                    fast = False
            if fast:
                if y >= 0:
                    group = PyUnicode_DecodeLatin1(<const char*>s + a, y - a, NULL)
                    name = PyUnicode_DecodeLatin1(<const char*>s + y + 1, fe - y - 1, NULL)
                    hb = y + 1
                else:
                    name = PyUnicode_DecodeLatin1(<const char*>s + a, fe - a, NULL)
                    hb = a
                kind = VS_OTHER
                if _vs_ieq(s, hb, fe, b"BEGIN"):
                    kind = VS_BEGIN
                elif _vs_ieq(s, hb, fe, b"END"):
                    kind = VS_END
                params = []
                kind_named = False  # encoding found
                f = fe
                while f < colon:
                    f += 1  # past the ';'
                    fe = _vs_field_end(s, f, colon, 59)
                    q = <const uchar*>memchr(s + f, 61, <size_t>(fe - f))
                    if q != NULL:
                        eq = q - s
                        params.append((PyUnicode_DecodeLatin1(<const char*>s + f, eq - f, NULL),
                                       PyUnicode_DecodeLatin1(<const char*>s + eq + 1, fe - eq - 1, NULL)))
                        if not kind_named and _vs_ieq(s, f, eq, b"ENCODING"):
                            kind_named = True
                            x = eq + 1
                            y = _vs_field_end(s, x, fe, 44)
                            while x < y and s[x] == 34:
                                x += 1
                            while y > x and s[y - 1] == 34:
                                y -= 1
                            qp = _vs_ieq(s, x, y, b"QUOTED-PRINTABLE")
                            b64 = _vs_ieq(s, x, y, b"BASE64")
                    else:
                        params.append((None, PyUnicode_DecodeLatin1(<const char*>s + f, fe - f, NULL)))
                        if not kind_named:
                            if _vs_ieq(s, f, fe, b"QUOTED-PRINTABLE"):
                                kind_named = qp = True
                            elif _vs_ieq(s, f, fe, b"BASE64"):
                                kind_named = b64 = True
                            elif _vs_ieq(s, f, fe, b"8BIT") or _vs_ieq(s, f, fe, b"7BIT"):
                                kind_named = True
                    f = fe
            else:
                parsed = self.parse_head(_vs_bytes(s, a, colon))
                if parsed is None:
                    if not lenient:
                        raise M.bad_property_name(start + 1, _vs_bytes(s, a, colon + 1))
                    for j in range(start, i):
                        lineno = j + 1
                        self._loose(s, ls[j], ls[j + 1], j + 1, stack, &pstart, &pend)
                    continue
                group, name, params = parsed
                kind = VS_BEGIN if name.upper() == "BEGIN" else VS_END if name.upper() == "END" else VS_OTHER
            line = vs_alloc(self.cl_cls)
            vs_set(line, self.cl_head, _vs_bytes(s, a, colon + 1))
            vs_set(line, self.cl_group, group)
            vs_set(line, self.cl_name, name)
            vs_set(line, self.cl_params, params)
            vs_set(line, self.cl_lineno, start + 1)
            vs_set(line, self.cl_version, None)
            vs_set(line, self.cl_value, None)
            if not fast:
                vs_set(line, self.cl_value_raw, b"")
                vs_set(line, self.cl_eol, b"")
                enc = line.encoding
                qp = enc == "QUOTED-PRINTABLE"
                b64 = enc == "BASE64"
            # -- the value: folds, blank lines before a fold, QP soft breaks, BASE64 blocks
            while i < nl:
                x = ls[i]
                if ls[i + 1] > x and (s[x] == 32 or s[x] == 9):
                    pass
                elif _vs_blank(s, x, ls[i + 1]) and self._blank_run_then_fold(s, ls, nl, i):
                    i = self._blank_run_then_fold(s, ls, nl, i) - 1
                else:
                    last = _vs_body_end(s, a, x)
                    if qp and last > a and s[last - 1] == 61 and not _vs_ieq(s, x, min(x + 4, ls[i + 1]), b"END:"):
                        pass
                    elif b64 and _vs_b64_line(s, x, _vs_body_end(s, x, ls[i + 1])):
                        pass
                    else:
                        break
                i += 1
            vend = ls[i]
            ve = _vs_body_end(s, colon + 1, vend)
            if b64 and ve < vend and i < nl and (
                    (ls[i + 1] - ls[i] == 2 and s[ls[i]] == 13 and s[ls[i] + 1] == 10)
                    or (ls[i + 1] - ls[i] == 1 and s[ls[i]] == 10)):
                i += 1
                vend = ls[i]
            vs_set(line, self.cl_value_raw, _vs_bytes(s, colon + 1, ve))
            vs_set(line, self.cl_eol, _vs_eol(s, ve, vend))
            if qp and not lenient and _vs_qp_bad(s, colon + 1, ve):
                raise M.bad_quoted_printable(start + 1, name)
            # -- nesting ---------------------------------------------------
            lineno = start + 1
            if kind == VS_BEGIN:
                comp = self._component(line, _vs_strip_ascii(s, colon + 1, ve))
                if len(stack) >= self.max_depth:
                    raise M.too_deep(lineno)
                if stack:
                    (<list>self._get(stack[len(stack) - 1], self.co_children)).append(comp)
                else:
                    vs_set(comp, self.co_leading, _vs_bytes(s, pstart, pend))
                    pstart = pend = a
                    items.append(comp)
                stack.append(comp)
            elif kind == VS_END and stack:
                top = stack[len(stack) - 1]
                if self._closes(s, colon + 1, ve, <str>self._get(top, self.co_name)):
                    vs_set(stack.pop(), self.co_end, line)
                elif lenient:
                    (<list>self._get(top, self.co_children)).append(self._raw_line(s, a, vend, lineno))
                else:
                    raise M.end_closes_other(lineno, R.value_name(_vs_bytes(s, colon + 1, ve)),
                                             self._get(top, self.co_name))
            elif stack:
                (<list>self._get(stack[len(stack) - 1], self.co_children)).append(line)
            elif lenient:
                if pend == pstart:
                    pstart = a
                pend = vend
            else:
                raise M.text_outside(lineno, name)
        if stack and not lenient:
            comp = stack[0]
            raise M.no_end(self._get(comp, self.co_name),
                           self._get(self._get(comp, self.co_begin), self.cl_lineno))
        if pend > pstart:
            if items:
                vs_set(items[len(items) - 1], self.co_trailing, _vs_bytes(s, pstart, pend))
            elif not lenient and R.has_text(_vs_bytes(s, pstart, pend)):
                raise M.no_begin_line(lineno)
        for comp in items:
            self._set_version(comp, R.default_version(self._get(comp, self.co_name), version))
        return items

    cdef int _loose(self, const uchar* s, Py_ssize_t a, Py_ssize_t b, Py_ssize_t lineno, list stack,
                    Py_ssize_t* pstart, Py_ssize_t* pend) except -1:
        """A lenient-mode line that is not a content line."""
        if stack:
            (<list>self._get(stack[len(stack) - 1], self.co_children)).append(self._raw_line(s, a, b, lineno))
        else:
            if pend[0] == pstart[0]:
                pstart[0] = a
            pend[0] = b
        return 0

    cdef Py_ssize_t _blank_run_then_fold(self, const uchar* s, Py_ssize_t* ls, Py_ssize_t nl,
                                         Py_ssize_t i) noexcept:
        cdef Py_ssize_t j = i
        while j < nl and _vs_blank(s, ls[j], ls[j + 1]):
            j += 1
        if j < nl and (s[ls[j]] == 32 or s[ls[j]] == 9):
            return j + 1
        return 0

    cdef bint _closes(self, const uchar* s, Py_ssize_t a, Py_ssize_t b, str top) except -1:
        """``closes(s[a:b], top)`` (_versit_rules.py): in C when ``top`` is ASCII."""
        cdef Py_ssize_t n, k
        cdef const char* p
        _vs_trim(s, &a, &b)
        if PyUnicode_IS_ASCII(top):
            p = PyUnicode_AsUTF8AndSize(top, &n)
            if n != b - a:
                return False
            for k in range(n):
                if s[a + k] >= 0x80 or _vs_up(s[a + k]) != _vs_up(<uchar>p[k]):
                    return False
            return True
        return R.closes(_vs_bytes(s, a, b), top)

    cdef int _set_version(self, object comp, object inherited) except -1:
        cdef list children = <list>self._get(comp, self.co_children)
        cdef object version = inherited, child, end
        cdef bytes raw
        for child in children:
            if type(child) is self.cl_cls and _vs_str_ieq(<str>self._get(child, self.cl_name), b"VERSION"):
                raw = <bytes>self._get(child, self.cl_value_raw)
                version = _vs_strip_ascii(<const uchar*>PyBytes_AS_STRING(raw), 0, PyBytes_GET_SIZE(raw))
                break
        vs_set(comp, self.co_version, version)
        vs_set(self._get(comp, self.co_begin), self.cl_version, version)
        end = self._get(comp, self.co_end)
        if end is not None:
            vs_set(end, self.cl_version, version)
        for child in children:
            if type(child) is self.cl_cls:
                vs_set(child, self.cl_version, version)
            elif type(child) is self.comp_cls:
                self._set_version(child, version)
        return 0

    # -- serializing ---------------------------------------------------------
    def serialize(self, items):
        """``serialize_items(items)``: each item with what surrounded it."""
        cdef Buf out
        out.p = NULL
        out.n = out.cap = 0
        try:
            for comp in items:
                if type(comp) is self.comp_cls:
                    self._put_bytes(&out, self._get(comp, self.co_leading))
                    self._put_component(&out, comp)
                    self._put_bytes(&out, self._get(comp, self.co_trailing))
                else:
                    self._put_bytes(&out, comp.leading + comp.serialize() + comp.trailing)
            return PyBytes_FromStringAndSize(<char*>out.p, out.n)
        finally:
            free(out.p)

    def serialize_one(self, comp):
        """``Component.serialize()``: BEGIN to END, line end included."""
        cdef Buf out
        out.p = NULL
        out.n = out.cap = 0
        try:
            self._put_component(&out, comp)
            return PyBytes_FromStringAndSize(<char*>out.p, out.n)
        finally:
            free(out.p)

    cdef int _put_bytes(self, Buf* out, object b) except -1:
        if type(b) is bytes:
            return buf_put(out, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        cdef bytes copy = bytes(memoryview(b))
        return buf_put(out, PyBytes_AS_STRING(copy), PyBytes_GET_SIZE(copy))

    cdef int _put_line(self, Buf* out, object line) except -1:
        cdef object h, v, e
        if type(line) is self.cl_cls:
            try:
                h = vs_get(line, self.cl_head)
                v = vs_get(line, self.cl_value_raw)
                e = vs_get(line, self.cl_eol)
            except AttributeError:  # made by hand: what .raw says
                return self._put_bytes(out, line.raw)
            if type(h) is bytes and type(v) is bytes and type(e) is bytes:
                buf_put(out, PyBytes_AS_STRING(h), PyBytes_GET_SIZE(h))
                buf_put(out, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v))
                return buf_put(out, PyBytes_AS_STRING(e), PyBytes_GET_SIZE(e))
        elif type(line) is self.raw_cls:
            return self._put_bytes(out, self._get(line, self.rl_raw))
        return self._put_bytes(out, line.raw)

    cdef int _put_component(self, Buf* out, object comp, int depth=0) except -1:
        """``Component._chunks``: slots read directly for the class itself,
        attributes for anything else."""
        cdef object child, end, children
        if depth > 10000:  # only a tree built by hand gets here
            raise M.serialize_too_deep()
        if type(comp) is self.comp_cls:
            self._put_line(out, self._get(comp, self.co_begin))
            children = self._get(comp, self.co_children)
            end = self._get(comp, self.co_end)
        else:
            self._put_line(out, comp.begin)
            children = comp.children
            end = None
        for child in children:
            if isinstance(child, self.comp_cls):
                self._put_component(out, child, depth + 1)
            else:
                self._put_line(out, child)
        if type(comp) is not self.comp_cls:
            end = comp.end
        if end is not None:
            self._put_line(out, end)
        return 0
