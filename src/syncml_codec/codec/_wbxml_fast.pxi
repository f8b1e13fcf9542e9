# _wbxml_fast.pxi -- the fast path of wbxml_to_xml (compact output): one
# tight loop with local state for the shape of nearly all real traffic
# (UTF-8, known language and tags, no attributes / literals / extensions /
# PIs, nesting up to FAST_DEPTH).  It writes exactly what the generic path
# would and gives up (returns 0) at the first thing it does not handle or
# any error; the caller then truncates the output and runs the generic
# decoder, which produces the output or raises the proper error.

cdef enum:
    FAST_DEPTH = 64


cdef struct FastEnt:
    const char* close
    Py_ssize_t close_len
    int ns
    int kind


_OPAQUE_OPEN = f'<wbxml:opaque xmlns:wbxml="{WBXML_NS}">'.encode()
_OPAQUE_CLOSE = b"</wbxml:opaque>"


cdef inline int _fast_text(Buf* out, const uchar* s, Py_ssize_t n, int kind) except -1:
    """Text of a string; 1 when written, 0 when the generic path must
    decide (not UTF-8)."""
    if utf8_invalid(s, n) >= 0:
        return 0
    if kind == K_TYPE:
        _type_match(_TYPE_XML, s, n, &s, &n)
    buf_escape(out, s, n)
    return 1


cdef inline int _fast_opaque(Buf* out, const uchar* s, Py_ssize_t n) except -1:
    """_XmlSink.opaque with no wbxml prefix declared yet (the fast path
    never opens a wbxml: element)."""
    if utf8_invalid(s, n) < 0 and text_safe(s, n) and find_bytes(s, 0, n, b"]]>", 3) < 0 \
            and not (n and all_space(s, n)):
        buf_put(out, b"<![CDATA[", 9)
        buf_put(out, s, n)
        buf_put(out, b"]]>", 3)
    else:
        buf_bytes(out, _OPAQUE_OPEN)
        buf_base64(out, s, n)
        buf_bytes(out, _OPAQUE_CLOSE)
    return 0


cdef int _fast_nested(_Dec dec, Buf* out, const uchar* s, Py_ssize_t n, Py_ssize_t depth, int ns) except -1:
    """_Dec.opaque for <Data> bytes that may be a nested document: 1 when
    written (as the nested document, or as opaque data when its header says
    it is none), 0 to fall back."""
    cdef _Dec sub = _Dec.__new__(_Dec)
    sub.setup(dec.keep, s, n, dec.strict, dec.max_depth, dec.max_depth_obj, depth)
    try:
        sub.header()
    except WBXMLDecodeError:
        _fast_opaque(out, s, n)
        return 1
    if sub.lang < 0:
        return 0
    if _LINFO[sub.lang].family != F_DEVINF and _LINFO[sub.lang].family != F_DDF:
        _fast_opaque(out, s, n)
        return 1
    return _xml_fast(sub, out, ns)


cdef int _xml_fast(_Dec dec, Buf* out, int ns0) except -1:
    """Decode dec's body as compact XML into out (``ns0``: the default
    namespace around it): 1, or 0 to fall back."""
    cdef const uchar* data = dec.data
    cdef Py_ssize_t pos = dec.pos, end = dec.end, stop, n
    cdef const uchar* z
    cdef const uchar* s
    cdef TagEnt** pages
    cdef TagEnt* row
    cdef TagEnt* e
    cdef FastEnt st[FAST_DEPTH]
    cdef int depth = 0, cur_ns = ns0, kind = K_PLAIN, b, token
    cdef bint rooted = False
    cdef Py_ssize_t room = dec.max_depth - dec.depth0
    cdef unsigned long long v
    cdef uchar c
    cdef uchar cbuf[4]
    cdef int k
    if dec.lang < 0 or not dec.utf8 or dec.width != 1:
        return 0
    if room > FAST_DEPTH:
        room = FAST_DEPTH
    pages = _DTAB[dec.lang]
    row = pages[0]
    while pos < end:
        b = data[pos]
        pos += 1
        token = b & 0x3F
        if token >= 5 and b < 0x80:                      # a tag without attributes
            if row == NULL or not row[token].defined or depth >= room:
                return 0
            e = &row[token]
            rooted = True
            if b & 0x40:
                if e.ns != cur_ns:
                    buf_put(out, e.open_ns, e.open_ns_len)
                else:
                    buf_put(out, e.open_, e.open_len)
                st[depth].close = e.close
                st[depth].close_len = e.close_len
                st[depth].ns = cur_ns
                st[depth].kind = kind
                depth += 1
                cur_ns = e.ns
                kind = e.kind
            else:
                if e.ns != cur_ns:
                    buf_put(out, e.empty_ns, e.empty_ns_len)
                else:
                    buf_put(out, e.empty, e.empty_len)
                if depth == 0:
                    break
        elif b == 0x01:                                  # END
            if depth == 0:
                return 0
            depth -= 1
            buf_put(out, st[depth].close, st[depth].close_len)
            cur_ns = st[depth].ns
            kind = st[depth].kind
            if depth == 0:
                break
        elif b == 0x03:                                  # STR_I
            if depth == 0:
                return 0
            z = <const uchar*>memchr(data + pos, 0, <size_t>(end - pos)) if pos < end else NULL
            if z == NULL:
                return 0
            stop = z - data
            if not _fast_text(out, data + pos, stop - pos, kind):
                return 0
            pos = stop + 1
        elif b == 0x00:                                  # SWITCH_PAGE
            if pos >= end:
                return 0
            row = pages[data[pos]]
            pos += 1
        elif b == 0x83 or b == 0xC3 or b == 0x02:        # STR_T, OPAQUE, ENTITY: an mb_u_int32
            if depth == 0:
                return 0
            v = 0
            for k in range(5):
                if pos >= end:
                    return 0
                c = data[pos]
                pos += 1
                v = (v << 7) | (c & 0x7F)
                if not c & 0x80:
                    break
            else:
                return 0
            if v > 0xFFFFFFFFULL:
                return 0
            if b == 0x83:
                if <Py_ssize_t>v >= dec.tbl_len:
                    return 0
                z = <const uchar*>memchr(dec.tbl + v, 0, <size_t>(dec.tbl_len - <Py_ssize_t>v))
                if z == NULL:
                    z = dec.tbl + dec.tbl_len                # the table length ends the last entry
                dec.expansion_left -= z - dec.tbl - <Py_ssize_t>v
                if dec.expansion_left < 0 or not _fast_text(out, dec.tbl + v, z - dec.tbl - <Py_ssize_t>v, kind):
                    return 0
            elif b == 0x02:
                if v == 0 or v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    return 0
                buf_escape(out, cbuf, utf8_put(cbuf, <unsigned long>v))
            else:
                if <Py_ssize_t>v > end - pos:
                    return 0
                s = data + pos
                n = <Py_ssize_t>v
                pos += n
                if kind == K_DATA:
                    if n >= 4 and s[0] <= 3:             # maybe a nested document
                        if not _fast_nested(dec, out, s, n, dec.depth0 + depth, cur_ns):
                            return 0
                    else:
                        _fast_opaque(out, s, n)
                elif kind == K_NONCE:
                    _fast_opaque(out, s, n)
                elif utf8_invalid(s, n) < 0 and text_safe(s, n):
                    _fast_text(out, s, n, kind)          # device quirk "opaque-strings"
                else:
                    _fast_opaque(out, s, n)
        else:
            return 0
    if depth or pos != end or not rooted:
        return 0
    dec.pos = pos
    return 1
