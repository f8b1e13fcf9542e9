"""DataStore and the small elements inside it.

``DataStore(SourceRef, DisplayName?, MaxGUIDSize?, Rx-Pref, Rx*, Tx-Pref,
Tx*, CTCap*, DSMem?, SupportHierarchicalSync?, SyncCap, Filter-Rx*,
FilterCap*)`` (DevInf 1.2; 1.0/1.1 stop at ``SyncCap`` and keep CTCaps at
the DevInf level).  Reading is lenient where nothing is lost by it: several
``Rx-Pref`` are kept, a missing ``SyncCap`` (libwbxml's samples put it at
the DevInf level) is simply absent.  A missing ``SourceRef`` or ``CTType``
is an error.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

from ..codec.tree import Element
from ._ctcap import CTCap, _finish, _set, ctcap_elements, ctcaps_from_element
from ._layout import Item, Layout, Reader, build, empty, leaf

__all__ = ["ContentType", "DSMem", "DataStore", "FilterCap", "norm_type", "norm_version"]


def norm_type(ct_type: str) -> str:
    """Content types compare case-insensitively, without surrounding blanks
    (libwbxml's samples send ``"text/x-vcard "``)."""
    return ct_type.strip().lower()


def norm_version(version: str | None) -> str:
    return (version or "").strip()


@dataclass(frozen=True, slots=True)
class ContentType:
    """A content type and version: ``Rx-Pref``, ``Rx``, ``Tx-Pref``, ``Tx``
    and ``Filter-Rx`` (``CTType``, ``VerCT``)."""

    ct_type: str
    ver_ct: str | None = None
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "Rx") -> ContentType:
        r = Reader(element, path)
        obj = cls(r.required("ct_type", "CTType"), r.text("ver_ct", "VerCT"))
        _set(obj, "_src", element)
        return _set(obj, "_layout", r.finish(obj._items()))

    def _items(self) -> list[Item]:
        items: list[Item] = [("ct_type", leaf("CTType", self.ct_type))]
        if self.ver_ct is not None:
            items.append(("ver_ct", leaf("VerCT", self.ver_ct)))
        return items

    def to_element(self, tag: str = "Rx") -> Element:
        return build(tag, self._items(), self._layout)

    @property
    def key(self) -> tuple[str, str]:
        """``(type, version)`` normalized for comparing."""
        return norm_type(self.ct_type), norm_version(self.ver_ct)

    def matches(self, other: ContentType) -> bool:
        """Same type (case-insensitive) and same version; a missing version
        matches any.  ``text/x-vcard`` 2.1 and ``text/vcard`` 3.0 differ."""
        (t1, v1), (t2, v2) = self.key, other.key
        return t1 == t2 and (v1 == v2 or not v1 or not v2)

    def __str__(self) -> str:
        version = norm_version(self.ver_ct)
        return f"{self.ct_type.strip()} {version}" if version else self.ct_type.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class DSMem:
    """``DSMem(SharedMem?, MaxMem?, MaxID?)``: the datastore's memory."""

    shared_mem: bool = False
    max_mem: int | None = None
    max_id: int | None = None
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "DSMem") -> DSMem:
        r = Reader(element, path)
        obj = cls(shared_mem=r.flag("shared_mem", "SharedMem"), max_mem=r.integer("max_mem", "MaxMem"),
                  max_id=r.integer("max_id", "MaxID"))
        _set(obj, "_src", element)
        return _set(obj, "_layout", r.finish(obj._items()))

    def _items(self) -> list[Item]:
        items: list[Item] = [("shared_mem", empty("SharedMem"))] if self.shared_mem else []
        if self.max_mem is not None:
            items.append(("max_mem", leaf("MaxMem", str(self.max_mem))))
        if self.max_id is not None:
            items.append(("max_id", leaf("MaxID", str(self.max_id))))
        return items

    def to_element(self) -> Element:
        return build("DSMem", self._items(), self._layout)


@dataclass(frozen=True, slots=True)
class FilterCap:
    """``FilterCap(CTType, VerCT, FilterKeyword*, PropName*)`` (1.2)."""

    ct_type: str
    ver_ct: str | None = None
    _: KW_ONLY
    keywords: tuple[str, ...] = ()
    prop_names: tuple[str, ...] = ()
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "FilterCap") -> FilterCap:
        r = Reader(element, path)
        obj = cls(r.required("ct_type", "CTType"), r.text("ver_ct", "VerCT"),
                  keywords=r.texts("keywords", "FilterKeyword"), prop_names=r.texts("prop_names", "PropName"))
        _set(obj, "_src", element)
        return _set(obj, "_layout", r.finish(obj._items()))

    def _items(self) -> list[Item]:
        items: list[Item] = [("ct_type", leaf("CTType", self.ct_type))]
        if self.ver_ct is not None:
            items.append(("ver_ct", leaf("VerCT", self.ver_ct)))
        items += [("keywords", leaf("FilterKeyword", k)) for k in self.keywords]
        items += [("prop_names", leaf("PropName", p)) for p in self.prop_names]
        return items

    def to_element(self) -> Element:
        return build("FilterCap", self._items(), self._layout)


def _types(r: Reader, key: str, tag: str) -> tuple[ContentType, ...]:
    return tuple(ContentType.from_element(el, f"{r.path}/{tag}[{i}]")
                 for i, el in enumerate(r.many(key, tag), 1))


@dataclass(frozen=True, slots=True)
class DataStore:
    """One datastore of a device (``./contacts``): what it receives (``rx_pref``
    first, then ``rx``) and transmits, its CTCaps (1.2) and sync types."""

    source_ref: str
    _: KW_ONLY
    display_name: str | None = None
    max_guid_size: int | None = None
    rx_pref: tuple[ContentType, ...] = ()
    rx: tuple[ContentType, ...] = ()
    tx_pref: tuple[ContentType, ...] = ()
    tx: tuple[ContentType, ...] = ()
    ctcaps: tuple[CTCap, ...] = ()
    dsmem: DSMem | None = None
    support_hierarchical_sync: bool = False
    sync_types: tuple[int, ...] = ()
    filter_rx: tuple[ContentType, ...] = ()
    filter_caps: tuple[FilterCap, ...] = ()
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)
    _sync_layout: Layout | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "DataStore") -> DataStore:
        r = Reader(element, path)
        source_ref = r.required("source_ref", "SourceRef")
        display_name = r.text("display_name", "DisplayName")
        max_guid_size = r.integer("max_guid_size", "MaxGUIDSize")
        rx_pref, rx = _types(r, "rx_pref", "Rx-Pref"), _types(r, "rx", "Rx")
        tx_pref, tx = _types(r, "tx_pref", "Tx-Pref"), _types(r, "tx", "Tx")
        ctcaps = tuple(c for i, el in enumerate(r.many("ctcaps", "CTCap"), 1)
                       for c in ctcaps_from_element(el, f"{path}/CTCap[{i}]"))
        dsmem_el = r.one("dsmem", "DSMem")
        hierarchical = r.flag("support_hierarchical_sync", "SupportHierarchicalSync")
        sync_cap = r.one("sync_types", "SyncCap")
        sync_reader = None if sync_cap is None else Reader(sync_cap, f"{path}/SyncCap")
        obj = cls(
            source_ref, display_name=display_name, max_guid_size=max_guid_size,
            rx_pref=rx_pref, rx=rx, tx_pref=tx_pref, tx=tx, ctcaps=ctcaps,
            dsmem=None if dsmem_el is None else DSMem.from_element(dsmem_el, f"{path}/DSMem"),
            support_hierarchical_sync=hierarchical,
            sync_types=() if sync_reader is None else sync_reader.integers("types", "SyncType"),
            filter_rx=_types(r, "filter_rx", "Filter-Rx"),
            filter_caps=tuple(FilterCap.from_element(el, f"{path}/FilterCap[{i}]")
                              for i, el in enumerate(r.many("filter_caps", "FilterCap"), 1)),
        )
        if sync_reader is not None:
            _set(obj, "_sync_layout", sync_reader.finish(obj._sync_items()))
        _set(obj, "_src", element)
        children = (obj.receives + obj.transmits + obj.filter_rx + obj.ctcaps + obj.filter_caps
                    + ((obj.dsmem,) if obj.dsmem is not None else ()))
        return _finish(obj, r, obj._items(parsing=True), children)

    def _sync_items(self) -> list[Item]:
        return [("types", leaf("SyncType", str(t))) for t in self.sync_types]

    def _items(self, parsing: bool = False) -> list[Item]:
        """The canonical items (``parsing``: right after reading, when each
        child object's element is the one it was read from)."""

        def el(node: ContentType | DSMem | FilterCap, tag: str) -> Element:
            if parsing and node._src is not None:
                return node._src
            return node.to_element(tag) if isinstance(node, ContentType) else node.to_element()

        items: list[Item] = [("source_ref", leaf("SourceRef", self.source_ref))]
        if self.display_name is not None:
            items.append(("display_name", leaf("DisplayName", self.display_name)))
        if self.max_guid_size is not None:
            items.append(("max_guid_size", leaf("MaxGUIDSize", str(self.max_guid_size))))
        for key, tag in (("rx_pref", "Rx-Pref"), ("rx", "Rx"), ("tx_pref", "Tx-Pref"), ("tx", "Tx")):
            items += [(key, el(c, tag)) for c in getattr(self, key)]
        items += [("ctcaps", e) for e in ctcap_elements(self.ctcaps, flat=False, parsing=parsing)]
        if self.dsmem is not None:
            items.append(("dsmem", el(self.dsmem, "DSMem")))
        if self.support_hierarchical_sync:
            items.append(("support_hierarchical_sync", empty("SupportHierarchicalSync")))
        if self.sync_types or self._sync_layout is not None:
            items.append(("sync_types", build("SyncCap", self._sync_items(), self._sync_layout)))
        items += [("filter_rx", el(c, "Filter-Rx")) for c in self.filter_rx]
        items += [("filter_caps", el(c, "FilterCap")) for c in self.filter_caps]
        return items

    def to_element(self) -> Element:
        return build("DataStore", self._items(), self._layout)

    # -- queries ------------------------------------------------------------
    @property
    def receives(self) -> tuple[ContentType, ...]:
        """What the datastore receives, preferred first (``Rx-Pref``, ``Rx``)."""
        return self.rx_pref + self.rx

    @property
    def transmits(self) -> tuple[ContentType, ...]:
        """What the datastore sends, preferred first (``Tx-Pref``, ``Tx``)."""
        return self.tx_pref + self.tx

    def can_receive(self, ct_type: str, version: str | None = None) -> bool:
        wanted = ContentType(ct_type, version)
        return any(c.matches(wanted) for c in self.receives)

    def can_transmit(self, ct_type: str, version: str | None = None) -> bool:
        wanted = ContentType(ct_type, version)
        return any(c.matches(wanted) for c in self.transmits)

    def ref_matches(self, source_ref: str) -> bool:
        """``./contacts``, ``contacts`` and ``/contacts`` name the same datastore."""
        return _bare_ref(self.source_ref) == _bare_ref(source_ref)


def _bare_ref(ref: str) -> str:
    ref = ref.strip()
    while ref.startswith(("./", "/")):
        ref = ref[2:] if ref.startswith("./") else ref[1:]
    return ref
