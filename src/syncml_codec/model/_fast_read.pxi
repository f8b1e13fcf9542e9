# _fast_read.pxi -- WBXML straight into model objects: _Reader, a
# recursive-descent reader over the codec's _Dec.  Per child element it
# looks the tag up in the parent's table (tag id -> field) and reads a text
# leaf, a flag, a <Data> value, a nested model object or, for what the model
# keeps raw (undeclared children, elements in <Data>), an Element built as
# the decoder's tree builder builds it.  It takes only what it is sure of
# and raises GiveUp at anything else (see the module docstring).


cdef class _Reader:
    cdef _Dec dec
    cdef object schema
    cdef bint lenient
    cdef int lang, page
    cdef int* order            # child field indexes of the open model elements (a stack)
    cdef Py_ssize_t norder, cap

    def __dealloc__(self):
        free(self.order)

    cdef int push_order(self, int v) except -1:
        cdef int* p
        if self.norder >= self.cap:
            self.cap = self.cap * 2 if self.cap else 64
            p = <int*>realloc(self.order, <size_t>self.cap * sizeof(int))
            if p == NULL:
                raise MemoryError()
            self.order = p
        self.order[self.norder] = v
        self.norder += 1
        return 0

    cdef const TagEnt* child_tag(self, int b, Py_ssize_t lvl) except NULL:
        """The tag of an element token inside an element with ``lvl`` open
        elements (no literals, attributes or unknown tokens)."""
        cdef const TagEnt* e
        if (b & 0x3F) < 5 or b & 0x80 or self.dec.depth0 + lvl >= self.dec.max_depth or lvl >= MODEL_DEPTH:
            raise GiveUp()
        e = tag_of(self.lang, self.page, b & 0x3F)
        if e == NULL:
            raise GiveUp()
        return e

    cdef int next_token(self) except -1:
        cdef _Dec dec = self.dec
        cdef Py_ssize_t pos = dec.pos
        if pos >= dec.end:
            raise GiveUp()
        dec.pos = pos + 1
        return dec.data[pos]

    cdef object piece(self, int b, Py_ssize_t pos, int ck, Py_ssize_t lvl):
        """Character data (STR_I, STR_T, ENTITY or OPAQUE at ``pos``) as the
        tree holds it: str, bytes or a nested Document."""
        cdef _Dec dec = self.dec
        cdef const uchar* s
        cdef Py_ssize_t n
        cdef long long idx
        if b == 0x03:
            dec.inline_string(pos, &s, &n)
            return text_of(s, n, ck)
        if b == 0x83:
            idx = dec.mb()
            dec.table_string(idx, pos, &s, &n)
            return text_of(s, n, ck)
        idx = dec.mb()
        if b == 0x02:
            if idx == 0 or idx > 0x10FFFF or 0xD800 <= idx <= 0xDFFF:
                raise GiveUp()
            return chr(<long>idx)
        if idx > dec.end - dec.pos:
            raise GiveUp()
        s = dec.data + dec.pos
        n = <Py_ssize_t>idx
        dec.pos += n
        if ck == K_DATA and n >= 4 and s[0] <= 3:
            doc = self.nested_doc(s, n, dec.depth0 + lvl)
            if doc is not None:
                return doc
        return opaque_of(dec, s, n, ck, dec.depth0 + lvl)  # the decoder's own rule

    cdef object nested_doc(self, const uchar* raw, Py_ssize_t n, Py_ssize_t depth):
        """The DevInf / DDF document in these opaque bytes, when it is of
        the shape this reader takes; None: the decoder decides."""
        cdef _Dec dec = self.dec
        cdef _Dec sub = _Dec.__new__(_Dec)
        cdef _Reader r
        sub.setup(dec.keep, raw, n, False, dec.max_depth, dec.max_depth_obj, depth)
        try:
            sub.header()
        except WBXMLDecodeError:
            return None
        if sub.lang < 0 or not sub.utf8 or (family_of(sub.lang) != F_DEVINF and family_of(sub.lang) != F_DDF):
            return None
        r = _Reader.__new__(_Reader)
        r.dec = sub
        r.schema = self.schema
        r.lang = sub.lang
        try:
            root = r.tree_root()
        except (GiveUp, WBXMLDecodeError):
            return None
        return Document(language_at(sub.lang), root, wbxml_version=sub.version, charset=sub.charset,
                        public_id_text=sub.public_id_text)

    cdef object tree_root(self):
        """The root element of a nested document, to its end."""
        cdef _Dec dec = self.dec
        cdef int b = self.next_token()
        cdef const TagEnt* e
        while b == 0x00:
            self.page = dec.u8()
            b = self.next_token()
        e = self.child_tag(b, 0)
        root = self.tree(e, (b & 0x40) != 0, 1)
        if dec.pos != dec.end:
            raise GiveUp()
        return root

    cdef object tree(self, const TagEnt* e, bint content, Py_ssize_t lvl):
        """An element kept raw, built as the decoder's tree builds it
        (``lvl``: open elements, this one included)."""
        cdef list kids = []
        if content:
            self.kids(kids, e.kind, lvl)
        return _element(<str>e.pyname, kids)

    cdef int kids(self, list out, int ck, Py_ssize_t lvl) except -1:
        """The children of an element up to its END, appended to ``out``
        (adjacent strings and adjacent opaque data merge, as in the tree)."""
        cdef _Dec dec = self.dec
        cdef int b
        cdef Py_ssize_t k
        cdef const TagEnt* e
        while True:
            b = self.next_token()
            if b == 0x01:
                return 0
            if b == 0x00:
                self.page = dec.u8()
            elif b == 0x03 or b == 0x83 or b == 0x02 or b == 0xC3:
                p = self.piece(b, dec.pos - 1, ck, lvl)
                k = len(out) - 1
                if k >= 0 and (type(p) is str or type(p) is bytes) and type(out[k]) is type(p):
                    out[k] = out[k] + p
                else:
                    out.append(p)
            else:
                e = self.child_tag(b, lvl)
                out.append(self.tree(e, (b & 0x40) != 0, lvl + 1))

    cdef object text(self, _MClass mc, int fi, int ck, bint content, Py_ssize_t lvl):
        """A TEXT field: plain text as it is, anything else by the model's
        rule (``schema.read_text``)."""
        cdef _Dec dec = self.dec
        cdef const uchar* data = dec.data
        cdef Py_ssize_t pos = dec.pos, end = dec.end
        cdef const uchar* z
        cdef int b
        cdef Py_ssize_t k
        cdef list kids
        if content:
            if pos + 2 < end and data[pos] == 0x03:  # the usual STR_I "..." END
                z = <const uchar*>memchr(data + pos + 1, 0, <size_t>(end - pos - 1))
                if z != NULL and z + 1 < data + end and z[1] == 0x01:
                    dec.pos = (z - data) + 2
                    return text_of(data + pos + 1, z - data - pos - 1, ck)
        kids = []
        if content:
            while True:
                b = self.next_token()
                if b == 0x01:
                    break
                if b == 0x00:
                    self.page = dec.u8()
                    continue
                if not (b == 0x03 or b == 0x83 or b == 0x02 or b == 0xC3):
                    raise GiveUp()  # not text only
                p = self.piece(b, dec.pos - 1, ck, lvl)
                k = len(kids) - 1
                if k >= 0 and (type(p) is str or type(p) is bytes) and type(kids[k]) is type(p):
                    kids[k] = kids[k] + p
                else:
                    kids.append(p)
            if len(kids) == 1 and type(kids[0]) is str:
                return kids[0]
        try:
            return self.schema.read_text(mc.fields[fi], kids, self.lenient)
        except Exception:
            raise GiveUp()  # the reference path says what is wrong

    cdef object model(self, _MClass mc, bint content, int ck, Py_ssize_t lvl):
        """A model object from the children of its element (``Node._read_element``)."""
        cdef PyObject* vals[MAXF + 1]   # the field values so far (owned), then _layout's
        cdef int i
        if not mc.dec_ok:
            raise GiveUp()
        memset(vals, 0, (mc.nf + 1) * sizeof(PyObject*))
        try:
            return self.fill(mc, content, ck, lvl, vals)
        finally:
            for i in range(mc.nf + 1):
                Py_XDECREF(vals[i])

    cdef object fill(self, _MClass mc, bint content, int ck, Py_ssize_t lvl, PyObject** vals):
        """``model``'s work; ``vals`` owns what is put in it."""
        cdef _Dec dec = self.dec
        cdef Py_ssize_t o0 = self.norder, k
        cdef bint in_order = True
        cdef int last = -1, lastx = 0, fi, b, i
        cdef const TagEnt* e
        cdef list extras = None
        cdef PyObject* cur
        while content:
            b = self.next_token()
            if b == 0x01:
                break
            if b == 0x00:
                self.page = dec.u8()
                continue
            if b == 0x03 or b == 0x83 or b == 0x02 or b == 0xC3:  # character data: an extra
                p = self.piece(b, dec.pos - 1, ck, lvl)
                if (lastx == 1 and type(p) is str) or (lastx == 2 and type(p) is bytes):
                    k = len(extras) - 1
                    extras[k] = extras[k] + p
                    continue
                if extras is None:
                    extras = []
                extras.append(p)
                self.push_order(-1)
                in_order = False
                lastx = 1 if type(p) is str else 2 if type(p) is bytes else 0
                continue
            e = self.child_tag(b, lvl)
            lastx = 0
            fi = mc.field_of[e.tid]
            if fi < 0:
                if fi == -2:
                    raise GiveUp()
                if extras is None:
                    extras = []
                extras.append(self.tree(e, (b & 0x40) != 0, lvl + 1))
                self.push_order(-1)
                in_order = False
                continue
            self.push_order(fi)
            if fi < last:
                in_order = False
            last = fi
            i = mc.kind[fi]
            if i == MK_TEXT:
                value = self.text(mc, fi, e.kind, (b & 0x40) != 0, lvl + 1)
            elif i == MK_NODE:
                value = self.model(<_MClass><object>mc.node_of[e.tid], (b & 0x40) != 0, e.kind, lvl + 1)
            elif i == MK_FLAG:
                if b & 0x40:
                    while True:  # only SWITCH_PAGE may come before its END
                        i = self.next_token()
                        if i == 0x01:
                            break
                        if i != 0x00:
                            raise GiveUp()  # must be empty
                        self.page = dec.u8()
                value = True
            elif i == MK_DATA:
                value = self.data_value(e, (b & 0x40) != 0, lvl + 1)
            else:
                value = self.tree(e, (b & 0x40) != 0, lvl + 1)
            cur = vals[fi]
            if mc.card[fi] >= MC_MANY:
                if cur == NULL:
                    value = [value]
                    Py_INCREF(value)
                    vals[fi] = <PyObject*>value
                else:
                    (<list>cur).append(value)
            elif cur != NULL:
                raise GiveUp()  # more than once
            else:
                Py_INCREF(value)
                vals[fi] = <PyObject*>value
        for i in range(mc.nf):
            cur = vals[i]
            if cur == NULL:
                if (mc.card[i] == MC_ONE or mc.card[i] == MC_SOME) and not self.lenient:
                    raise GiveUp()  # missing
                value = mc.dflt[i]
            elif mc.card[i] >= MC_MANY:
                value = PyList_AsTuple(<list>cur)
                Py_XDECREF(cur)
            else:
                continue
            Py_INCREF(value)
            vals[i] = <PyObject*>value
        if in_order:
            value = None
        else:
            order = tuple([self.order[k] for k in range(o0, self.norder)])
            value = mc.t.schema.layout(order, tuple(extras) if extras else (), None)
        Py_INCREF(value)
        vals[mc.nf] = <PyObject*>value
        self.norder = o0
        obj = _frozen(mc.slots, vals)
        if mc.check and not self.lenient:
            try:
                obj._check()
            except Exception:
                raise GiveUp()
        return obj

    cdef object data_value(self, const TagEnt* e, bint content, Py_ssize_t lvl):
        """A DATA field: its only child, "" or a tuple of children."""
        cdef list kids
        if not content:
            return ""
        kids = []
        self.kids(kids, e.kind, lvl)
        if not kids:
            return ""
        if len(kids) == 1:
            return kids[0]
        return tuple(kids)


cdef object _read(_Input inp, _MClass mc, bint lenient, object max_depth, object family):
    cdef _Dec dec = open_document(inp, max_depth)
    cdef _Reader r
    cdef int b
    cdef const TagEnt* e
    if dec.lang < 0 or not dec.utf8:
        raise GiveUp()
    if family is not None and _FAMILIES.get(family, -1) != family_of(dec.lang):
        raise GiveUp()  # (also a family this module does not know: the reference path decides)
    r = _Reader.__new__(_Reader)
    r.dec = dec
    r.schema = mc.t.schema
    r.lang = dec.lang
    r.lenient = lenient
    b = r.next_token()
    while b == 0x00:
        r.page = dec.u8()
        b = r.next_token()
    e = r.child_tag(b, 0)
    if e.tid != mc.tid:
        raise GiveUp()
    obj = r.model(mc, (b & 0x40) != 0, e.kind, 1)
    if dec.pos != dec.end and not only_padding(dec.data + dec.pos, dec.end - dec.pos):
        raise GiveUp()  # (padding: device quirk "trailing-padding", as the generic path)
    return obj
