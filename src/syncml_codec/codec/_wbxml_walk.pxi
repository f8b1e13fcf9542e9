# _wbxml_walk.pxi -- what drives the encoder (_Enc) besides the XML scanner:
#
# * _walk: an Element tree, depth first without recursion, giving the events
#   of ``tree.events`` in the same order (start, text, opaque, end, nested
#   documents), with the same TypeError for a child that is none of
#   Element / str / bytes / Document.  (Measured: driving the encoder from
#   ``tree.events`` itself makes ``encode`` five times slower, 256k -> 51k
#   documents/s on libwbxml's corpus, so the walk stays compiled.)
# * _walk_node: a model object, giving the events of walking
#   ``node.to_element()`` without building that tree: fields in DTD order,
#   or in ``_layout`` order with the extras and the leftovers (values added
#   after reading) appended in DTD order, exactly as ``Node.to_element`` /
#   ``_write`` do.  encode_model runs the reference path (to_element +
#   encode) whenever this walk raises, so errors are the reference's.

cdef struct WalkEnt:
    Py_ssize_t i               # next child
    bint doc                   # the entry closing a nested document (no END event)


cdef inline object _el_slot(object el, Py_ssize_t off, str name):
    cdef PyObject* p
    if off >= 0 and type(el) is Element:
        p = smc_get(el, off)
        if p != NULL:
            return <object>p
    return getattr(el, name)


cdef inline object _el_kids(object el):
    kids = el.children
    if type(kids) is list or type(kids) is tuple:
        return kids
    return list(kids)  # what iter() would give


cdef int _start_el(_Enc enc, object el) except -1:
    cdef NameEnt* ent
    tag = el.tag
    attrs = el.attrs
    if type(tag) is str and not attrs:
        ent = _name_ent(enc.cur.lang, tag)
        if ent != NULL:
            return enc.start_known(ent)  # a code-page name: what start_py would do
    return enc.start_py(tag, attrs)


cdef int _walk(_Enc enc, object root) except -1:
    """``encoder._walk``: the events of ``tree.events(root)``."""
    cdef list seqs = []
    cdef WalkEnt* st = NULL
    cdef Py_ssize_t depth = 0, cap = 0, i
    cdef object seq, child
    try:
        _start_el(enc, root)
        seqs.append(_el_kids(root))
        st = <WalkEnt*>grow_array(st, &cap, 16, sizeof(WalkEnt))
        st[0].i = 0
        st[0].doc = False
        depth = 1
        while depth:
            seq = seqs[depth - 1]
            i = st[depth - 1].i
            if i >= len(seq):
                depth -= 1
                seqs.pop()
                if not st[depth].doc:
                    enc.end()
                continue
            st[depth - 1].i = i + 1
            child = seq[i]
            if type(child) is str:
                enc.text_obj(child)
                continue
            if type(child) is bytes:
                enc.opaque(<const uchar*>PyBytes_AS_STRING(child), PyBytes_GET_SIZE(child))
                continue
            if depth + 2 > cap:
                st = <WalkEnt*>grow_array(st, &cap, 16, sizeof(WalkEnt))
            if isinstance(child, Element):
                _start_el(enc, child)
            elif isinstance(child, Document):
                enc.begin_nested(_lang_index(child.language))
                child = child.root
                _start_el(enc, child)
                seqs.append(())
                st[depth].i = 0
                st[depth].doc = True
                depth += 1
            else:
                raise TypeError(M.bad_child(child))
            seqs.append(_el_kids(child))
            st[depth].i = 0
            st[depth].doc = False
            depth += 1
    finally:
        free(st)
    return 0


cdef int _walk_child(_Enc enc, object child) except -1:
    """One child of an element (and everything below it)."""
    if type(child) is str:
        return enc.text_obj(child)
    if type(child) is bytes:
        return enc.opaque(<const uchar*>PyBytes_AS_STRING(child), PyBytes_GET_SIZE(child))
    if isinstance(child, Element):
        return _walk(enc, child)
    if isinstance(child, Document):
        enc.begin_nested(_lang_index(child.language))
        return _walk(enc, child.root)
    raise TypeError(M.bad_child(child))


# -- model objects ---------------------------------------------------------------------

cdef class _MWalk:
    """What _run encodes when it is a model object (see _drive)."""
    cdef _MSchema sch
    cdef object node


cdef _MClass _enc_class(_MSchema sch, object t):
    cdef _MClass mc = sch.classes.get(t)
    if mc is None:
        if not (isinstance(t, type) and issubclass(t, sch.base)):
            return None
        mc = _compile(sch, t)
    return mc if mc.enc_ok else None


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
        return _walk_node(enc, mc.sch, value, depth + 1)
    if kind == MK_RAW:
        return _walk_child(enc, value)
    if kind == MK_DATA and isinstance(value, Element) and _el_slot(value, _EL_TAG, "tag") == mc.ftag[i]:
        # Element(value.tag, list(value.children), value.attrs): the element itself
        return _walk(enc, value)
    _start_field(enc, mc, i, li)
    if kind == MK_TEXT:
        if type(value) is mc.sch.opaque_str:
            b = value.encode("utf-8")
            enc.opaque(<const uchar*>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        elif value:
            _walk_child(enc, value)
    elif kind == MK_DATA:
        if isinstance(value, tuple):
            for child in value:
                _walk_child(enc, child)
        elif value != "":
            _walk_child(enc, value)
    return enc.end()


cdef int _walk_node(_Enc enc, _MSchema sch, object node, int depth) except -1:
    """The events of walking ``node.to_element()``."""
    cdef _MClass mc = _enc_class(sch, type(node))
    cdef PyObject* p
    cdef NameEnt* ent
    cdef int li, i
    cdef Py_ssize_t ix, nx, k
    cdef Py_ssize_t taken[MAXF]
    if mc is None:
        return _walk_child(enc, node.to_element())
    if depth > MODEL_DEPTH:
        raise _GiveUp()
    li = enc.cur.lang
    p = smc_get(node, mc.layout_off)
    layout = None if p == NULL else <object>p
    if layout is None:
        ent = mc.tag_ent[li]
        if ent != NULL:
            enc.start_known(ent)
        else:
            enc.start_py(mc.tag, None)
        for i in range(mc.nf):
            p = smc_get(node, mc.off[i])
            if p == NULL:
                raise _GiveUp()  # an unset field: AttributeError in to_element
            value = <object>p
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
        p = smc_get(node, mc.off[i])
        if p == NULL:
            raise _GiveUp()
        value = <object>p
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
                raise _GiveUp()  # StopIteration in to_element
            _walk_child(enc, extras[nx])
            nx += 1
            continue
        ix = index
        if ix >= mc.nf:
            raise _GiveUp()  # IndexError in to_element
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
