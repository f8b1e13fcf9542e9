# _wbxml_sinks.pxi -- the consumers of decoder events.  _XmlSink writes
# XML into a C buffer exactly like _XmlWriter in _pywbxml/decoder.py
# (compact or pretty; the same xmlns placement, escaping, CDATA / base64
# choice for opaque data; generic start tags come from _common.start_tag,
# shared with the twin); _TreeSink builds Element / Document objects like
# _TreeBuilder (forwarding to _TreeBuilder itself measured decode 40% slower,
# 77k -> 46k documents/s on libwbxml's corpus, so it stays compiled).
# mark() / rollback() undo a nested document that failed.

cdef Py_ssize_t _XML_DECLARATION_LEN = len(C.XML_DECLARATION)


cdef class _Sink:
    # attributes and cdef method signatures: _wbxml.pxd

    cdef int prolog(self, int lang) except -1:
        return 0

    cdef int start_known(self, TagEnt* e, bint content) except -1:
        return 0

    cdef int start_gen(self, str name, int ns, object attrs, bint content) except -1:
        return 0

    cdef int end(self) except -1:
        return 0

    cdef int text(self, const uchar* s, Py_ssize_t n) except -1:
        return 0

    cdef int text_str(self, str s) except -1:
        return 0

    cdef int opaque(self, const uchar* s, Py_ssize_t n) except -1:
        return 0

    cdef int begin_nested(self, _Dec sub) except -1:
        return 0

    cdef object mark(self):
        return None

    cdef int rollback(self, object m) except -1:
        return 0


cdef bytes _utf8_of(_Sink h, str text):
    """UTF-8 of decoded text; lone surrogates (UTF-7 ...) pass and mark
    the sink, whose XML then fails like the twin's final encode."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        h.surrogates = True
        return text.encode("utf-8", "surrogatepass")


cdef struct XEnt:
    const char* close      # static close tag, or NULL: in the arena at off
    Py_ssize_t close_len
    Py_ssize_t off
    int ns
    bint wbxml


cdef class _XmlSink(_Sink):
    cdef Buf out
    cdef Buf arena             # close tags of generic elements (LIFO)
    cdef XEnt* st
    cdef Py_ssize_t depth, cap
    cdef bint pretty, last_text, has_children
    cdef Py_ssize_t step       # spaces per level when pretty (C.check_indent bounds it)

    def __dealloc__(self):
        buf_free(&self.out)
        buf_free(&self.arena)
        free(self.st)

    cdef int push(self, const char* close, Py_ssize_t close_len, Py_ssize_t off, int ns, bint wbxml) except -1:
        if self.depth >= self.cap:
            self.st = <XEnt*>grow_array(self.st, &self.cap, 32, sizeof(XEnt))
        self.st[self.depth].close = close
        self.st[self.depth].close_len = close_len
        self.st[self.depth].off = off
        self.st[self.depth].ns = ns
        self.st[self.depth].wbxml = wbxml
        self.depth += 1
        return 0

    cdef int indent(self, Py_ssize_t level) except -1:
        cdef Py_ssize_t i
        cdef Py_ssize_t n = self.step * level
        if self.out.cap - self.out.n < 1 + n:
            buf_grow(&self.out, 1 + n)
        self.out.p[self.out.n] = 10
        memset(self.out.p + self.out.n + 1, 32, <size_t>n)
        self.out.n += 1 + n
        return 0

    cdef int put_str(self, Buf* b, str s) except -1:
        return buf_bytes(b, _utf8_of(self, s))

    cdef int prolog(self, int lang) except -1:
        cdef Py_ssize_t cut = _XML_DECLARATION_LEN
        if self.depth == 0:
            if self.pretty:
                buf_put(&self.out, _LINFO[lang].prolog, cut)
                buf_byte(&self.out, 10)
                buf_put(&self.out, _LINFO[lang].prolog + cut, _LINFO[lang].prolog_len - cut)
                buf_byte(&self.out, 10)
            else:
                buf_put(&self.out, _LINFO[lang].prolog, _LINFO[lang].prolog_len)
        return 0

    cdef int start_known(self, TagEnt* e, bint content) except -1:
        cdef int default = 0
        cdef bint wbxml = False
        cdef XEnt* top
        if self.depth:
            top = &self.st[self.depth - 1]
            default = top.ns
            wbxml = top.wbxml
            if self.pretty and not self.last_text:
                self.indent(self.depth)
        if content:
            if e.ns != default:
                buf_put(&self.out, e.open_ns, e.open_ns_len)
                default = e.ns
            else:
                buf_put(&self.out, e.open_, e.open_len)
            self.push(e.close, e.close_len, 0, default, wbxml)
            self.has_children = False
        else:
            if e.ns != default:
                buf_put(&self.out, e.empty_ns, e.empty_ns_len)
            else:
                buf_put(&self.out, e.empty, e.empty_len)
            self.has_children = True
            if self.depth == 0 and self.pretty:
                buf_byte(&self.out, 10)
        self.last_text = False
        return 0

    cdef int start_gen(self, str name, int ns, object attrs, bint content) except -1:
        cdef int default = 0
        cdef bint wbxml = False
        cdef Py_ssize_t off
        if self.depth:
            default = self.st[self.depth - 1].ns
            wbxml = self.st[self.depth - 1].wbxml
            if self.pretty and not self.last_text:
                self.indent(self.depth)
        tag, _, wbxml = C.start_tag(name, WBXML_NS if ns == NS_WBXML else _NS_STR[ns], _NS_STR[default],
                                    wbxml, attrs)
        if ns > 0:
            default = ns  # what start_tag made the default (declared where it changed)
        if content:
            self.put_str(&self.out, tag + ">")
            off = self.arena.n
            self.put_str(&self.arena, "</" + name + ">")
            self.push(NULL, self.arena.n - off, off, default, wbxml)
            self.has_children = False
        else:
            self.put_str(&self.out, tag + "/>")
            self.has_children = True
            if self.depth == 0 and self.pretty:
                buf_byte(&self.out, 10)
        self.last_text = False
        return 0

    cdef int end(self) except -1:
        cdef XEnt* e
        self.depth -= 1
        e = &self.st[self.depth]
        if self.pretty and self.has_children and not self.last_text:
            self.indent(self.depth)
        if e.close != NULL:
            buf_put(&self.out, e.close, e.close_len)
        else:
            buf_put(&self.out, self.arena.p + e.off, e.close_len)
            self.arena.n = e.off
        self.has_children = True
        self.last_text = False
        if self.pretty and self.depth == 0:
            buf_byte(&self.out, 10)
        return 0

    cdef int text(self, const uchar* s, Py_ssize_t n) except -1:
        buf_escape(&self.out, s, n)
        self.last_text = True
        return 0

    cdef int text_str(self, str s) except -1:
        cdef bytes u = _utf8_of(self, s)
        return self.text(<const uchar*>PyBytes_AS_STRING(u), PyBytes_GET_SIZE(u))

    cdef int opaque(self, const uchar* s, Py_ssize_t n) except -1:
        # _common.opaque_as_text: UTF-8, XML-safe, no "]]>", not only white space
        if utf8_invalid(s, n) < 0 and text_safe(s, n) and find_bytes(s, 0, n, b"]]>", 3) < 0 \
                and not (n and all_space(s, n)):
            buf_put(&self.out, b"<![CDATA[", 9)
            buf_put(&self.out, s, n)
            buf_put(&self.out, b"]]>", 3)
            self.last_text = True
        else:
            self.start_gen("wbxml:opaque", NS_WBXML, None, True)
            buf_base64(&self.out, s, n)
            self.last_text = True
            self.end()
        return 0

    cdef object mark(self):
        return (self.out.n, self.depth, self.last_text, self.has_children, self.arena.n)

    cdef int rollback(self, object m) except -1:
        self.out.n, self.depth, self.last_text, self.has_children, self.arena.n = m
        return 0

    cdef bytes result(self):
        cdef bytes r = buf_to_bytes(&self.out)
        if self.surrogates:
            # what the twin's final "".join(out).encode("utf-8") raises (or not,
            # when the text with lone surrogates was rolled back)
            r.decode("utf-8", "surrogatepass").encode("utf-8")
        return r


cdef class _TreeSink(_Sink):
    cdef list stack
    cdef object doc
    cdef object pending

    def __cinit__(self):
        self.stack = []

    cdef int prolog(self, int lang) except -1:
        if self.pending is not None:
            self.pending.language = _LANGS[lang]
        elif self.doc is not None:
            self.doc.language = _LANGS[lang]
        return 0

    cdef int start(self, str name, object attrs, bint content) except -1:
        el = Element.__new__(Element)
        el.tag = name
        el.children = []
        el.attrs = attrs
        if self.pending is not None:
            self.pending.root = el
            self.pending = None
        elif self.stack:
            (<list>self.stack[len(self.stack) - 1].children).append(el)
        else:
            self.doc.root = el
        if content:
            self.stack.append(el)
        return 0

    cdef int start_known(self, TagEnt* e, bint content) except -1:
        return self.start(<str>e.pyname, None, content)

    cdef int start_gen(self, str name, int ns, object attrs, bint content) except -1:
        return self.start(name, attrs, content)

    cdef int end(self) except -1:
        self.stack.pop()
        return 0

    cdef int text_str(self, str text) except -1:
        cdef list children = self.stack[len(self.stack) - 1].children
        cdef Py_ssize_t k = len(children) - 1
        if k >= 0 and type(children[k]) is str:
            children[k] = children[k] + text
        else:
            children.append(text)
        return 0

    cdef int text(self, const uchar* s, Py_ssize_t n) except -1:
        return self.text_str(PyUnicode_DecodeUTF8(<const char*>s, n, "surrogatepass"))

    cdef int opaque(self, const uchar* s, Py_ssize_t n) except -1:
        cdef list children = self.stack[len(self.stack) - 1].children
        cdef Py_ssize_t k = len(children) - 1
        raw = PyBytes_FromStringAndSize(<const char*>s, n)
        if k >= 0 and type(children[k]) is bytes:
            children[k] = children[k] + raw
        else:
            children.append(raw)
        return 0

    cdef int begin_nested(self, _Dec sub) except -1:
        doc = Document(_LANGS[sub.lang] if sub.lang >= 0 else DEVINF12, Element(""),
                       wbxml_version=sub.version, charset=sub.charset,
                       public_id_text=sub.public_id_text)
        self.stack[len(self.stack) - 1].children.append(doc)
        self.pending = doc
        return 0

    cdef object mark(self):
        return (len(self.stack), len(self.stack[len(self.stack) - 1].children))

    cdef int rollback(self, object m) except -1:
        depth, n = m
        del self.stack[depth:]
        del self.stack[len(self.stack) - 1].children[n:]
        self.pending = None
        return 0
