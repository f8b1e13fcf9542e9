# _wbxml_walk.pxi -- what drives the encoder (_Enc) besides the XML scanner:
#
# * _walk: an Element tree, depth first without recursion, giving the events
#   of ``tree.events`` in the same order (start, text, opaque, end, nested
#   documents), with the same TypeError for a child that is none of
#   Element / str / bytes / Document.  (Measured: driving the encoder from
#   ``tree.events`` itself makes ``encode`` five times slower, 256k -> 51k
#   documents/s on libwbxml's corpus, so the walk stays compiled.)
# * _Source.drive (_wbxml_capi.pxi): whatever an extension above drives it
#   with (model._fast: model objects without an element tree).

cdef struct WalkEnt:
    Py_ssize_t i               # next child
    bint doc                   # the entry closing a nested document (no END event)


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

