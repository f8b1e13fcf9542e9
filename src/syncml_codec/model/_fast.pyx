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


cdef inline object _frozen(_Slots s, PyObject** values):
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


cdef inline _MClass _class(_Tables t, object cls):
    """The compiled tables of ``cls`` (never None; ``dec_ok`` / ``enc_ok``
    say what may be done with it)."""
    cdef object mc = t.classes.get(cls)
    if mc is not None:
        return <_MClass>mc
    return _compile(t, cls)


cdef _MClass _compile(_Tables t, object cls):
    cdef _MClass mc
    cdef int i, tid, li, n
    cdef list nodes = []
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


include "_fast_read.pxi"    # WBXML -> model objects (_Reader)


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


include "_fast_write.pxi"   # model objects -> encoder events (_ModelSource)


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
