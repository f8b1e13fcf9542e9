# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The model's fast path: WBXML straight into model objects (``read``) and
model objects straight into WBXML (``write``), with no element tree in
between; built as ``syncml_codec.model._fast``.

Why: ``decode`` + ``from_element`` spends most of its time building a tree
and walking it in Python (0.48x libwbxml against 5.5x this way).

What it relies on, all handed down, nothing looked up:

* the codec's decoder and encoder through the C interface it declares
  (``syncml_codec/codec/_wbxml.pxd``): ``_Dec`` primitives (tokens,
  strings, the decoder's own OPAQUE rule), ``_Enc`` events, its tag tables;
* the model's description (``model._schema.ModelSchema``, passed in by the
  caller): per class its tag, fields, tag -> field table, whether it may be
  read / written here, the model's rule for TEXT that is not plain text.

Invariant: it returns only what the reference path returns.  ``read``
takes UTF-8 documents of a known language, known tags without attributes,
nesting up to MODEL_DEPTH, classes the schema vouches for; at anything
else (malformed WBXML, a structure error, a literal, an attribute, an
extension, a failing ``_check``) it returns None and the caller runs the
reference path, which gives the proper result or error.  ``write`` returns
None wherever the walk fails, for the same reason.

Model objects are frozen, slotted dataclasses (and Element a slotted
class); they are made without ``__init__`` in ONE place, ``_frozen`` (with
``_Slots``; :func:`frozen` exposes it to the tests): allocate as
``object.__new__(cls)`` does, then fill every slot of the new object --
what ``object.__setattr__`` would store, without going through the frozen
``__setattr__``.  The slots are the class's own member descriptors
(``T_OBJECT_EX``, writable), checked once per class by ``_slots_of``;
storing through the descriptor (``tp_descr_set``) measured 10k extra
instructions per message (~+15% time), so the stores go to the offsets the
descriptors give.  ``_peek`` reads a slot the same way, for objects of
exactly that class.  Nothing else touches object memory.
"""

from cpython.object cimport PyObject
from cpython.list cimport PyList_AsTuple
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memchr, memset

from syncml_codec.codec._wbxml cimport (
    F_DDF, F_DEVINF, F_METINF, F_SYNCML, K_DATA, NLANG_MAX, NameEnt, TagEnt, _Dec, _Enc, _Input, _Source, body_size, encode_source,
    family_of, input_of, language_at, language_count, language_index, name_of, only_padding, opaque_of,
    open_document, tag_count, tag_id, tag_of, text_of, uchar, walk_child,
)

from syncml_codec.codec.tree import Document, Element
from syncml_codec.errors import WBXMLDecodeError

__all__ = ["GiveUp", "frozen", "read", "size", "write"]


cdef extern from *:
    """
    #include "structmember.h"
    /* the offset of the object slot a member descriptor describes, if it
       is a writable T_OBJECT_EX slot (what __slots__ makes), else -1 */
    static Py_ssize_t fz_offset(PyObject* d) {
        PyMemberDef* m;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) return -1;
        m = ((PyMemberDescrObject*)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return -1;
        return m->offset;
    }
    /* object.__new__(tp) for a class that uses it: a zero-filled instance */
    static PyObject* fz_alloc(PyObject* tp) {
        return ((PyTypeObject*)tp)->tp_alloc((PyTypeObject*)tp, 0);
    }
    /* fill an empty slot of a new object (takes a new reference) */
    static inline void fz_fill(PyObject* o, Py_ssize_t off, PyObject* v) {
        Py_INCREF(v);
        *(PyObject**)((char*)o + off) = v;
    }
    /* a slot's value (borrowed), NULL when unset */
    static inline PyObject* fz_peek(PyObject* o, Py_ssize_t off) {
        return *(PyObject**)((char*)o + off);
    }
    """
    Py_ssize_t fz_offset(object d)
    object fz_alloc(object tp)
    void fz_fill(object o, Py_ssize_t off, PyObject* v)
    PyObject* fz_peek(object o, Py_ssize_t off)


cdef enum:
    MAXF = 24              # fields a model class may have here
    MODEL_DEPTH = 100      # deeper than this: the reference path
    MK_TEXT = 0
    MK_FLAG = 1
    MK_NODE = 2
    MK_DATA = 3
    MK_RAW = 4
    MC_ONE = 0
    MC_OPT = 1
    MC_MANY = 2
    MC_SOME = 3

_KIND = {"text": MK_TEXT, "flag": MK_FLAG, "node": MK_NODE, "data": MK_DATA, "raw": MK_RAW}
_CARD = {"one": MC_ONE, "opt": MC_OPT, "many": MC_MANY, "some": MC_SOME}


_FAMILIES = {"syncml": F_SYNCML, "devinf": F_DEVINF, "metinf": F_METINF, "ddf": F_DDF}


class GiveUp(Exception):
    """The fast path cannot vouch for this input: use the reference path."""


# -- the one way to make a model object -----------------------------------------------

cdef class _Slots:
    """Where the slots of one class are (see ``_slots_of``)."""
    cdef object cls
    cdef Py_ssize_t n
    cdef Py_ssize_t off[MAXF + 1]


cdef _Slots _slots_of(object cls, object descriptors):
    """The slots of ``cls`` named by ``descriptors`` (its member
    descriptors, in the order values will come), or None when ``cls`` is
    not a class ``_frozen`` may make: slotted (no ``__dict__``), made by
    ``object.__new__``, every descriptor a writable object slot of ``cls``
    or a base."""
    cdef _Slots s = _Slots.__new__(_Slots)
    cdef Py_ssize_t i
    descriptors = tuple(descriptors)
    if not isinstance(cls, type) or cls.__new__ is not object.__new__ or cls.__dictoffset__ \
            or len(descriptors) > MAXF + 1:
        return None  # (a __dict__: not slotted)
    s.cls = cls
    s.n = len(descriptors)
    for i, d in enumerate(descriptors):
        s.off[i] = fz_offset(d)
        if s.off[i] < 0 or getattr(d, "__objclass__", None) not in cls.__mro__:
            return None
    return s


cdef object _frozen(_Slots s, PyObject** values):
    """A new ``s.cls`` whose i-th slot holds ``values[i]`` (borrowed; the
    slot takes its own reference): every slot given, so the object is as
    complete as one made by ``__init__``."""
    cdef Py_ssize_t i
    obj = fz_alloc(s.cls)
    for i in range(s.n):
        fz_fill(obj, s.off[i], values[i])
    return obj


cdef inline object _peek(object obj, Py_ssize_t off):
    """Slot ``off`` of ``obj`` (an object of exactly the class the offset
    was taken from); AttributeError when unset, as ``getattr`` says."""
    cdef PyObject* p = fz_peek(obj, off)
    if p == NULL:
        raise AttributeError("a field of this object is not set")
    return <object>p


cdef _Slots _ELEMENT = _slots_of(Element, [Element.__dict__.get(n) for n in ("tag", "children", "attrs")])


cdef inline object _element(str tag, list kids):
    """``Element(tag, kids)``."""
    cdef PyObject* values[3]
    if _ELEMENT is None:
        return Element(tag, kids)
    values[0] = <PyObject*>tag
    values[1] = <PyObject*>kids
    values[2] = <PyObject*>None
    return _frozen(_ELEMENT, values)


def frozen(cls, slots, values):
    """``_frozen`` for tests: ``frozen(C, (C.a, C.b), [1, 2])`` makes a
    ``C`` with ``a == 1`` and ``b == 2`` without calling ``__init__``."""
    cdef list held = list(values)
    cdef PyObject* refs[MAXF + 1]
    cdef Py_ssize_t i
    cdef _Slots s = _slots_of(cls, slots)
    if s is None or s.n != len(held):
        raise ValueError("one value per slot of a slotted class made by object.__new__")
    for i in range(len(held)):
        refs[i] = <PyObject*>held[i]
    return _frozen(s, refs)


# -- per class tables -------------------------------------------------------------------

cdef class _Tables:
    """The compiled classes of one schema generation."""
    cdef object schema
    cdef object generation
    cdef dict classes


cdef class _MClass:
    cdef _Tables t
    cdef object cls
    cdef str tag
    cdef int tid               # tag id of the class's element, -1 if no code page has it
    cdef int nf
    cdef bint dec_ok, enc_ok, root_ok, check
    cdef int kind[MAXF]
    cdef int card[MAXF]
    cdef _Slots slots          # nf field slots, then _layout's
    cdef tuple fields          # the schema's FieldSchema per field
    cdef list dflt             # per field: the value when absent
    cdef list ftag             # per field: its (first) element name
    cdef int* field_of         # tag id -> field index; -1 undeclared; -2 give up
    cdef PyObject** node_of    # tag id -> _MClass of a node field (held by t.classes)
    cdef NameEnt* tag_ent[NLANG_MAX]
    cdef NameEnt* field_ent[NLANG_MAX * MAXF]

    def __dealloc__(self):
        free(self.field_of)
        free(self.node_of)


cdef _Tables _LAST = None


cdef _Tables _tables(object schema):
    global _LAST
    cdef _Tables t
    generation = len(schema.registry)  # (ModelSchema.generation, without the property call)
    if _LAST is None or _LAST.schema is not schema or _LAST.generation != generation:
        t = _Tables.__new__(_Tables)
        t.schema = schema
        t.generation = generation
        t.classes = {}
        _LAST = t
    return _LAST


cdef _MClass _class(_Tables t, object cls):
    """The compiled tables of ``cls`` (never None; ``dec_ok`` / ``enc_ok``
    say what may be done with it)."""
    cdef _MClass mc = t.classes.get(cls)
    cdef int i, tid, li, n
    cdef list nodes = []
    if mc is not None:
        return mc
    mc = _MClass.__new__(_MClass)
    mc.t = t
    mc.cls = cls
    mc.tid = -1
    t.classes[cls] = mc
    n = max(tag_count(), 1)
    mc.field_of = <int*>malloc(n * sizeof(int))
    mc.node_of = <PyObject**>calloc(n, sizeof(PyObject*))
    if mc.field_of == NULL or mc.node_of == NULL:
        raise MemoryError()
    for i in range(n):
        mc.field_of[i] = -1
    desc = t.schema.describe(cls)
    if desc is None or not (desc.fast_read or desc.fast_write) or len(desc.fields) > MAXF:
        return mc
    mc.tag = desc.tag
    mc.tid = tag_id(desc.tag)
    mc.nf = len(desc.fields)
    mc.fields = tuple(desc.fields)
    mc.dflt = [f.default for f in desc.fields]
    mc.ftag = [f.tags[0] for f in desc.fields]
    mc.slots = _slots_of(cls, [f.slot for f in desc.fields] + [desc.layout_slot])
    if mc.slots is None:
        return mc
    for i, f in enumerate(desc.fields):
        mc.kind[i] = _KIND[f.kind]
        mc.card[i] = _CARD[f.card]
    for li in range(language_count()):
        mc.tag_ent[li] = name_of(li, mc.tag)
        for i in range(mc.nf):
            mc.field_ent[li * MAXF + i] = name_of(li, mc.ftag[i])
    for name, i in desc.by_tag.items():
        tid = tag_id(name)
        if tid < 0:
            continue  # no code page has it: only a literal can name it (the reference path)
        mc.field_of[tid] = i
        if mc.kind[i] == MK_NODE:
            child = desc.nodes.get(name)
            if child is None:
                mc.field_of[tid] = -2
            else:
                nodes.append((tid, child))
    for tid, child in nodes:
        held = _class(t, child)  # held by t.classes
        mc.node_of[tid] = <PyObject*>held
    # only now, with every table filled, may the class be used
    mc.check = desc.checked
    mc.enc_ok = desc.fast_write
    mc.dec_ok = desc.fast_read
    mc.root_ok = desc.fast_root
    return mc


# -- reading ---------------------------------------------------------------------------

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


def read(data, root, schema, *, lenient=False, max_depth=256, family=None):
    """``root.from_element(decode(data, max_depth=max_depth).root,
    lenient=lenient)`` without the tree -- or None where the fast path
    cannot vouch for the result (also for a document whose language family
    is not ``family``): the caller then runs that reference path."""
    cdef _Input inp = input_of(data)
    cdef _MClass mc = _class(_tables(schema), root)
    if not (mc.dec_ok and mc.root_ok):
        return None
    try:
        return _read(inp, mc, bool(lenient), max_depth, family)
    except (GiveUp, WBXMLDecodeError):
        return None


# -- writing ---------------------------------------------------------------------------

cdef class _ModelSource(_Source):
    """A model object, as encoder events (``node.to_element()`` walked)."""
    cdef _Tables t
    cdef object node

    cdef int drive(self, _Enc enc) except -1:
        return _walk_node(enc, self.t, self.node, 0)


cdef class _TreeSource(_Source):
    cdef object element

    cdef int drive(self, _Enc enc) except -1:
        return walk_child(enc, self.element)


cdef inline int _start_field(_Enc enc, _MClass mc, int i, int li) except -1:
    cdef NameEnt* ent = mc.field_ent[li * MAXF + i]
    if ent != NULL:
        return enc.start_known(ent)
    return enc.start_py(mc.ftag[i], None)


cdef int _write(_Enc enc, _MClass mc, int i, object value, int li, int depth) except -1:
    """``_node._write(spec[i], value, out, single=True)``, as events."""
    cdef int kind = mc.kind[i]
    if value is None or value is False:
        return 0
    if kind == MK_NODE:
        return _walk_node(enc, mc.t, value, depth + 1)
    if kind == MK_RAW:
        return walk_child(enc, value)
    if kind == MK_DATA and isinstance(value, Element) and value.tag == mc.ftag[i]:
        return walk_child(enc, value)  # Element(value.tag, list(value.children), value.attrs)
    if kind == MK_TEXT and type(value) is not str:
        for el in mc.t.schema.write_field(mc.fields[i], value):  # the model's rule (OpaqueStr ...)
            walk_child(enc, el)
        return 0
    _start_field(enc, mc, i, li)
    if kind == MK_TEXT:
        if value:
            walk_child(enc, value)
    elif kind == MK_DATA:
        if isinstance(value, tuple):
            for child in value:
                walk_child(enc, child)
        elif value != "":
            walk_child(enc, value)
    return enc.end()


cdef int _walk_node(_Enc enc, _Tables t, object node, int depth) except -1:
    """The events of walking ``node.to_element()``: fields in DTD order, or
    in ``_layout`` order with the extras, then what was added after reading
    in DTD order -- as ``Node.to_element`` / ``_write`` do."""
    cdef _MClass mc = _class(t, type(node))
    cdef NameEnt* ent
    cdef int li, i
    cdef Py_ssize_t ix, nx, k
    cdef Py_ssize_t taken[MAXF]
    if not mc.enc_ok:
        return walk_child(enc, node.to_element())
    if depth > MODEL_DEPTH:
        raise GiveUp()
    li = enc.cur.lang
    layout = _peek(node, mc.slots.off[mc.nf])
    if layout is None:
        ent = mc.tag_ent[li]
        if ent != NULL:
            enc.start_known(ent)
        else:
            enc.start_py(mc.tag, None)
        for i in range(mc.nf):
            value = _peek(node, mc.slots.off[i])  # (unset: AttributeError, as in to_element)
            if value is None or value is False:
                continue
            if mc.card[i] >= MC_MANY:
                for v in value:
                    _write(enc, mc, i, v, li, depth)
            else:
                _write(enc, mc, i, value, li, depth)
        return enc.end()
    # Node.to_element with a layout
    pending = []
    for i in range(mc.nf):
        value = _peek(node, mc.slots.off[i])
        if mc.card[i] < MC_MANY:
            value = (value,)
        elif type(value) is not tuple and type(value) is not list:
            value = tuple(value)
        pending.append(value)
        taken[i] = 0
    extras = layout.extras
    if type(extras) is not tuple and type(extras) is not list:
        extras = tuple(extras)
    nx = 0
    attrs = layout.attrs
    attrs = dict(attrs) if attrs else None
    if attrs is None and mc.tag_ent[li] != NULL:
        enc.start_known(mc.tag_ent[li])
    else:
        enc.start_py(mc.tag, attrs)
    for index in layout.order:
        if index < 0:
            if nx >= len(extras):
                raise GiveUp()  # StopIteration in to_element
            walk_child(enc, extras[nx])
            nx += 1
            continue
        ix = index
        if ix >= mc.nf:
            raise GiveUp()  # IndexError in to_element
        seq = pending[ix]
        if taken[ix] < len(seq):
            value = seq[taken[ix]]
            taken[ix] += 1
            if value is not None:
                _write(enc, mc, <int>ix, value, li, depth)
    # values added after reading go in DTD order
    for i in range(mc.nf):
        seq = pending[i]
        for k in range(taken[i], len(seq)):
            _write(enc, mc, i, seq[k], li, depth)
    return enc.end()


_OPTIONS = ("wbxml_version", "string_table", "public_id", "charset")


def write(node, language, schema, options=None):
    """``encode(Document(language, node.to_element()), **options)`` without
    the tree -- or None where the fast path cannot vouch for the result
    (the caller then runs that reference path, which decides the error)."""
    cdef _ModelSource src = _ModelSource.__new__(_ModelSource)
    src.t = _tables(schema)
    src.node = node
    try:
        if not options:
            return encode_source(language_index(language), "1.3", False, "numeric", "utf-8", src)
        for k in options:
            if k not in _OPTIONS:
                return None  # the reference path's TypeError
        return encode_source(language_index(language), options.get("wbxml_version", "1.3"),
                             options.get("string_table", False), options.get("public_id", "numeric"),
                             options.get("charset", "utf-8"), src)
    except Exception:
        return None


def size(obj, language, page, schema):
    """``(n, page_after)``: the bytes a model object or Element adds to the
    WBXML body of a document of ``language`` whose code page is ``page``,
    and the code page in force after it -- the encoder run with the
    defaults of ``encode``, counting (no header, no string table).  Raises
    what the encoder raises."""
    cdef int cp = page
    cdef Py_ssize_t n
    cdef _Source src
    cdef _ModelSource ms
    cdef _TreeSource ts
    if isinstance(obj, Element):
        ts = _TreeSource.__new__(_TreeSource)
        ts.element = obj
        src = ts
    else:
        ms = _ModelSource.__new__(_ModelSource)
        ms.t = _tables(schema)
        ms.node = obj
        src = ms
    n = body_size(language_index(language), &cp, src)
    return n, cp
