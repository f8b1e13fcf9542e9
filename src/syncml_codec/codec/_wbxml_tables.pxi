# _wbxml_tables.pxi -- C views of codepages.py, built once at import.
# Decoder: per (language, page, token) a TagEnt with the tag name, its
# namespace and ready-made XML tag bytes (<n>, <n xmlns="..">, <n/>, </n>),
# so a known tag costs one table lookup and one memcpy.  Encoder: per
# language an open-addressing hash from name bytes to (page, token, kind).

# the enums (K_*, F_*, NS_WBXML, NLANG_MAX, NHASH) and the TagEnt / NameEnt
# structs are declared in _wbxml.pxd


cdef struct LangInfo:
    int family
    long public_id
    int devinf_for         # the DevInf language nested in this SyncML, or -1
    const char* prolog
    Py_ssize_t prolog_len


cdef TagEnt* _DTAB[NLANG_MAX][256]
cdef NameEnt* _NTAB[NLANG_MAX]
cdef LangInfo _LINFO[NLANG_MAX]
cdef int _NLANG = 0
cdef int _SYNCML12 = 0, _DEVINF12 = 0, _METINF12 = 0, _DDF12 = 0

_KEEP = []                 # owns every bytes / str object the C tables point into
_LANGS = LANGUAGES
_LANG_BY_ID = {}           # id(Language) -> index
_LANG_BY_KEY = {}
_NS_STR = [None]           # namespace id -> URI (0: none)
_LANG_NAMES = []           # per language: name -> (page, token)
_LANG_KINDS = []           # per language: name -> kind
_LANG_PUBKEY = []          # per language: XML public ID as UTF-8 bytes
_TAG_IDS = {}              # tag name -> tid (TagEnt.tid), the same in every language
_TAG_NAMES = []            # tid -> tag name
_TYPE_XML = []             # [(lower-case +wbxml type, +xml type)] as bytes
_TYPE_WBXML = []


cdef inline uint32_t name_hash(const uchar* s, Py_ssize_t n) noexcept nogil:
    cdef uint32_t h = 2166136261u
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ s[i]) * 16777619u
    return h


cdef inline NameEnt* name_lookup(int lang, const uchar* s, Py_ssize_t n) noexcept nogil:
    cdef NameEnt* tab = _NTAB[lang]
    cdef uint32_t i = name_hash(s, n) & (NHASH - 1)
    while tab[i].name != NULL:
        if tab[i].len == n and memcmp(tab[i].name, s, <size_t>n) == 0:
            return &tab[i]
        i = (i + 1) & (NHASH - 1)
    return NULL


cdef inline TagEnt* tag_lookup(int lang, int page, int token) noexcept nogil:
    cdef TagEnt* t = _DTAB[lang][page]
    if t == NULL or not t[token].defined:
        return NULL
    return &t[token]


cdef const char* _keep_bytes(bytes b, Py_ssize_t* n):
    _KEEP.append(b)
    n[0] = PyBytes_GET_SIZE(b)
    return PyBytes_AS_STRING(b)


cdef int _ns_id(str uri):
    if uri in _NS_STR:
        return _NS_STR.index(uri)
    _NS_STR.append(uri)
    return len(_NS_STR) - 1


cdef int _type_match(list table, const uchar* s, Py_ssize_t n, const uchar** out, Py_ssize_t* outn):
    """``TYPE_TO_*.get(text.lower(), text)`` on UTF-8: no non-ASCII
    character lower-cases into these ASCII keys (checked for U+0130 and
    U+212A, the only ones that lower-case to something with ASCII)."""
    cdef bytes key, value
    cdef Py_ssize_t i
    cdef uchar c
    for key, value in table:
        if PyBytes_GET_SIZE(key) != n:
            continue
        for i in range(n):
            c = s[i]
            if 65 <= c <= 90:
                c += 32
            if c != <uchar>PyBytes_AS_STRING(key)[i]:
                break
        else:
            out[0] = <const uchar*>PyBytes_AS_STRING(value)
            outn[0] = PyBytes_GET_SIZE(value)
            return 1
    return 0


cdef void _init_tables() except *:
    global _NLANG, _SYNCML12, _DEVINF12, _METINF12, _DDF12
    cdef int li, page, token, ns
    cdef TagEnt* row
    cdef TagEnt* e
    cdef NameEnt* tab
    cdef uint32_t h
    cdef bytes nb
    cdef Py_ssize_t n
    families = {"syncml": F_SYNCML, "devinf": F_DEVINF, "metinf": F_METINF, "ddf": F_DDF}
    if len(LANGUAGES) > NLANG_MAX:
        raise ImportError("too many languages for the C tables")
    for li, lang in enumerate(LANGUAGES):
        _LANG_BY_ID[id(lang)] = li
        _LANG_BY_KEY[lang.key] = li
    _NLANG = len(LANGUAGES)
    _SYNCML12 = _LANG_BY_KEY[SYNCML12.key]
    _DEVINF12 = _LANG_BY_KEY[DEVINF12.key]
    _METINF12 = _LANG_BY_KEY[METINF12.key]
    _DDF12 = _LANG_BY_KEY[DDF12.key]
    for li, lang in enumerate(LANGUAGES):
        _LINFO[li].family = families[lang.family]
        _LINFO[li].public_id = lang.public_id
        _LINFO[li].devinf_for = -1
        if lang.family == "syncml":
            _LINFO[li].devinf_for = _LANG_BY_ID[id(DEVINF_FOR_SYNCML.get(lang.version, DEVINF12))]
        _LINFO[li].prolog = _keep_bytes(C.prolog(lang).encode(), &n)
        _LINFO[li].prolog_len = n
        _LANG_PUBKEY.append(lang.xml_public_id.encode())
        _LANG_NAMES.append(dict(lang.names))
        _LANG_KINDS.append({name: _py_kind(lang, pt[0], pt[1]) for name, pt in lang.names.items()})
        for page in range(256):
            _DTAB[li][page] = NULL
        for page, table in lang.pages.items():
            row = <TagEnt*>calloc(64, sizeof(TagEnt))
            if row == NULL:
                raise MemoryError()
            _DTAB[li][page] = row
            ns = _ns_id(lang.namespaces[page])
            uri = lang.namespaces[page]
            for token, name in table.items():
                e = &row[token]
                e.defined = 1
                e.ns = ns
                e.kind = _py_kind(lang, page, token)
                e.open_ = _keep_bytes(f"<{name}>".encode(), &e.open_len)
                e.open_ns = _keep_bytes(f'<{name} xmlns="{uri}">'.encode(), &e.open_ns_len)
                e.empty = _keep_bytes(f"<{name}/>".encode(), &e.empty_len)
                e.empty_ns = _keep_bytes(f'<{name} xmlns="{uri}"/>'.encode(), &e.empty_ns_len)
                e.close = _keep_bytes(f"</{name}>".encode(), &e.close_len)
                name = str(name)
                tid = _TAG_IDS.get(name)
                if tid is None:
                    tid = _TAG_IDS[name] = len(_TAG_NAMES)
                    _TAG_NAMES.append(name)
                name = _TAG_NAMES[tid]   # one object per name (kept alive there)
                e.pyname = <PyObject*>name
                e.tid = tid
        tab = <NameEnt*>calloc(NHASH, sizeof(NameEnt))
        if tab == NULL:
            raise MemoryError()
        _NTAB[li] = tab
        for name, (page, token) in lang.names.items():
            nb = name.encode()
            h = name_hash(<const uchar*>PyBytes_AS_STRING(nb), PyBytes_GET_SIZE(nb)) & (NHASH - 1)
            while tab[h].name != NULL:
                h = (h + 1) & (NHASH - 1)
            tab[h].name = _keep_bytes(nb, &tab[h].len)
            tab[h].page = page
            tab[h].token = token
            tab[h].kind = _py_kind(lang, page, token)
    for k, v in C.TYPE_TO_XML.items():
        _TYPE_XML.append((k.lower().encode(), v.encode()))
    for k, v in C.TYPE_TO_WBXML.items():
        _TYPE_WBXML.append((k.lower().encode(), v.encode()))
    for ch in ("\u0130", "\u212a"):  # the assumption of _type_match
        for k, _ in _TYPE_XML + _TYPE_WBXML:
            if ch.lower() in k.decode():
                raise ImportError("TYPE_TO_* keys break the ASCII lower-case rule")
