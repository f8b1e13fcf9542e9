# _wbxml_encode.pxi -- events -> WBXML: a port of _pywbxml/encoder.py.
# One _Frame per open document (the outer one, plus one per DevInf / DDF
# document nested in <Data>): its body and string table are C buffers and
# its open elements a C array of (tag byte position, content start, kind),
# so an element that stays empty gets its content bit cleared instead of an
# END.  Strings are UTF-8 bytes (surrogates passed through when they come
# from a hand-built tree).  The string-table passes key their counts by
# those bytes, which preserves the twin's first-use order.  The wbxml:
# elements, attribute names and characters the charset lacks are turned into
# tokens by _rare.py, for both implementations.

# ElemEnt (an open element) is declared in _wbxml.pxd

_PEND_NAMES = R.PENDING_NAMES


cdef class _Frame:
    # attributes and cdef method signatures: _wbxml.pxd

    def __dealloc__(self):
        buf_free(&self.body)
        buf_free(&self.table)
        free(self.st)

    cdef int push(self, Py_ssize_t pos, Py_ssize_t content, int kind, int pend) except -1:
        if self.depth >= self.cap:
            self.st = <ElemEnt*>grow_array(self.st, &self.cap, 32, sizeof(ElemEnt))
        self.st[self.depth].pos = pos
        self.st[self.depth].content = content
        self.st[self.depth].kind = kind
        self.st[self.depth].pend = pend
        self.depth += 1
        return 0


cdef class _Enc:
    # attributes and cdef method signatures: _wbxml.pxd

    cdef void setup(self, tuple options, list counts) except *:
        version, mib, codec, string_table, text_pid = options
        self.frames = []
        self.version = version
        self.mib = mib
        self.codec = codec
        self.utf8 = codec == "utf-8"
        self.width = 1 if self.utf8 else terminator_width(codec)
        self.string_table = string_table
        self.text_pid = text_pid
        self.counts = counts
        self.wanted_all = None
        self.ndocs = 0

    cdef _Frame new_frame(self, int lang, bint text_pid):
        cdef _Frame f = _Frame.__new__(_Frame)
        f.lang = lang
        f.text_pid = text_pid or not _LINFO[lang].public_id
        f.table_index = {}
        f.index = self.ndocs
        self.ndocs += 1
        if f.text_pid:
            self.table_ref(f, _LANG_PUBKEY[lang])
        if self.counts is not None:
            self.counts.append({})
        self.frames.append(f)
        self.cur = f
        return f

    # -- string table ----------------------------------------------------------
    cdef bytes encode_text(self, bytes key):
        """``_Encoder.encode_text`` of the string whose UTF-8 is ``key``."""
        if self.utf8 and utf8_invalid(<const uchar*>PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key)) < 0:
            return key
        return R.encode_text(key.decode("utf-8", "surrogatepass"), self.codec)

    cdef Py_ssize_t table_ref(self, _Frame f, bytes key) except -1:
        index = f.table_index.get(key)
        if index is None:
            index = f.table.n
            f.table_index[key] = index
            buf_bytes(&f.table, self.encode_text(key))
            for _ in range(self.width):
                buf_byte(&f.table, 0)
        return index

    cdef int set_wanted(self, _Frame f) except -1:
        cdef dict counts = self.wanted_all[f.index]
        cdef dict wanted = {}
        cdef bytes s
        for s, n in counts.items():
            if n >= 2 and utf8_chars(<const uchar*>PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s)) >= 3:
                try:
                    self.encode_text(s)
                except EncodeError:
                    continue  # not in the charset: stays inline (ENTITY tokens)
                wanted[s] = n
        f.wanted = wanted
        for s in wanted:
            self.table_ref(f, s)
        return 0

    # -- events -----------------------------------------------------------------
    cdef int check_open(self, _Frame f, object name) except -1:
        if f.depth and f.st[f.depth - 1].pos < 0:
            if not isinstance(name, str):
                name = PyUnicode_DecodeUTF8(<const char*>PyBytes_AS_STRING(name), PyBytes_GET_SIZE(name), NULL)
            raise EncodeError(M.not_inside(name, _PEND_NAMES[f.st[f.depth - 1].pend]))
        return 0

    cdef int start_known(self, NameEnt* ent) except -1:
        """A name found in the current language, without attributes."""
        cdef _Frame f = self.cur
        cdef Py_ssize_t pos
        if f.depth and f.st[f.depth - 1].pos < 0:
            self.check_open(f, PyBytes_FromStringAndSize(ent.name, ent.len))
        if ent.page != f.page:
            buf_byte(&f.body, 0x00)
            buf_byte(&f.body, <uchar>ent.page)
            f.page = ent.page
        pos = f.body.n
        buf_byte(&f.body, <uchar>(ent.token | 0x40))
        return f.push(pos, f.body.n, ent.kind, 0)

    cdef int start_py(self, object name, object attrs) except -1:
        cdef _Frame f = self.cur
        cdef int kind = K_PLAIN, tag
        cdef Py_ssize_t pos, index = 0
        self.check_open(f, name)
        if name.startswith("wbxml:"):
            return self.wbxml_start(f, name, attrs or {})
        ref = _LANG_NAMES[f.lang].get(name)
        if ref is None:
            if not self.string_table:
                raise C.unknown_name_error(name, _LANGS[f.lang])
            index = self.table_ref(f, name.encode("utf-8", "surrogatepass"))
            tag = 0x04
        else:
            page, token = ref
            if page != f.page:
                buf_byte(&f.body, 0x00)
                buf_byte(&f.body, <uchar>page)
                f.page = page
            tag = token
            kind = _LANG_KINDS[f.lang][name]
        pos = f.body.n
        buf_byte(&f.body, <uchar>(tag | (0xC0 if attrs else 0x40)))
        if tag == 0x04:
            buf_mb(&f.body, index)
        if attrs:
            self.attributes(f, attrs)
        return f.push(pos, f.body.n, kind, 0)

    cdef int wbxml_start(self, _Frame f, str name, object attrs) except -1:
        cdef Py_ssize_t pos
        if name == "wbxml:tag":
            page, token, rest = R.wbxml_tag(attrs)
            if page != f.page:
                buf_byte(&f.body, 0x00)
                buf_byte(&f.body, <uchar>page)
                f.page = page
            pos = f.body.n
            buf_byte(&f.body, <uchar>(token | (0xC0 if rest else 0x40)))
            if rest:
                self.attributes(f, rest)
            return f.push(pos, f.body.n, K_WBXML, 0)
        f.push(-1, -1, K_WBXML, R.pending_code(name))
        f.pending_attrs = attrs
        f.pending_text = []
        return 0

    cdef int attributes(self, _Frame f, object attrs) except -1:
        for piece, key, value in R.attribute_names(attrs, self.string_table):
            if piece:
                buf_bytes(&f.body, piece)
            else:
                buf_byte(&f.body, 0x04)
                buf_mb(&f.body, self.table_ref(f, key.encode("utf-8", "surrogatepass")))
            if value:
                self.string_py(f, value)
        return buf_byte(&f.body, 0x01)

    cdef int end(self) except -1:
        cdef _Frame f = self.cur
        cdef ElemEnt e
        if f.depth == 0:
            raise IndexError("pop from empty list")
        f.depth -= 1
        e = f.st[f.depth]
        if e.pos < 0:
            self.wbxml_end(f, e.pend)
        elif e.content == f.body.n:
            f.body.p[e.pos] &= 0xBF  # nothing inside: clear the content bit, no END
        else:
            buf_byte(&f.body, 0x01)
        if f.depth == 0 and len(self.frames) > 1:
            data = self.finish(f)
            self.frames.pop()
            self.cur = self.frames[len(self.frames) - 1]
            self.opaque(<const uchar*>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
        return 0

    cdef int wbxml_end(self, _Frame f, int pend) except -1:
        attrs = f.pending_attrs
        text = "".join(f.pending_text)
        if pend == 3:
            return buf_bytes(&f.body, R.opaque_tokens(text))
        if pend == 1:
            return buf_bytes(&f.body, R.ext_tokens(attrs, text, self.codec, self.width))
        target = R.pi_target(attrs)
        buf_byte(&f.body, 0x43)
        return self.attributes(f, {target: text})

    cdef int text_u8(self, const uchar* s, Py_ssize_t n, bint trusted) except -1:
        """``_Encoder.text`` for UTF-8 text (``trusted``: known valid)."""
        cdef _Frame f = self.cur
        cdef ElemEnt* top
        if n == 0:
            return 0
        if f.depth == 0:
            raise EncodeError(M.TEXT_OUTSIDE_ROOT)
        top = &f.st[f.depth - 1]
        if top.pos < 0:
            f.pending_text.append(PyUnicode_DecodeUTF8(<const char*>s, n, "surrogatepass"))
            return 0
        if top.kind == K_TYPE:
            if _type_match(_TYPE_WBXML, s, n, &s, &n):
                trusted = True
        return self.string(f, s, n, trusted)

    cdef int text_py(self, str text) except -1:
        cdef bytes u = text.encode("utf-8", "surrogatepass")
        return self.text_u8(<const uchar*>PyBytes_AS_STRING(u), PyBytes_GET_SIZE(u), False)

    cdef int text_obj(self, str text) except -1:
        """``text_py`` without a copy for ASCII text (its UTF-8 is its data)."""
        cdef const char* u
        cdef Py_ssize_t n
        if PyUnicode_IS_ASCII(text):
            u = PyUnicode_AsUTF8AndSize(text, &n)
            return self.text_u8(<const uchar*>u, n, True)
        return self.text_py(text)

    cdef int string_py(self, _Frame f, object value) except -1:
        if "\0" in value:
            raise EncodeError(M.NUL_IN_STRING)
        u = value.encode("utf-8", "surrogatepass")
        return self.string(f, <const uchar*>PyBytes_AS_STRING(u), PyBytes_GET_SIZE(u), False)

    cdef int string(self, _Frame f, const uchar* s, Py_ssize_t n, bint trusted) except -1:
        cdef dict counts
        cdef bytes key
        cdef int k
        if memchr(s, 0, <size_t>n) != NULL:
            raise EncodeError(M.NUL_IN_STRING)
        if self.counts is not None:
            key = PyBytes_FromStringAndSize(<const char*>s, n)
            counts = self.counts[f.index]
            counts[key] = counts.get(key, 0) + 1
        if f.wanted:
            key = PyBytes_FromStringAndSize(<const char*>s, n)
            if key in f.wanted:
                buf_byte(&f.body, 0x83)
                return buf_mb(&f.body, self.table_ref(f, key))
        if self.utf8 and (trusted or utf8_invalid(s, n) < 0):
            if f.body.cap - f.body.n < n + 2:
                buf_grow(&f.body, n + 2)
            f.body.p[f.body.n] = 0x03
            memcpy(f.body.p + f.body.n + 1, s, <size_t>n)
            f.body.p[f.body.n + 1 + n] = 0
            f.body.n += n + 2
            return 0
        text = PyUnicode_DecodeUTF8(<const char*>s, n, "surrogatepass")
        try:
            raw = text.encode(self.codec)
        except UnicodeEncodeError:
            return buf_bytes(&f.body, R.entity_tokens(text, self.codec, self.width))
        buf_byte(&f.body, 0x03)
        buf_bytes(&f.body, raw)
        for k in range(self.width):
            buf_byte(&f.body, 0)
        return 0

    cdef int opaque(self, const uchar* s, Py_ssize_t n) except -1:
        cdef _Frame f = self.cur
        if f.depth == 0:
            raise EncodeError(M.OPAQUE_OUTSIDE_ROOT)
        if f.st[f.depth - 1].pos < 0:
            raise EncodeError(M.no_opaque_in(_PEND_NAMES[f.st[f.depth - 1].pend]))
        buf_byte(&f.body, 0xC3)
        buf_mb(&f.body, <unsigned long long>n)
        return buf_put(&f.body, s, n)

    cdef int begin_nested(self, int lang) except -1:
        cdef _Frame parent = self.cur
        cdef _Frame f = self.new_frame(lang, parent.text_pid and _LINFO[lang].public_id == 0)
        if self.counts is None and self.wanted_all is not None:
            self.set_wanted(f)
        return 0

    cdef bytes finish(self, _Frame f):
        cdef Buf out
        if f.depth:
            raise EncodeError(M.OPEN_AT_END)
        if self.counts is not None:
            return b""
        out.p = NULL
        out.n = out.cap = 0
        try:
            buf_grow(&out, 16 + f.table.n + f.body.n)
            buf_byte(&out, <uchar>self.version)
            if f.text_pid:
                buf_byte(&out, 0)
                buf_mb(&out, f.table_index[_LANG_PUBKEY[f.lang]])
            else:
                buf_mb(&out, <unsigned long long>_LINFO[f.lang].public_id)
            if self.version != 0:
                buf_mb(&out, self.mib)
            buf_mb(&out, <unsigned long long>f.table.n)
            buf_put(&out, f.table.p, f.table.n)
            buf_put(&out, f.body.p, f.body.n)
            return buf_to_bytes(&out)
        finally:
            buf_free(&out)


# -- documents in languages the C tables lack -----------------------------------------

class _Fallback(Exception):
    """A document in a language the C tables do not know: use the twin."""


cdef int _lang_index(object lang) except -2:
    i = _LANG_BY_ID.get(id(lang))
    if i is None:
        raise _Fallback()
    return i
