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

from dataclasses import KW_ONLY

from ..codec.tree import Element
from ..errors import DevInfError
from ..model import Layout, Node, flag, form, group, integer, layout, model, node, text
from ._ctcap import NESTED_CTCAPS, CTCap

__all__ = ["ContentType", "DSMem", "DataStore", "FilterCap", "norm_type", "norm_version"]


def norm_type(ct_type: str) -> str:
    """Content types compare case-insensitively, without surrounding blanks
    (libwbxml's samples send ``"text/x-vcard "``)."""
    return ct_type.strip().lower()


def norm_version(version: str | None) -> str:
    """A content type's version as compared: without surrounding blanks, ``""`` for None."""
    return (version or "").strip()


@model("Rx", forms=(form("Rx-Pref"), form("Tx"), form("Tx-Pref"), form("Filter-Rx")),
       tolerant=True, kw_only=False, error=DevInfError)
class ContentType(Node):
    """A content type and version: ``Rx-Pref``, ``Rx``, ``Tx-Pref``, ``Tx``
    and ``Filter-Rx`` (``CTType``, ``VerCT``)."""

    ct_type: str = text("CTType", required=True)
    ver_ct: str | None = text("VerCT")
    _layout: Layout | None = layout()

    def to_element(self, tag: str = "Rx") -> Element:
        """The element, as ``Rx`` or one of the other tags."""
        return self._element_as(tag)

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


@model("DSMem", tolerant=True, error=DevInfError)
class DSMem(Node):
    """``DSMem(SharedMem?, MaxMem?, MaxID?)``: the datastore's memory."""

    shared_mem: bool = flag("SharedMem")
    max_mem: int | None = integer("MaxMem")
    max_id: int | None = integer("MaxID")
    _layout: Layout | None = layout()


@model("FilterCap", tolerant=True, kw_only=False, error=DevInfError)
class FilterCap(Node):
    """``FilterCap(CTType, VerCT, FilterKeyword*, PropName*)`` (1.2)."""

    ct_type: str = text("CTType", required=True)
    ver_ct: str | None = text("VerCT")
    _: KW_ONLY
    keywords: tuple[str, ...] = text("FilterKeyword", many=True)
    prop_names: tuple[str, ...] = text("PropName", many=True)
    _layout: Layout | None = layout()


@model("DataStore", tolerant=True, kw_only=False, error=DevInfError)
class DataStore(Node):
    """One datastore of a device (``./contacts``): what it receives (``rx_pref``
    first, then ``rx``) and transmits, its CTCaps (1.2) and sync types."""

    source_ref: str = text("SourceRef", required=True)
    _: KW_ONLY
    display_name: str | None = text("DisplayName")
    max_guid_size: int | None = integer("MaxGUIDSize")
    rx_pref: tuple[ContentType, ...] = node("Rx-Pref", many=True)
    rx: tuple[ContentType, ...] = node("Rx", many=True)
    tx_pref: tuple[ContentType, ...] = node("Tx-Pref", many=True)
    tx: tuple[ContentType, ...] = node("Tx", many=True)
    ctcaps: tuple[CTCap, ...] = group("CTCap", NESTED_CTCAPS)
    dsmem: DSMem | None = node("DSMem")
    support_hierarchical_sync: bool = flag("SupportHierarchicalSync")
    sync_types: tuple[int, ...] = integer("SyncType", many=True, within="SyncCap")
    filter_rx: tuple[ContentType, ...] = node("Filter-Rx", many=True)
    filter_caps: tuple[FilterCap, ...] = node("FilterCap", many=True)
    _layout: Layout | None = layout()

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
