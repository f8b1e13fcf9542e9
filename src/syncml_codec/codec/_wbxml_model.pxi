# _wbxml_model.pxi -- WBXML straight into model objects (decode_model), and
# the per-class tables both model directions read.
#
# The model layer (syncml_codec.model._node) describes each class by data:
# ``_spec`` (field, tags, kind, cardinality), ``_by_tag`` and the registry
# of classes by element name.  _MSchema / _MClass turn that into C tables
# the first time a class is used (found from the class passed in, never by
# importing the model: the codec stays below it), recompiled when the
# registry grows.  Objects are made as ``cls.__new__(cls)`` would make them
# (tp_alloc) and their slots written directly, which is what
# ``object.__setattr__`` does for a slot (frozen dataclasses refuse setattr).
#
# _MRead is a recursive-descent reader over a _Dec: per child element it
# looks the tag up in the parent's table (tag id -> field) and reads a text
# leaf, a flag, a <Data> value, a nested model object or, for what the
# model keeps raw (undeclared children, elements in <Data>), an Element
# built exactly as _TreeSink builds it.  It takes only what it is sure of:
# UTF-8 documents of a known language, known tags without attributes,
# nesting up to MODEL_DEPTH.  At anything else -- malformed WBXML, a
# structure error (missing, repeated or non-text child), a literal, an
# attribute, an extension, a failing _check -- it gives up (_GiveUp) and
# decode_model runs the reference path instead: ``decode`` and the Python
# converter, which raise the proper WBXMLDecodeError / StructureError.  So
# the fast path only ever returns what the reference path returns.

cdef extern from *:
    """
    #include "structmember.h"
    static PyObject* smc_alloc(PyObject* tp) {
        return ((PyTypeObject*)tp)->tp_alloc((PyTypeObject*)tp, 0);
    }
    /* the offset of a writable object slot (T_OBJECT_EX), or -1 */
    static Py_ssize_t smc_member_offset(PyObject* d) {
        PyMemberDef* m;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) return -1;
        m = ((PyMemberDescrObject*)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return -1;
        return m->offset;
    }
    static inline PyObject* smc_get(PyObject* o, Py_ssize_t off) {
        return *(PyObject**)((char*)o + off);
    }
    static inline void smc_set(PyObject* o, Py_ssize_t off, PyObject* v) {
        PyObject** p = (PyObject**)((char*)o + off);
        PyObject* old = *p;
        Py_INCREF(v);
        *p = v;
        Py_XDECREF(old);
    }
    """
    object smc_alloc(object tp)
    Py_ssize_t smc_member_offset(object d)
    PyObject* smc_get(object o, Py_ssize_t off)
    void smc_set(object o, Py_ssize_t off, object v)


cdef enum:
    MAXF = 24              # fields a model class may have here
    MODEL_DEPTH = 100      # deeper than this: the reference path
    MK_TEXT = 0            # field kinds and cardinalities, as in _node.py
    MK_FLAG = 1
    MK_NODE = 2
    MK_DATA = 3
    MK_RAW = 4
    MC_ONE = 0
    MC_OPT = 1
    MC_MANY = 2
    MC_SOME = 3


class _GiveUp(Exception):
    """The fast model path cannot vouch for this input: use the reference path."""


# Element's slots, written directly when building trees (-1: use setattr)
cdef Py_ssize_t _EL_TAG = -1, _EL_KIDS = -1, _EL_ATTRS = -1


cdef void _init_model() except *:
    global _EL_TAG, _EL_KIDS, _EL_ATTRS
    offs = [smc_member_offset(Element.__dict__.get(n)) for n in ("tag", "children", "attrs")]
    if Element.__new__ is object.__new__ and min(offs) >= 0:
        _EL_TAG, _EL_KIDS, _EL_ATTRS = offs


cdef inline object _new_element(object tag, list kids):
    cdef object el
    if _EL_TAG < 0:
        return Element(tag, kids)
    el = smc_alloc(Element)
    smc_set(el, _EL_TAG, tag)
    smc_set(el, _EL_KIDS, kids)
    smc_set(el, _EL_ATTRS, None)
    return el


# -- the tables ---------------------------------------------------------------------

cdef class _MSchema:
    """One model layer: its registry and helper types, and the classes
    compiled so far."""
    cdef object base, registry, opaque_str, layout_cls
    cdef object read_fn, from_fn, to_fn, check_fn
    cdef dict classes
    cdef Py_ssize_t reg_len


cdef class _MClass:
    cdef _MSchema sch
    cdef object cls
    cdef str tag
    cdef int tid               # tag id of the class's element, -1 if no code page has it
    cdef int nf
    cdef bint dec_ok, enc_ok, root_ok, check
    cdef int kind[MAXF]
    cdef int card[MAXF]
    cdef Py_ssize_t off[MAXF]
    cdef Py_ssize_t layout_off
    cdef list dflt             # per field: the value when absent
    cdef list ftag             # per field: its (first) element name
    cdef int* field_of         # tag id -> field index; -1 undeclared; -2 give up
    cdef PyObject** node_of    # tag id -> _MClass of a node field (held by sch.classes)
    cdef NameEnt* tag_ent[NLANG_MAX]
    cdef NameEnt* field_ent[NLANG_MAX * MAXF]

    def __dealloc__(self):
        free(self.field_of)
        free(self.node_of)


_SCHEMAS = {}              # model base class -> _MSchema
_MCACHE = {}               # model class -> its _MClass (current schema)


cdef Py_ssize_t _slot_offset(object cls, str name) except -2:
    for k in cls.__mro__:
        d = k.__dict__.get(name)
        if d is not None:
            return smc_member_offset(d)
    return -1


cdef NameEnt* _name_ent(int li, object name) noexcept:
    cdef const char* u
    cdef Py_ssize_t un
    if type(name) is not str or not PyUnicode_IS_ASCII(name):
        return NULL
    u = PyUnicode_AsUTF8AndSize(name, &un)
    return name_lookup(li, <const uchar*>u, un)


cdef _MSchema _schema_of(object cls):
    """The schema of the model layer ``cls`` belongs to, or None."""
    cdef _MSchema sch
    base = None
    for k in cls.__mro__:
        if "_read_element" in k.__dict__ and "to_element" in k.__dict__:
            base = k
    if base is None:
        return None
    mod = sys.modules.get(base.__module__)
    try:
        registry = mod.REGISTRY
        same = ((mod.TEXT, mod.FLAG, mod.NODE, mod.DATA, mod.RAW) == (MK_TEXT, MK_FLAG, MK_NODE, MK_DATA, MK_RAW)
                and (mod.ONE, mod.OPT, mod.MANY, mod.SOME) == (MC_ONE, MC_OPT, MC_MANY, MC_SOME))
        sch = _SCHEMAS.get(base)
        if sch is not None and sch.registry is registry and sch.reg_len == len(registry):
            return sch
        sch = _MSchema.__new__(_MSchema)
        sch.base = base
        sch.registry = registry
        sch.opaque_str = mod.OpaqueStr
        sch.layout_cls = mod.Layout
        sch.read_fn = base.__dict__["_read_element"].__func__
        sch.from_fn = base.__dict__["from_element"].__func__
        sch.to_fn = base.__dict__["to_element"]
        sch.check_fn = base.__dict__["_check"]
    except (AttributeError, KeyError, TypeError):
        return None
    if not same or type(registry) is not dict:
        return None
    sch.classes = {}
    sch.reg_len = len(registry)
    _SCHEMAS[base] = sch
    return sch


cdef _MClass _model_class(object cls):
    """The compiled tables of model class ``cls`` (None: not a model class
    this extension understands)."""
    cdef _MClass mc = _MCACHE.get(cls)
    cdef _MSchema sch
    if mc is not None and len(mc.sch.registry) == mc.sch.reg_len:
        return mc
    if not isinstance(cls, type):
        return None
    sch = _schema_of(cls)
    if sch is None:
        return None
    mc = _compile(sch, cls)
    _MCACHE[cls] = mc
    return mc


cdef _MClass _compile(_MSchema sch, object cls):
    cdef _MClass mc = sch.classes.get(cls)
    cdef int i, tid, li
    cdef list nodes = []
    if mc is not None:
        return mc
    mc = _MClass.__new__(_MClass)
    mc.sch = sch
    mc.cls = cls
    mc.tid = -1
    sch.classes[cls] = mc
    mc.field_of = <int*>malloc(max(len(_TAG_NAMES), 1) * sizeof(int))
    mc.node_of = <PyObject**>calloc(max(len(_TAG_NAMES), 1), sizeof(PyObject*))
    if mc.field_of == NULL or mc.node_of == NULL:
        raise MemoryError()
    for i in range(len(_TAG_NAMES)):
        mc.field_of[i] = -1
    try:
        tag = cls.TAG
        spec = tuple(cls._spec)
        by_tag = dict(cls._by_tag)
        fields = {f.name: f for f in dataclasses.fields(cls)}
    except (AttributeError, TypeError):
        return mc
    if type(tag) is not str or len(spec) > MAXF or not issubclass(cls, sch.base):
        return mc
    mc.tag = tag
    mc.tid = _TAG_IDS.get(tag, -1)
    mc.nf = len(spec)
    mc.dflt = []
    mc.ftag = []
    if set(fields) != {s.attr for s in spec} | {"_layout"} or fields["_layout"].default is not None:
        return mc
    for i, s in enumerate(spec):
        f = fields[s.attr]
        if f.default_factory is not dataclasses.MISSING or not f.init:
            return mc
        if not (0 <= s.kind <= MK_RAW and 0 <= s.card <= MC_SOME and len(s.tags) >= 1):
            return mc
        mc.kind[i] = s.kind
        mc.card[i] = s.card
        mc.off[i] = _slot_offset(cls, s.attr)
        if mc.off[i] < 0:
            return mc
        mc.dflt.append(None if f.default is dataclasses.MISSING else f.default)
        mc.ftag.append(s.tags[0])
    mc.layout_off = _slot_offset(cls, "_layout")
    if mc.layout_off < 0:
        return mc
    for li in range(_NLANG):
        mc.tag_ent[li] = _name_ent(li, tag)
        for i in range(mc.nf):
            mc.field_ent[li * MAXF + i] = _name_ent(li, mc.ftag[i])
    for t, i in by_tag.items():
        if not (type(i) is int and 0 <= i < mc.nf):
            return mc
        tid = _TAG_IDS.get(t, -1)
        if tid < 0:
            continue  # no code page has it: only a literal can name it (the reference path)
        mc.field_of[tid] = i
        if mc.kind[i] == MK_NODE:
            child = sch.registry.get(t)
            if isinstance(child, type) and getattr(child, "TAG", None) == t:
                nodes.append((tid, child))
            else:
                mc.field_of[tid] = -2
    for tid, child in nodes:
        held = _compile(sch, child)  # held by sch.classes
        mc.node_of[tid] = <PyObject*>held
    # only now, with every table filled, may the class be used
    mc.check = cls._check is not sch.check_fn
    mc.enc_ok = cls.to_element is sch.to_fn
    mc.dec_ok = (getattr(cls._read_element, "__func__", None) is sch.read_fn
                 and cls.__new__ is object.__new__ and not hasattr(cls, "__post_init__"))
    mc.root_ok = getattr(cls.from_element, "__func__", None) is sch.from_fn
    return mc


# -- the reader ---------------------------------------------------------------------

cdef object _text_obj(const uchar* s, Py_ssize_t n, int ck):
    """A string as the tree holds it (``_Dec.text_in`` + ``emit_text``)."""
    if utf8_invalid(s, n) >= 0:  # device quirk "undeclared-latin1"
        return PyUnicode_DecodeLatin1(<const char*>s, n, NULL)
    if ck == K_TYPE:
        _type_match(_TYPE_XML, s, n, &s, &n)
    return PyUnicode_DecodeUTF8(<const char*>s, n, NULL)


cdef class _MRead:
    cdef _Dec dec
    cdef _MSchema sch
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
        cdef TagEnt* e
        if (b & 0x3F) < 5 or b & 0x80 or self.dec.depth0 + lvl >= self.dec.max_depth or lvl >= MODEL_DEPTH:
            raise _GiveUp()
        e = tag_lookup(self.lang, self.page, b & 0x3F)
        if e == NULL:
            raise _GiveUp()
        return e

    cdef int next_token(self) except -1:
        cdef _Dec dec = self.dec
        cdef Py_ssize_t pos = dec.pos
        if pos >= dec.end:
            raise _GiveUp()
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
            return _text_obj(s, n, ck)
        if b == 0x83:
            idx = dec.mb()
            dec.table_string(idx, pos, &s, &n)
            return _text_obj(s, n, ck)
        idx = dec.mb()
        if b == 0x02:
            if idx == 0 or idx > 0x10FFFF or 0xD800 <= idx <= 0xDFFF:
                raise _GiveUp()
            return chr(<long>idx)
        if idx > dec.end - dec.pos:
            raise _GiveUp()
        s = dec.data + dec.pos
        n = <Py_ssize_t>idx
        dec.pos += n
        if ck == K_DATA:
            if n >= 4 and s[0] <= 3:
                doc = self.nested_doc(s, n, dec.depth0 + lvl)
                if doc is not None:
                    return doc
        elif ck != K_NONCE and ck != K_WBXML and utf8_invalid(s, n) < 0 and text_safe(s, n):
            return _text_obj(s, n, ck)  # device quirk "opaque-strings"
        return PyBytes_FromStringAndSize(<const char*>s, n)

    cdef object nested_doc(self, const uchar* raw, Py_ssize_t n, Py_ssize_t depth):
        """``_Dec.nested``: the DevInf / DDF document in these opaque bytes,
        or None (they stay bytes)."""
        cdef _Dec dec = self.dec
        cdef _Dec sub = _Dec.__new__(_Dec)
        cdef _MRead r
        cdef _TreeSink h
        sub.setup(dec.keep, raw, n, False, dec.max_depth, dec.max_depth_obj, depth)
        try:
            sub.header()
        except WBXMLDecodeError:
            return None
        if sub.lang >= 0 and _LINFO[sub.lang].family != F_DEVINF and _LINFO[sub.lang].family != F_DDF:
            return None
        if sub.lang >= 0 and sub.utf8:
            r = _MRead.__new__(_MRead)
            r.dec = sub
            r.sch = self.sch
            r.lang = sub.lang
            try:
                root = r.tree_root()
            except (_GiveUp, WBXMLDecodeError):
                pass  # the generic decoder decides
            else:
                return Document(_LANGS[sub.lang], root, wbxml_version=sub.version, charset=sub.charset,
                                public_id_text=sub.public_id_text)
            sub = _Dec.__new__(_Dec)
            sub.setup(dec.keep, raw, n, False, dec.max_depth, dec.max_depth_obj, depth)
            sub.header()
        doc = Document(_LANGS[sub.lang] if sub.lang >= 0 else DEVINF12, Element(""), wbxml_version=sub.version,
                       charset=sub.charset, public_id_text=sub.public_id_text)
        h = _TreeSink()
        h.pending = doc
        try:
            sub.body(h, True)
            if sub.pos != sub.end:
                _err("unexpected data after the nested root element", sub.pos)
        except WBXMLDecodeError:
            return None
        return doc

    cdef object tree_root(self):
        """The root element of a nested document (fast path only)."""
        cdef _Dec dec = self.dec
        cdef int b = self.next_token()
        cdef const TagEnt* e
        while b == 0x00:
            self.page = dec.u8()
            b = self.next_token()
        e = self.child_tag(b, 0)
        root = self.tree(e, (b & 0x40) != 0, 1)
        if dec.pos != dec.end:
            raise _GiveUp()
        return root

    cdef object tree(self, const TagEnt* e, bint content, Py_ssize_t lvl):
        """An element kept raw, built as _TreeSink builds it (``lvl``: open
        elements, this one included)."""
        cdef list kids = []
        el = _new_element(<str>e.pyname, kids)
        if content:
            self.kids(kids, e.kind, lvl)
        return el

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

    cdef object text(self, int ck, bint content, Py_ssize_t lvl):
        """A TEXT field: str, OpaqueStr or bytes (``_node._read``)."""
        cdef _Dec dec = self.dec
        cdef const uchar* data = dec.data
        cdef Py_ssize_t pos = dec.pos, end = dec.end
        cdef const uchar* z
        cdef int b, vt = 0
        if not content:
            return ""
        if pos + 2 < end and data[pos] == 0x03:  # the usual STR_I "..." END
            z = <const uchar*>memchr(data + pos + 1, 0, <size_t>(end - pos - 1))
            if z != NULL and z + 1 < data + end and z[1] == 0x01:
                dec.pos = (z - data) + 2
                return _text_obj(data + pos + 1, z - data - pos - 1, ck)
        value = None
        while True:
            b = self.next_token()
            if b == 0x01:
                break
            if b == 0x00:
                self.page = dec.u8()
                continue
            if not (b == 0x03 or b == 0x83 or b == 0x02 or b == 0xC3):
                raise _GiveUp()  # not text only
            p = self.piece(b, dec.pos - 1, ck, lvl)
            if type(p) is str and vt != 2:
                value = p if vt == 0 else value + p
                vt = 1
            elif type(p) is bytes and vt != 1:
                value = p if vt == 0 else value + p
                vt = 2
            else:
                raise _GiveUp()
        if vt == 0:
            return ""
        if vt == 1:
            return value
        if utf8_invalid(<const uchar*>PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value)) >= 0:
            return value
        return self.sch.opaque_str(PyUnicode_DecodeUTF8(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), NULL))

    cdef object model(self, _MClass mc, bint content, int ck, Py_ssize_t lvl):
        """A model object from the children of its element (``Node._read_element``)."""
        cdef _Dec dec = self.dec
        cdef Py_ssize_t o0 = self.norder, off, k
        cdef bint in_order = True
        cdef int last = -1, lastx = 0, fi, b, i
        cdef const TagEnt* e
        cdef list extras = None
        cdef PyObject* cur
        if not mc.dec_ok:
            raise _GiveUp()
        obj = smc_alloc(mc.cls)
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
                    raise _GiveUp()
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
                value = self.text(e.kind, (b & 0x40) != 0, lvl + 1)
            elif i == MK_NODE:
                value = self.model(<_MClass><object>mc.node_of[e.tid], (b & 0x40) != 0, e.kind, lvl + 1)
            elif i == MK_FLAG:
                if b & 0x40:
                    while True:  # only SWITCH_PAGE may come before its END
                        i = self.next_token()
                        if i == 0x01:
                            break
                        if i != 0x00:
                            raise _GiveUp()  # must be empty
                        self.page = dec.u8()
                value = True
            elif i == MK_DATA:
                value = self.data_value(e, (b & 0x40) != 0, lvl + 1)
            else:
                value = self.tree(e, (b & 0x40) != 0, lvl + 1)
            off = mc.off[fi]
            cur = smc_get(obj, off)
            if mc.card[fi] >= MC_MANY:
                if cur == NULL:
                    smc_set(obj, off, [value])
                else:
                    (<list><object>cur).append(value)
            elif cur != NULL:
                raise _GiveUp()  # more than once
            else:
                smc_set(obj, off, value)
        for i in range(mc.nf):
            off = mc.off[i]
            cur = smc_get(obj, off)
            if cur == NULL:
                if (mc.card[i] == MC_ONE or mc.card[i] == MC_SOME) and not self.lenient:
                    raise _GiveUp()  # missing
                smc_set(obj, off, mc.dflt[i])
            elif mc.card[i] >= MC_MANY:
                smc_set(obj, off, PyList_AsTuple(<list><object>cur))
        if in_order:
            smc_set(obj, mc.layout_off, None)
        else:
            order = tuple([self.order[k] for k in range(o0, self.norder)])
            smc_set(obj, mc.layout_off, self.sch.layout_cls(order, tuple(extras) if extras else (), None))
        self.norder = o0
        if mc.check and not self.lenient:
            try:
                obj._check()
            except Exception:
                raise _GiveUp()
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


cdef object _decode_model_fast(_Input inp, _MClass mc, bint lenient, object max_depth, object family):
    cdef _Dec dec = _Dec.__new__(_Dec)
    cdef _MRead r
    cdef int b
    cdef const TagEnt* e
    dec.setup(inp, inp.p, inp.n, False, _limit(max_depth), max_depth, 0)
    dec.header()
    if dec.lang < 0 or not dec.utf8:
        raise _GiveUp()
    if family is not None and _LANGS[dec.lang].family != family:
        return None
    r = _MRead.__new__(_MRead)
    r.dec = dec
    r.sch = mc.sch
    r.lang = dec.lang
    r.lenient = lenient
    b = r.next_token()
    while b == 0x00:
        r.page = dec.u8()
        b = r.next_token()
    e = r.child_tag(b, 0)
    if e.tid != mc.tid:
        raise _GiveUp()
    obj = r.model(mc, (b & 0x40) != 0, e.kind, 1)
    if dec.pos != dec.end and not padding_only(dec.data + dec.pos, dec.end - dec.pos):
        raise _GiveUp()  # (padding: device quirk "trailing-padding", as the generic path)
    return obj
