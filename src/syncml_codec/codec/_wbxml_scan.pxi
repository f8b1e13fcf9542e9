# _wbxml_scan.pxi -- the hardened SyncML XML scanner (port of
# _pywbxml/scanner.py) over UTF-8 bytes, driving an _Enc.  The twin's
# regular expressions are replaced by hand-written matchers that accept
# exactly the same strings (every one of them is deterministic: a failed
# attribute or DOCTYPE part can never be rescued by backtracking).  All
# delimiters are ASCII, so byte positions map to the twin's character
# positions by counting UTF-8 lead bytes, done only when raising an error.
# No DTD, no entity but the five predefined ones and character references;
# one pass, linear, the element stack bounded by max_depth.

cdef enum:
    C_NS = 1               # [A-Za-z_]
    C_NC = 2               # [A-Za-z0-9_.-]
    C_SP = 4               # [ \t\r\n]

cdef uchar _CLS[256]


cdef void _init_scan() noexcept:
    cdef int i
    for i in range(256):
        _CLS[i] = 0
    for i in range(ord('A'), ord('Z') + 1):
        _CLS[i] = C_NS | C_NC
        _CLS[i + 32] = C_NS | C_NC
    _CLS[ord('_')] = C_NS | C_NC
    for i in range(ord('0'), ord('9') + 1):
        _CLS[i] = C_NC
    _CLS[ord('.')] = C_NC
    _CLS[ord('-')] = C_NC
    for i in (32, 9, 13, 10):
        _CLS[i] = C_SP


cdef struct AttrSpan:
    Py_ssize_t ns, ne      # name
    Py_ssize_t vs, ve      # value (between the quotes)


cdef struct SEnt:
    Py_ssize_t qs, qe      # the qualified name, for the end tag
    int kind
    bint had_child
    bint is_item
    Py_ssize_t nbind       # namespace prefixes this element declared

_XML_URI = "http://www.w3.org/XML/1998/namespace"


cdef class _Scan:
    cdef object keep
    cdef const uchar* s
    cdef Py_ssize_t n
    cdef Py_ssize_t max_depth
    cdef object max_depth_obj
    cdef object doctype_public
    cdef object doctype_found
    cdef object root
    cdef object root_ns
    cdef Py_ssize_t body_start
    # the last start tag matched
    cdef AttrSpan* at
    cdef Py_ssize_t nat, atcap
    cdef Py_ssize_t qs, qe, qcolon
    cdef bint selfclose
    # drive state
    cdef SEnt* st
    cdef Py_ssize_t depth, stcap
    cdef Buf pend
    cdef Buf scratch
    cdef bint has_parts, cdata
    cdef list binds

    def __dealloc__(self):
        free(self.at)
        free(self.st)
        buf_free(&self.pend)
        buf_free(&self.scratch)

    # -- errors ----------------------------------------------------------------
    cdef object xml_err(self, Py_ssize_t pos, str message):
        cdef Py_ssize_t i, ls = 0, line = 1
        for i in range(pos):
            if self.s[i] == 10:
                line += 1
                ls = i + 1
        col = utf8_chars(self.s + ls, pos - ls) + 1
        return XMLDecodeError(message, line, col, utf8_chars(self.s, pos))

    cdef str span(self, Py_ssize_t a, Py_ssize_t b):
        return PyUnicode_DecodeUTF8(<const char*>self.s + a, b - a, NULL)

    # -- matchers --------------------------------------------------------------
    cdef inline Py_ssize_t skip_ws(self, Py_ssize_t p) noexcept:
        while p < self.n and _CLS[self.s[p]] & C_SP:
            p += 1
        return p

    cdef inline bint starts(self, Py_ssize_t p, const char* lit, Py_ssize_t m) noexcept:
        return self.n - p >= m and memcmp(self.s + p, lit, <size_t>m) == 0

    cdef Py_ssize_t name_end(self, Py_ssize_t p, Py_ssize_t* colon) noexcept:
        """End of _NAME at p, or -1."""
        cdef const uchar* s = self.s
        cdef Py_ssize_t n = self.n
        colon[0] = -1
        if p >= n or not _CLS[s[p]] & C_NS:
            return -1
        p += 1
        while p < n and _CLS[s[p]] & C_NC:
            p += 1
        if p + 1 < n and s[p] == ord(':') and _CLS[s[p + 1]] & C_NS:
            colon[0] = p
            p += 2
            while p < n and _CLS[s[p]] & C_NC:
                p += 1
        return p

    cdef int add_attr(self, Py_ssize_t ns, Py_ssize_t ne, Py_ssize_t vs, Py_ssize_t ve) except -1:
        if self.nat >= self.atcap:
            self.at = <AttrSpan*>grow_array(self.at, &self.atcap, 8, sizeof(AttrSpan))
        self.at[self.nat].ns = ns
        self.at[self.nat].ne = ne
        self.at[self.nat].vs = vs
        self.at[self.nat].ve = ve
        self.nat += 1
        return 0

    cdef Py_ssize_t start_tag(self, Py_ssize_t p) except -2:
        """_TAG.match at p ('<'): the end of the match or -1; the name,
        attributes and '/' are left in self."""
        cdef const uchar* s = self.s
        cdef Py_ssize_t n = self.n, q, r, ns, ne, colon
        cdef uchar quote
        cdef const uchar* z
        self.nat = 0
        self.qs = p + 1
        self.qe = self.name_end(p + 1, &self.qcolon)
        if self.qe < 0:
            return -1
        p = self.qe
        while True:
            q = self.skip_ws(p)
            if q == p or q >= n or not _CLS[s[q]] & C_NS:
                break
            ns = q
            ne = self.name_end(q, &colon)
            r = self.skip_ws(ne)
            if r >= n or s[r] != ord('='):
                return -1
            r = self.skip_ws(r + 1)
            if r >= n or (s[r] != ord('"') and s[r] != ord("'")):
                return -1
            quote = s[r]
            r += 1
            q = r
            while q < n and s[q] != quote and s[q] != ord('<'):
                q += 1
            if q >= n or s[q] != quote:
                return -1
            self.add_attr(ns, ne, r, q)
            p = q + 1
        p = self.skip_ws(p)
        self.selfclose = False
        if p < n and s[p] == ord('/'):
            self.selfclose = True
            p += 1
        if p >= n or s[p] != ord('>'):
            return -1
        return p + 1

    cdef Py_ssize_t quoted(self, Py_ssize_t p, Py_ssize_t* vs) noexcept:
        """A DOCTYPE literal ("..." or '...') at p: its end, or -1."""
        cdef const uchar* z
        if p >= self.n or (self.s[p] != ord('"') and self.s[p] != ord("'")):
            return -1
        z = <const uchar*>memchr(self.s + p + 1, self.s[p], <size_t>(self.n - p - 1))
        if z == NULL:
            return -1
        vs[0] = p + 1
        return z - self.s + 1

    cdef Py_ssize_t doctype(self, Py_ssize_t p) except -2:
        """_DOCTYPE.match at p: the end of the match or -1."""
        cdef Py_ssize_t q, r, e1, e2, v1, v2, colon, save
        q = self.skip_ws(p + 9)
        if q == p + 9:
            return -1
        p = self.name_end(q, &colon)
        if p < 0:
            return -1
        save = p
        matched = False
        q = self.skip_ws(p)
        if q > p and self.starts(q, b"PUBLIC", 6):
            r = self.skip_ws(q + 6)
            if r > q + 6:
                e1 = self.quoted(r, &v1)
                if e1 >= 0:
                    r = self.skip_ws(e1)
                    if r > e1:
                        e2 = self.quoted(r, &v2)
                        if e2 >= 0:
                            self.doctype_found = self.span(v1, e1 - 1)
                            p = e2
                            matched = True
        if not matched and q > save and self.starts(q, b"SYSTEM", 6):
            r = self.skip_ws(q + 6)
            if r > q + 6:
                e1 = self.quoted(r, &v1)
                if e1 >= 0:
                    p = e1
                    matched = True
        p = self.skip_ws(p)
        if p >= self.n or self.s[p] != ord('>'):
            return -1
        return p + 1

    cdef Py_ssize_t past(self, Py_ssize_t pos, Py_ssize_t skip, const char* closer, Py_ssize_t m,
                         str what) except -1:
        """The position after ``closer`` of the construct starting at ``pos``
        (the twin's ``_past``)."""
        cdef Py_ssize_t stop = find_bytes(self.s, pos + skip, self.n, closer, m)
        if stop < 0:
            raise self.xml_err(pos, M.unterminated(what))
        return stop + m

    # -- prolog -----------------------------------------------------------------
    cdef int prolog(self) except -1:
        cdef Py_ssize_t pos = 0, stop, k, end, i
        while True:
            pos = self.skip_ws(pos)
            if self.starts(pos, b"<?", 2):
                pos = self.past(pos, 2, b"?>", 2, "processing instruction")
            elif self.starts(pos, b"<!--", 4):
                pos = self.past(pos, 4, b"-->", 3, "comment")
            elif self.starts(pos, b"<!DOCTYPE", 9):
                self.doctype_found = None
                end = self.doctype(pos)
                if end < 0:
                    k = find_bytes(self.s, pos, self.n, b">", 1)
                    k = k + 1 if k >= 0 else self.n
                    if memchr(self.s + pos, ord('['), <size_t>(k - pos)) != NULL:
                        raise self.xml_err(pos, M.DTD_SUBSET)
                    raise self.xml_err(pos, M.MALFORMED_DOCTYPE)
                self.doctype_public = self.doctype_found
                pos = end
            elif self.starts(pos, b"<", 1):
                if self.start_tag(pos) < 0:
                    raise self.xml_err(pos, M.MALFORMED_ROOT_TAG)
                self.root = self.span(self.qcolon + 1 if self.qcolon >= 0 else self.qs, self.qe)
                for i in range(self.nat):
                    if self.at[i].ne - self.at[i].ns == 5 and memcmp(self.s + self.at[i].ns, b"xmlns", 5) == 0:
                        self.root_ns = self.span(self.at[i].vs, self.at[i].ve)
                self.body_start = pos
                return 0
            elif pos >= self.n:
                raise self.xml_err(pos, M.NO_ROOT)
            else:
                raise self.xml_err(pos, M.TEXT_BEFORE_ROOT)

    cdef int language(self) except -1:
        cdef Py_ssize_t i = 0, k = 0
        if self.doctype_public:
            lang = language_by_xml_public_id(self.doctype_public)
            if lang is not None:
                return _lang_index(lang)
        # the first 4096 characters, where detect_language looks for <VerDTD>
        while i < self.n and k <= 4096:
            if (self.s[i] & 0xC0) != 0x80:
                k += 1
                if k > 4096:
                    break
            i += 1
        try:
            lang = C.detect_language(self.doctype_public, self.root or "", self.root_ns, self.span(0, i))
        except XMLDecodeError as exc:
            raise self.xml_err(self.body_start, exc.reason) from None
        return _lang_index(lang)

    # -- references ----------------------------------------------------------------
    cdef int unescape(self, Py_ssize_t a, Py_ssize_t b, Buf* out) except -1:
        """Append s[a:b] to out with references replaced (_unescape)."""
        cdef const uchar* s = self.s
        cdef const uchar* z
        cdef Py_ssize_t p, q, start = a
        cdef unsigned long cp
        cdef int nd, ch
        cdef uchar tmp[4]
        while True:
            z = <const uchar*>memchr(s + start, ord('&'), <size_t>(b - start)) if b > start else NULL
            if z == NULL:
                return buf_put(out, s + start, b - start)
            p = z - s
            buf_put(out, s + start, p - start)
            q = p + 1
            cp = 0
            ch = -1
            if q < b and s[q] == ord('#'):
                q += 1
                nd = 0
                if q < b and s[q] == ord('x'):
                    q += 1
                    while q < b and nd < 6 and (48 <= s[q] <= 57 or 65 <= s[q] <= 70 or 97 <= s[q] <= 102):
                        cp = cp * 16 + (s[q] - 48 if s[q] <= 57 else (s[q] | 32) - 87)
                        q += 1
                        nd += 1
                else:
                    while q < b and nd < 7 and 48 <= s[q] <= 57:
                        cp = cp * 10 + (s[q] - 48)
                        q += 1
                        nd += 1
                if nd == 0 or q >= b or s[q] != ord(';'):
                    raise self.xml_err(p, M.BARE_AMPERSAND)
                if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                    raise self.xml_err(p, M.char_ref_not_char(self.span(p + 1, q)))
                buf_put(out, tmp, utf8_put(tmp, cp))
            else:
                if q >= b or not _CLS[s[q]] & C_NS:
                    raise self.xml_err(p, M.BARE_AMPERSAND)
                q += 1
                while q < b and _CLS[s[q]] & C_NC:
                    q += 1
                if q >= b or s[q] != ord(';'):
                    raise self.xml_err(p, M.BARE_AMPERSAND)
                if q - p == 3 and s[p + 1] == ord('l') and s[p + 2] == ord('t'):
                    ch = ord('<')
                elif q - p == 3 and s[p + 1] == ord('g') and s[p + 2] == ord('t'):
                    ch = ord('>')
                elif q - p == 4 and memcmp(s + p + 1, b"amp", 3) == 0:
                    ch = ord('&')
                elif q - p == 5 and memcmp(s + p + 1, b"quot", 4) == 0:
                    ch = ord('"')
                elif q - p == 5 and memcmp(s + p + 1, b"apos", 4) == 0:
                    ch = ord("'")
                else:
                    raise self.xml_err(p, M.undefined_entity(self.span(p + 1, q)))
                buf_byte(out, <uchar>ch)
            start = q + 1

    cdef str unescape_str(self, Py_ssize_t a, Py_ssize_t b):
        self.scratch.n = 0
        self.unescape(a, b, &self.scratch)
        return PyUnicode_DecodeUTF8(<const char*>self.scratch.p, self.scratch.n, NULL)

    def namespace_of(self, str prefix):
        """``lookup`` for the shared helpers in _common.py."""
        return self.lookup(prefix)

    cdef object lookup(self, str prefix):
        cdef Py_ssize_t i
        for i in range(len(self.binds) - 1, -1, -1):
            if self.binds[i][0] == prefix:
                return self.binds[i][1]
        return None

    # -- the body ------------------------------------------------------------------
    cdef int push(self, Py_ssize_t qs, Py_ssize_t qe, int kind, bint is_item, Py_ssize_t nbind) except -1:
        if self.depth >= self.stcap:
            self.st = <SEnt*>grow_array(self.st, &self.stcap, 32, sizeof(SEnt))
        self.st[self.depth].qs = qs
        self.st[self.depth].qe = qe
        self.st[self.depth].kind = kind
        self.st[self.depth].had_child = False
        self.st[self.depth].is_item = is_item
        self.st[self.depth].nbind = nbind
        self.depth += 1
        return 0

    cdef int flush(self, _Enc enc, int kind, bint had_child, bint closing) except -1:
        cdef Py_ssize_t i
        cdef bint blank
        if not self.has_parts:
            return 0
        self.has_parts = False
        # whitespace around child elements is layout, not content
        if (had_child or not closing) and not self.cdata:
            blank = True
            for i in range(self.pend.n):
                if not _CLS[self.pend.p[i]] & C_SP:
                    blank = False
                    break
            if blank:
                self.pend.n = 0
                return 0
        self.cdata = False
        if kind == K_DATA:
            enc.opaque(self.pend.p, self.pend.n)
        else:
            enc.text_u8(self.pend.p, self.pend.n, True)
        self.pend.n = 0
        return 0

    cdef int after_root(self, Py_ssize_t pos) except -1:
        while True:
            pos = self.skip_ws(pos)
            if pos >= self.n:
                return 0
            if self.starts(pos, b"<!--", 4):
                pos = self.past(pos, 4, b"-->", 3, "comment")
            elif self.starts(pos, b"<?", 2):
                pos = self.past(pos, 2, b"?>", 2, "processing instruction")
            else:
                raise self.xml_err(pos, M.CONTENT_AFTER_ROOT)

    cdef object attributes(self, Py_ssize_t pos, Py_ssize_t* nbind):
        """The attributes of the start tag just matched, as the twin builds
        them (values unescaped, duplicates refused, xmlns:p declared); None
        when there are only default-namespace declarations."""
        cdef Py_ssize_t i
        cdef AttrSpan* a
        cdef bint only_xmlns = True
        for i in range(self.nat):
            a = &self.at[i]
            if a.ne - a.ns != 5 or memcmp(self.s + a.ns, b"xmlns", 5) != 0:
                only_xmlns = False
                break
        if only_xmlns:
            for i in range(self.nat):
                self.scratch.n = 0
                self.unescape(self.at[i].vs, self.at[i].ve, &self.scratch)
                if i:
                    raise self.xml_err(pos, M.duplicate_attr("xmlns"))
            return None
        attrs = {}
        for i in range(self.nat):
            a = &self.at[i]
            key = self.span(a.ns, a.ne)
            value = self.unescape_str(a.vs, a.ve)
            if key in attrs:
                raise self.xml_err(pos, M.duplicate_attr(key))
            if key.startswith("xmlns:"):
                self.binds.append((key[6:], value))
                nbind[0] += 1
            attrs[key] = value
        return attrs

    cdef int drive(self, _Enc enc) except -1:
        cdef const uchar* s = self.s
        cdef Py_ssize_t n = self.n, pos = self.body_start, lt, stop, tend, ne, colon, q, ls, le
        cdef Py_ssize_t nbind, parent, i
        cdef const uchar* z
        cdef int kind, c
        cdef int lang = enc.cur.lang
        cdef int devinf = _LINFO[lang].devinf_for
        cdef bint syncml = _LINFO[lang].family == F_SYNCML, wb, is_item
        cdef Py_ssize_t nested = 0
        cdef SEnt top
        cdef NameEnt* ent
        self.depth = 0
        self.pend.n = 0
        self.has_parts = False
        self.cdata = False
        self.binds = [("xml", _XML_URI)]
        while True:
            z = <const uchar*>memchr(s + pos, ord('<'), <size_t>(n - pos)) if pos < n else NULL
            lt = n if z == NULL else z - s
            if lt > pos:
                if self.depth:
                    self.unescape(pos, lt, &self.pend)
                    self.has_parts = True
                else:
                    for i in range(pos, lt):
                        if not _CLS[s[i]] & C_SP:
                            raise self.xml_err(pos, M.TEXT_AFTER_ROOT)
            if lt >= n:
                if self.depth:
                    top = self.st[self.depth - 1]
                    raise self.xml_err(n, M.end_inside(self.span(top.qs, top.qe)))
                return 0
            pos = lt
            c = s[pos + 1] if pos + 1 < n else -1
            if c == ord('/'):
                ne = self.name_end(pos + 2, &colon)
                q = self.skip_ws(ne) if ne >= 0 else n
                if ne < 0 or q >= n or s[q] != ord('>'):
                    raise self.xml_err(pos, M.MALFORMED_END_TAG)
                if not self.depth:
                    raise self.xml_err(pos, M.end_without_start(self.span(pos + 2, ne)))
                self.depth -= 1
                top = self.st[self.depth]
                if top.qe - top.qs != ne - pos - 2 or memcmp(s + top.qs, s + pos + 2, <size_t>(ne - pos - 2)) != 0:
                    raise self.xml_err(pos, M.end_mismatch(self.span(pos + 2, ne), self.span(top.qs, top.qe)))
                self.flush(enc, top.kind, top.had_child, True)
                enc.end()
                if top.nbind:
                    del self.binds[len(self.binds) - top.nbind:]
                if nested:
                    nested -= 1
                pos = q + 1
                if not self.depth:
                    return self.after_root(pos)
            elif c == ord('!'):
                if self.starts(pos, b"<!--", 4):
                    pos = self.past(pos, 4, b"-->", 3, "comment")
                elif self.starts(pos, b"<![CDATA[", 9):
                    stop = self.past(pos, 9, b"]]>", 3, "CDATA section")
                    if not self.depth:
                        raise self.xml_err(pos, M.CDATA_OUTSIDE_ROOT)
                    buf_put(&self.pend, s + pos + 9, stop - 3 - pos - 9)
                    self.has_parts = True
                    self.cdata = True  # CDATA is content, even when it is only whitespace
                    pos = stop
                else:
                    raise self.xml_err(pos, M.MARKUP_IN_BODY)
            elif c == ord('?'):
                pos = self.past(pos, 2, b"?>", 2, "processing instruction")
            else:
                tend = self.start_tag(pos)
                if tend < 0:
                    raise self.xml_err(pos, M.MALFORMED_START_TAG)
                if self.depth >= self.max_depth:
                    raise self.xml_err(pos, M.too_deep(self.max_depth_obj))
                nbind = 0
                attrs = self.attributes(pos, &nbind) if self.nat else None
                ls = self.qs
                le = self.qe
                wb = False
                if self.qcolon >= 0:
                    prefix = self.span(self.qs, self.qcolon)
                    uri = self.lookup(prefix)
                    if uri is None:
                        raise self.xml_err(pos, M.prefix_not_declared(prefix))
                    wb = uri == WBXML_NS
                    ls = self.qcolon + 1
                if attrs:
                    attrs = self.clean(pos, attrs)
                parent = self.depth - 1
                if parent >= 0:
                    self.flush(enc, self.st[parent].kind, self.st[parent].had_child, False)
                    self.st[parent].had_child = True
                # kind: K_DATA for an item's <Data> (text goes as OPAQUE), K_NONCE for
                # any other <Data> (text goes as a string); both can nest documents
                kind = K_PLAIN
                is_item = not wb and le - ls == 4 and memcmp(s + ls, b"Item", 4) == 0
                if parent >= 0 and self.st[parent].kind != K_PLAIN and not wb and syncml and (
                        (le - ls == 6 and memcmp(s + ls, b"DevInf", 6) == 0)
                        or (le - ls == 8 and memcmp(s + ls, b"MgmtTree", 8) == 0)):
                    enc.begin_nested(devinf if s[ls] == ord('D') else _DDF12)
                elif not wb and syncml and not nested and le - ls == 4 and memcmp(s + ls, b"Data", 4) == 0:
                    kind = K_DATA if parent >= 0 and self.st[parent].is_item else K_NONCE
                try:
                    if attrs is None and not wb:
                        ent = name_lookup(enc.cur.lang, s + ls, le - ls)
                        if ent != NULL:
                            enc.start_known(ent)
                        else:
                            enc.start_py(self.span(ls, le), None)
                    else:
                        enc.start_py(("wbxml:" if wb else "") + self.span(ls, le), attrs)
                except EncodeError as exc:
                    raise self.xml_err(pos, str(exc)) from None
                pos = tend
                if self.selfclose:
                    if nbind:
                        del self.binds[len(self.binds) - nbind:]
                    enc.end()
                    if parent < 0:
                        return self.after_root(pos)
                else:
                    self.push(self.qs, self.qe, kind, is_item, nbind)
                    if len(enc.frames) > 1:
                        nested += 1

    cdef object clean(self, Py_ssize_t pos, dict attrs):
        try:
            return C.unprefixed_attrs(attrs, self.namespace_of)
        except KeyError as exc:
            raise self.xml_err(pos, M.prefix_not_declared(exc.args[0])) from None
