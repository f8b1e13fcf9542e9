# _wbxml_decode.pxi -- WBXML -> events: a port of _pywbxml/decoder.py
# (_Decoder) that makes the same checks in the same order, so every input
# gives the same events or the same error at the same offset.  Text goes to
# the sinks as UTF-8 bytes (for the rare non-UTF-8 charsets: decoded by
# _rare.py and re-encoded, lone surrogates passed through).  Attribute
# lists, extension tokens and ENTITY characters are read by _rare.py too,
# through _Reader (the twin reads them with the same functions).  The body loop
# keeps the open elements' kinds in a C byte stack: no recursion, and the
# only nesting (a DevInf / DDF document in <Data>) is one level deep.

cdef Py_ssize_t _TABLE_EXPANSION_FACTOR = C.TABLE_EXPANSION_FACTOR
cdef Py_ssize_t _TABLE_EXPANSION_SLACK = C.TABLE_EXPANSION_SLACK


cdef int _err(str msg, Py_ssize_t off) except -1:
    raise WBXMLDecodeError(msg, off)


cdef inline Py_ssize_t _find_nul(const uchar* s, Py_ssize_t start, Py_ssize_t end, int width) noexcept nogil:
    """``_find_wide_nul`` / ``bytes.find(b"\\0")``: the first run of
    ``width`` NUL bytes at or after ``start`` and aligned to it, or -1."""
    cdef const uchar* p
    cdef Py_ssize_t i = start, j, k
    if width == 1:
        if start >= end:
            return -1
        p = <const uchar*>memchr(s + start, 0, <size_t>(end - start))
        return -1 if p == NULL else p - s
    while True:
        # first index j >= i with width zero bytes at j
        while True:
            if end - i < width:
                return -1
            p = <const uchar*>memchr(s + i, 0, <size_t>(end - i - width + 1))
            if p == NULL:
                return -1
            j = p - s
            for k in range(1, width):
                if s[j + k] != 0:
                    break
            else:
                break
            i = j + k + 1
        if (j - start) % width == 0:
            return j
        i = j + 1


cdef class _Dec:
    # attributes and cdef method signatures: _wbxml.pxd

    def __dealloc__(self):
        buf_free(&self.tmp)

    cdef void setup(self, object keep, const uchar* data, Py_ssize_t n, bint strict,
                    Py_ssize_t max_depth, object max_depth_obj, Py_ssize_t depth0) noexcept:
        self.keep = keep
        self.data = data
        self.end = n
        self.pos = 0
        self.strict = strict
        self.max_depth = max_depth
        self.max_depth_obj = max_depth_obj
        self.depth0 = depth0
        self.lang = -1
        self.expansion_left = _TABLE_EXPANSION_FACTOR * n + _TABLE_EXPANSION_SLACK
        self.tbl = data
        self.tbl_len = 0
        self.utf8 = True
        self.codec = "utf-8"
        self.width = 1
        self.version = 3
        self.charset = 106
        self.public_id = 0
        self.public_id_text = False

    # -- primitives ----------------------------------------------------------
    cdef int u8(self) except -1:
        cdef Py_ssize_t pos = self.pos
        if pos >= self.end:
            _err(M.END_OF_DATA, pos)
        self.pos = pos + 1
        return self.data[pos]

    cdef long long mb(self) except -1:
        cdef Py_ssize_t pos = self.pos, start = self.pos
        cdef unsigned long long value = 0
        cdef uchar b
        cdef int k
        for k in range(5):
            if pos >= self.end:
                _err(M.END_IN_MB, pos)
            b = self.data[pos]
            pos += 1
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                if value > 0xFFFFFFFFULL:
                    _err(M.MB_OVER_32_BITS, start)
                self.pos = pos
                return <long long>value
        _err(M.MB_OVER_5_BYTES, start)

    cdef int inline_string(self, Py_ssize_t tpos, const uchar** s, Py_ssize_t* n) except -1:
        cdef Py_ssize_t pos = self.pos
        cdef Py_ssize_t stop = _find_nul(self.data, pos, self.end, self.width)
        if stop < 0:
            _err(M.INLINE_UNTERMINATED, tpos)
        self.pos = stop + self.width
        s[0] = self.data + pos
        n[0] = stop - pos
        return 0

    cdef int table_string(self, long long index, Py_ssize_t tpos, const uchar** s, Py_ssize_t* n) except -1:
        cdef Py_ssize_t stop
        if index >= self.tbl_len:
            _err(M.table_ref_out_of_range(index, self.tbl_len), tpos)
        stop = _find_nul(self.tbl, <Py_ssize_t>index, self.tbl_len, self.width)
        if stop < 0:
            # device quirk "unterminated-table-entry": the table length delimits
            # the last entry (Sony Ericsson's public ID), as libwbxml reads it
            stop = self.tbl_len
        self.expansion_left -= stop - <Py_ssize_t>index
        if self.expansion_left < 0:
            _err(C.table_expansion_error(C.table_expansion_limit(self.end)), tpos)
        s[0] = self.tbl + index
        n[0] = stop - <Py_ssize_t>index
        return 0

    cdef str text_py(self, const uchar* raw, Py_ssize_t n, Py_ssize_t tpos):
        """``_Decoder.text``: the string as str."""
        cdef bytes b = PyBytes_FromStringAndSize(<const char*>raw, n)
        try:
            return b.decode(self.codec)
        except UnicodeDecodeError:
            return R.undecodable_text(b, self.codec, self.strict, tpos)

    cdef int text_in(self, _Sink h, const uchar* raw, Py_ssize_t n, Py_ssize_t tpos,
                     const uchar** out, Py_ssize_t* outn) except -1:
        """``_Decoder.text`` as UTF-8: valid UTF-8 is passed through, the rest
        goes through ``self.tmp`` (valid until the next call)."""
        cdef Py_ssize_t i
        cdef uchar c
        cdef bytes u
        if self.utf8:
            if utf8_invalid(raw, n) < 0:
                out[0] = raw
                outn[0] = n
                return 0
            if self.strict:
                _err(M.not_valid_text(self.codec), tpos)
            # device quirk "undeclared-latin1": Latin-1 bytes in a UTF-8 document
            self.tmp.n = 0
            if self.tmp.cap < 2 * n:
                buf_grow(&self.tmp, 2 * n)
            for i in range(n):
                c = raw[i]
                if c < 0x80:
                    self.tmp.p[self.tmp.n] = c
                    self.tmp.n += 1
                else:
                    self.tmp.p[self.tmp.n] = 0xC0 | (c >> 6)
                    self.tmp.p[self.tmp.n + 1] = 0x80 | (c & 0x3F)
                    self.tmp.n += 2
        else:
            u = _utf8_of(h, self.text_py(raw, n, tpos))
            self.tmp.n = 0
            buf_bytes(&self.tmp, u)
        out[0] = self.tmp.p
        outn[0] = self.tmp.n
        return 0

    # -- header --------------------------------------------------------------
    cdef int header(self) except -1:
        cdef int version
        cdef Py_ssize_t pid_pos, cs_pos, len_pos
        cdef long long pid, pid_index = -1, charset = 106, n
        cdef const uchar* s
        cdef Py_ssize_t sn
        version = self.u8()
        if version > 3 and self.strict:
            raise UnknownTokenError(M.unsupported_version(version), 0)
        self.version = version
        pid_pos = self.pos
        pid = self.mb()
        if pid == 0:
            pid_index = self.mb()
        if version != 0:
            cs_pos = self.pos
            charset = self.mb()
            if charset == 106 or charset == 0:
                self.codec = "utf-8"
                self.width = 1
            else:
                self.codec, self.width = R.document_charset(charset, cs_pos)
            self.utf8 = self.codec == "utf-8"
        self.charset = charset
        len_pos = self.pos
        n = self.mb()
        if n > self.end - self.pos:
            _err(M.table_too_long(n, self.end - self.pos), len_pos)
        self.tbl = self.data + self.pos
        self.tbl_len = <Py_ssize_t>n
        self.pos += <Py_ssize_t>n
        self.public_id = pid
        if pid == 0:
            self.public_id_text = True
            self.table_string(pid_index, pid_pos, &s, &sn)
            lang = language_by_xml_public_id(self.text_py(s, sn, pid_pos))
        else:
            lang = language_by_public_id(pid)
        self.lang = -1 if lang is None else _LANG_BY_ID[id(lang)]
        return 0

    # -- body ----------------------------------------------------------------
    cdef int emit_text(self, _Sink h, const uchar* s, Py_ssize_t n, int kind) except -1:
        if kind == K_TYPE:
            _type_match(_TYPE_XML, s, n, &s, &n)
        return h.text(s, n)

    cdef int body(self, _Sink h, bint nested) except -1:
        cdef const uchar* data = self.data
        cdef Py_ssize_t end = self.end, pos
        cdef int page = 0, b, token, kind = 0, lang = self.lang, g
        cdef bint started = False, content
        cdef Buf stack                      # kinds of the open elements
        cdef TagEnt* ent
        cdef long long idx
        cdef const uchar* s
        cdef Py_ssize_t sn
        cdef bytes u
        cdef str name
        cdef int ns = 0
        stack.p = NULL
        stack.n = stack.cap = 0
        try:
            while True:
                pos = self.pos
                if pos >= end:
                    if not started:
                        _err(M.NO_ROOT, pos)
                    _err(M.END_IN_ELEMENT, pos)
                b = data[pos]
                self.pos = pos + 1
                if b == 0x00:                                   # SWITCH_PAGE
                    page = self.u8()
                    continue
                if started:
                    if b == 0x01:                               # END
                        stack.n -= 1
                        h.end()
                        if stack.n == 0:
                            break
                        continue
                    if b == 0x03:                               # STR_I
                        self.inline_string(pos, &s, &sn)
                        self.text_in(h, s, sn, pos, &s, &sn)
                        self.emit_text(h, s, sn, stack.p[stack.n - 1])
                        continue
                    if b == 0x83:                               # STR_T
                        idx = self.mb()
                        self.table_string(idx, pos, &s, &sn)
                        self.text_in(h, s, sn, pos, &s, &sn)
                        self.emit_text(h, s, sn, stack.p[stack.n - 1])
                        continue
                    if b == 0xC3:                               # OPAQUE
                        idx = self.mb()
                        if idx > end - self.pos:
                            _err(M.opaque_too_long(idx, end - self.pos), pos)
                        s = data + self.pos
                        self.pos += <Py_ssize_t>idx
                        self.opaque(h, s, <Py_ssize_t>idx, stack.p[stack.n - 1], self.depth0 + stack.n)
                        continue
                    if b == 0x02:                               # ENTITY
                        u = R.entity_char(self.mb(), pos).encode("utf-8")
                        self.emit_text(h, <const uchar*>PyBytes_AS_STRING(u), PyBytes_GET_SIZE(u),
                                       stack.p[stack.n - 1])
                        continue
                    if b == 0x43:                               # PI
                        self.pi(h, self.attributes(0), pos)
                        continue
                    if b == 0x40 or b == 0x41 or b == 0x42 or b == 0x80 or b == 0x81 or b == 0x82 \
                            or b == 0xC0 or b == 0xC1 or b == 0xC2:
                        self.ext(h, b, pos)
                        continue
                elif b == 0x43:
                    _err(M.PI_OUTSIDE_ROOT, pos)
                # an element
                if self.depth0 + stack.n >= self.max_depth:
                    _err(M.too_deep(self.max_depth_obj), pos)
                token = b & 0x3F
                ent = NULL
                name = None
                if token == 0x04:                               # LITERAL
                    idx = self.mb()
                    self.table_string(idx, pos, &s, &sn)
                    name = R.literal_tag(self.text_py(s, sn, pos), pos)
                    ns = 0
                    kind = K_PLAIN
                    if lang < 0:
                        if self.strict:
                            raise UnknownTokenError(M.LITERAL_ROOT_UNKNOWN, pos)
                        if nested:
                            _err(M.NOT_NESTED_DOCUMENT, pos)
                        lang = self.lang = _SYNCML12
                        h.prolog(lang)
                elif token < 5:
                    _err(M.cannot_start_element(b), pos)
                else:
                    if lang < 0:
                        g = _guess_language(page, token)
                        if g < 0:
                            if self.strict:
                                raise UnknownTokenError(
                                    M.unknown_root(self.public_id, token, page), pos)
                            g = _SYNCML12
                        if nested and _LINFO[g].family != F_DEVINF and _LINFO[g].family != F_DDF:
                            _err(M.NOT_NESTED_DOCUMENT, pos)
                        lang = self.lang = g
                        h.prolog(lang)
                    ent = tag_lookup(lang, page, token)
                    if ent == NULL:
                        if self.strict:
                            L = _LANGS[lang]
                            raise UnknownTokenError(
                                M.unknown_tag(token, page, L.family, L.version), pos)
                        name = "wbxml:tag"
                        ns = NS_WBXML
                        kind = K_WBXML
                    else:
                        ns = ent.ns
                        kind = ent.kind
                content = (b & 0x40) != 0
                if b & 0x80:
                    attrs = self.attributes(pos)
                else:
                    attrs = None
                if kind == K_WBXML:
                    attrs = R.unknown_tag_attrs(page, token, attrs)
                if ent != NULL and attrs is None:
                    h.start_known(ent, content)
                else:
                    if ent != NULL:
                        name = <str>ent.pyname
                    h.start_gen(name, ns, attrs, content)
                if not started:
                    started = True
                    if not content:
                        break
                if content:
                    buf_byte(&stack, <uchar>kind)
            # after the root: nothing but the end of the input; a lenient read
            # also accepts white space and NUL padding there (device quirk
            # "trailing-padding": libwbxml stops after the root element)
            if self.pos < end and not nested and not self.strict and padding_only(data + self.pos, end - self.pos):
                self.pos = end
            if self.pos < end and not nested:
                if data[self.pos] == 0x43:
                    _err(M.PI_OUTSIDE_ROOT, self.pos)
                _err(M.DATA_AFTER_ROOT, self.pos)
        finally:
            buf_free(&stack)
        return 0

    cdef int opaque(self, _Sink h, const uchar* raw, Py_ssize_t n, int kind, Py_ssize_t depth) except -1:
        cdef bytes u
        if kind == K_DATA:
            if n >= 4 and raw[0] <= 3 and self.nested(h, raw, n, depth):
                return 0
            return h.opaque(raw, n)
        if kind == K_NONCE or kind == K_WBXML:
            return h.opaque(raw, n)
        # device quirk "opaque-strings" (Nokia 9210): strings sent as OPAQUE
        if self.utf8:
            if utf8_invalid(raw, n) >= 0 or not text_safe(raw, n):
                return h.opaque(raw, n)
            return self.emit_text(h, raw, n, kind)
        text = R.opaque_as_string(PyBytes_FromStringAndSize(<const char*>raw, n), self.codec)
        if text is None:
            return h.opaque(raw, n)
        u = _utf8_of(h, text)
        return self.emit_text(h, <const uchar*>PyBytes_AS_STRING(u), PyBytes_GET_SIZE(u), kind)

    cdef bint nested(self, _Sink h, const uchar* raw, Py_ssize_t n, Py_ssize_t depth) except -1:
        cdef _Dec sub = _Dec.__new__(_Dec)
        sub.setup(self.keep, raw, n, self.strict, self.max_depth, self.max_depth_obj, depth)
        try:
            sub.header()
        except WBXMLDecodeError:
            return False
        if sub.lang >= 0 and _LINFO[sub.lang].family != F_DEVINF and _LINFO[sub.lang].family != F_DDF:
            return False
        mark = h.mark()
        h.begin_nested(sub)
        try:
            sub.body(h, True)
            if sub.pos != sub.end:
                _err(M.DATA_AFTER_NESTED_ROOT, sub.pos)
        except WBXMLDecodeError:
            h.rollback(mark)
            return False
        return True

    cdef dict attributes(self, Py_ssize_t tpos):
        """An attribute list up to its END (also the body of a PI)."""
        return R.read_attributes(_reader(self), tpos)

    cdef int pi(self, _Sink h, dict attrs, Py_ssize_t pos) except -1:
        attrs, value = R.pi_element(attrs, pos)
        h.start_gen("wbxml:pi", NS_WBXML, attrs, bool(value))
        if value:
            h.text_str(value)
            h.end()
        return 0

    cdef int ext(self, _Sink h, int b, Py_ssize_t pos) except -1:
        attrs, value = R.ext_element(_reader(self), b, pos)
        h.start_gen("wbxml:ext", NS_WBXML, attrs, bool(value))
        if value:
            h.text_str(value)
            h.end()
        return 0


cdef class _Reader:
    """A _Dec as ``_rare.Reader``: the rare paths written once in Python
    (attribute lists, extension tokens) read through these."""
    cdef _Dec dec

    @property
    def pos(self):
        return self.dec.pos

    @property
    def strict(self):
        return self.dec.strict

    def u8(self):
        return self.dec.u8()

    def mb(self):
        return self.dec.mb()

    def inline_string(self, Py_ssize_t tpos):
        cdef const uchar* s
        cdef Py_ssize_t n
        self.dec.inline_string(tpos, &s, &n)
        return PyBytes_FromStringAndSize(<const char*>s, n)

    def table_string(self, long long index, Py_ssize_t tpos):
        cdef const uchar* s
        cdef Py_ssize_t n
        self.dec.table_string(index, tpos, &s, &n)
        return PyBytes_FromStringAndSize(<const char*>s, n)

    def opaque_bytes(self, Py_ssize_t tpos):
        cdef _Dec dec = self.dec
        cdef long long n = dec.mb()
        if n > dec.end - dec.pos:
            _err(M.opaque_too_long(n, dec.end - dec.pos), tpos)
        dec.pos += <Py_ssize_t>n
        return PyBytes_FromStringAndSize(<const char*>dec.data + dec.pos - n, <Py_ssize_t>n)

    def text(self, bytes raw, Py_ssize_t tpos):
        return self.dec.text_py(<const uchar*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), tpos)

    def has_table(self):
        return self.dec.tbl_len != 0


cdef _Reader _reader(_Dec dec):
    cdef _Reader r = _Reader.__new__(_Reader)
    r.dec = dec
    return r


cdef int _guess_language(int page, int token) except -2:
    """``tokens._guess_language`` as an index of the C tables (-1: none)."""
    lang = _py_guess_language(page, token)
    return -1 if lang is None else _LANG_BY_ID[id(lang)]
