# _fast_write.pxi -- model objects straight into WBXML: the events of
# walking ``node.to_element()``, given to the codec's _Enc without building
# the tree (_ModelSource); and an Element as a source (_TreeSource, for
# sizes).  ``write`` returns None wherever this walk raises, and the
# reference path decides.


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
